"""The Redis the tests get is real: it answers and keeps what it is given."""

import redis


def test_it_answers_ping_and_stores_a_key(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.ping()
        client.set("gwtest:greeting", "hello", ex=60)
        assert client.get("gwtest:greeting") == b"hello"
    finally:
        client.close()
