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
    from realtime_console.replay.run import ReplayResult
    from realtime_console.replay.window import Bound
    from realtime_console.ui.plain import PlainView

ORDER = 30

EPILOG = """\
window:  --from/--until take seconds since the session start (12.5 or 12.5s) or
         an event index (#120, as --types lines show it). --to takes the same,
         or else a PROFILE name (or a .toml file) to re-send to; --send-to
         PROFILE is --to without the guessing.
speed:   1 when just replaying; max (the log is read at full speed) when
         --types, --summary, --json, --wav or --timeline is asked for, unless
         --speed is given. Audio plays at --speed 1 only (a transcript at
         --speed N says so once). A recorded pause longer than 5 s is shortened
         to 5 s (at --speed N: 5/N s), and said so once.
outputs: --wav and --timeline (png, svg or pdf) must not be LOG itself, nor
         --log-events.
re-send: --to PROFILE | --send-to PROFILE | --local (before or after `replay`)
         sends the recorded client events to a live server with their original
         timing, records a new log (--log-events FILE, else
         LOG-resent-<time>.jsonl next to LOG) and prints its summary against the
         original's.
"""


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "replay",
        help="replay, summarize or re-send a recorded event log",
        # RawDescriptionHelpFormatter keeps the epilog's layout, so the description is wrapped
        # here, within 80 columns.
        description="Feed a recorded event log (--log-events) through the console again: the\n"
        "transcript renders and the audio plays as in the live session; or summarize it,\n"
        "write what was heard, draw it, or re-send it to a live server.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("log", metavar="LOG", type=Path, help="event log (.jsonl or .jsonl.gz)")
    parser.add_argument("--speed", metavar="1|N|max", help="1 as recorded, N times faster, max")
    parser.add_argument("--no-audio", action="store_true", help="do not play the audio")
    parser.add_argument("--summary", action="store_true", help="print a table per turn at the end")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    parser.add_argument("--wav", metavar="OUT.wav", type=Path, help="write what was heard (stereo)")
    parser.add_argument(
        "--timeline", metavar="OUT.png", type=Path, help="draw the session (.png, .svg or .pdf)"
    )
    parser.add_argument(
        "--types",
        metavar="PATTERN",
        help="show matching events as lines instead of the transcript (globs, comma-separated, "
        "e.g. 'response.*,error', 'client:*' or 'http:*'); reads at full speed unless --speed",
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
    """``--to``: a time or index is the window end, anything else a re-send profile (checked
    here, so a typo is reported against the flag that was typed)."""
    from realtime_console.replay.resend_command import check_target
    from realtime_console.replay.window import parse_bound

    end = _bound("--until", args.until)
    target = args.send_to
    if target is not None:
        check_target(target, "--send-to")
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
            check_target(target, "--to")
    if target is not None and args.resend_local:
        raise ConfigError("--local and --to/--send-to PROFILE both name a target: give one")
    return end, target


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.eventlog import probe_log
    from realtime_console.replay.window import Window

    # `--local replay LOG` and `replay LOG --local` mean the same: a replay itself connects to
    # nothing, so the global flag can only have meant "re-send to the built-in server".
    args.resend_local = args.resend_local or bool(getattr(args, "local", False))
    end, target = _split_to(args)
    window = Window(_bound("--from", args.start), end)
    if not args.log.is_file():
        raise LogFormatError(f"cannot read event log {args.log}: no such file")
    # Before anything is written or sent: a file of another kind (an image, a binary) is refused.
    probe_log(args.log).check_event_log(args.log)
    if target is not None or args.resend_local:
        from realtime_console.replay.resend_command import run_resend

        return run_resend(args, settings, redactor, target=target, window=window)
    return _run_replay(args, settings, window)


def _check_outputs(args: argparse.Namespace) -> None:
    from realtime_console.replay.outputs import refuse_overwrites

    # --log-events is checked too although a plain replay records nothing: a user who typed it
    # next to the same LOG meant something else, and re-sending would truncate LOG.
    outputs = {"--log-events": args.log_events, "--wav": args.wav, "--timeline": args.timeline}
    refuse_overwrites({"LOG": args.log}, outputs)


def _run_replay(args: argparse.Namespace, settings: Settings, window: Any) -> int:
    import asyncio

    from realtime_console.replay.pacing import parse_speed
    from realtime_console.replay.run import ReplayOptions, run_replay
    from realtime_console.ui.plain_talk import PlainTalkView

    if args.json and args.types:
        raise ConfigError("--json and --types both write to stdout: give one")
    _check_outputs(args)
    if args.timeline is not None:
        from realtime_console.replay.timeline import check_path

        check_path(args.timeline)
    # Reading a log for lines or figures should not take as long as the session did.
    full_speed = (
        args.summary or args.json or args.types or args.wav is not None or args.timeline is not None
    )
    speed = parse_speed(args.speed) if args.speed is not None else (None if full_speed else 1.0)
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
    # The talk renderer: a barge-in (a truncate or a `barge_in` note) shows as live showed it,
    # the reply cut where the listener stopped hearing it. Nothing is held: no state changes.
    view = PlainTalkView(transcripts=False)
    wants_audio = not args.no_audio and not args.json

    async def main() -> int:
        playback = None
        if wants_audio and speed == 1.0:
            from realtime_console.audio.playback import open_playback

            playback = open_playback(settings.audio, view.notice)
        elif wants_audio and options.transcript and speed is not None and not full_speed:
            # Only where sound was to be expected: a transcript paced at N times. At max, or
            # when the command reads the log for lines, figures or files, nobody expects it.
            view.notice(f"no audio at --speed {args.speed}: audio plays at --speed 1 only")
        try:
            result = await run_replay(args.log, options, view=view, playback=playback)
        finally:
            if playback is not None:
                playback.close()
        _after_replay(args, result, view)
        return 0

    try:
        return asyncio.run(main())
    except BrokenPipeError:
        # `replay LOG --types '*' | head`: the reader has seen enough; that is not a failure.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _after_replay(args: argparse.Namespace, result: ReplayResult, view: PlainView) -> None:
    """What the replay has to say about the log and the outputs, once, at the end."""
    from realtime_console.protocol import pcm

    lines = [result.report.warning(args.log)]
    if result.report.events == 0:
        view.notice(f"{args.log} holds no events")
    wav = result.wav
    if wav is None:
        lines.append(result.bad_audio.warning(str(args.log)))
    else:
        # The WAV decodes every payload the player does, and the microphone's too: its count.
        lines.append(wav.bad_audio.warning(f"--wav {args.wav}"))
        seconds = wav.frames / pcm.SAMPLE_RATE
        view.notice(f"wrote {args.wav} ({seconds:.1f} s, stereo: left microphone, right assistant)")
        if wav.missing_audio_bytes:
            view.notice(f"{args.wav}: the log has no audio payloads (--log-audio none): silence")
        skipped = wav.skipped_replies_notice(args.wav)
        if skipped is not None:
            view.notice(skipped)
    if args.timeline is not None:
        view.notice(f"wrote {args.timeline}")
    for line in lines:
        if line is not None:
            print(line, file=sys.stderr)
