"""Running a coroutine function from a synchronous test, whatever else runs in the process."""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync


def run(async_function, *args):
    """Run a coroutine function to its end from this synchronous test.

    In a thread of its own: the browser tests' Playwright keeps an event loop in the main
    thread of the same pytest process, where async_to_sync (and pytest-asyncio) refuse to run.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(async_to_sync(async_function), *args).result()
