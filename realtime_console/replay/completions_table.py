"""Renders the chat-completions part of a summary (``CompletionsSummary``) as a fixed-width table
and a totals line, like the realtime table beside it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from realtime_console.replay.completions_summary import (
    CompletionsSummary,
    CompletionTotals,
    CompletionTurn,
)

Column = tuple[str, int, Callable[[CompletionTurn], str]]


def _num(value: float | int | None, digits: int = 0) -> str:
    """A figure as the table shows it; ``-`` when unknown (None, or not finite)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _pair(a: int | None, b: int | None) -> str:
    return f"{_num(a)}/{_num(b)}"


_COLUMNS: Sequence[Column] = (
    ("turn", 4, lambda t: str(t.number)),
    ("request", 12, lambda t: t.request_id[-12:]),
    ("mode", 6, lambda t: "-" if t.stream is None else ("stream" if t.stream else "whole")),
    ("1st audio ms", 12, lambda t: _num(t.first_audio_ms)),
    ("elapsed ms", 10, lambda t: _num(t.elapsed_ms)),
    ("audio s", 7, lambda t: _num(t.audio_s, 2)),
    ("tokens in/out", 13, lambda t: _pair(t.prompt_tokens, t.completion_tokens)),
    ("audio tok in/out", 16, lambda t: _pair(t.prompt_audio_tokens, t.completion_audio_tokens)),
    ("retries", 7, lambda t: str(t.retries)),
    ("status", 9, lambda t: t.status or "-"),
    ("errors", 6, lambda t: str(len(t.errors)) if t.errors else "-"),
)


def _row(cells: Sequence[str]) -> str:
    return "  ".join(
        cell.rjust(width) for cell, (_, width, _f) in zip(cells, _COLUMNS, strict=True)
    ).rstrip()


def render_completions(
    summary: CompletionsSummary, *, duration_s: float | None, events: int
) -> str:
    lines = [_row([name for name, _w, _f in _COLUMNS])]
    lines += [_row([cell(turn) for _n, _w, cell in _COLUMNS]) for turn in summary.turns]
    for turn in summary.turns:
        lines += [f"  turn {turn.number} error: {error}" for error in turn.errors]
    lines.append(_totals(summary.totals, duration_s, events))
    return "\n".join(lines)


def _totals(totals: CompletionTotals, duration_s: float | None, events: int) -> str:
    return (
        f"chat completions: {totals.turns} turns ({totals.failed} failed) in "
        f"{_num(duration_s, 1)} s ({events} events); reply audio {_num(totals.audio_s, 2)} s; "
        f"tokens {totals.prompt_tokens} in / {totals.completion_tokens} out ({totals.total_tokens} "
        f"total; audio {totals.prompt_audio_tokens} in / {totals.completion_audio_tokens} out); "
        f"{totals.retries} retries; {totals.errors} errors; first audio ms median "
        f"{_num(totals.first_audio_ms_median)}, p90 {_num(totals.first_audio_ms_p90)}, max "
        f"{_num(totals.first_audio_ms_max)}; elapsed ms median {_num(totals.elapsed_ms_median)}, "
        f"max {_num(totals.elapsed_ms_max)}"
    )
