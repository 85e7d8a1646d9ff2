"""``--timeline OUT.png``: the session as a picture (needs the optional ``timeline`` extra);
``.svg`` and ``.pdf`` work too. HTTP exchanges (audio chat completions) are not drawn.

Top: lanes for user speech (server VAD), typed user input, assistant audio as played (the WAV's
layout rule, cut where the listener cut it) and the events of each direction, errors in red.
Bottom: per turn, the time from input end to response created, first audio and response done.
Only interval ends and event times are kept while reading (event times capped), so a long log
draws in bounded memory.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_console.errors import ConfigError
from realtime_console.eventlog import LogRecord, audio_byte_count, whole_number
from realtime_console.protocol import pcm
from realtime_console.replay.summary import Turn

# The lazy-import seam: the module the plot needs. Tests point it at a missing module to check
# the message a machine without the extra gets.
PLOT_MODULE = "matplotlib"
MISSING = (
    "--timeline needs matplotlib, which is not installed: pip install 'realtime-console[timeline]'"
)
_MAX_TICKS = 20_000  # event times kept per direction; beyond that every other one is dropped
_DIRECTIONS = ("client", "server", "meta")
# matplotlib cannot lay out an axis whose span overflows a float (times of ±1e308 from a corrupt
# line: "arange: cannot compute length"); values past this are drawn at this edge instead.
_DRAWABLE = 1e300


def _drawn(value: float) -> float:
    return max(-_DRAWABLE, min(_DRAWABLE, value))


def _spans(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(start, width) bars; at least 1 ms wide so that an instant still shows."""
    bars = [(_drawn(a), _drawn(b)) for a, b in intervals]
    return [(a, max(b - a, 1e-3)) for a, b in bars]


def _import_pyplot() -> Any:
    try:
        matplotlib = importlib.import_module(PLOT_MODULE)
    except ImportError:
        raise ConfigError(MISSING) from None
    matplotlib.use("Agg")  # files only: never a window, works without a display
    return importlib.import_module(f"{PLOT_MODULE}.pyplot")


# The formats matplotlib's Agg backend writes that a reader can open without it; chosen by the
# file's extension, as matplotlib does.
FORMATS = ("png", "svg", "pdf")


def check_path(path: str | os.PathLike[str]) -> None:
    """An extension matplotlib cannot write is a usage error, found before replaying."""
    extension = Path(path).suffix.lower().lstrip(".")
    if extension not in FORMATS:
        shown = f"'.{extension}'" if extension else "no extension"
        raise ConfigError(
            f"--timeline {path}: {shown} is not a picture format; use one of: "
            + ", ".join(f".{name}" for name in FORMATS)
        )


def check_available() -> None:
    """Fail before replaying (exit 2) rather than after a long run."""
    _import_pyplot()


@dataclass
class _Ticks:
    times: list[float] = field(default_factory=list)
    stride: int = 1
    seen: int = 0

    def add(self, t: float) -> None:
        self.seen += 1
        if self.seen % self.stride:
            return
        self.times.append(t)
        if len(self.times) >= _MAX_TICKS:
            self.times = self.times[::2]
            self.stride *= 2


class TimelineCollector:
    def __init__(self) -> None:
        self.user_speech: list[tuple[float, float]] = []
        self.user_text: list[float] = []
        self.assistant: list[tuple[float, float]] = []  # (start, end) in seconds, one per item
        self._last_item: str | None = None
        self.errors: list[float] = []
        self.ticks = {d: _Ticks() for d in _DIRECTIONS}
        self._speech_start: float | None = None
        self._play_end = 0.0
        self._cut_items: set[str] = set()
        self._item_start: dict[str, float] = {}  # where each recent item began playing
        self._t = 0.0

    def feed(self, record: LogRecord) -> None:
        t = self._t = record.t if record.t is not None else self._t
        event = record.event
        kind = (record.dir, event.get("type"))
        if kind == ("server", "response.output_audio.delta"):
            self._audio(event, t)
            return  # many, and drawn as the audio lane
        ticks = self.ticks.get(record.dir)
        if kind == ("client", "input_audio_buffer.append") or ticks is None:
            return  # ticks is None: an HTTP exchange (audio chat completions), not drawn
        ticks.add(t)
        if kind == ("server", "input_audio_buffer.speech_started"):
            self._speech_start = t
        elif kind == ("server", "input_audio_buffer.speech_stopped"):
            if self._speech_start is not None:
                self.user_speech.append((self._speech_start, t))
            self._speech_start = None
        elif kind == ("client", "conversation.item.create"):
            item = event.get("item")
            if isinstance(item, dict) and item.get("role") == "user":
                self.user_text.append(t)
        elif kind == ("server", "error"):
            self.errors.append(t)
        elif kind in (("client", "conversation.item.truncate"), ("meta", "barge_in")):
            if str(event.get("item_id", "")) not in self._cut_items:
                self._cut(str(event.get("item_id", "")), event.get("audio_end_ms"))

    def _audio(self, event: dict[str, Any], t: float) -> None:
        item_id = str(event.get("item_id", ""))
        if item_id in self._cut_items:
            return
        start = max(t, self._play_end)
        end = start + pcm.bytes_to_ms(audio_byte_count(event)) / 1000.0
        if self.assistant and item_id == self._last_item and start <= self.assistant[-1][1] + 1e-3:
            self.assistant[-1] = (self.assistant[-1][0], end)
        else:
            self.assistant.append((start, end))
        self._last_item = item_id
        self._play_end = end
        if item_id not in self._item_start:
            if len(self._item_start) >= 16:  # only recent items can still be cut
                self._item_start.pop(next(iter(self._item_start)))
            self._item_start[item_id] = start

    def _cut(self, item_id: str, end_ms: object) -> None:
        """The listener heard ``end_ms`` of the item: its audio stops there (the WAV's rule)."""
        start = self._item_start.get(item_id)
        self._cut_items.add(item_id)
        heard_ms = whole_number(end_ms)  # an integer past float range cannot be divided
        if start is None or heard_ms is None or not self.assistant:
            return
        stop = start + heard_ms / 1000.0
        first, last = self.assistant[-1]
        if last > stop:
            self.assistant[-1] = (first, max(first, stop))
            self._play_end = max(first, stop)


def render_timeline(
    path: str | os.PathLike[str], collector: TimelineCollector, turns: list[Turn], title: str
) -> None:
    plt = _import_pyplot()
    fig, (lanes, latency) = plt.subplots(
        2, 1, figsize=(14, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    rows = ["user speech", "assistant audio", "client", "server", "meta"]
    spans = {
        "user speech": (collector.user_speech, "tab:blue"),
        "assistant audio": (collector.assistant, ("tab:orange", "tab:brown")),
    }
    for y, name in enumerate(rows):
        if name in spans:
            intervals, color = spans[name]
            bars = _spans(intervals)
            lanes.broken_barh(bars, (y - 0.35, 0.7), color=color)  # alternating: one per item
        else:
            times = [_drawn(t) for t in collector.ticks[name].times]
            lanes.vlines(times, y - 0.35, y + 0.35, color="tab:gray", linewidth=0.5)
    typed = [_drawn(t) for t in collector.user_text]
    lanes.plot(typed, [0] * len(typed), "v", color="tab:blue")
    errors = [_drawn(t) for t in collector.errors]
    lanes.vlines(errors, -0.5, len(rows) - 0.5, color="tab:red", linewidth=1.0)
    lanes.set_yticks(range(len(rows)), rows)
    lanes.set_ylim(len(rows) - 0.5, -0.5)
    lanes.set_title(title)
    _lanes_legend(lanes)
    _latency_plot(latency, turns)
    latency.set_xlabel("seconds since session start")
    fig.tight_layout()
    try:
        fig.savefig(Path(path), dpi=100)
    except OSError as exc:
        raise ConfigError(f"--timeline {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


LANES_LEGEND = (
    ("user speech (VAD)", "bar", "tab:blue"),
    ("typed input", "v", "tab:blue"),
    ("assistant audio as played (items alternate)", "bar", "tab:orange"),
    ("event (client / server / meta lane)", "|", "tab:gray"),
    ("error", "|", "tab:red"),
)


def _lanes_legend(axes: Any) -> None:
    """What each mark of the lanes means: a timeline read without the docs at hand."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Patch(color=color, label=label)
        if mark == "bar"
        else Line2D([], [], color=color, marker=mark, linestyle="None", label=label)
        for label, mark, color in LANES_LEGEND
    ]
    # Beside the lanes, not over them: the marks are the data.
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small")


def _latency_plot(axes: Any, turns: list[Turn]) -> None:
    marks = (
        ("response_created_ms", "created", "tab:green"),
        ("first_audio_ms", "first audio", "tab:orange"),
        ("response_done_ms", "done", "tab:purple"),
    )
    for attr, label, color in marks:
        points = [
            (_drawn(turn.input_end_t), _drawn(getattr(turn, attr)))
            for turn in turns
            if turn.input_end_t is not None and getattr(turn, attr) is not None
        ]
        axes.plot([p[0] for p in points], [p[1] for p in points], "o", color=color, label=label)
    axes.set_ylabel("ms after input end")
    axes.legend(loc="upper right", fontsize="small")
