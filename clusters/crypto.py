"""Encryption at rest for cluster credentials.

The key comes from the CREDENTIALS_KEY setting (any string; it is stretched into a Fernet key).
Losing or changing it makes the stored passwords unreadable: they must then be entered again.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(b"ganetiweb credentials\0" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(text: str) -> str:
    if not text:
        return ""
    return _fernet(settings.CREDENTIALS_KEY).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(settings.CREDENTIALS_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable() from None


class CredentialsUnreadable(Exception):
    def __str__(self):
        return (
            "The stored password cannot be decrypted: CREDENTIALS_KEY changed since it was "
            "saved. Enter the password again in the cluster's settings."
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
