"""The ASGI app: REST routes, the WebSocket route, auth and static files."""
