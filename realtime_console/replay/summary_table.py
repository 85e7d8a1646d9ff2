"""Renders a ``Summary`` as a fixed-width table, as JSON, and as a diff of two runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from realtime_console.protocol.rate_limits import compact
from realtime_console.replay.completions_table import render_completions
from realtime_console.replay.summary import Summary, Totals, Turn
from realtime_console.ui.sanitize import ID_LIMIT, clean, shorten

Column = tuple[str, int, Callable[[Turn], str]]


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


_COLUMNS: Sequence[Column] = (
    ("turn", 4, lambda t: str(t.number)),
    ("input", 6, lambda t: t.input),
    ("speech ms", 9, lambda t: _num(t.user_speech_ms)),
    ("created ms", 10, lambda t: _num(t.response_created_ms)),
    ("1st audio ms", 12, lambda t: _num(t.first_audio_ms)),
    ("done ms", 8, lambda t: _num(t.response_done_ms)),
    ("audio s", 7, lambda t: f"{t.audio_generated_s:.2f}"),
    ("heard s", 7, lambda t: f"{t.audio_heard_s:.2f}"),
    ("cut ms", 6, lambda t: _num(t.truncated_at_ms)),
    ("tokens in/out", 13, lambda t: f"{_num(t.input_tokens)}/{_num(t.output_tokens)}"),
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
        for error in turn.errors:
            lines.append(f"  turn {turn.number} error: {error}")
    for error in summary.session_errors:
        lines.append(f"  session error: {error}")
    lines.append(_totals(summary.totals))
    return "\n".join(lines)


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
        f"total: {totals.turns} turns in {totals.duration_s:.1f} s ({totals.events} events); "
        f"user speech {totals.user_speech_s:.2f} s; audio {totals.audio_generated_s:.2f} s "
        f"generated, {totals.audio_heard_s:.2f} s heard, {totals.truncated_turns} cut; "
        f"tokens {totals.input_tokens} in / {totals.output_tokens} out "
        f"({totals.total_tokens} total); {totals.errors} errors; "
        f"{totals.reconnects} reconnects; {totals.underruns} underruns; {latency}{limits}"
    )


def render_json(summary: Summary, **extra: object) -> str:
    return json.dumps({**summary.as_json(), **extra}, indent=2)


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
)


def diff_totals(before: Summary, after: Summary) -> dict[str, dict[str, float | int | None]]:
    """Per total: the original, the new run, and the change."""
    old, new = asdict(before.totals), asdict(after.totals)
    out: dict[str, dict[str, float | int | None]] = {}
    for key in _DIFFED:
        a, b = old[key], new[key]
        change = round(b - a, 3) if a is not None and b is not None else None
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
