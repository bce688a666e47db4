"""Login throttling with django-axes: the address counted, and the page a lockout shows.

The settings (AXES_* in settings.py) count failures per username and address together; these
are the two hooks they name.
"""

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone


def client_address(request) -> str | None:
    """The address the connection came from, as the ASGI server reports it.

    uvicorn already puts the client's address there behind the proxies it trusts
    (FORWARDED_ALLOW_IPS); reading X-Forwarded-For here as well would let anyone choose a
    fresh address for every guess.
    """
    return request.META.get("REMOTE_ADDR")


def locked_out(request, *args, **kwargs):
    """The lockout page: when to try again, and who can unlock sooner.

    axes passes the refused response and the credentials as well (its asynchronous
    middleware, the one uvicorn runs, passes them in other places); the page needs neither.
    """
    # Each refused attempt starts the cool-off again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_
    # LOCKOUT), so the lockout ends one cool-off from now.
    context = {
        "minutes": settings.LOGIN_LOCKOUT_MINUTES,
        "until": timezone.now() + settings.AXES_COOLOFF_TIME,
    }
    return render(request, "registration/locked_out.html", context, status=429)
