"""``replay`` on hostile input and mistaken flags, through the real process: the exit code and the
one stderr line the user sees, and what is (or is not) left on disk."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from realtime_console.protocol import pcm
from tests.conftest import Run, assert_no_traceback, run_console
from tests.replay.conftest import ev, write_log
from tests.test_eventlog import damaged_gzip

HEADER = {"format": "realtime-console-log", "version": 1, "session": {}}


async def console(*args: str, timeout: float = 60.0) -> Run:
    run = await run_console(*args, timeout=timeout)
    assert_no_traceback(run)
    return run


def small_log(path: Path) -> Path:
    audio = pcm.encode_b64(bytes(pcm.ms_to_bytes(100)))
    lines = [
        ev(0.0, "server", "response.created", response={"id": "r1"}),
        ev(
            0.1, "server", "response.output_audio.delta", response_id="r1", item_id="i", delta=audio
        ),
        ev(0.2, "server", "response.output_audio_transcript.delta", response_id="r1", delta="Hi."),
        ev(0.3, "server", "response.done", response={"id": "r1", "status": "completed"}),
    ]
    if path.suffix == ".gz":
        plain = write_log(path.with_suffix(".tmp"), lines)
        path.write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
        return path
    return write_log(path, lines)


def warnings(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("warning:")]


# ---------------------------------------------------------------- 1: outputs that are the input


def _same_as(log: Path, how: str) -> Path:
    """A path naming the same file as ``log``: itself, a symlink, or a hard link."""
    if how == "itself":
        return log
    other = log.with_name(f"{how}-{log.name}.png")
    if how == "symlink":
        other.symlink_to(log)
    else:
        os.link(log, other)
    return other


@pytest.mark.parametrize(
    ("name", "flag", "how"),
    [
        ("talk.jsonl", "--log-events", "itself"),
        ("talk.jsonl.gz", "--log-events", "itself"),
        ("talk.jsonl", "--log-events", "symlink"),
        ("talk.jsonl", "--wav", "itself"),
        ("talk.jsonl.gz", "--wav", "hardlink"),
        ("talk.jsonl", "--wav", "symlink"),
        ("talk.jsonl", "--timeline", "symlink"),
        ("talk.jsonl", "--timeline", "hardlink"),
    ],
)
async def test_an_output_that_is_the_log_is_refused(
    tmp_path: Path, name: str, flag: str, how: str
) -> None:
    log = small_log(tmp_path / name)
    before = log.read_bytes()
    out = _same_as(log, how)
    args = ["replay", str(log), flag, str(out)]
    if flag == "--log-events":  # a global flag, before the command; and with a re-send
        args = [flag, str(out), "replay", str(log), *(["--local"] if how == "symlink" else [])]
    run = await console(*args)
    assert run.code == 2, run.stderr
    assert run.stderr.count("\n") == 1 and f"{flag} {out} and LOG {log} are the same" in run.stderr
    assert log.read_bytes() == before


async def test_two_outputs_naming_one_file_are_refused(tmp_path: Path) -> None:
    log = small_log(tmp_path / "talk.jsonl")
    out = tmp_path / "same.png"
    run = await console("replay", str(log), "--wav", str(out), "--timeline", str(out))
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "--wav" in run.stderr and "--timeline" in run.stderr and not out.exists()


async def test_a_distinct_output_next_to_the_log_is_fine(tmp_path: Path) -> None:
    log = small_log(tmp_path / "talk.jsonl")
    run = await console("replay", str(log), "--wav", str(tmp_path / "talk.wav"), "--no-audio")
    assert run.code == 0, run.stderr


# ---------------------------------------------------------------- 2: audio with bad data


def _bad_audio_log(path: Path) -> tuple[Path, bytes, bytes]:
    good_1, good_2 = (np.full(2400, v, "<i2").tobytes() for v in (1000, -2000))
    delta = {"response_id": "r1", "item_id": "i1"}
    lines = [
        ev(0.0, "server", "response.created", response={"id": "r1"}),  # line 2
        ev(0.1, "server", "response.output_audio.delta", **delta, delta=pcm.encode_b64(good_1)),
        ev(0.2, "server", "response.output_audio.delta", **delta, delta="not base64 at all!"),
        ev(0.3, "server", "response.output_audio.delta", **delta, delta=pcm.encode_b64(b"odd")),
        ev(0.4, "server", "response.output_audio.delta", **delta, delta=pcm.encode_b64(good_2)),
        ev(0.4, "client", "input_audio_buffer.append", audio="@@@@"),
        ev(0.5, "server", "response.done", response={"id": "r1", "status": "completed"}),
    ]
    return write_log(path, lines), good_1, good_2


async def test_wav_skips_audio_with_bad_data_and_says_so_once(tmp_path: Path) -> None:
    log, good_1, good_2 = _bad_audio_log(tmp_path / "bad.jsonl")
    out = tmp_path / "heard.wav"
    run = await console("replay", str(log), "--wav", str(out), "--no-audio")
    assert run.code == 0
    assert run.stderr.splitlines() == [
        f"-- wrote {out} (0.5 s, stereo: left microphone, right assistant)",
        f"warning: --wav {out}: skipped 3 audio deltas with bad data: first at line 4",
    ]
    with wave.open(str(out)) as wav:
        right = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)[:, 1]
    start_2 = pcm.ms_to_samples(400)
    assert (
        right[2400:4800].tobytes() == good_1 and right[start_2 : start_2 + 2400].tobytes() == good_2
    )
    assert not right[4800:start_2].any()


async def test_plain_replay_skips_audio_with_bad_data_and_says_so_once(tmp_path: Path) -> None:
    log, _, _ = _bad_audio_log(tmp_path / "bad.jsonl")
    run = await console("replay", str(log), "--no-audio", "--speed", "max")
    assert run.code == 0
    assert run.stderr.splitlines() == [
        f"warning: {log}: skipped 2 audio deltas with bad data: first at line 4"
    ]


# ---------------------------------------------------------------- 3: --timeline extension


@pytest.mark.parametrize("name", ["t.jsonl", "timeline", "t.PNG.txt"])
async def test_timeline_extension_matplotlib_cannot_write_is_a_usage_error(
    tmp_path: Path, name: str
) -> None:
    log = small_log(tmp_path / "talk.jsonl")
    out = tmp_path / name
    run = await console("replay", str(log), "--timeline", str(out))
    assert run.code == 2 and run.stderr.count("\n") == 1 and run.stdout == ""
    assert f"--timeline {out}:" in run.stderr and ".png, .svg, .pdf" in run.stderr
    assert not out.exists()


async def test_timeline_svg(tmp_path: Path) -> None:
    log = small_log(tmp_path / "talk.jsonl")
    out = tmp_path / "t.SVG"
    run = await console("replay", str(log), "--timeline", str(out), "--no-audio")
    assert run.code == 0 and b"<svg" in out.read_bytes()[:500]


# ---------------------------------------------------------------- 4: corrupt times


async def test_corrupt_times_do_not_sleep_forever(tmp_path: Path) -> None:
    times = [0.0, 1e308, 1.0, -5.0, 2.0, 1e9 + 2, float("nan"), 1e9 + 3]
    lines = [ev(t, "server", "response.output_text.delta", response_id="r1", delta=f"w{i} ")
             for i, t in enumerate(times)]  # fmt: skip
    lines.append(
        ev(1e9 + 3, "server", "response.done", response={"id": "r1", "status": "completed"})
    )
    log = tmp_path / "times.jsonl"
    log.write_text("\n".join(json.dumps(x) for x in [HEADER, *lines]) + "\n")  # NaN as NaN
    started = time.monotonic()
    run = await console("replay", str(log), "--no-audio", "--speed", "10", timeout=30)
    elapsed = time.monotonic() - started
    assert run.code == 0 and elapsed < 15  # 3 gaps of 5 s at speed 10 + startup
    assert run.stdout == "assistant> w0 w1 w2 w3 w4 w5 w7 \n"  # w6: the NaN line
    assert run.stderr.splitlines() == [
        "-- gaps over 5 s are shortened to 5 s (first: 1e+308 s before event #1)",
        f"warning: {log}: skipped 1 bad line: line 8 (t is nan)",
    ]


# ---------------------------------------------------------------- 5: not an event log / empty


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64),
        ("random.jsonl", np.random.default_rng(1).bytes(200_000)),
        ("fake.jsonl.gz", b"plain text named .gz\n"),
    ],
)
async def test_a_file_that_is_not_an_event_log_is_exit_2(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for extra in ([], ["--summary"], ["--local"]):
        run = await console("replay", str(path), *extra)
        assert run.code == 2 and run.stdout == "" and run.stderr.count("\n") == 1
        assert f"{path} is not an event log: no line of it parses (" in run.stderr


async def test_an_empty_log_replays_with_a_note(tmp_path: Path) -> None:
    empty, header_only = tmp_path / "empty.jsonl", tmp_path / "header.jsonl"
    empty.write_bytes(b"")
    header_only.write_text(json.dumps(HEADER) + "\n")
    for path in (empty, header_only):
        run = await console("replay", str(path), "--no-audio")
        assert run.code == 0 and run.stdout == ""
        assert run.stderr.splitlines() == [f"-- {path} holds no events"]


# ---------------------------------------------------------------- 6: filters read at full speed


async def test_types_reads_at_full_speed_unless_speed_is_given(tmp_path: Path) -> None:
    lines = [ev(4.0 * i, "server", "response.created", response={"id": f"r{i}"}) for i in range(4)]
    log = write_log(tmp_path / "slow.jsonl", lines)  # 12 s as recorded
    started = time.monotonic()
    run = await console("replay", str(log), "--types", "response.*")
    assert run.code == 0 and len(run.stdout.splitlines()) == 4
    assert time.monotonic() - started < 6
    started = time.monotonic()
    paced = await console("replay", str(log), "--types", "response.*", "--speed", "4")
    assert paced.code == 0 and time.monotonic() - started >= 3  # 12 s / 4
    help_text = await console("replay", "--help")
    assert "reads at full speed unless --speed" in " ".join(help_text.stdout.split())


# ---------------------------------------------------------------- 7: a line without end


def test_a_huge_file_without_newlines_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    block = b"x" * (1 << 20)
    with path.open("wb") as f:
        for _ in range(400):  # 400 MiB, one "line"
            f.write(block)
    # The peak is read in the child from /proc (VmHWM, reset by exec): ru_maxrss would count
    # the pages of a large test process the child was forked from.
    report = tmp_path / "peak.txt"
    measure = (
        "import atexit, sys\n"
        "from realtime_console.cli import main\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        f"    open({str(report)!r}, 'w').write(status)\n"
        "atexit.register(peak)\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", measure, "replay", str(path), "--summary"],
        capture_output=True,
        check=False,
    )
    stderr = child.stderr.decode()
    assert child.returncode == 2 and child.stdout == b""
    assert stderr.splitlines() == [
        f"realtime-console: {path} is not an event log: no line of it parses "
        "(1 line; line 1 (longer than 64 MiB))"
    ]
    assert int(report.read_text()) < 200 * 1024  # KiB: the 64 MiB bound plus the interpreter


# ---------------------------------------------------------------- 8: numbers no float holds


def _numbers_log(path: Path) -> Path:
    """A log whose times and figures are what JSON allows and no float holds (or barely):
    ±1e308 times, integers of 400 digits, NaN and Infinity (as Python's json writes them)."""
    huge = 10**400
    audio = pcm.encode_b64(bytes(960))
    lines = [
        ev(-1e308, "client", "response.create"),
        ev(0.0, "server", "input_audio_buffer.speech_started", audio_start_ms=huge),
        ev(0.5, "server", "input_audio_buffer.speech_stopped", audio_end_ms=float("nan")),
        ev(1e308, "server", "response.created", response={"id": "r1"}),
        ev(
            1e308,
            "server",
            "response.output_audio.delta",
            response_id="r1",
            item_id="a1",
            delta=audio,
        ),  # fmt: skip
        ev(
            1e308,
            "server",
            "response.output_audio.delta",
            response_id="r1",
            item_id="a1",
            audio_bytes=huge,
        ),  # fmt: skip
        ev(1e308, "client", "conversation.item.truncate", item_id="a1", audio_end_ms=huge),
        ev(
            1e308,
            "server",
            "rate_limits.updated",
            rate_limits=[{"name": "tokens", "limit": huge, "remaining": float("inf")}],
        ),  # fmt: skip
        ev(
            1e308,
            "server",
            "response.done",
            response={"id": "r1", "status": "completed", "usage": {"total_tokens": huge}},
        ),  # fmt: skip
        ev(1e308, "meta", "completion", request_id="q1", first_audio_s=float("inf")),
        ev(1e308, "http", "chat.completions.error", request_id="q1", retry_in_s=huge),
    ]
    path.write_text("\n".join(json.dumps(x) for x in [HEADER, *lines]) + "\n")
    line = {"t": 10**400, "dir": "server", "event": {"type": "error"}}  # a bad line
    with path.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    return path


async def test_numbers_no_float_holds_are_unknown_figures_not_tracebacks(tmp_path: Path) -> None:
    log = _numbers_log(tmp_path / "numbers.jsonl")
    wav, png = tmp_path / "heard.wav", tmp_path / "t.png"
    run = await console("replay", str(log), "--json", "--wav", str(wav), "--timeline", str(png))
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    totals = document["totals"]
    assert totals["duration_s"] is None and totals["user_speech_s"] == 0.0
    assert totals["rate_limits"] == {} and document["turns"][0]["audio_generated_s"] == 0.02
    assert document["completions"]["turns"][0]["first_audio_ms"] is None
    assert f"warning: {log}: skipped 1 bad line: line 13 (t is past float range)" in run.stderr
    with wave.open(str(wav)) as heard:
        assert heard.getnframes() >= 480  # the delta at a time no WAV reaches: placed at once
    assert png.read_bytes()[:4] == b"\x89PNG"
    lines = await console("replay", str(log), "--types", "*", "--summary")
    assert lines.code == 0 and "retry in ? s" in lines.stdout and "turns in - s" in lines.stdout


async def test_a_damaged_gzip_is_one_warning_and_what_was_read(tmp_path: Path) -> None:
    lines = [
        ev(i / 10, "server", "response.created", response={"id": f"r{i}"}) for i in range(2000)
    ]
    plain = write_log(tmp_path / "talk.jsonl", lines)
    log = tmp_path / "talk.jsonl.gz"
    log.write_bytes(damaged_gzip(plain.read_bytes()))  # zlib.error after the first half or so
    run = await console("replay", str(log), "--types", "*")
    assert run.code == 0
    assert 1000 < len(run.stdout.splitlines()) <= 2000  # the events before the damage
    assert run.stderr.splitlines() == [
        f"warning: {log}: skipped 1 bad line: end of file (compressed stream is damaged: "
        "Error -3 while decompressing data: invalid block type)"
    ]
