"""The ``replay --to/--send-to/--local`` command body: pick the target settings and the new log,
re-send, then print the new run's summary against the original's."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as _dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from realtime_console.errors import ConfigError, LogFormatError
from realtime_console.redact import Redactor
from realtime_console.replay.window import Window

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.ui.view import ConsoleView


def target_settings(
    settings: Settings, target: str | None, *, log_events: str | None, log_audio: str | None
) -> Settings:
    """``--local``: these settings, on the local server; ``PROFILE``/``FILE.toml``: that profile,
    with the global log flags still applying."""
    from realtime_console.config import load_settings

    if target is None:
        connection = dataclasses.replace(settings.connection, provider="local")
        return dataclasses.replace(settings, connection=connection)
    is_file = names_a_file(target)
    return load_settings(
        profile=None if is_file else target,
        config_file=target if is_file else None,
        env=os.environ,
        overrides={"log.events": log_events, "log.audio": log_audio},
    )


def names_a_file(target: str) -> bool:
    """A re-send target is a settings file (``mine.toml``, ``dir/x``) or else a profile name."""
    return target.endswith(".toml") or os.sep in target or "/" in target


def check_target(target: str, flag: str) -> None:
    """Before anything is read or sent: the target exists. The message names the flag the user
    typed (``--to`` also takes times and indexes, so it says what else it could have been)."""
    from realtime_console.config.files import find_profile

    if names_a_file(target):
        if not Path(target).is_file():
            raise ConfigError(f"{flag} {target}: no such settings file")
        return
    try:
        find_profile(target, source=flag)
    except ConfigError as exc:
        if flag != "--to":
            raise
        also = "not a time (12.5 or 12.5s), an index (#120) nor a profile"
        raise ConfigError(str(exc).replace("no such profile", also, 1)) from None


def default_new_log(original: Path, now: _dt.datetime | None = None) -> Path:
    """``talk.jsonl.gz`` → ``talk-resent-20261122-050102.jsonl.gz`` next to it."""
    now = now or _dt.datetime.now()
    name = original.name
    suffix = next((s for s in (".jsonl.gz", ".jsonl", ".gz") if name.endswith(s)), "")
    stem = name[: len(name) - len(suffix)] if suffix else original.stem
    return original.with_name(f"{stem}-resent-{now:%Y%m%d-%H%M%S}{suffix or '.jsonl'}")


def run_resend(
    args: argparse.Namespace,
    settings: Settings,
    redactor: Redactor,
    *,
    target: str | None,
    window: Window,
) -> int:
    from realtime_console.eventlog import ReadReport, probe_log, read_log
    from realtime_console.protocol.session import build_session
    from realtime_console.replay.outputs import refuse_overwrites
    from realtime_console.replay.player import SilentView
    from realtime_console.replay.resend import recorded_session, resend
    from realtime_console.replay.summary import SummaryBuilder
    from realtime_console.replay.summary_table import (
        diff_totals,
        render_diff,
        render_table,
        strict_json,
    )
    from realtime_console.ui.plain import PlainView

    if not args.log.is_file():
        raise LogFormatError(f"cannot read event log {args.log}: no such file")
    header = probe_log(args.log).header or {}
    if (
        isinstance(header.get("session"), dict)
        and header["session"].get("type") == "chat.completions"
    ):
        raise ConfigError(
            f"{args.log} records audio chat completions (HTTP), not a realtime session: "
            "there are no realtime client events to re-send"
        )
    live = target_settings(settings, target, log_events=args.log_events, log_audio=args.log_audio)
    new_log = Path(live.log.events) if live.log.events else default_new_log(args.log)
    # The new log is opened (truncated) before the original is read: never the same file.
    refuse_overwrites({"LOG": args.log}, {"--log-events": new_log})
    session = build_session(live.session) if args.session == "profile" else None
    plain = PlainView()
    # With --json, stdout is the JSON document only; the console's notices stay on stderr.
    view: ConsoleView = SilentView(plain.notice) if args.json else plain

    try:
        result = asyncio.run(
            resend(
                args.log,
                settings=live,
                new_log=new_log,
                session=session if session is not None else recorded_session(args.log),
                window=window,
                view=view,
                env=os.environ,
                redactor=redactor,
            )
        )
    finally:
        plain.finish()  # a reply cut by the end (or by a failure): its line is ended
    view.notice(f"re-sent {result.sent} client events; new log {new_log}")
    original = SummaryBuilder()
    for record in read_log(args.log, ReadReport()):
        if window.after_end(record):
            break
        if not window.before_start(record):
            original.feed(record)
    before = original.summary()
    after = SummaryBuilder().feed_all(read_log(new_log)).summary()
    if args.json:
        payload = {
            "new_log": str(new_log),
            "original": before.as_json(),
            "new": after.as_json(),
            "diff": diff_totals(before, after),
        }
        print(strict_json(payload))
    else:
        print(render_table(after))
        print(render_diff(before, after))
    warning = result.report.warning(args.log)
    if warning is not None:
        print(warning, file=sys.stderr)
    return 0
