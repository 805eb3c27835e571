"""The operator console at /admin: server-rendered pages and forms, no script, no CDN."""

from __future__ import annotations

from starlette.routing import Route, Router

from imagechat.web.admin import actions, pages

router = Router(
    routes=[
        Route("/", pages.home, methods=["GET"]),
        Route("/login", pages.login, methods=["GET"]),
        Route("/login", actions.login, methods=["POST"]),
        Route("/logout", actions.logout, methods=["POST"]),
        Route("/usage", pages.usage, methods=["GET"]),
        Route("/conversations", pages.conversations, methods=["GET"]),
        Route("/conversations/{chatId}", pages.conversation, methods=["GET"]),
        Route("/moderation", pages.moderation_page, methods=["GET"]),
        Route("/settings", pages.settings_page, methods=["GET"]),
        Route("/do/{action}", actions.act, methods=["POST"]),
    ]
)
