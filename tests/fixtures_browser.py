"""Headless Chromium (Debian's package) driven by Playwright, for pages as a person sees them."""

import multiprocessing
import os
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from channels.testing.live import make_application, set_database_connection

CHROMIUM = "/usr/bin/chromium"
# Chromium must not try the network: this machine has none but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium could not be started: {CHROMIUM} is missing (apt-get install chromium)"
        )
    # Playwright's sync API keeps an event loop in this thread; the Django code these tests call
    # is synchronous and safe here, so let it run beside that loop.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001  (any launch error means the same to the user)
            pytest.fail(f"Chromium could not be started by Playwright: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """Save a named screenshot under test-artifacts/screenshots/ for a person to look at."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(name):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, live_site, username, language=None):
    """Sign in through the login form, as a person would, and land on the dashboard."""
    from tests.personas import PASSWORD

    if language:
        cookie = {"name": "django_language", "value": language, "url": live_site.url}
        page.context.add_cookies([cookie])
    page.goto(f"{live_site.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_site.url}/")


@dataclass
class LiveSite:
    url: str
    ws_url: str


def _application():
    """The project's ASGI application as the live server runs it.

    Between transactional tests the database is flushed and its content types are created
    again with new ids, which this long-lived process would otherwise keep in its cache (and
    guardian's permission lookups and the audit log would use the stale ids): each connection
    starts with Django's cache and guardian's own (``shortcuts._get_ct_cached``, which guardian
    clears on ``post_migrate``, a signal the flush sends only in the test process) cleared.
    """
    from django.contrib.contenttypes.models import ContentType
    from guardian.shortcuts import clear_ct_cache

    application = make_application(static_wrapper=None)

    async def fresh_content_types(scope, receive, send):
        ContentType.objects.clear_cache()
        clear_ct_cache()
        return await application(scope, receive, send)

    return fresh_content_types


def _prepare_server_process(django_db_blocker):
    """In the server's child process: use the test database, and allow database access.

    The child is forked from the test process. If a test there already ran code through
    asgiref's ``sync_to_async`` (the ASGI tests of test_site_shell.py do), the copied
    single-thread executor believes it still has an idle worker thread, which did not survive
    the fork: every ``database_sync_to_async`` of a consumer would wait forever. The child
    gets a new executor.
    """
    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    set_database_connection()
    django_db_blocker.unblock()


class LiveServerProcess(multiprocessing.Process):
    """The web process's server (``ganetiweb.server``, uvicorn) in a child forked from pytest.

    It listens on a free port of 127.0.0.1, which ``port`` gives once ``ready`` is set.
    """

    def __init__(self, get_application, setup):
        super().__init__(daemon=True)
        self.get_application, self.setup = get_application, setup
        self.port = multiprocessing.Value("i", 0)
        self.ready = multiprocessing.Event()

    def run(self):
        import uvicorn

        from ganetiweb.server import server_config

        self.setup()
        application = self.get_application()
        listener = socket.create_server(("127.0.0.1", 0))
        self.port.value = listener.getsockname()[1]
        ready = self.ready

        class Server(uvicorn.Server):
            async def startup(self, sockets=None):
                await super().startup(sockets=sockets)
                ready.set()

        config = server_config(application, port=self.port.value, log_level="warning")
        Server(config).run(sockets=[listener])


@pytest.fixture(scope="session")
def live_site(django_db_setup, django_db_blocker):
    """The ASGI application under the production server in a child process.

    Static files come from whitenoise and the collected files (hashed names), and websockets
    work; the child process uses the test database, which is a file for that reason.
    """
    process = LiveServerProcess(_application, partial(_prepare_server_process, django_db_blocker))
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        pytest.fail("uvicorn (the ASGI server) could not be started for the browser tests")
    port = process.port.value
    yield LiveSite(url=f"http://localhost:{port}", ws_url=f"ws://localhost:{port}")
    process.terminate()
    process.join(timeout=15)
