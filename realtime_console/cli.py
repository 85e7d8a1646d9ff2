"""Command line: parsing, and mapping every expected failure to one line + exit code.

This is the only module that exits. Heavy modules (openai, numpy, sounddevice, azure.identity,
aiohttp) are imported inside the command that needs them, so ``--help`` stays fast.

Ending: Ctrl+C exits 130. ``kill`` (SIGTERM) asks the program to stop the way ``q`` or end of
input does, so it takes the same clean path as Ctrl+C (the session task is cancelled: files
finished, socket closed with 1000) but exits 0, as a stop that was asked for. A stdout whose
reader went away ends the same way with 0, like ``cat``; one that cannot be written (a full
disk) exits 1 with one line.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

from realtime_console import __version__
from realtime_console.commands import Run, command_modules
from realtime_console.errors import BaseExceptionGroup, ConsoleError, leaf_exceptions
from realtime_console.redact import RedactingFilter, Redactor, process_redactor
from realtime_console.ui.output import OutputClosed, silence, write_status
from realtime_console.ui.sanitize import screen_line

PROG = "realtime-console"
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 0  # SIGTERM is a requested stop, like `q` (see the module docstring)
REPORT_LIMIT = 1000  # an error line quotes the server at most this long


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


def _report(error: ConsoleError | OutputClosed) -> int:
    # Errors quote what the server or the network said (a close reason, a refusal): screened
    # like everything else the server chose (ui.sanitize), with the process's redactor.
    # Several problems (a settings file with more than one mistake) are one line each.
    for part in str(error).split("\n"):
        line = screen_line(part, process_redactor(), REPORT_LIMIT)
        write_status(sys.stderr, f"{PROG}: {line}\n")
    return error.exit_code


def _output_closed(closed: OutputClosed) -> int:
    return _report(closed) if closed.exit_code else closed.exit_code


class _Stop:
    """Which stop the user asked for: Ctrl+C (SIGINT) or ``kill`` (SIGTERM)."""

    def __init__(self) -> None:
        self.terminated = False

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.terminated else EXIT_INTERRUPTED

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.terminated = True
        on_sigint = signal.getsignal(signal.SIGINT)
        if callable(on_sigint) and on_sigint is not signal.default_int_handler:
            # asyncio.run's handler: it cancels the main task, whose cleanup runs, and then
            # raises KeyboardInterrupt: the same clean path as Ctrl+C.
            on_sigint(signal.SIGINT, frame)
            return
        # SIGINT ignored (a background job) or no loop running. Raised here, in whatever a task
        # was doing, the interrupt would escape as "Task exception was never retrieved"; raised
        # from a loop callback it stops the loop between steps, and asyncio.run then cancels
        # every task and runs their cleanup.
        asyncio = sys.modules.get("asyncio")  # not imported: no loop can be running
        try:
            loop = asyncio.get_running_loop() if asyncio is not None else None
        except RuntimeError:
            loop = None
        if loop is None:
            raise KeyboardInterrupt
        loop.call_soon_threadsafe(_interrupt)


def _interrupt() -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_as_stop(stop: _Stop) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are the main thread's (main() called from a thread, e.g. a test)
        return
    previous: Callable[[int, FrameType | None], Any] | int | None = signal.signal(
        signal.SIGTERM, stop.on_sigterm
    )
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _flush_stdout(*, report: bool) -> int:
    """What is still buffered goes out now, so a failure is ours to report (once: not after
    another error), not the interpreter's "Exception ignored" at exit."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError) as exc:
        silence(sys.stdout)
        if isinstance(exc, OSError) and report:
            return _output_closed(OutputClosed(exc))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    redactor = process_redactor()
    _configure_logging(args.log_level, redactor)
    stop = _Stop()
    with _sigterm_as_stop(stop):
        code = _run(args, redactor, stop)
    flushed = _flush_stdout(report=code == 0)
    return code or flushed


def _run(args: argparse.Namespace, redactor: Redactor, stop: _Stop) -> int:
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
        return stop.exit_code
    except OutputClosed as closed:
        return _output_closed(closed)
    except ConsoleError as error:
        return _report(error)
    except BaseExceptionGroup as group:
        return _from_group(group, stop)


def _from_group(group: BaseExceptionGroup[Any], stop: _Stop) -> int:
    """TaskGroup wraps failures: report the first expected one, re-raise real bugs."""
    leaves = leaf_exceptions(group)
    for leaf in leaves:
        if isinstance(leaf, KeyboardInterrupt):
            return stop.exit_code
    for leaf in leaves:
        if isinstance(leaf, OutputClosed):
            return _output_closed(leaf)
    for leaf in leaves:
        if isinstance(leaf, ConsoleError):
            return _report(leaf)
    raise group


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
