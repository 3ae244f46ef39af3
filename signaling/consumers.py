from channels.generic.websocket import AsyncWebsocketConsumer


class CallConsumer(AsyncWebsocketConsumer):
    """Placeholder until the signaling consumer lands."""

    async def connect(self) -> None:
        await self.close(code=4404)
