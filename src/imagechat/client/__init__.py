"""The Python client: REST calls (`ImageChatClient`) and a live subscriber (`LiveClient`)."""

from imagechat.client.live import Channel, LiveClient, LiveEvent
from imagechat.client.rest import ApiError, ImageChatClient

__all__ = ["ApiError", "Channel", "ImageChatClient", "LiveClient", "LiveEvent"]
