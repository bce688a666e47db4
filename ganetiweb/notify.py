"""Telling people what happened to their requests: in the application, and by email."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from ganetiweb.models import Notification

log = logging.getLogger(__name__)


def notify(users, text: str, url: str = "") -> list[Notification]:
    """Leave `text` (already in words, with a link `url`) for each user, and email them.

    The email leaves only when the surrounding transaction commits, so a rolled-back request
    sends nothing; a mail server that fails is logged, and the notification still stands.
    """
    users = [user for user in users if user is not None]
    notes = Notification.objects.bulk_create(
        [Notification(user=user, text=text, url=url) for user in users]
    )
    addresses = sorted({user.email for user in users if user.email})
    if addresses:
        transaction.on_commit(lambda: _send(text, url, addresses))
    return notes


def _send(text, url, addresses):
    body = f"{text}\n\n{settings.SITE_URL}{url}" if url else text
    try:
        send_mail(
            subject=f"[ganetiweb] {text[:60]}",
            message=body,
            from_email=None,
            recipient_list=addresses,
        )
    except OSError:
        log.exception("Could not email %s", ", ".join(addresses))
