"""Renders a ``Summary`` as a fixed-width table, as JSON, and as a diff of two runs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from realtime_console.protocol.rate_limits import compact
from realtime_console.replay.completions_table import render_completions
from realtime_console.replay.summary import Summary, Totals, Turn, barge_in_line
from realtime_console.replay.tool_calls import ToolCall
from realtime_console.ui.sanitize import ID_LIMIT, clean, shorten

Column = tuple[str, int, Callable[[Turn], str]]


def _num(value: float | int | None, digits: int = 0) -> str:
    """A figure as the table shows it; ``-`` when unknown (None, or not finite)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


_COLUMNS: Sequence[Column] = (
    ("turn", 4, lambda t: str(t.number)),
    ("input", 6, lambda t: t.input),
    ("speech ms", 9, lambda t: _num(t.user_speech_ms)),
    ("created ms", 10, lambda t: _num(t.response_created_ms)),
    ("1st audio ms", 12, lambda t: _num(t.first_audio_ms)),
    ("done ms", 8, lambda t: _num(t.response_done_ms)),
    ("audio s", 7, lambda t: _num(t.audio_generated_s, 2)),
    # Audio up to a barge-in's cut (all of it when not cut): the log cannot tell whether it
    # was played (chat --no-playback), so the column is not called "heard".
    ("uncut s", 7, lambda t: _num(t.audio_heard_s, 2)),
    ("cut ms", 6, lambda t: _num(t.truncated_at_ms)),
    ("tokens in/out", 13, lambda t: f"{_num(t.input_tokens)}/{_num(t.output_tokens)}"),
    ("tools", 5, lambda t: str(len(t.tool_calls)) if t.tool_calls else "-"),
    ("status", 10, lambda t: t.status or "-"),
    ("errors", 6, lambda t: str(len(t.errors)) if t.errors else "-"),
)


def _row(cells: Sequence[str]) -> str:
    return "  ".join(
        cell.rjust(width) for cell, (_, width, _f) in zip(cells, _COLUMNS, strict=True)
    ).rstrip()


def render_table(summary: Summary) -> str:
    """The realtime turns' table (unless the log has only chat-completions exchanges), then the
    chat-completions table when the log has exchanges."""
    parts = []
    if summary.turns or summary.completions is None:
        parts.append(_realtime_table(summary))
    if summary.completions is not None:
        totals = summary.totals
        parts.append(
            render_completions(
                summary.completions, duration_s=totals.duration_s, events=totals.events
            )
        )
    return "\n".join(parts)


def _realtime_table(summary: Summary) -> str:
    lines = [_row([name for name, _w, _f in _COLUMNS])]
    lines += [_row([cell(turn) for _n, _w, cell in _COLUMNS]) for turn in summary.turns]
    for turn in summary.turns:
        lines += [f"  turn {turn.number} {_tool_call(call)}" for call in turn.tool_calls]
        if (barge_in := barge_in_line(turn)) is not None:  # a voice barge-in's timing
            lines.append(barge_in)
        for error in turn.errors:
            lines.append(f"  turn {turn.number} error: {error}")
    for error in summary.session_errors:
        lines.append(f"  session error: {error}")
    lines.append(_totals(summary.totals))
    return "\n".join(lines)


def _tool_call(call: ToolCall) -> str:
    # Names and statuses come from the log (the model's, the console's): one clean short line.
    handler = f", handler {_num(call.duration_ms)} ms" if call.duration_ms is not None else ""
    return (
        f"tool {shorten(clean(call.name), ID_LIMIT)}: {shorten(clean(call.status), ID_LIMIT)}, "
        f"answered after {_num(call.latency_ms)} ms{handler}"
    )


def _tools(totals: Totals) -> str:
    if not totals.tool_calls:
        return ""
    return (
        f"; {totals.tool_calls} tool calls ({totals.tool_errors} not ok), answered after "
        f"median {_num(totals.tool_latency_ms_median)} ms, "
        f"max {_num(totals.tool_latency_ms_max)} ms"
    )


def _playback(totals: Totals) -> str:
    """The adaptive playback buffer, each figure only when the log has it (earlier versions
    did not write them: nothing is shown rather than a zero)."""
    parts = []
    if totals.playback_target_ms_end is not None and totals.playback_target_ms_max is not None:
        parts.append(
            f"playback buffer {_num(totals.playback_target_ms_end)} ms at the end "
            f"(max {_num(totals.playback_target_ms_max)} ms)"
        )
    if totals.playback_jitter_ms_max is not None:
        parts.append(f"audio up to {_num(totals.playback_jitter_ms_max)} ms late")
    return "".join(f", {part}" for part in parts)


def _totals(totals: Totals) -> str:
    latency = (
        f"first audio ms median {_num(totals.first_audio_ms_median)}, "
        f"p90 {_num(totals.first_audio_ms_p90)}, max {_num(totals.first_audio_ms_max)}"
    )
    # Limit names are the server's: one short line each, no terminal controls.
    limits = "".join(
        f"; rate limit {shorten(clean(name), ID_LIMIT)} "
        f"{compact(limit.last_remaining)}/{compact(limit.limit)} left "
        f"(lowest {compact(limit.lowest_remaining)})"
        for name, limit in totals.rate_limits.items()
    )
    return (
        f"total: {totals.turns} turns in {_num(totals.duration_s, 1)} s ({totals.events} events); "
        f"user speech {_num(totals.user_speech_s, 2)} s; "
        f"audio {_num(totals.audio_generated_s, 2)} s generated, "
        f"{_num(totals.audio_heard_s, 2)} s uncut, {totals.truncated_turns} cut; "
        f"tokens {totals.input_tokens} in / {totals.output_tokens} out "
        f"({totals.total_tokens} total); {totals.errors} errors; "
        f"{totals.reconnects} reconnects; {totals.underruns} underruns{_playback(totals)}; "
        f"{latency}{_tools(totals)}{limits}"
    )


def strict_json(document: Any) -> str:
    """``document`` as JSON that every parser reads: a float that is not finite (a figure whose
    arithmetic overflowed on a corrupt log) is written as null, unknown, never as the ``NaN`` or
    ``Infinity`` that Python's json would write and no strict reader accepts."""
    return json.dumps(_finite_floats(document), indent=2, allow_nan=False)


def _finite_floats(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_floats(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_floats(item) for item in value]
    return value


def render_json(summary: Summary, **extra: object) -> str:
    return strict_json({**summary.as_json(), **extra})


_DIFFED = (
    "turns",
    "user_speech_s",
    "audio_generated_s",
    "audio_heard_s",
    "truncated_turns",
    "total_tokens",
    "errors",
    "first_audio_ms_median",
    "first_audio_ms_p90",
    "first_audio_ms_max",
    "duration_s",
    "tool_calls",
    "tool_latency_ms_median",
)


def diff_totals(before: Summary, after: Summary) -> dict[str, dict[str, float | int | None]]:
    """Per total: the original, the new run, and the change."""
    old, new = asdict(before.totals), asdict(after.totals)
    out: dict[str, dict[str, float | int | None]] = {}
    for key in _DIFFED:
        a, b = old[key], new[key]
        change = round(b - a, 3) if a is not None and b is not None else None
        if isinstance(change, float) and not math.isfinite(change):
            change = None  # two figures far apart on a corrupt log: unknown, not inf
        out[key] = {"original": a, "new": b, "change": change}
    return out


def render_diff(before: Summary, after: Summary) -> str:
    lines = [f"{'':24}{'original':>12}{'new':>12}{'change':>12}"]
    for key, row in diff_totals(before, after).items():
        cells = [_num(row[k], 3 if isinstance(row[k], float) else 0) for k in ("original", "new")]
        change = row["change"]
        shown = "-" if change is None else f"{change:+g}"
        lines.append(f"{key:24}{cells[0]:>12}{cells[1]:>12}{shown:>12}")
    return "\n".join(lines)
