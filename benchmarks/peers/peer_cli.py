"""What every peer server shares: its command line and a high enough open-files limit."""

from __future__ import annotations

import argparse
import contextlib
import resource
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop


def raise_fd_limit() -> None:
    """Thousands of subscribers need thousands of descriptors (fanout.py raises it too, but a
    peer may be started by hand)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def address(description: str | None) -> argparse.Namespace:
    """`--host` and `--port`, the arguments fanout.py starts every peer with."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args()


def serve_on_uvloop(
    description: str | None, serve: Callable[[str, int], Coroutine[Any, Any, None]]
) -> None:
    """Parse the address, raise the limit and run `serve(host, port)` on uvloop until stopped."""
    args = address(description)
    raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port))
