"""The little of the RFB (VNC) protocol the console proxy speaks itself. Plain Python, no Django.

When a VM's VNC server wants a password, the proxy answers the server's VNC authentication with
it, then offers the browser "no authentication": the password never leaves the server side.
Everything after the security handshake (ClientInit on) is relayed untouched.

RFB 3.8 is RFC 6143; 3.7 differs only in sending no SecurityResult after "None", and 3.3 lets
the server pick the security type.
"""

from __future__ import annotations

import asyncio
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

SECURITY_INVALID = 0
SECURITY_NONE = 1
SECURITY_VNC_AUTH = 2
VERSION_3_3 = b"RFB 003.003\n"
VERSION_3_7 = b"RFB 003.007\n"
VERSION_3_8 = b"RFB 003.008\n"


class HandshakeError(Exception):
    """The VNC server refused us or spoke something that is not RFB."""


class AuthenticationFailed(HandshakeError):
    """The VNC server refused the password."""


class PasswordRequired(HandshakeError):
    """The VNC server wants authentication we have no password for, or cannot do."""


def _reverse_bits(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """The answer to a VNC-auth challenge: the challenge DES-encrypted with the password.

    VNC uses the first 8 bytes of the password (zero-padded) as a DES key, each byte with its
    bits in reverse order. Single DES is TripleDES with the same key three times.
    """
    if len(challenge) != 16:
        raise HandshakeError(f"a VNC challenge has 16 bytes, not {len(challenge)}")
    key = bytes(_reverse_bits(b) for b in password.encode("latin-1", "replace")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305 (RFB says so)
    return encryptor.update(challenge) + encryptor.finalize()


def parse_version(greeting: bytes) -> tuple[int, int]:
    if len(greeting) != 12 or not greeting.startswith(b"RFB ") or greeting[7:8] != b".":
        raise HandshakeError(f"not an RFB greeting: {greeting[:12]!r}")
    try:
        return int(greeting[4:7]), int(greeting[8:11])
    except ValueError:
        raise HandshakeError(f"not an RFB greeting: {greeting!r}") from None


async def _read_reason(reader: asyncio.StreamReader) -> str:
    (length,) = struct.unpack("!I", await reader.readexactly(4))
    return (await reader.readexactly(min(length, 4096))).decode("utf-8", "replace")


async def authenticate_to_server(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, password: str
) -> None:
    """Do the server side of the handshake up to (not including) ClientInit.

    Uses VNC authentication with `password` when the server offers it, "None" when it offers
    that instead. Raises AuthenticationFailed, PasswordRequired or HandshakeError.
    """
    try:
        version = parse_version(await reader.readexactly(12))
        if version >= (3, 8):
            writer.write(VERSION_3_8)
        elif version >= (3, 7):
            writer.write(VERSION_3_7)
        else:
            writer.write(VERSION_3_3)
        await writer.drain()
        if version < (3, 7):
            (chosen,) = struct.unpack("!I", await reader.readexactly(4))
            if chosen == SECURITY_INVALID:
                raise HandshakeError(await _read_reason(reader))
        else:
            (count,) = await reader.readexactly(1)
            if count == 0:
                raise HandshakeError(await _read_reason(reader))
            offered = set(await reader.readexactly(count))
            if SECURITY_VNC_AUTH in offered and password:
                chosen = SECURITY_VNC_AUTH
            elif SECURITY_NONE in offered:
                chosen = SECURITY_NONE
            else:
                raise PasswordRequired(f"the server offers security types {sorted(offered)}")
            writer.write(bytes([chosen]))
            await writer.drain()
        if chosen == SECURITY_VNC_AUTH:
            if not password:
                raise PasswordRequired("the server wants a VNC password")
            challenge = await reader.readexactly(16)
            writer.write(vnc_auth_response(password, challenge))
            await writer.drain()
        elif chosen != SECURITY_NONE:
            raise PasswordRequired(f"the server chose security type {chosen}")
        if chosen == SECURITY_VNC_AUTH or version >= (3, 8):
            (result,) = struct.unpack("!I", await reader.readexactly(4))
            if result != 0:
                reason = await _read_reason(reader) if version >= (3, 8) else ""
                raise AuthenticationFailed(reason or "the VNC server refused the password")
    except asyncio.IncompleteReadError as exc:
        raise HandshakeError("the VNC server closed the connection during the handshake") from exc


class BrowserHandshake:
    """The server side of the handshake offered to the browser: RFB 3.8 with "None".

    Fed the browser's bytes; `outgoing` holds what to send back. Once `done`, `rest` holds any
    bytes the browser sent after the handshake (its ClientInit), to relay to the VM.
    """

    def __init__(self):
        self.outgoing = [VERSION_3_8]
        self._buffer = b""
        self._stage = "version"
        self.done = False
        self.rest = b""

    def feed(self, data: bytes) -> None:
        self._buffer += data
        if self._stage == "version" and len(self._buffer) >= 12:
            version = parse_version(self._buffer[:12])
            if version < (3, 7):
                raise HandshakeError(f"the browser speaks RFB {version}, older than 3.7")
            self._buffer = self._buffer[12:]
            self._version = version
            self.outgoing.append(bytes([1, SECURITY_NONE]))
            self._stage = "security"
        if self._stage == "security" and len(self._buffer) >= 1:
            if self._buffer[0] != SECURITY_NONE:
                raise HandshakeError(f"the browser chose security type {self._buffer[0]}")
            if self._version >= (3, 8):
                self.outgoing.append(struct.pack("!I", 0))
            self.rest, self._buffer = self._buffer[1:], b""
            self._stage = "done"
            self.done = True

    def take_outgoing(self) -> bytes:
        data, self.outgoing = b"".join(self.outgoing), []
        return data
