from django.urls import path

from .consumers import CallConsumer

websocket_urlpatterns = [
    path("ws/rooms/<str:slug>/", CallConsumer.as_asgi()),
]
