"""`manage.py serve`: the web process (HTTP pages and the console's websockets)."""

from django.core.management.base import BaseCommand

from ganetiweb.server import APPLICATION, serve


class Command(BaseCommand):
    help = (
        "Serve the ASGI application (HTTP and websockets) under uvicorn, as in production. "
        "Put an HTTPS reverse proxy in front of it; FORWARDED_ALLOW_IPS names the proxies "
        "whose X-Forwarded-* headers are trusted (default 127.0.0.1,::1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--application",
            default=APPLICATION,
            help="The ASGI application as module:attribute (bench/console.py serves a bare "
            "relay with it).",
        )

    def handle(self, *args, host, port, application, **options):
        serve(application, host=host, port=port)
