"""Encryption at rest for cluster credentials.

The keys come from the CREDENTIALS_KEYS setting, newest first (any strings; each is stretched
into a Fernet key). The newest encrypts; every listed key decrypts, so a new key can be put in
front of the old one, `manage.py rotate_credentials_key` run, and the old one dropped. A value
that no listed key decrypts is unreadable: its password must then be entered again.
"""

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F
from django.utils.translation import gettext


@lru_cache(maxsize=16)
def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(b"ganetiweb credentials\0" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@lru_cache(maxsize=4)
def _keys(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _keys(tuple(settings.CREDENTIALS_KEYS))


def encrypt(text: str) -> str:
    if not text:
        return ""
    return _current().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable() from None


class CredentialsUnreadable(Exception):
    def __str__(self):
        return gettext(
            "The stored password cannot be decrypted with any key of CREDENTIALS_KEYS. List the "
            "key it was saved with (before CREDENTIALS_KEYS existed, the SECRET_KEY), or enter "
            "the password again in the cluster's settings."
        )


class UnreadableSecret(str):
    """An empty value standing for a secret that could not be decrypted."""


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; the model attribute is the plain text."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        try:
            return decrypt(value)
        except CredentialsUnreadable:
            return UnreadableSecret("")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


@dataclass
class Rotation:
    """What `rotate()` did, per "app.Model.field": counts of values re-encrypted and already
    under the newest key, and the values no listed key decrypts (left as they were)."""

    reencrypted: Counter = field(default_factory=Counter)
    current: Counter = field(default_factory=Counter)
    unreadable: list[tuple[str, object]] = field(default_factory=list)


def rotate() -> Rotation:
    """Re-encrypt every EncryptedTextField value of every model with the newest key, in one
    transaction whose rows are locked, so that afterwards the older keys can be dropped."""
    newest = _fernet(settings.CREDENTIALS_KEYS[0])
    done = Rotation()
    with transaction.atomic():
        for model in apps.get_models():
            for column in model._meta.concrete_fields:
                if isinstance(column, EncryptedTextField):
                    _rotate_column(model, column, newest, done)
    return done


def _rotate_column(model, column, newest: Fernet, done: Rotation) -> None:
    name = f"{model._meta.label}.{column.name}"
    rows = model._base_manager.select_for_update().exclude(**{column.attname: ""})
    # The stored token itself: a plain TextField output skips the field's decryption.
    token = ExpressionWrapper(F(column.attname), output_field=models.TextField())
    for pk, stored in rows.filter(**{f"{column.attname}__isnull": False}).values_list("pk", token):
        try:
            newest.decrypt(stored.encode())
        except InvalidToken:
            pass
        else:
            done.current[name] += 1
            continue
        try:
            plain = decrypt(stored)
        except CredentialsUnreadable:
            done.unreadable.append((name, pk))
            continue
        # update() passes the plain text through the field, which encrypts with the newest key.
        model._base_manager.filter(pk=pk).update(**{column.attname: plain})
        done.reencrypted[name] += 1
