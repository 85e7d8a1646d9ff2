from __future__ import annotations

from typing import Any

from realtime_console.eventlog import LogRecord
from realtime_console.protocol import pcm
from realtime_console.replay.event_lines import TypeFilter, format_line, summarize


def _rec(direction: str, event: dict[str, Any], t: float | None = 1.5) -> LogRecord:
    return LogRecord(42, 44, t, direction, event)  # type: ignore[arg-type]


def test_globs_comma_separated_and_direction_prefix() -> None:
    spec = TypeFilter("response.*, error ,client:input_audio_buffer.*")
    assert spec.matches(_rec("server", {"type": "response.done"}))
    assert spec.matches(_rec("server", {"type": "error"}))
    assert spec.matches(_rec("client", {"type": "input_audio_buffer.append"}))
    assert not spec.matches(_rec("server", {"type": "input_audio_buffer.committed"}))
    assert not spec.matches(_rec("server", {"type": "session.created"}))
    assert TypeFilter("meta:*").matches(_rec("meta", {"type": "barge_in"}))
    assert not TypeFilter("meta:*").matches(_rec("server", {"type": "barge_in"}))


def test_lines_show_index_time_direction_type_and_summary() -> None:
    audio = pcm.encode_b64(bytes(9600))
    delta = {"type": "response.output_audio.delta", "response_id": "r1", "item_id": "i1"}
    line = format_line(_rec("server", {**delta, "delta": audio}))
    assert line.split() == (
        "#42 1.500s server response.output_audio.delta r1/i1 9600 B (200 ms)".split()
    )
    assert summarize(_rec("server", {**delta, "audio_bytes": 4800})).endswith("4800 B (100 ms)")
    error = {"type": "error", "error": {"code": "bad", "message": "no\nway"}}
    assert summarize(_rec("server", error)) == "[bad] no way"
    assert format_line(_rec("meta", {"type": "barge_in", "audio_end_ms": 5}, None)).split() == [
        "#42", "-", "meta", "barge_in", "audio_end_ms=5"
    ]  # fmt: skip
    long_text = {"type": "response.output_text.delta", "response_id": "r", "delta": "x" * 500}
    assert len(summarize(_rec("server", long_text))) < 80
    item = {"type": "conversation.item.create", "item": {"role": "user", "content": [
        {"type": "input_text", "text": "hi"}]}}  # fmt: skip
    assert summarize(_rec("client", item)) == "user 'hi'"
