"""`imagechat serve | migrate | tenant create | tenant list`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Sequence

from imagechat.domain import validation
from imagechat.domain.errors import ImageChatError
from imagechat.settings import Settings
from imagechat.storage.store import Store

DEMO_TENANT = "demo"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"IMAGECHAT_{name}", default)


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (env IMAGECHAT_DATABASE_URL; default sqlite+aiosqlite:///./imagechat.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imagechat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default=None, help="env IMAGECHAT_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="env IMAGECHAT_PORT (8000)")
    _database_flag(serve)
    serve.add_argument("--broker-url", default=None, help="env IMAGECHAT_BROKER_URL (memory://)")
    serve.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="create tenant 'demo' and serve a demo page at / (env IMAGECHAT_DEMO)",
    )
    serve.add_argument(
        "--ws-compression",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="permessage-deflate for clients that offer it, on by default "
        "(env IMAGECHAT_WS_COMPRESSION)",
    )
    serve.add_argument("--log-level", default=_env("LOG_LEVEL", "info"))

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    _database_flag(migrate)

    trim = commands.add_parser(
        "trim-history", help="keep only the newest events of each image's log"
    )
    trim.add_argument(
        "--keep",
        type=int,
        required=True,
        metavar="N",
        help="events to keep per image; older ones can no longer be replayed",
    )
    _database_flag(trim)

    reset = commands.add_parser(
        "reset-channel",
        help="start a new history (epoch) for one image, e.g. after restoring a backup",
    )
    reset.add_argument("tenant_id", metavar="TENANT")
    reset.add_argument("url_id", metavar="URLID")
    _database_flag(reset)

    tenant = commands.add_parser("tenant", help="manage tenants (sites)")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_commands.add_parser("create", help="create a tenant and print its secret")
    create.add_argument("tenant_id", metavar="ID")
    create.add_argument("--secret", default=None, help="API secret (generated when not given)")
    create.add_argument(
        "--origin",
        action="append",
        default=[],
        help="allowed browser origin, e.g. https://example.com (repeatable)",
    )
    create.add_argument("--private", action="store_true", help="reads need a session")
    create.add_argument("--readonly", action="store_true", help="only moderators may write")
    _database_flag(create)
    listing = tenant_commands.add_parser("list", help="list tenants as JSON")
    _database_flag(listing)
    return parser


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or Settings.from_env().database_url)


async def _open(url: str) -> Store:
    return await Store.open(url, run_migrations=Store.default_migrates(url))


async def _migrate(url: str) -> None:
    store = await Store.open(url, run_migrations=True)
    await store.close()


async def _create_tenant(args: argparse.Namespace) -> dict[str, object]:
    store = await _open(_database_url(args))
    try:
        tenant = await store.create_tenant(
            args.tenant_id,
            api_secret=args.secret,
            origins=args.origin,
            private=args.private,
            readonly=args.readonly,
        )
    finally:
        await store.close()
    return {
        "tenantId": tenant.id,
        "apiSecret": tenant.api_secret,
        "origins": list(tenant.origins),
        "private": tenant.private,
        "readonly": tenant.readonly,
    }


async def _list_tenants(args: argparse.Namespace) -> list[dict[str, object]]:
    store = await _open(_database_url(args))
    try:
        found = await store.list_tenants()
    finally:
        await store.close()
    return [
        {"tenantId": t.id, "origins": list(t.origins), "private": t.private, "readonly": t.readonly}
        for t in found
    ]


async def _trim_history(args: argparse.Namespace) -> int:
    if args.keep < 0:
        raise ImageChatError("--keep must be 0 or more", "invalid")
    store = await _open(_database_url(args))
    try:
        return await store.trim_all_history(args.keep)
    finally:
        await store.close()


async def _reset_channel(args: argparse.Namespace) -> str:
    store = await _open(_database_url(args))
    try:
        tenant = await store.get_tenant(args.tenant_id)
        if tenant is None:
            raise ImageChatError(f"no tenant {args.tenant_id!r}", "tenant_not_found")
        return await store.reset_channel(tenant, validation.url_id(args.url_id))
    finally:
        await store.close()


async def _prepare_demo(url: str) -> str:
    """Make sure tenant 'demo' exists; returns its API secret."""
    store = await _open(url)
    try:
        tenant = await store.get_tenant(DEMO_TENANT)
        if tenant is None:
            tenant = await store.create_tenant(DEMO_TENANT)
        return tenant.api_secret
    finally:
        await store.close()


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from imagechat.web.app import create_app
    from imagechat.web.ws import live_first
    from imagechat.web.wsprotocol import uvicorn_options

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        database_url=args.database_url,
        broker_url=args.broker_url,
        demo=args.demo,
        ws_compression=args.ws_compression,
    )
    if Store.default_migrates(settings.database_url):
        asyncio.run(_migrate(settings.database_url))
    if settings.demo:
        secret = asyncio.run(_prepare_demo(settings.database_url))
        print(f"demo tenant 'demo', API secret: {secret}", flush=True)
        print(f"demo page: http://{settings.host}:{settings.port}/", flush=True)
        print(f"console: http://{settings.host}:{settings.port}/admin (that secret)", flush=True)
    app = create_app(settings)
    _settle_garbage_collector()
    uvicorn.run(
        live_first(app),
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings),
    )


def _settle_garbage_collector() -> None:
    """Keep the collector's pauses out of delivery latency.

    Everything imported and built so far lives as long as the process: freezing it takes it
    out of every later collection, which then only walks what connections and requests made.
    Young collections run less often, since each event allocates a little and leaves quickly.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "migrate":
            asyncio.run(_migrate(_database_url(args)))
            print("database is up to date")
        elif args.command == "trim-history":
            trimmed = asyncio.run(_trim_history(args))
            print(f"trimmed the history of {trimmed} image(s) to the newest {args.keep} events")
        elif args.command == "reset-channel":
            epoch = asyncio.run(_reset_channel(args))
            print(f"{args.tenant_id}/{args.url_id} starts a new history: epoch {epoch}")
        elif args.tenant_command == "create":
            print(json.dumps(asyncio.run(_create_tenant(args))))
        else:
            print(json.dumps(asyncio.run(_list_tenants(args)), indent=2))
    except ImageChatError as error:
        print(f"imagechat: {error.message}", file=sys.stderr)
        sys.exit(2)
