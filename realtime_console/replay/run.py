"""One streaming pass over a log: pacing, the transcript (or event lines), audio, and the outputs
computed from it (summary, WAV, timeline), each fed every record inside the window.

What is wrong with the log (bad lines, undecodable audio, shortened pauses) is counted and
returned, for the command to say once; only the first shortened pause is told as it happens."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from realtime_console.eventlog import LogRecord, ReadReport, read_log, scan_log
from realtime_console.replay.bad_audio import BadAudio
from realtime_console.replay.event_lines import TypeFilter
from realtime_console.replay.pacing import Pacer, shortened_notice
from realtime_console.replay.player import ReplayPlayer, SilentView
from realtime_console.replay.summary import Summary, SummaryBuilder
from realtime_console.replay.summary_table import render_json, render_table
from realtime_console.replay.window import Window
from realtime_console.ui.view import ConsoleView

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback
    from realtime_console.replay.wav_render import WavStats


class Observer(Protocol):
    def feed(self, record: LogRecord) -> None: ...


@dataclass(frozen=True)
class ReplayOptions:
    speed: float | None = 1.0  # None: as fast as possible
    window: Window = Window()
    types: str | None = None
    transcript: bool = True  # render the conversation (off for --json, and for --types)
    summary: bool = False
    json: bool = False
    wav: Path | None = None
    timeline: Path | None = None


@dataclass
class ReplayResult:
    summary: Summary
    report: ReadReport
    wav: WavStats | None = None
    bad_audio: BadAudio = field(default_factory=BadAudio)  # deltas the player could not decode


def _origin(path: str | os.PathLike[str], window: Window) -> float:
    """Time 0 of the WAV: the session start, or the first record of the window."""
    if window.start is None:
        return 0.0
    for record in read_log(path):
        if window.contains(record):
            return record.t or 0.0
    return 0.0


def _end_open_line(view: ConsoleView) -> None:
    """A log that ends mid-reply (a killed session, a ``--until`` inside a turn) leaves that
    line open: end it, so the notices after it and the shell's prompt start lines of their own."""
    finish = getattr(view, "finish", None)
    if callable(finish):
        finish()


async def run_replay(
    path: str | os.PathLike[str],
    options: ReplayOptions,
    *,
    view: ConsoleView,
    playback: Playback | None = None,
    out: TextIO | None = None,
    notice: Callable[[str], None] | None = None,
) -> ReplayResult:
    out = out if out is not None else sys.stdout
    say = notice if notice is not None else view.notice

    def write_line(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    shown_view: ConsoleView = view if options.transcript else SilentView(say)
    type_filter = TypeFilter(options.types) if options.types else None
    marks = {}
    logged_calls = None
    if options.transcript:  # only a transcript shows cuts and calls: no extra pass otherwise
        from realtime_console.replay.call_lines import CALL_NEEDLES, collect_calls
        from realtime_console.replay.player import CUT_NEEDLES, collect_cut_marks

        marks = collect_cut_marks(scan_log(path, CUT_NEEDLES))
        logged_calls = collect_calls(scan_log(path, CALL_NEEDLES))
    player = ReplayPlayer(
        shown_view,
        playback=playback,
        type_filter=type_filter,
        write_line=write_line,
        cuts=marks,
        calls=logged_calls,
    )
    builder = SummaryBuilder()
    observers: list[Observer] = [builder]
    renderer = None
    if options.wav is not None:
        from realtime_console.replay.wav_render import (
            CUT_NEEDLES,
            StereoWavRenderer,
            collect_cuts,
        )

        cuts = collect_cuts(scan_log(path, CUT_NEEDLES))
        renderer = StereoWavRenderer(options.wav, cuts, origin_t=_origin(path, options.window))
        observers.append(renderer)
    collector = None
    if options.timeline is not None:
        from realtime_console.replay.timeline import TimelineCollector, check_available

        check_available()
        collector = TimelineCollector()
        observers.append(collector)

    report = ReadReport()
    pacer = Pacer(options.speed)
    wav_stats = None
    try:
        for record in read_log(path, report):
            if options.window.after_end(record):
                break
            if options.window.before_start(record):
                continue
            gap = await pacer.wait_for(record.t)
            if gap is not None and pacer.shortened == 1:
                say(shortened_notice(gap, record.index))
            for observer in observers:
                observer.feed(record)
            await player.feed(record)
        if playback is not None:
            await playback.drain()
    finally:
        player.finish()
        _end_open_line(shown_view)
        if renderer is not None:
            wav_stats = renderer.close()
    summary = builder.summary()
    if collector is not None:
        from realtime_console.replay.timeline import render_timeline

        render_timeline(options.timeline or Path(), collector, summary.turns, title=str(path))
    if options.json:
        write_line(render_json(summary, log=str(path), bad_lines=report.bad_line_count))
    elif options.summary:
        write_line(render_table(summary))
    return ReplayResult(summary, report, wav_stats, player.bad_audio)
