"""The least an ASGI websocket-to-VNC relay can be: no Channels, no middleware, no checks.

bench/console.py runs it as path (d) under the web process's server (`manage.py serve
--application bench._bare_relay:app`), beside the real consumer (b): what (d) costs is the
server's and the ASGI hops', which no consumer can avoid; what (b) adds on top of (d) is ours.
Never served by the application.
"""

import asyncio
import os

READ_CHUNK = 256 * 1024


async def app(scope, receive, send):
    host, port = os.environ["GWBENCH_VNC_HOST"], int(os.environ["GWBENCH_VNC_PORT"])
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    reader, writer = await asyncio.open_connection(host, port)

    async def from_vm():
        while data := await reader.read(READ_CHUNK):
            await send({"type": "websocket.send", "bytes": data})

    task = asyncio.create_task(from_vm())
    while (message := await receive())["type"] == "websocket.receive":
        writer.write(message["bytes"])
        await writer.drain()
    task.cancel()
    writer.close()
