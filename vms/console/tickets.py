"""Console tickets and the VNC passwords of libvirt VMs, both kept in Redis (CONSOLE_REDIS_URL).

A ticket is what the console page trades for a websocket: random, bound to one user, one VM and
one session, valid TICKET_SECONDS, and redeemable once (GETDEL is atomic, so two redemptions
cannot both win).

A libvirt VM's VNC password is read from its domain XML by the worker during the inventory
sync (clusters/sync.py) and kept here encrypted with CREDENTIALS_KEY, for the console proxy
only: no web request reads it from a host, and no page shows it.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass

import redis
import redis.asyncio
from django.conf import settings

from clusters.crypto import CredentialsUnreadable, decrypt, encrypt

TICKET_SECONDS = 30
TICKET_KEY = "ganetiweb:console:ticket:{}"
PASSWORD_KEY = "ganetiweb:console:vnc-password:{}"
# A password is refreshed by every sync; one not seen for a day belongs to a forgotten VM.
PASSWORD_SECONDS = 24 * 3600

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ticket:
    user_id: int
    vm_id: int
    session_key: str


def issue_ticket(user, vm, session_key: str) -> str:
    """A new ticket for `user` on `vm` in the session `session_key`."""
    token = secrets.token_urlsafe(32)
    value = json.dumps({"user": user.pk, "vm": vm.pk, "session": session_key})
    with redis.Redis.from_url(settings.CONSOLE_REDIS_URL) as client:
        client.set(TICKET_KEY.format(token), value, ex=TICKET_SECONDS)
    return token


async def redeem_ticket(token: str) -> Ticket | None:
    """The ticket, removed from the store; None if it never existed, expired or was used."""
    if not token or len(token) > 100:
        return None
    client = redis.asyncio.Redis.from_url(settings.CONSOLE_REDIS_URL)
    try:
        value = await client.getdel(TICKET_KEY.format(token))
    finally:
        await client.aclose()
    if value is None:
        return None
    data = json.loads(value)
    return Ticket(user_id=data["user"], vm_id=data["vm"], session_key=data["session"])


def store_vnc_passwords(passwords: dict[int, str]) -> None:
    """Remember each VM's VNC password (VM id -> password; empty means none). Worker only."""
    if not passwords:
        return
    with redis.Redis.from_url(settings.CONSOLE_REDIS_URL) as client:
        pipeline = client.pipeline(transaction=False)
        for vm_id, password in passwords.items():
            if password:
                pipeline.set(PASSWORD_KEY.format(vm_id), encrypt(password), ex=PASSWORD_SECONDS)
            else:
                pipeline.delete(PASSWORD_KEY.format(vm_id))
        pipeline.execute()


async def vnc_password(vm_id: int) -> str:
    """The VM's VNC password as the last sync read it; empty when it has none."""
    client = redis.asyncio.Redis.from_url(settings.CONSOLE_REDIS_URL)
    try:
        token = await client.get(PASSWORD_KEY.format(vm_id))
    finally:
        await client.aclose()
    if not token:
        return ""
    try:
        return decrypt(token.decode())
    except CredentialsUnreadable:
        logger.warning(
            "The VNC password of VM %s cannot be decrypted; the next sync resets it.", vm_id
        )
        return ""
