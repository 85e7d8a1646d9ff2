"""Command line (DESIGN §2): parsing, and mapping every expected failure to one line + exit code.

This is the only module that exits. Heavy modules (openai, numpy, sounddevice, azure.identity,
aiohttp) are imported inside the command that needs them, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from realtime_console import __version__
from realtime_console.commands import Run, command_modules
from realtime_console.errors import BaseExceptionGroup, ConsoleError, leaf_exceptions
from realtime_console.redact import RedactingFilter, Redactor

PROG = "realtime-console"
EXIT_INTERRUPTED = 130


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
    for module in command_modules():
        module.register(commands)
    return parser


_GLOBAL_SETTING_FLAGS = {"log_events": "log.events", "log_audio": "log.audio"}


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    flag_to_key = {**_GLOBAL_SETTING_FLAGS, **getattr(args, "setting_flags", {})}
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
        run: Run = args.run
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
