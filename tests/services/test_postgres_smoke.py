"""The PostgreSQL the tests get is real: it takes a connection and commits a transaction."""

import psycopg


def test_it_accepts_a_connection_and_a_transaction(postgres_server):
    with psycopg.connect(postgres_server.url) as conn:
        conn.execute("CREATE TABLE gwtest_smoke (id serial PRIMARY KEY, word text)")
        conn.execute("INSERT INTO gwtest_smoke (word) VALUES (%s)", ["committed"])
        conn.commit()
        with conn.transaction(force_rollback=True):
            conn.execute("INSERT INTO gwtest_smoke (word) VALUES (%s)", ["rolled back"])
        words = conn.execute("SELECT word FROM gwtest_smoke").fetchall()
    assert words == [("committed",)]
