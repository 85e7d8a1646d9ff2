"""Command line (DESIGN §2): parsing, and mapping every expected failure to one line + exit code.

This is the only module that exits. Heavy modules (openai, numpy, sounddevice, azure.identity,
aiohttp) are imported inside the command that needs them, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from realtime_console import __version__
from realtime_console._compat import BaseExceptionGroup, leaf_exceptions
from realtime_console.errors import ConsoleError
from realtime_console.redact import RedactingFilter, Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings

PROG = "realtime-console"
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace, "Settings", Redactor], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the flag (and exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _global_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("global options")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--profile", metavar="NAME", help="settings profile configs/NAME.toml")
    where.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    g.add_argument(
        "--local",
        action="store_true",
        help="start the built-in local Realtime server in-process and use it",
    )
    g.add_argument("--log-events", metavar="FILE", help="record every event (.jsonl or .jsonl.gz)")
    g.add_argument(
        "--log-audio",
        choices=("full", "none"),
        help="keep audio payloads in the event log, or only their byte counts",
    )
    g.add_argument(
        "--log-level",
        default="warning",
        type=str.lower,
        choices=("debug", "info", "warning", "error"),
        help="diagnostics on stderr (default: warning)",
    )
    g.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def _session_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--voice", metavar="V", help="assistant voice (alloy, ash, coral, echo, …)")
    p.add_argument("--instructions", metavar="T", help="system instructions for the session")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Terminal console for the OpenAI / Azure OpenAI Realtime API.",
        epilog="Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, "
        "130 interrupted.",
    )
    _global_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    chat = commands.add_parser(
        "chat",
        help="typed text in, audio + transcript out",
        description="Type a line, hear and read the reply. When stdin is not a terminal, each "
        "line is one turn and the program exits after the last reply. 'q' quits.",
    )
    chat.add_argument("--save-audio", metavar="DIR", type=Path, help="write one WAV per reply")
    chat.add_argument("--no-playback", action="store_true", help="do not play audio")
    _session_options(chat)
    chat.set_defaults(run=_run_chat)

    serve = commands.add_parser(
        "serve",
        help="run the local Realtime server in the foreground",
        description="A local Realtime-protocol server for offline use, tests and demos.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="TCP port (default 8765, 0 = any)")
    serve.add_argument(
        "--api-key",
        metavar="KEY",
        help="key clients must present (default: $REALTIME_CONSOLE_SERVER_KEY, else generated)",
    )
    serve.set_defaults(run=_run_serve)

    devices = commands.add_parser(
        "devices",
        help="list audio devices and whether each can do 24 kHz mono",
        description="List PortAudio devices; use the index or a name substring with "
        "audio.output_device / audio.input_device.",
    )
    devices.set_defaults(run=_run_devices)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    flag_to_key = {
        "voice": "session.voice",
        "instructions": "session.instructions",
        "log_events": "log.events",
        "log_audio": "log.audio",
    }
    out: dict[str, object] = {
        key: getattr(args, flag) for flag, key in flag_to_key.items() if hasattr(args, flag)
    }
    if args.local:
        out["connection.provider"] = "local"
    return out


def _configure_logging(level: str, redactor: Redactor) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if level != "debug":
        # These libraries log expected failures (a missing `az login`, a refused handshake) as
        # multi-line warnings; the console already reports them in one line.
        for noisy in ("azure", "openai", "websockets", "aiohttp", "httpx", "httpx2"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def _run_chat(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.modes.chat import ChatOptions, run_chat
    from realtime_console.ui.lines import StdinLines
    from realtime_console.ui.plain import PlainView

    view = PlainView()
    lines = StdinLines(prompt="you> ")
    options = ChatOptions(save_audio=args.save_audio, echo_input=not lines.interactive)

    async def main() -> int:
        playback = None
        if not args.no_playback:
            from realtime_console.audio.playback import open_playback

            playback = open_playback(settings.audio, view.notice)
        try:
            return await run_chat(
                settings,
                options,
                lines=lines,
                view=view,
                env=os.environ,
                redactor=redactor,
                playback=playback,
            )
        finally:
            if playback is not None:
                playback.close()

    return asyncio.run(main())


def _run_serve(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    import secrets

    from realtime_console.errors import ConfigError
    from realtime_console.server.app import LocalServer, serve_forever
    from realtime_console.server.options import ServerOptions

    key = args.api_key or os.environ.get("REALTIME_CONSOLE_SERVER_KEY") or ""
    if not key:
        # A throwaway key for a local test server: the user needs to see it to connect.
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


def _run_devices(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.audio.devices import list_devices
    from realtime_console.errors import AudioDeviceError
    from realtime_console.ui.devices_table import render_devices

    found = list_devices()
    if not found:
        raise AudioDeviceError("PortAudio reports no audio devices (try `chat --no-playback`)")
    print(render_devices(found))
    return 0


def _report(error: ConsoleError) -> int:
    print(f"{PROG}: {error}", file=sys.stderr)
    return error.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    redactor = Redactor()
    _configure_logging(args.log_level, redactor)
    try:
        from realtime_console.config import load_settings

        settings = load_settings(
            profile=args.profile,
            config_file=args.config,
            env=os.environ,
            overrides=_overrides(args),
        )
        run: Command = args.run
        return run(args, settings, redactor)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except ConsoleError as error:
        return _report(error)
    except BaseExceptionGroup as group:
        return _from_group(group)


def _from_group(group: BaseExceptionGroup[Any]) -> int:
    """TaskGroup wraps failures: report the first expected one, re-raise real bugs."""
    leaves = leaf_exceptions(group)
    for leaf in leaves:
        if isinstance(leaf, KeyboardInterrupt):
            return EXIT_INTERRUPTED
    for leaf in leaves:
        if isinstance(leaf, ConsoleError):
            return _report(leaf)
    raise group


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
