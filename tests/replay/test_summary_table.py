from __future__ import annotations

import json

from realtime_console.eventlog import read_log
from realtime_console.protocol.rate_limits import compact
from realtime_console.replay.summary import SummaryBuilder
from realtime_console.replay.summary_table import (
    diff_totals,
    render_diff,
    render_json,
    render_table,
)
from tests.replay.recording import VoiceRecording


def test_table_json_and_diff(voice_log: VoiceRecording) -> None:
    summary = SummaryBuilder().feed_all(read_log(voice_log.path)).summary()
    table = render_table(summary).splitlines()
    assert table[0].split()[:3] == ["turn", "input", "speech"]
    rows = [line.split() for line in table[1:4]]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert rows[1][7:9] == ["0.20", "200"]  # uncut s, cut ms of the interrupted turn
    assert "uncut s" in table[0] and "heard" not in table[0]  # the log cannot say what played
    assert rows[1][-2:] == ["cancelled", "-"]
    assert table[-1].startswith("total: 3 turns") and "1 cut" in table[-1]
    data = json.loads(render_json(summary, log="x"))
    assert data["log"] == "x" and len(data["turns"]) == 3
    assert data["turns"][1]["truncated_at_ms"] == 200 and data["totals"]["turns"] == 3

    slower = SummaryBuilder().feed_all(read_log(voice_log.path)).summary()
    slower.totals.first_audio_ms_max = (summary.totals.first_audio_ms_max or 0) + 50
    diff = diff_totals(summary, slower)
    assert diff["first_audio_ms_max"]["change"] == 50 and diff["turns"]["change"] == 0
    text = render_diff(summary, slower)
    assert any(
        line.split()[0] == "first_audio_ms_max" and line.endswith("+50")
        for line in text.splitlines()
    )


def test_totals_line_and_json_carry_the_rate_limits(voice_log: VoiceRecording) -> None:
    summary = SummaryBuilder().feed_all(read_log(voice_log.path)).summary()
    tokens = summary.totals.rate_limits["tokens"]
    total_line = render_table(summary).splitlines()[-1]
    assert "; rate limit requests " in total_line and "; rate limit tokens " in total_line
    assert f"(lowest {compact(tokens.lowest_remaining)})" in total_line
    data = json.loads(render_json(summary))
    assert data["totals"]["rate_limits"]["tokens"] == {
        "limit": tokens.limit,
        "last_remaining": tokens.last_remaining,
        "lowest_remaining": tokens.lowest_remaining,
    }
