"""Sessions end SESSION_IDLE_TIMEOUT after their last request.

Django ends a session SESSION_COOKIE_AGE (here the idle timeout) after it was last saved, and
saves it only when it changed. SESSION_SAVE_EVERY_REQUEST would push the end back on every
request by writing the session row each time, the job page's poll every second included, and
on SQLite each write waits for the workers' writes. Instead a logged-in session is saved again
once its last save is a minute old: it ends between SESSION_IDLE_TIMEOUT less a minute and
SESSION_IDLE_TIMEOUT after its last request, for one write a minute at most.
"""

import time

from asgiref.sync import iscoroutinefunction
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.decorators import sync_and_async_middleware

SAVED_AT = "_ganetiweb_saved_at"
SAVE_AGAIN_AFTER = 60  # seconds


def _stale(saved_at) -> bool:
    return saved_at is None or time.time() - saved_at >= SAVE_AGAIN_AFTER


@sync_and_async_middleware
def idle_timeout(get_response):
    """After the view, mark a logged-in session changed when its last save is a minute old, so
    that SessionMiddleware saves it, which pushes its end (and the cookie's) back."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request):
            response = await get_response(request)
            session = request.session
            if await session.aget(SESSION_KEY) and _stale(await session.aget(SAVED_AT)):
                await session.aset(SAVED_AT, int(time.time()))
            return response

        return async_middleware

    def middleware(request):
        response = get_response(request)
        session = request.session
        if session.get(SESSION_KEY) and _stale(session.get(SAVED_AT)):
            session[SAVED_AT] = int(time.time())
        return response

    return middleware


@receiver(user_logged_in)
def _saved_at_login(sender, request, user, **kwargs):
    """Logging in saves the session: the first minute needs no other save."""
    request.session[SAVED_AT] = int(time.time())
