"""``replay``: a recorded event log, rendered again, summarized, heard, drawn, or re-sent."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_console.errors import ConfigError, LogFormatError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.replay.window import Bound

ORDER = 30

EPILOG = """\
window:  --from/--until take seconds since the session start (12.5 or 12.5s) or an event
         index (#120, as --types lines show it). --to takes the same, or else a PROFILE name
         (or a .toml file) to re-send to; --send-to PROFILE is --to without the guessing.
speed:   1 when just replaying; max when --summary, --json, --wav or --timeline is asked for
         (unless --speed is given). Audio is played at --speed 1 only.
re-send: --to PROFILE | --send-to PROFILE | --local sends the recorded client events to a live
         server with their original timing, records a new log (--log-events FILE, else
         LOG-resent-<time>.jsonl next to LOG) and prints its summary against the original's.
"""


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "replay",
        help="replay, summarize or re-send a recorded event log",
        description="Feed a recorded event log (--log-events) through the console again: the "
        "transcript renders and the audio plays as in the live session.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("log", metavar="LOG", type=Path, help="event log (.jsonl or .jsonl.gz)")
    parser.add_argument("--speed", metavar="1|N|max", help="1 as recorded, N times faster, max")
    parser.add_argument("--no-audio", action="store_true", help="do not play the audio")
    parser.add_argument("--summary", action="store_true", help="print a table per turn at the end")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    parser.add_argument("--wav", metavar="OUT.wav", type=Path, help="write what was heard (stereo)")
    parser.add_argument("--timeline", metavar="OUT.png", type=Path, help="draw the session")
    parser.add_argument(
        "--types",
        metavar="PATTERN",
        help="show matching events as lines instead of the transcript (globs, comma-separated, "
        "e.g. 'response.*,error' or 'client:*')",
    )
    parser.add_argument("--from", dest="start", metavar="T|#N", help="start of the window")
    parser.add_argument("--until", metavar="T|#N", help="end of the window")
    parser.add_argument(
        "--to", metavar="T|#N|PROFILE", help="end of the window, or a profile to re-send to"
    )
    parser.add_argument("--send-to", metavar="PROFILE", help="re-send to this profile (or .toml)")
    parser.add_argument(
        "--local",
        dest="resend_local",
        action="store_true",
        help="re-send to the built-in local server",
    )
    parser.add_argument(
        "--session",
        choices=("recorded", "profile"),
        default="recorded",
        help="re-send: the session.update as recorded (default) or as the target profile builds it",
    )
    parser.set_defaults(run=run)


def _bound(flag: str, text: str | None) -> Bound | None:
    from realtime_console.replay.window import parse_bound

    if text is None:
        return None
    bound = parse_bound(text)
    if bound is None:
        raise ConfigError(f"{flag} {text!r}: expected seconds (12.5 or 12.5s) or an index (#120)")
    return bound


def _split_to(args: argparse.Namespace) -> tuple[Bound | None, str | None]:
    """``--to``: a time or index is the window end, anything else a re-send profile."""
    from realtime_console.replay.window import parse_bound

    end = _bound("--until", args.until)
    target = args.send_to
    if args.to is not None:
        as_bound = parse_bound(args.to)
        if as_bound is not None:
            if end is not None:
                raise ConfigError("--to and --until both end the window: give one")
            end = as_bound
        elif target is not None:
            raise ConfigError("--to PROFILE and --send-to both name a target: give one")
        else:
            target = args.to
    if target is not None and args.resend_local:
        raise ConfigError("--local and --to/--send-to PROFILE both name a target: give one")
    return end, target


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.replay.window import Window

    end, target = _split_to(args)
    window = Window(_bound("--from", args.start), end)
    if target is not None or args.resend_local:
        from realtime_console.replay.resend_command import run_resend

        return run_resend(args, settings, redactor, target=target, window=window)
    return _run_replay(args, settings, window)


def _run_replay(args: argparse.Namespace, settings: Settings, window: Any) -> int:
    import asyncio

    from realtime_console.replay.pacing import parse_speed
    from realtime_console.replay.run import ReplayOptions, run_replay
    from realtime_console.ui.plain import PlainView

    if args.json and args.types:
        raise ConfigError("--json and --types both write to stdout: give one")
    reports = args.summary or args.json or args.wav is not None or args.timeline is not None
    speed = parse_speed(args.speed) if args.speed is not None else (None if reports else 1.0)
    options = ReplayOptions(
        speed=speed,
        window=window,
        types=args.types,
        transcript=not args.json and not args.types,
        summary=args.summary,
        json=args.json,
        wav=args.wav,
        timeline=args.timeline,
    )
    if not args.log.is_file():
        raise LogFormatError(f"cannot read event log {args.log}: no such file")
    view = PlainView()
    wants_audio = not args.no_audio and not args.json

    async def main() -> int:
        playback = None
        if wants_audio and speed == 1.0:
            from realtime_console.audio.playback import open_playback

            playback = open_playback(settings.audio, view.notice)
        elif wants_audio and args.speed is not None:
            view.notice("audio is played at --speed 1 only")
        try:
            result = await run_replay(args.log, options, view=view, playback=playback)
        finally:
            if playback is not None:
                playback.close()
        warning = result.report.warning(args.log)
        if warning is not None:
            print(warning, file=sys.stderr)
        if result.wav is not None and result.wav.missing_audio_bytes:
            view.notice(f"{args.wav}: the log has no audio payloads (--log-audio none): silence")
        return 0

    try:
        return asyncio.run(main())
    except BrokenPipeError:
        # `replay LOG --types '*' | head`: the reader has seen enough; that is not a failure.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
