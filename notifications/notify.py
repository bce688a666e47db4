"""Telling people what happened to their requests: in the application, and by email.

A message is given as a translatable text and its parameters, and written for each recipient
in their own language (ganetiweb/languages.py), not in the language of whoever acted.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from notifications.languages import languages_of
from notifications.models import Notification

log = logging.getLogger(__name__)


def render(message, params: dict | None, language: str) -> str:
    """`message % params` in `language`; parameters that translate themselves do too."""
    with translation.override(language):
        text = str(message)
        return text % {name: str(value) for name, value in params.items()} if params else text


def notify(users, message, params: dict | None = None, url: str = "") -> list[Notification]:
    """Leave `message` (with a link `url`) for each user, in their language, and email them.

    `message` is a lazy translatable text (gettext_lazy) with %(name)s placeholders, or plain
    words. The email leaves only when the surrounding transaction commits, so a rolled-back
    request sends nothing; a mail server that fails is logged, and the notification stands.
    """
    users = [user for user in users if user is not None]
    languages = languages_of(users)
    texts = {code: render(message, params, code) for code in set(languages.values())}
    notes = Notification.objects.bulk_create(
        [Notification(user=user, text=texts[languages[user.pk]], url=url) for user in users]
    )
    addresses = defaultdict(set)
    for user in users:
        if user.email:
            addresses[languages[user.pk]].add(user.email)
    for code, emails in addresses.items():
        text, emails = texts[code], sorted(emails)
        transaction.on_commit(lambda text=text, emails=emails: _send(text, url, emails))
    return notes


def _send(text, url, addresses):
    body = f"{text}\n\n{settings.SITE_URL}{url}" if url else text
    # A subject is one header line (Django refuses a newline in it); a text may hold several,
    # a refusal's reason for one: the subject runs them together, the body keeps them.
    subject = " ".join(text.split())[:60]
    try:
        send_mail(
            subject=f"[ganetiweb] {subject}",
            message=body,
            from_email=None,
            recipient_list=addresses,
        )
    except OSError:
        log.exception("Could not email %s", ", ".join(addresses))
