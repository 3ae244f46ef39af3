"""The WebSocket side of the ASGI application.

Only the session cookie is read here; the consumer authenticates it together
with its room check (``access.admit``), in one database call on a reader
thread, instead of Channels' ``AuthMiddlewareStack``, which loads the session
and the user in two calls on the single database thread and wraps every
outgoing frame in a session-saving ``send`` the WebSocket never needs.
"""

from channels.routing import URLRouter
from channels.sessions import CookieMiddleware
from django.urls import path

from .consumers import CallConsumer

websocket_urlpatterns = [
    path("ws/rooms/<str:slug>/", CallConsumer.as_asgi()),
]

websocket_application = CookieMiddleware(URLRouter(websocket_urlpatterns))
