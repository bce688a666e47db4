"""A minimal asyncio websocket client (RFC 6455) for the console benchmark: binary frames only.

Small on purpose: the three paths of bench/console.py must be read by the same client code,
and the payloads it sends are a few bytes, so its masking costs nothing measurable.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct


class WebsocketClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self._buffer = bytearray()

    @classmethod
    async def connect(cls, host: str, port: int, path: str, headers: dict[str, str] | None = None):
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: binary",
            f"Origin: http://{host}:{port}",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = await reader.readuntil(b"\r\n\r\n")
        status = answer.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            writer.close()
            raise ConnectionError(f"the websocket was refused: {status.decode(errors='replace')}")
        return cls(reader, writer)

    def send(self, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x82, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x82, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x82, 0x80 | 127, length)
        masked = (
            int.from_bytes(payload, "big")
            ^ int.from_bytes((mask * (length // 4 + 1))[:length], "big")
        ).to_bytes(length, "big")
        self.writer.write(header + mask + masked)

    async def _frame(self) -> bytes:
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        mask = await self.reader.readexactly(4) if second & 0x80 else None
        payload = await self.reader.readexactly(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        opcode = first & 0x0F
        if opcode == 0x8:
            raise ConnectionError("the server closed the websocket")
        return payload if opcode in (0x0, 0x2) else b""

    async def readexactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._buffer += await self._frame()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
