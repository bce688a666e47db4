"""The web process: the ASGI application under uvicorn, with the options it was measured with.

`manage.py serve` (the demo, production) and the browser tests' live server both build their
server here, so what the tests drive is what users get.

Why uvicorn and these options rather than Daphne: the console relays every keystroke and
screen update through the web process, and bench/console.py measures that path. Under Daphne
(Twisted on asyncio, autobahn) a relayed message takes about five event-loop turns, and the
round trip through the console was 1.9x websockify's whatever the consumer did; under uvicorn
with uvloop's event loop, httptools and the websockets library's Sans-I/O protocol, the same
consumer is as fast as websockify (figures in bench/README.md). Daphne still serves
`manage.py runserver` during development.
"""

from __future__ import annotations

import uvicorn

APPLICATION = "ganetiweb.asgi:application"


def server_config(application=APPLICATION, *, host="127.0.0.1", port=8000, **options):
    """uvicorn's settings for the web process; `options` override them (the tests' log level)."""
    settings = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        # VNC encodings compress the screen themselves; deflating frames again costs CPU and
        # latency on every keystroke (websockify does not offer it either).
        "ws_per_message_deflate": False,
        # Channels' ProtocolTypeRouter serves only http and websocket.
        "lifespan": "off",
        # Django's LOGGING (LOG_LEVEL) decides what uvicorn's loggers print.
        "log_config": None,
        "server_header": False,
        # On SIGTERM or Ctrl-C, open consoles get this long to close (and write their audit
        # entries) before the process ends anyway.
        "timeout_graceful_shutdown": 10,
    }
    settings.update(options)
    return uvicorn.Config(application, **settings)


def serve(application=APPLICATION, *, host="127.0.0.1", port=8000) -> None:
    """Run the web process until SIGINT or SIGTERM."""
    uvicorn.Server(server_config(application, host=host, port=port)).run()
