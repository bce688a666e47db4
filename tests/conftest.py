"""Fixtures shared by every test: the personas (tests/personas.py), and the real services as
plugins."""

import django_rq
import pytest
import redis
from django.conf import settings
from django.utils import translation
from rq import SimpleWorker

pytest_plugins = [
    "tests.personas",
    "tests.fixtures_services",
    "tests.fixtures_ganeti",
    "tests.fixtures_browser",
    "tests.fixtures_multinode",
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """Keep the SQLite test database in a file, so that a live server process can share it."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_db = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_db)


# As in settings.RQ_QUEUES, in the order a worker takes them.
QUEUES = ("high", "default", "low", "coursework")


class Worker:
    """Runs queued RQ jobs from the test Redis in this process, as a worker would."""

    def __init__(self, url):
        self.connection = redis.Redis.from_url(url)

    def run(self):
        """Work every queue until empty; return the number of jobs that failed."""
        queues = [django_rq.get_queue(name) for name in QUEUES]
        worker = SimpleWorker(queues, connection=self.connection)
        worker.work(burst=True)
        return sum(len(queue.failed_job_registry) for queue in queues)

    def queued(self):
        return sum(len(django_rq.get_queue(name)) for name in QUEUES)


@pytest.fixture(scope="session", autouse=True)
def test_queues(redis_server):
    """Every queue of the test session lives on the test Redis, never on the machine's own.

    Set once for the session (not per test), so that the live server's process, forked later,
    enqueues on the same Redis as the tests' workers.
    """
    settings.RQ_QUEUES = {
        name: {"URL": redis_server.url, "DEFAULT_TIMEOUT": 600} for name in QUEUES
    }
    return redis_server.url


@pytest.fixture(scope="session", autouse=True)
def test_console_redis(redis_server):
    """Console tickets, VNC passwords and the channel layer (used by channels' websocket
    denier) on the test Redis too; set before the live server starts."""
    settings.CONSOLE_REDIS_URL = redis_server.url
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.url]},
        }
    }
    return redis_server.url


@pytest.fixture
def worker(test_queues):
    """The test Redis emptied, and a way to run the jobs queued on it."""
    redis.Redis.from_url(test_queues).flushdb()
    return Worker(test_queues)


@pytest.fixture(autouse=True)
def english_after_each_test():
    """A request in Portuguese leaves the thread's language active (LocaleMiddleware activates
    it and nothing deactivates it): each test starts in the default language, whatever ran
    before it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
