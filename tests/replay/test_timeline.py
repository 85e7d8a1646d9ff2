from __future__ import annotations

from pathlib import Path

import pytest

from realtime_console.errors import ConfigError
from realtime_console.eventlog import read_log
from realtime_console.replay import timeline
from realtime_console.replay.summary import SummaryBuilder
from realtime_console.replay.timeline import TimelineCollector, render_timeline
from tests.replay.recording import BARGE_IN_MS, VoiceRecording

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_collects_lanes_and_draws_a_png(voice_log: VoiceRecording, tmp_path: Path) -> None:
    collector = TimelineCollector()
    builder = SummaryBuilder()
    for record in read_log(voice_log.path):
        collector.feed(record)
        builder.feed(record)
    assert len(collector.user_speech) == 3
    assert all(a < b for a, b in collector.user_speech)
    assert collector.assistant and collector.ticks["meta"].times  # the barge_in note
    # Assistant audio as played: the interrupted reply lasts BARGE_IN_MS, not all it received.
    played = sum(end - start for start, end in collector.assistant)
    turns = builder.summary().turns
    assert played == pytest.approx(sum(t.audio_heard_s for t in turns), abs=1e-6)
    assert turns[1].audio_heard_s == BARGE_IN_MS / 1000 < turns[1].audio_generated_s
    out = tmp_path / "session.png"
    render_timeline(out, collector, builder.summary().turns, title="voice")
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 10_000


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline, "PLOT_MODULE", "matplotlib_not_installed_here")
    with pytest.raises(ConfigError) as caught:
        timeline.check_available()
    assert str(caught.value) == timeline.MISSING and caught.value.exit_code == 2
    assert "pip install 'realtime-console[timeline]'" in timeline.MISSING


def test_many_events_keep_bounded_ticks() -> None:
    from realtime_console.eventlog import LogRecord

    collector = TimelineCollector()
    for i in range(100_000):
        collector.feed(LogRecord(i, i + 2, i / 100, "server", {"type": "response.created"}))
    ticks = collector.ticks["server"]
    assert len(ticks.times) < 20_000 and ticks.seen == 100_000
    assert ticks.times == sorted(ticks.times) and ticks.times[-1] > 900


def test_times_and_figures_no_axis_spans_are_drawn_at_its_edge(tmp_path: Path) -> None:
    """Times of ±1e308 (the reader accepts them: finite) made matplotlib fail ("arange: cannot
    compute length"), and a cut past float range overflowed; the picture is drawn."""
    from realtime_console.eventlog import LogRecord

    delta = {"type": "response.output_audio.delta", "response_id": "r1", "item_id": "a1"}
    records = [
        LogRecord(0, 2, -1e308, "client", {"type": "response.create"}),
        LogRecord(1, 3, 1e308, "server", {"type": "response.created", "response": {"id": "r1"}}),
        LogRecord(2, 4, 1e308, "server", {**delta, "audio_bytes": 960}),
        LogRecord(
            3,
            5,
            1.0,
            "client",
            {"type": "conversation.item.truncate", "item_id": "a1", "audio_end_ms": 10**309},
        ),  # fmt: skip
        LogRecord(4, 6, 2.0, "server", {"type": "error"}),
    ]
    collector = TimelineCollector()
    builder = SummaryBuilder()
    for record in records:
        collector.feed(record)
        builder.feed(record)
    assert collector.assistant == [(1e308, 1e308 + 0.02)]  # not cut: the cut is no number
    out = tmp_path / "t.png"
    render_timeline(out, collector, builder.summary().turns, title="corrupt")
    assert out.read_bytes()[:8] == PNG_MAGIC
