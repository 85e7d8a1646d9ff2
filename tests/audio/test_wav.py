"""``ResponseWavRecorder`` on real files: bounded open files, honest ``saved``, failing disks."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_console.audio.wav import MAX_OPEN_FILES, ResponseWavRecorder

from .helpers import const_pcm, counting_pcm


def frames_of(path: Path) -> bytes:
    with wave.open(str(path), "rb") as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (
            1,
            2,
            24_000,
        )
        return reader.readframes(reader.getnframes())


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_each_reply_is_one_file_holding_exactly_its_audio(tmp_path: Path) -> None:
    recorder = ResponseWavRecorder(tmp_path / "out")
    recorder.audio("resp_a", "i1", counting_pcm(1, 500))
    recorder.audio("resp_b/x", "i2", const_pcm(7, 10))
    recorder.audio("resp_a", "i1", counting_pcm(501, 500))
    recorder.response_done("resp_a")
    recorder.close()
    first, second = recorder.saved
    assert (first.name, second.name) == ("001-resp_a.wav", "002-resp_b_x.wav")
    assert frames_of(first) == counting_pcm(1, 1000)
    assert frames_of(second) == const_pcm(7, 10)
    assert recorder.failed == [] and recorder.incomplete == [] and recorder.dropped_bytes == 0


@pytest.fixture
def few_descriptors() -> Iterator[int]:
    """A file-descriptor limit 64 above what is open now, so an unbounded recorder would hit
    EMFILE within a few dozen replies; restored afterwards."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("counting open descriptors needs /proc (Linux)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = open_fds() + 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_3000_unfinished_replies_keep_open_files_bounded_and_the_real_one_is_saved(
    tmp_path: Path, few_descriptors: int
) -> None:
    warnings: list[str] = []
    recorder = ResponseWavRecorder(tmp_path, warn=warnings.append)
    baseline = open_fds()
    most = 0
    for n in range(3000):
        recorder.audio(f"resp_{n}", "item", const_pcm(n % 100 + 1, 5))
        most = max(most, open_fds() - baseline)
    assert most <= MAX_OPEN_FILES and recorder.open_files == MAX_OPEN_FILES
    for start in range(0, 48_000, 4800):  # the real reply: 1 s in ten deltas
        recorder.audio("resp_real", "item", counting_pcm(1, 24_000)[start : start + 4800])
    recorder.response_done("resp_real")
    recorder.close()
    assert open_fds() == baseline
    assert warnings == [] and recorder.failed == [] and recorder.dropped_bytes == 0
    assert len(recorder.saved) == 3001
    real = tmp_path / "3001-resp_real.wav"
    assert real in recorder.saved
    assert frames_of(real) == counting_pcm(1, 24_000)
    finished_early = recorder.saved[0]  # closed to make room, as written: a valid WAV
    assert finished_early.name == "001-resp_0.wav"
    assert frames_of(finished_early) == const_pcm(1, 5)


def test_audio_after_an_early_finish_is_dropped_with_one_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    recorder = ResponseWavRecorder(tmp_path, warn=warnings.append, max_open=2)
    for name in ("resp_a", "resp_b", "resp_c"):  # resp_c's file closes resp_a's
        recorder.audio(name, "i", const_pcm(1, 10))
    recorder.audio("resp_a", "i", const_pcm(2, 10))  # its file is already finished
    recorder.audio("resp_a", "i", const_pcm(2, 10))
    recorder.audio("resp_d", "i", const_pcm(3, 10))  # closes resp_b's
    recorder.audio("resp_b", "i", const_pcm(4, 10))
    recorder.close()
    assert len(warnings) == 1
    assert warnings[0].startswith("--save-audio: audio of resp_a came after 001-resp_a.wav")
    assert [p.name for p in recorder.incomplete] == ["001-resp_a.wav", "002-resp_b.wav"]
    assert [p.name for p in recorder.saved] == ["003-resp_c.wav", "004-resp_d.wav"]
    assert recorder.dropped_bytes == 3 * len(const_pcm(2, 10))
    assert frames_of(tmp_path / "001-resp_a.wav") == const_pcm(1, 10)  # what it had, intact


def test_abandon_finishes_the_file_as_written_and_drops_the_rest(tmp_path: Path) -> None:
    recorder = ResponseWavRecorder(tmp_path, warn=lambda _: None)
    recorder.audio("resp_stuck", "i", const_pcm(5, 20))
    recorder.abandon("resp_stuck")
    assert recorder.open_files == 0
    assert frames_of(tmp_path / "001-resp_stuck.wav") == const_pcm(5, 20)
    recorder.abandon("resp_silent")  # given up on before any audio: it never gets a file
    recorder.audio("resp_silent", "i", const_pcm(5, 20))
    recorder.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["001-resp_stuck.wav"]
    assert recorder.dropped_bytes == len(const_pcm(5, 20))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_file_that_cannot_be_written_is_one_warning_and_never_saved(tmp_path: Path) -> None:
    # /dev/full accepts the open and fails every write (flush) with ENOSPC.
    delta_ms = 100
    (tmp_path / "001-resp_a.wav").symlink_to("/dev/full")
    (tmp_path / "002-resp_b.wav").symlink_to("/dev/full")
    warnings: list[str] = []
    recorder = ResponseWavRecorder(tmp_path, warn=warnings.append)
    baseline = open_fds()
    for name in ("resp_a", "resp_b", "resp_ok"):
        recorder.audio(name, "i", const_pcm(3, delta_ms))
        recorder.audio(name, "i", const_pcm(3, delta_ms))
        recorder.response_done(name)
    recorder.close()
    assert open_fds() <= baseline  # the failed files' descriptors were released
    assert warnings == [
        f"--save-audio: cannot write {tmp_path / '001-resp_a.wav'}: No space left on device; "
        "it is not saved"
    ]
    assert [p.name for p in recorder.failed] == ["001-resp_a.wav", "002-resp_b.wav"]
    assert [p.name for p in recorder.saved] == ["003-resp_ok.wav"]
    assert frames_of(recorder.saved[0]) == const_pcm(3, delta_ms) * 2


def test_a_file_that_cannot_be_created_is_failed_not_raised(tmp_path: Path) -> None:
    (tmp_path / "001-resp_a.wav").mkdir()  # open() fails with IsADirectoryError, even as root
    warnings: list[str] = []
    recorder = ResponseWavRecorder(tmp_path, warn=warnings.append)
    recorder.audio("resp_a", "i", const_pcm(1, 10))
    recorder.audio("resp_a", "i", const_pcm(1, 10))  # no second attempt, no second warning
    recorder.response_done("resp_a")
    recorder.audio("resp_b", "i", const_pcm(2, 10))
    recorder.close()
    assert len(warnings) == 1 and "001-resp_a.wav: Is a directory" in warnings[0]
    assert [p.name for p in recorder.failed] == ["001-resp_a.wav"]
    assert [p.name for p in recorder.saved] == ["002-resp_b.wav"]
    assert recorder.dropped_bytes == 2 * len(const_pcm(1, 10))


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real full file system. Needs root and mount(8); unmounted after."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=10, check=True)


def test_a_full_file_system_fails_the_reply_that_does_not_fit(tiny_tmpfs: Path) -> None:
    warnings: list[str] = []
    recorder = ResponseWavRecorder(tiny_tmpfs, warn=warnings.append)
    recorder.audio("resp_small", "i", const_pcm(1, 100))  # 4.8 kB: fits
    recorder.response_done("resp_small")
    for _ in range(20):  # 20 × 200 ms = 192 kB, three times the file system
        recorder.audio("resp_big", "i", const_pcm(2, 200))
    recorder.response_done("resp_big")
    recorder.close()
    assert len(warnings) == 1 and "No space left on device" in warnings[0]
    assert [p.name for p in recorder.saved] == ["001-resp_small.wav"]
    assert [p.name for p in recorder.failed] == ["002-resp_big.wav"]
    assert frames_of(recorder.saved[0]) == const_pcm(1, 100)
    assert recorder.dropped_bytes > 0
