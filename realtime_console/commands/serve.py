"""``serve``: the local Realtime server in the foreground."""

from __future__ import annotations

import argparse
import math
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


class _WholeTokens(argparse.HelpFormatter):
    """Help wrapped between words only: a fault spec (``drop_connections=1``) or a
    ``wall-clock`` is never split across lines, however narrow the terminal."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        words = " ".join(text.split())
        return textwrap.wrap(words, width, break_long_words=False, break_on_hyphens=False)


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="run the local Realtime server in the foreground",
        description="A local Realtime-protocol server for offline use, tests and demos. It "
        "prints one line per client connecting and disconnecting.",
        formatter_class=_WholeTokens,
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765, 0 = any)")
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="key clients must present (default: $REALTIME_CONSOLE_SERVER_KEY, else generated)",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        default="",
        help="inject faults: comma-separated NAME=VALUE. Network: drop_after=N, drop_at=TYPE, "
        "stall_after=N, drop_connections=N, refuse=N, "
        "delay_ms=MS, jitter_ms=MS, seed=N. Frames: malformed_at=N, unknown_at=N, error_at=N. "
        "Protocol: no_done=N, ignore_create=N, no_session_created=1, no_session_updated=1, "
        "reject_update=1, transcription_failed=N. Chat completions: http_status=CODE, "
        "http_errors=N, http_retry_after_s=S, http_stall_after_chunks=N. "
        "Faults hit every connection unless drop_connections=N limits them to the first N, "
        "so a client's reconnect recovers. "
        "Example: drop_after=40,drop_connections=1,delay_ms=50",
    )
    parser.add_argument(
        "--realtime-factor",
        metavar="X",
        type=float,
        default=None,
        help="audio seconds streamed per wall-clock second (default 4; 'inf' = unpaced)",
    )
    parser.add_argument(
        "--audio-ttl-s",
        metavar="S",
        type=float,
        default=None,
        help="chat completions: seconds a reply's audio id can be referred to (default 3600)",
    )
    parser.add_argument(
        "--max-sessions",
        metavar="N",
        type=int,
        default=None,
        help="Realtime sessions open at once; more are refused with HTTP 503 (default 100)",
    )
    parser.add_argument(
        "--max-session-s",
        metavar="S",
        type=float,
        default=None,
        help="seconds a Realtime session may last before the server closes it with 1001, "
        "as the service does at 60 minutes (default 3600)",
    )
    parser.add_argument(
        "--voice-engine",
        choices=("auto", "espeak", "synthetic"),
        default="auto",
        help="reply voice: eSpeak NG speech, the synthetic tone voice, or auto "
        "(eSpeak NG when installed; the default)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    import asyncio

    from realtime_console.server.app import ListenError, serve_forever
    from realtime_console.server.espeak import espeak_available
    from realtime_console.server.faults import FaultPlan
    from realtime_console.server.options import (
        DEFAULT_AUDIO_TTL_S,
        DEFAULT_MAX_SESSION_S,
        DEFAULT_MAX_SESSIONS,
        DEFAULT_REALTIME_FACTOR,
        ServerOptions,
    )

    key = args.api_key or os.environ.get("REALTIME_CONSOLE_SERVER_KEY") or ""
    if not key:
        # A throwaway key for a local test server: the user must see it to connect.
        key = secrets.token_urlsafe(18)
        print(f"-- generated server key: {key}", file=sys.stderr)
    factor = DEFAULT_REALTIME_FACTOR if args.realtime_factor is None else args.realtime_factor
    if args.voice_engine == "espeak" and not espeak_available():
        raise ConfigError("--voice-engine espeak: espeak-ng is not installed (use auto)")
    if not factor > 0:
        raise ConfigError(f"--realtime-factor: must be > 0, got {args.realtime_factor}")
    ttl = DEFAULT_AUDIO_TTL_S if args.audio_ttl_s is None else args.audio_ttl_s
    if not (math.isfinite(ttl) and ttl > 0):
        raise ConfigError(f"--audio-ttl-s: must be a number of seconds > 0, got {args.audio_ttl_s}")
    max_sessions = DEFAULT_MAX_SESSIONS if args.max_sessions is None else args.max_sessions
    if max_sessions < 1:
        raise ConfigError(f"--max-sessions: must be a whole number >= 1, got {args.max_sessions}")
    max_session_s = DEFAULT_MAX_SESSION_S if args.max_session_s is None else args.max_session_s
    if not (math.isfinite(max_session_s) and max_session_s > 0):
        raise ConfigError(
            f"--max-session-s: must be a number of seconds > 0, got {args.max_session_s}"
        )
    options = ServerOptions(
        host=args.host,
        port=args.port,
        api_key=key,
        realtime_factor=factor,
        voice_engine=args.voice_engine,
        faults=FaultPlan.parse(args.faults),
        audio_ttl_s=ttl,
        max_sessions=max_sessions,
        max_session_s=max_session_s,
    )
    if options.faults.active:
        print(f"-- fault injection on: {args.faults}", file=sys.stderr)

    def ready(server: LocalServer) -> None:
        print(
            f"-- local Realtime server listening on {server.http_url()} "
            "(WebSocket /openai/v1/realtime and /v1/realtime; POST /v1/chat/completions, "
            "/openai/v1/chat/completions and /openai/deployments/D/chat/completions); "
            "Ctrl+C stops it",
            file=sys.stderr,
            flush=True,
        )

    def announce(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        asyncio.run(serve_forever(options, ready=ready, announce=announce))
    except (OSError, ListenError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).rpartition(": ")[2]
        raise ConfigError(
            f"--host/--port: cannot listen on {args.host}:{args.port}: {reason or exc}"
        ) from None
    return 0
