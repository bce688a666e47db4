"""Strict readers for settings that come from environment variables.

Each helper refuses a value it cannot understand and names the variable, so a
typo stops start-up with a message instead of running with a surprise.
"""

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class SettingError(Exception):
    """A setting has a value that cannot be used; the message says how to fix it."""


def _raw(name: str) -> str | None:
    """Return NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if value is not None and file_name:
        raise SettingError(f"Set either {name} or {name}_FILE, not both.")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise SettingError(f"{name}_FILE={file_name} cannot be read: {exc.strerror}.") from exc
    return value


def envstr(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def envbool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise SettingError(f"{name}={value!r} is not valid: use true or false.")


def envint(name: str, default: int, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise SettingError(f"{name}={number} is too small: it must be at least {minimum}.")
    return number


def envchoice(name: str, default: str, choices: list[str]) -> str:
    value = envstr(name, default)
    if value not in choices:
        raise SettingError(f"{name}={value!r} is not valid: use one of {', '.join(choices)}.")
    return value


def envnetworks(name: str) -> list[str]:
    """A comma-separated list of networks in CIDR form, e.g. 10.0.0.0/8,fd00::/8."""
    networks = envlist(name, [])
    for item in networks:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingError(
                f"{name}: {item!r} is not a network; write it as 10.0.0.0/8 or fd00::/8."
            ) from None
    return networks


def envlist(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise SettingError(f"{name}={value!r} has an empty item: give a comma-separated list.")
    return items


def database_from_url(name: str, default: str) -> dict:
    """Turn DATABASE_URL (sqlite:///PATH or postgres://USER:PASS@HOST:PORT/NAME) into settings."""
    url = envstr(name, default)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:////abs/path.db is an absolute path, sqlite:///name.db a relative one.
        path = unquote(parts.path)[1:]
        if not path or path == "/":
            raise SettingError(f"{name}={url!r} names no file: use sqlite:////absolute/path.db.")
        # The workers write from other processes. A transaction that reads, then writes (a
        # request locking its VM row, update_or_create) takes the write lock when it begins:
        # SQLite cannot upgrade a read lock while another writer waits, and fails at once
        # with "database is locked" instead of waiting for the busy timeout.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {"transaction_mode": "IMMEDIATE"},
        }
    if parts.scheme in ("postgres", "postgresql"):
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise SettingError(f"{name}={url!r} names no database: add /NAME at the end.")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    raise SettingError(
        f"{name}={url!r} is not understood: use sqlite:////path/db.sqlite3 "
        "or postgres://user:password@host:port/database."
    )


def redis_url(name: str, default: str) -> str:
    url = envstr(name, default)
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingError(f"{name}={url!r} is not a Redis URL: use redis://host:port/db.")
    return url


def secret_key(name: str, fallback_file: Path) -> str:
    """Return SECRET_KEY, or one generated once into FALLBACK_FILE (outside the repository)."""
    value = _raw(name)
    if value:
        if len(value) < 40:
            raise SettingError(f"{name} is too short: use at least 40 random characters.")
        return value
    return _generated_once(fallback_file)


def credentials_keys(name: str, fallback_file: Path, required: bool) -> list[str]:
    """Return the comma-separated keys of NAME, newest first, or one generated once into
    FALLBACK_FILE; when REQUIRED (behind HTTPS), a missing NAME stops start-up instead.

    Only the newest key encrypts, so only it must be long; older ones are listed to read what
    they encrypted until `manage.py rotate_credentials_key` has re-encrypted it."""
    keys = envlist(name, [])
    if keys:
        if len(keys[0]) < 40:
            raise SettingError(
                f"The first key of {name} (the newest, which encrypts) is too short: "
                "use at least 40 random characters."
            )
        return keys
    if required:
        raise SettingError(
            f"{name} is required when HTTPS=true: set it (or {name}_FILE) to at least 40 random "
            "characters, kept apart from SECRET_KEY, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'. Passwords saved "
            "before it was set were encrypted with SECRET_KEY: list that after the new key, "
            "then run manage.py rotate_credentials_key."
        )
    return [_generated_once(fallback_file)]


def renamed(old: str, new: str) -> None:
    """Stop start-up when a variable is still set under its former name."""
    if _raw(old):
        raise SettingError(f"{old} is now called {new}: rename the variable (or {old}_FILE).")


def _generated_once(path: Path) -> str:
    """A random key read from PATH, written there (readable by its owner only) the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
