from __future__ import annotations

import gzip
import json
import stat
from pathlib import Path

import pytest

from realtime_console.errors import LogFormatError
from realtime_console.eventlog import EventLogWriter, ReadReport, read_log
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor

SECRET = "sk-test-1234567890abcdef"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _writer(path: Path, clock: FakeClock, audio: str = "full") -> EventLogWriter:
    return EventLogWriter(
        path,
        provider="local",
        model="gpt-realtime",
        session={"type": "realtime"},
        program_version="9.9",
        redactor=Redactor([SECRET]),
        audio=audio,  # type: ignore[arg-type]
        clock=clock,
    )


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.gz"])
def test_round_trip_header_timing_and_mode(tmp_path: Path, name: str) -> None:
    clock = FakeClock()
    path = tmp_path / name
    with _writer(path, clock) as writer:
        clock.now = 100.25
        writer.write("client", {"type": "response.create", "event_id": "evt_1"})
        clock.now = 101.5
        writer.write("server", {"type": "response.audio.delta", "delta": "AAA="})
        writer.note("reconnect", attempt=1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    report = ReadReport()
    records = list(read_log(path, report))
    assert report.header is not None
    assert report.header["format"] == "realtime-console-log"
    assert report.header["version"] == 1
    assert report.header["model"] == "gpt-realtime"
    assert [(r.t, r.dir, r.event["type"]) for r in records] == [
        (0.25, "client", "response.create"),
        (1.5, "server", "response.output_audio.delta"),  # beta name mapped on read
        (1.5, "meta", "reconnect"),
    ]
    assert report.bad_lines == []


def test_lines_are_flushed_as_written(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    writer = _writer(path, FakeClock())
    writer.write("client", {"type": "input_audio_buffer.commit"})
    # Not closed: a killed process must still leave complete lines behind.
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["event"]["type"] == "input_audio_buffer.commit"
    writer.close()


def test_existing_file_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text("x")
    path.chmod(0o644)
    _writer(path, FakeClock()).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with _writer(path, FakeClock()) as writer:
        writer.write("server", {"type": "error", "error": {"message": f"bad key {SECRET}"}})
        writer.write(
            "meta", {"type": "note", "api_key": "whatever-value", "auth": "Bearer abcdefghijk"}
        )
    text = path.read_text()
    assert SECRET not in text and "whatever-value" not in text and "abcdefghijk" not in text
    assert text.count("***") == 3


def test_audio_none_keeps_byte_counts(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    audio = pcm.encode_b64(bytes(4800))
    with _writer(path, FakeClock(), audio="none") as writer:
        writer.write("client", {"type": "input_audio_buffer.append", "audio": audio})
        writer.write("server", {"type": "response.output_audio.delta", "delta": audio})
    events = [r.event for r in read_log(path)]
    assert events[0] == {"type": "input_audio_buffer.append", "audio_bytes": 4800}
    assert events[1] == {"type": "response.output_audio.delta", "audio_bytes": 4800}


def test_reader_skips_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"type": "session.created", "session": {}}\n'
        "{not json\n"
        "[1, 2]\n"
        '{"t": 1, "dir": "sideways", "event": {"type": "x"}}\n'
        '{"type": "response.text.delta", "delta": "hi"}\n'
        '{"type": "response.do'  # cut mid-line, as a killed writer leaves it
    )
    report = ReadReport()
    records = list(read_log(path, report))
    assert [r.event["type"] for r in records] == ["session.created", "response.output_text.delta"]
    assert all(r.dir == "server" and r.t is None for r in records)
    assert [n for n, _ in report.bad_lines] == [2, 3, 4, 6]


def test_reader_survives_a_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    with _writer(path, FakeClock()) as writer:
        for i in range(200):
            delta = f"word{i} " * 20
            writer.write("server", {"type": "response.output_text.delta", "delta": delta})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report = ReadReport()
    records = list(read_log(path, report))
    assert 0 < len(records) < 200
    assert report.bad_lines and report.bad_lines[-1][0] == -1


def test_unreadable_and_unsupported_logs(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError, match="cannot read"):
        list(read_log(tmp_path / "missing.jsonl"))
    path = tmp_path / "v2.jsonl"
    path.write_text('{"format": "realtime-console-log", "version": 2}\n')
    with pytest.raises(LogFormatError, match="version 2"):
        list(read_log(path))
    with pytest.raises(LogFormatError, match="cannot write"):
        _writer(tmp_path / "no" / "such" / "dir.jsonl", FakeClock())


def test_gzip_log_is_a_real_gzip(tmp_path: Path) -> None:
    path = tmp_path / "z.jsonl.gz"
    with _writer(path, FakeClock()) as writer:
        writer.write("client", {"type": "response.create"})
    with gzip.open(path, "rt") as handle:
        assert len(handle.read().splitlines()) == 2


def test_audio_helpers_count_without_decoding(tmp_path: Path) -> None:
    from realtime_console.eventlog import audio_byte_count, audio_payload

    data = bytes(range(200)) * 12
    full = {"type": "response.output_audio.delta", "delta": pcm.encode_b64(data)}
    assert audio_byte_count(full) == len(data) and audio_payload(full) == data
    dropped = {"type": "input_audio_buffer.append", "audio_bytes": 4800}
    assert audio_byte_count(dropped) == 4800 and audio_payload(dropped) is None
    assert audio_byte_count({"type": "response.done"}) == 0


def test_bad_line_warning_is_one_line_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text('{"type": "session.created"}\n' + "junk\n" * 500)
    report = ReadReport()
    assert len(list(read_log(path, report))) == 1
    assert report.bad_line_count == 500 and len(report.bad_lines) == 100
    warning = report.warning(path)
    assert warning is not None and "\n" not in warning
    assert warning.startswith(f"warning: {path}: skipped 500 bad lines: line 2 (not valid JSON)")
    assert warning.endswith("and 497 more")
    assert ReadReport().warning(path) is None


def test_log_cut_at_any_byte_reads_to_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "whole.jsonl"
    with _writer(path, FakeClock()) as writer:
        for i in range(20):
            writer.write("server", {"type": "response.output_text.delta", "delta": f"w{i}"})
    data = path.read_bytes()
    line_ends = [i for i, b in enumerate(data) if b == ord("\n")]
    for cut in range(line_ends[0] + 1, len(data), 7):
        path.write_bytes(data[:cut])
        report = ReadReport()
        records = list(read_log(path, report))
        complete = sum(1 for end in line_ends[1:] if end <= cut)  # the newline may be missing
        partial = not any(cut in (end, end + 1) for end in line_ends)
        assert len(records) == complete
        assert [n for n, _ in report.bad_lines] == ([complete + 2] if partial else [])


def test_scan_parses_only_lines_with_a_needle(tmp_path: Path) -> None:
    from realtime_console.eventlog import scan_log

    path = tmp_path / "s.jsonl.gz"
    with _writer(path, FakeClock()) as writer:
        writer.write("server", {"type": "response.created"})
        writer.note("barge_in", item_id="i", audio_end_ms=5)
        writer.write("client", {"type": "conversation.item.truncate", "item_id": "i"})
    report = ReadReport()
    found = list(scan_log(path, ('"barge_in"', '"conversation.item.truncate"'), report))
    assert [(r.line, r.event["type"]) for r in found] == [
        (3, "barge_in"),
        (4, "conversation.item.truncate"),
    ]
    assert report.header is not None and report.header["model"] == "gpt-realtime"


@pytest.mark.parametrize("audio", ["full", "none"])
def test_http_exchanges_round_trip_and_obey_the_audio_policy(tmp_path: Path, audio: str) -> None:
    clip = pcm.encode_b64(b"RIFF" + bytes(96))  # 100 bytes of "file"
    request = {
        "type": "chat.completions.request",
        "id": "req_1",
        "body": {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hi"},
                        {"type": "input_audio", "input_audio": {"data": clip, "format": "wav"}},
                    ],
                }
            ]
        },
    }
    chunk = {
        "type": "chat.completions.chunk",
        "id": "req_1",
        "chunk": {"choices": [{"delta": {"audio": {"id": "audio_1", "data": clip}}}]},
    }
    path = tmp_path / "http.jsonl"
    with _writer(path, FakeClock(), audio) as writer:
        writer.write("http", request)
        writer.write("http", chunk)
    records = list(read_log(path))
    assert [r.dir for r in records] == ["http", "http"]
    part = records[0].event["body"]["messages"][0]["content"][1]["input_audio"]
    delta = records[1].event["chunk"]["choices"][0]["delta"]["audio"]
    if audio == "full":
        assert part["data"] == clip and delta["data"] == clip
    else:
        assert part == {"audio_bytes": 100, "format": "wav"}
        assert delta == {"id": "audio_1", "audio_bytes": 100}
