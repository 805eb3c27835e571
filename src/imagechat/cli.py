"""The `imagechat` command line: serve, migrate, trim-history, reset-channel and tenant."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import ArgumentError, InvalidRequestError, NoSuchModuleError

from imagechat.domain import validation
from imagechat.domain.errors import ImageChatError
from imagechat.settings import ConfigError, Settings
from imagechat.storage.engine import create_engine
from imagechat.storage.store import Store

DEMO_TENANT = "demo"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# What SQLAlchemy raises for a database URL it cannot use (before connecting anywhere).
_BAD_DATABASE_URL = (ArgumentError, NoSuchModuleError, InvalidRequestError)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit status 2: a bad flag is a configuration error."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{self.prog}: {message} (see {self.prog} --help)")


def _fail(message: str) -> NoReturn:
    print(message if message.startswith("imagechat") else f"imagechat: {message}", file=sys.stderr)
    sys.exit(2)


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"IMAGECHAT_{name}", default)


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (env IMAGECHAT_DATABASE_URL; default sqlite+aiosqlite:///./imagechat.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="imagechat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    serve.add_argument(
        "--ssl-certfile",
        default=None,
        metavar="FILE",
        help="PEM certificate (chain): serve HTTPS and WSS (env IMAGECHAT_SSL_CERTFILE)",
    )
    serve.add_argument(
        "--ssl-keyfile",
        default=None,
        metavar="FILE",
        help="PEM private key of the certificate (env IMAGECHAT_SSL_KEYFILE)",
    )
    serve.add_argument(
        "--log-level",
        default=None,
        choices=LOG_LEVELS,
        help="env IMAGECHAT_LOG_LEVEL (info)",
    )

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
    tenant_commands = tenant.add_subparsers(
        dest="tenant_command", required=True, parser_class=_Parser
    )
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
    rotate = tenant_commands.add_parser(
        "rotate-secret",
        help="give a tenant a new API secret and print it; old tokens, SSO hashes and keys stop",
    )
    rotate.add_argument("tenant_id", metavar="ID")
    rotate.add_argument("--secret", default=None, help="the new secret (generated when not given)")
    _database_flag(rotate)
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


async def _rotate_secret(args: argparse.Namespace) -> dict[str, object]:
    store = await _open(_database_url(args))
    try:
        secret = await store.rotate_secret(args.tenant_id, args.secret)
    finally:
        await store.close()
    return {"tenantId": args.tenant_id, "apiSecret": secret}


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
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    log_level = args.log_level or _env("LOG_LEVEL", "info")
    if log_level not in LOG_LEVELS:
        _fail(f"IMAGECHAT_LOG_LEVEL wants one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    _check_readable(args, "ssl_certfile", settings.ssl_certfile)
    _check_readable(args, "ssl_keyfile", settings.ssl_keyfile)
    _check_broker(args, settings.broker_url)
    create_engine(settings.database_url)  # a bad URL fails here, not in the server's startup
    if Store.default_migrates(settings.database_url):
        asyncio.run(_migrate(settings.database_url))
    if settings.demo:
        secret = asyncio.run(_prepare_demo(settings.database_url))
        print(f"demo tenant 'demo', API secret: {secret}", flush=True)
        base = f"{'https' if settings.ssl_certfile else 'http'}://{settings.host}:{settings.port}"
        print(f"demo page: {base}/", flush=True)
        print(f"console: {base}/admin (that secret)", flush=True)
    app = create_app(settings)
    _settle_garbage_collector()
    uvicorn.run(
        live_first(app),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
        **uvicorn_options(settings),
    )


def _source(args: argparse.Namespace, name: str) -> str:
    """Where a setting's value came from: its flag when one was given, else its variable."""
    flag = "--" + name.replace("_", "-")
    variable = f"IMAGECHAT_{name.upper()}"
    if getattr(args, name, None) is not None:
        return flag
    if hasattr(args, name) and variable not in os.environ:
        return f"{flag} (or {variable})"  # missing, not wrong: either would do
    return variable


def _check_readable(args: argparse.Namespace, name: str, path: str | None) -> None:
    # uvicorn would fail later with a traceback from deep inside ssl.
    if path is not None and not (Path(path).is_file() and os.access(path, os.R_OK)):
        _fail(f"{_source(args, name)} wants a readable PEM file, not {path!r}")


def _check_broker(args: argparse.Namespace, url: str) -> None:
    from imagechat.realtime.broker import broker_from_url

    try:
        broker_from_url(url)  # builds it only; nothing connects before the server starts
    except ValueError as error:
        _fail(f"{_source(args, 'broker_url')}: {error}")


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
        _run(args)
    except ConfigError as error:
        _fail(error.naming(_source(args, error.name)))
    except _BAD_DATABASE_URL as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        _fail(f"{_source(args, 'database_url')} is not a usable database URL: {first_line}")
    except ImageChatError as error:
        print(f"imagechat: {error.message}", file=sys.stderr)
        sys.exit(2)


def _run(args: argparse.Namespace) -> None:
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
    elif args.tenant_command == "rotate-secret":
        print(json.dumps(asyncio.run(_rotate_secret(args))))
    else:
        print(json.dumps(asyncio.run(_list_tenants(args)), indent=2))
