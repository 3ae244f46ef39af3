"""ASGI entry point: Django for HTTP, the signaling consumer for WebSockets.

Run with ``daphne meet.asgi:application`` (or ``manage.py runserver`` in development).
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meet.settings")
# Populate the app registry before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from signaling.origin import OriginCheckMiddleware  # noqa: E402
from signaling.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin is checked first: a foreign page's socket is closed
        # before its cookies are read.
        "websocket": OriginCheckMiddleware(websocket_application),
    }
)

# The collector in large steps: with CPython's default (a pass every 700 new
# objects, a full pass whenever the survivors grow by a quarter) a server
# gaining sockets runs full passes over everything it holds (Django and every
# socket: about 0.1 s each with 2,000 sockets), several of them during a join
# storm. Passes every 50,000 new objects, and full ones after 100 of those,
# cost a join storm of 200 a fifth of its p99 and no dropped handshakes
# (docs/benchmarks.md, "Seventh run").
gc.set_threshold(50_000, 10, 10)
