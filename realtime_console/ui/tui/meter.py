"""Microphone level meter: peak ballistics and drawing, free of any widget.

``mic_level`` arrives once per microphone block (10–50 times a second). Redrawing on every call
would spend CPU on frames nobody can see, so the meter keeps only the loudest level since the last
frame (:meth:`MeterBallistics.feed`, a compare and a store) and the widget samples it on a timer
(:meth:`MeterBallistics.tick`): instant attack, a steady fall-back like a hardware PPM, and no
redraw at all once the display has settled.
"""

from __future__ import annotations

import math

from rich.text import Text

FLOOR_DB = -60.0
"""Bottom of the scale; anything quieter (the view's -120 dBFS silence included) draws empty."""
RELEASE_DB_PER_S = 30.0
"""How fast the display falls after a peak."""
YELLOW_FROM_DB = -18.0
RED_FROM_DB = -6.0
TRACK_COLOUR = "grey23"
_EIGHTHS = " ▏▎▍▌▋▊▉"


class MeterBallistics:
    def __init__(self, floor_db: float = FLOOR_DB, release_db_per_s: float = RELEASE_DB_PER_S):
        self._floor = floor_db
        self._release = release_db_per_s
        self._peak = -math.inf  # loudest level fed since the last tick
        self._shown = floor_db
        self._last_tick: float | None = None

    @property
    def shown_db(self) -> float:
        return self._shown

    def feed(self, dbfs: float) -> None:
        if dbfs > self._peak:
            self._peak = dbfs

    def tick(self, now: float) -> float:
        """Advance the display to ``now`` (seconds, monotonic) and return the level to draw."""
        elapsed = 0.0 if self._last_tick is None else max(0.0, now - self._last_tick)
        self._last_tick = now
        fallen = max(self._floor, self._shown - self._release * elapsed)
        peak = min(0.0, self._peak) if math.isfinite(self._peak) else self._floor
        self._peak = -math.inf
        self._shown = max(fallen, peak)
        return self._shown


def level_style(db: float) -> str:
    if db >= RED_FROM_DB:
        return "bold red"
    if db >= YELLOW_FROM_DB:
        return "yellow"
    return "green"


def render_meter(db: float, width: int, floor_db: float = FLOOR_DB) -> Text:
    """A bar of ``width`` cells filled (in eighths) from ``floor_db`` to 0 dBFS, then the value."""
    fraction = min(1.0, max(0.0, (db - floor_db) / -floor_db))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_EIGHTHS[part] if part else "")
    bar = bar.ljust(width)
    label = f"{db:4.0f} dB" if db > floor_db else f"<{floor_db:.0f} dB"
    return Text.assemble(
        (bar, f"{level_style(db)} on {TRACK_COLOUR}"), " ", (label.rjust(7), "dim")
    )
