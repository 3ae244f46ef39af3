"""ASGI entry point: Django for HTTP, the signaling consumer for WebSockets.

Run with ``daphne meet.asgi:application`` (or ``manage.py runserver`` in development).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meet.settings")
# Populate the app registry before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from signaling.origin import OriginCheckMiddleware  # noqa: E402
from signaling.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin is checked first: a foreign page's socket is closed
        # before its cookies are read.
        "websocket": OriginCheckMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
