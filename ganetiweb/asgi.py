"""ASGI entry point: HTTP through Django, websockets through Channels consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganetiweb.settings")
# Django must be set up before the consumers and their models are imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from ganetiweb.routing import websocket_urlpatterns  # noqa: E402
from vms.console.consumers import SERVER_SEND  # noqa: E402


def keep_server_send(inner):
    """Put the server's own `send` in the scope, for the console's relayed frames."""

    async def application(scope, receive, send):
        return await inner({**scope, SERVER_SEND: send}, receive, send)

    return application


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            keep_server_send(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
