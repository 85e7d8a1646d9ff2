from __future__ import annotations

import gzip
import json
import os
import random
import stat
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_console.errors import LogFormatError
from realtime_console.eventlog import AudioPolicy, Direction, EventLogWriter, ReadReport, read_log
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
        "request_id": "req_1",
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
        "request_id": "req_1",
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


# ---------------------------------------------------------------- the reader on hostile input


def test_overlong_lines_are_skipped_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    limit = 1024 * 1024
    path = tmp_path / "long.jsonl"
    long_event = json.dumps({"type": "session.created", "pad": "x" * (2 * limit)})
    with path.open("wb") as f:
        f.write(b'{"type": "response.created"}\n')
        f.write(b"y" * (20 * limit) + b"\n")  # 20 MiB without a newline: not held whole
        f.write(long_event.encode() + b"\n")  # 2 MiB: read in pieces, still a line
        f.write(b'{"type": "response.done"}')  # the last line, without a newline
    report = ReadReport()
    tracemalloc.start()
    try:
        types = [r.event["type"] for r in read_log(path, report, max_line_bytes=3 * limit)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert types == ["response.created", "session.created", "response.done"]
    assert report.bad_lines == [(2, "longer than 3 MiB")]
    assert peak < 12 * limit  # the 2 MiB line parsed (string + JSON), the 20 MiB one dropped
    short = ReadReport()
    assert len(list(read_log(path, short, max_line_bytes=1000))) == 2
    assert short.bad_lines == [(2, "longer than 1000 bytes"), (3, "longer than 1000 bytes")]


def test_times_that_are_not_finite_and_deep_nesting_are_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"t": NaN, "dir": "server", "event": {"type": "a"}}\n'
        '{"t": Infinity, "dir": "server", "event": {"type": "b"}}\n'
        '{"t": -1e400, "dir": "server", "event": {"type": "c"}}\n'
        '{"t": true, "dir": "server", "event": {"type": "d"}}\n' + "[" * 200_000 + "\n"
        '{"t": -3.5, "dir": "server", "event": {"type": "e"}}\n'  # finite: the pacer's problem
    )
    report = ReadReport()
    assert [(r.t, r.event["type"]) for r in read_log(path, report)] == [(-3.5, "e")]
    assert report.bad_lines == [
        (1, "t is nan"),
        (2, "t is inf"),
        (3, "t is -inf"),
        (4, "not an event"),
        (5, "not valid JSON"),
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40),
        ("noise.jsonl", bytes((i * 7919 + 13) % 256 for i in range(50_000))),
        ("fake.jsonl.gz", b"this is not gzip\n"),
        ("list.jsonl", b"[1, 2]\n[3]\n"),
    ],
)
def test_a_file_of_another_kind_is_not_an_event_log(
    tmp_path: Path, name: str, content: bytes
) -> None:
    from realtime_console.eventlog import probe_log

    path = tmp_path / name
    path.write_bytes(content)
    report = probe_log(path)
    assert not report.is_event_log
    with pytest.raises(LogFormatError) as caught:
        report.check_event_log(path)
    message = str(caught.value)
    assert message.startswith(f"{path} is not an event log: no line of it parses (")
    assert "\n" not in message and caught.value.exit_code == 2


def test_empty_and_header_only_logs_are_event_logs(tmp_path: Path) -> None:
    from realtime_console.eventlog import probe_log

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    header_only = tmp_path / "header.jsonl"
    _writer(header_only, FakeClock()).close()
    for path in (empty, header_only):
        report = probe_log(path)
        report.check_event_log(path)  # does not raise
        assert report.events == 0 and report.is_event_log
    assert probe_log(header_only).header is not None


def test_probe_stops_at_the_first_event(tmp_path: Path) -> None:
    from realtime_console.eventlog import probe_log

    path = tmp_path / "log.jsonl"
    with _writer(path, FakeClock()) as writer:
        writer.write("server", {"type": "session.created"})
    with path.open("a") as f:
        f.write("junk\n" * 1000)
    report = probe_log(path)
    assert report.events == 1 and report.bad_line_count == 0  # the junk was never read


# ---------------------------------------------------------------- the writer when the disk fails

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")


@needs_dev_full
def test_a_full_device_is_one_warning_and_the_session_goes_on(tmp_path: Path) -> None:
    full = Path("/dev/full")
    mode = full.stat().st_mode
    fds = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    for target in (full, tmp_path / "full.jsonl.gz"):
        if target != full:
            target.symlink_to(full)  # a .gz name: the compressed path fails the same way
        told: list[str] = []
        writer = EventLogWriter(
            target,
            provider="local",
            model="m",
            session={},
            program_version="t",
            redactor=Redactor(),
            on_error=told.append,
        )
        for i in range(50):
            writer.write("server", {"type": "response.output_text.delta", "delta": f"w{i}"})
        writer.note("audio_stats", final=True)
        writer.close()
        writer.close()
        assert len(told) == 1 and writer.failed
        assert told[0].startswith(f"event log {target}: cannot write (No space left on device)")
    assert full.stat().st_mode == mode  # a device is not ours to chmod
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) == fds  # the failed files were closed, too


@needs_dev_full
def test_default_warning_goes_to_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="realtime_console.eventlog"):
        with EventLogWriter(
            "/dev/full",
            provider="local",
            model="m",
            session={},
            program_version="t",
            redactor=Redactor(),
        ) as writer:
            writer.write("client", {"type": "response.create"})
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "cannot write (No space left on device)" in caplog.records[0].getMessage()


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 16 KiB file system, to fill for real (needs root: mount)."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip() or made.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.gz"])
def test_a_disk_filling_mid_session_stops_recording_once(tiny_tmpfs: Path, name: str) -> None:
    path = tiny_tmpfs / name
    told: list[str] = []
    writer = EventLogWriter(
        path,
        provider="local",
        model="m",
        session={},
        program_version="t",
        redactor=Redactor(),
        on_error=told.append,
    )
    rng = random.Random(3)
    for i in range(400):  # random payloads: a .gz cannot squeeze them under the limit
        noise = pcm.encode_b64(rng.randbytes(600))
        writer.write("server", {"type": "response.output_audio.delta", "delta": noise, "n": i})
    writer.close()
    assert writer.failed and len(told) == 1 and "No space left on device" in told[0]
    assert 1 < writer.lines < 400
    report = ReadReport()
    records = list(read_log(path, report))
    # What was written before the disk filled reads back (at most the line cut by it is lost).
    assert writer.lines - 2 <= len(records) <= writer.lines - 1
    assert [r.event["n"] for r in records] == list(range(len(records)))


_FILL_THEN_CLOSE = """
import os, resource, signal, sys
from realtime_console.eventlog import EventLogWriter
from realtime_console.redact import Redactor

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
path = sys.argv[1]
writer = EventLogWriter(path, provider="local", model="m", session={}, program_version="t",
                        redactor=Redactor(), on_error=lambda m: print("told:", m))
writer.write("client", {"type": "response.create"})
if sys.argv[2] == "mid":
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 10, resource.RLIM_INFINITY))
    for i in range(20):
        writer.write("server", {"type": "response.output_text.delta", "delta": "word " * 20})
else:  # the file may not grow at all: the gzip trailer written by close() fails
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path), resource.RLIM_INFINITY))
writer.close()
print("lines", writer.lines)
"""


@pytest.mark.parametrize(("name", "when"), [("a.jsonl", "mid"), ("a.jsonl.gz", "close")])
def test_a_file_size_limit_mid_write_or_at_the_gzip_trailer(
    tmp_path: Path, name: str, when: str
) -> None:
    import subprocess
    import sys

    path = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-c", _FILL_THEN_CLOSE, str(path), when],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    told = [line for line in done.stdout.splitlines() if line.startswith("told:")]
    assert len(told) == 1 and "cannot write (File too large)" in told[0]
    assert done.stdout.splitlines()[-1] == "lines 2"  # header + the first event


@needs_dev_full
async def test_a_live_session_logging_to_a_full_device_goes_on() -> None:
    from tests.conftest import assert_no_traceback, run_console

    run = await run_console(
        "--local", "--log-events", "/dev/full", "chat", "--no-playback", stdin="hi\nagain\n"
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert run.stdout.count("assistant> ") == 2  # both turns, after the log stopped
    told = [line for line in run.stderr.splitlines() if "event log" in line]
    assert len(told) == 1 and "/dev/full: cannot write (No space left on device)" in told[0]


def damaged_gzip(text: bytes) -> bytes:
    """``text`` gzipped twice over in two deflate blocks, the second block's type made the
    reserved one: a stream that inflates up to there, then raises zlib.error."""
    compressor = zlib.compressobj(wbits=31)  # 31: the gzip container
    data = bytearray(compressor.compress(text) + compressor.flush(zlib.Z_FULL_FLUSH))
    damage = len(data)
    data += compressor.compress(text) + compressor.flush()
    data[damage] |= 0x06  # BTYPE 11: "invalid block type"
    return bytes(data)


def test_reader_survives_a_damaged_gzip(tmp_path: Path) -> None:
    """A damaged deflate stream (zlib.error) is read like a cut: what came before it is kept,
    the damage is one bad line at the end of the file; it raised out of the reader before."""
    lines = b"".join(b'{"t":%d,"dir":"server","event":{"type":"error"}}\n' % n for n in range(2000))
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(damaged_gzip(lines))
    report = ReadReport()
    records = list(read_log(path, report))
    assert 1000 < len(records) <= 2000 and [r.t for r in records] == list(range(len(records)))
    assert report.bad_lines == [
        (-1, "compressed stream is damaged: Error -3 while decompressing data: invalid block type")
    ]
    assert report.warning(path) == (
        f"warning: {path}: skipped 1 bad line: end of file (compressed stream is damaged: "
        "Error -3 while decompressing data: invalid block type)"
    )


def test_number_helpers_take_only_what_a_float_holds() -> None:
    from realtime_console.eventlog import (
        MAX_AUDIO_BYTES,
        audio_byte_count,
        finite_number,
        recorded_byte_count,
        whole_number,
    )

    assert [finite_number(v) for v in (1, 2.5, -0.0, 10**308)] == [1.0, 2.5, -0.0, 1e308]
    for junk in (float("nan"), float("inf"), -float("inf"), 10**309, -(10**309), True, None, "1"):
        assert finite_number(junk) is None
    assert [whole_number(v) for v in (0, -3, 10**308)] == [0, -3, 10**308]
    for junk in (1.0, float("nan"), 10**309, True, False, None, "1"):
        assert whole_number(junk) is None
    assert recorded_byte_count(4800) == 4800 and recorded_byte_count(MAX_AUDIO_BYTES) > 0
    for junk in (0, -2, MAX_AUDIO_BYTES + 2, 10**309, True, 4800.0, None):
        assert recorded_byte_count(junk) == 0
    event = {"type": "response.output_audio.delta", "audio_bytes": 10**309}
    assert audio_byte_count(event) == 0


@pytest.mark.parametrize(("direction", "audio"), [("server", "full"), ("http", "none")])
def test_an_event_nested_too_deep_to_record_is_left_out_once(
    tmp_path: Path, direction: Direction, audio: AudioPolicy
) -> None:
    """json.loads accepts a server frame nested ~1000 deep, but redacting and writing it recurse
    deeper than Python allows: RecursionError escaped ``write`` into the session. That event is
    left out, said once, and recording goes on."""
    deep: object = "bottom"
    for _ in range(sys.getrecursionlimit()):  # as deep as json.loads reads, or deeper
        deep = [deep]
    told: list[str] = []
    path = tmp_path / "deep.jsonl"
    with EventLogWriter(
        path,
        provider="local",
        model="m",
        session={},
        program_version="9.9",
        redactor=Redactor(),
        audio=audio,
        clock=FakeClock(),
        on_error=told.append,
    ) as writer:
        writer.write(direction, {"type": "response.done", "response": deep})
        writer.write("server", {"type": "error", "error": {"message": "after"}})
        writer.write(direction, {"type": "response.done", "response": {"a": deep}})
    assert told == [
        f"event log {path}: left out a {direction} event (response.done) nested too deep to "
        "record; recording goes on"
    ]
    assert writer.left_out == 2 and not writer.failed and writer.lines == 2
    assert [r.event["type"] for r in read_log(path)] == ["error"]
