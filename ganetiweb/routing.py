"""Websocket routes; each app's consumers are listed here."""

from django.urls import path

from vms.console.consumers import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/console/<int:vm_id>/", ConsoleConsumer.as_asgi(), name="console_ws"),
]
