"""Websocket routes; each app's consumers are listed here (the console joins later)."""

websocket_urlpatterns = []
