"""``serve``: the local Realtime server in the foreground."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import TYPE_CHECKING, Any

from realtime_console.errors import ConfigError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.server.app import LocalServer


ORDER = 50


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="run the local Realtime server in the foreground",
        description="A local Realtime-protocol server for offline use, tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765, 0 = any)")
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="key clients must present (default: $REALTIME_CONSOLE_SERVER_KEY, else generated)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    import asyncio

    from realtime_console.server.app import serve_forever
    from realtime_console.server.options import ServerOptions

    key = args.api_key or os.environ.get("REALTIME_CONSOLE_SERVER_KEY") or ""
    if not key:
        # A throwaway key for a local test server: the user must see it to connect.
        key = secrets.token_urlsafe(18)
        print(f"-- generated server key: {key}", file=sys.stderr)
    options = ServerOptions(host=args.host, port=args.port, api_key=key)

    def ready(server: LocalServer) -> None:
        print(
            f"-- local Realtime server listening on {server.http_url()} "
            "(WebSocket /openai/v1/realtime and /v1/realtime); Ctrl+C stops it",
            file=sys.stderr,
            flush=True,
        )

    try:
        asyncio.run(serve_forever(options, ready=ready))
    except OSError as exc:
        raise ConfigError(
            f"--host/--port: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from None
    return 0
