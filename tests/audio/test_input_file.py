"""prepare_input_audio: every refusal as its exact one line, every odd WAV converted, and the
files the service takes as they are sent byte for byte. Real files in tmp_path throughout."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from realtime_console.audio import codec
from realtime_console.audio.input_file import MAX_INPUT_BYTES, PreparedInput, prepare_input_audio
from realtime_console.errors import ConfigError
from tests.fixtures.audio_files import (
    RATE,
    WavEncoding,
    dominant_hz,
    read_stdlib_wav,
    stdlib_wav,
    to_pcm16,
    tone,
    wav_bytes,
)

GIVE = "give a WAV or MP3 file"
NO_AUDIO = "give a WAV or MP3 file with sound in it"


def refusal(path: str | Path, *, flag: str = "") -> str:
    """The ConfigError line prepare_input_audio raises for ``path`` (checked to be one line)."""
    with pytest.raises(ConfigError) as info:
        prepare_input_audio(path, flag=flag)
    assert info.value.exit_code == 2
    message = str(info.value)
    assert "\n" not in message
    return message


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# refusals before reading


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    assert refusal(path) == f"{path}: no such file; check the path"
    assert refusal(str(path), flag="--input") == f"--input {path}: no such file; check the path"


def test_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "link.wav"
    link.symlink_to(tmp_path / "gone.wav")
    assert refusal(link) == f"{link}: no such file (a symlink to nothing); check the path"


def test_parent_is_a_file(tmp_path: Path) -> None:
    parent = write(tmp_path, "file", b"x")
    path = parent / "a.wav"
    assert refusal(path) == (f"{path}: no such file (a parent is not a directory); check the path")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "take1.wav"
    folder.mkdir()
    assert refusal(folder) == f"{folder}: is a directory; {GIVE}"


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    assert refusal(fifo, flag="-i") == (
        f"-i {fifo}: not a regular file (a pipe, socket or device); {GIVE}"
    )


@contextmanager
def unreadable_files() -> Iterator[tuple[Path, Path]]:
    """A 0o000 file in a directory anyone may enter (the open fails), and a file in a 0o000
    directory (the stat fails)."""
    folder = Path(tempfile.mkdtemp(prefix="rc-perm-"))
    closed = folder / "closed"
    try:
        folder.chmod(0o755)
        locked = folder / "locked.wav"
        locked.write_bytes(stdlib_wav(tone()))
        locked.chmod(0o000)
        closed.mkdir()
        inside = closed / "inside.wav"
        inside.write_bytes(stdlib_wav(tone()))
        closed.chmod(0o000)
        yield locked, inside
    finally:
        if closed.exists():
            closed.chmod(0o755)  # rmtree cannot list a 0o000 directory
        shutil.rmtree(folder)


def refusals_as_nobody(paths: tuple[Path, ...]) -> list[str]:
    """Root reads anything, so the checks run in a forked child that drops to "nobody": the
    same process image and code, and a real EACCES from the kernel."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        lines = []
        try:
            os.setgid(65534)
            os.setuid(65534)
            for path in paths:
                try:
                    prepare_input_audio(path)
                    lines.append("no error")
                except ConfigError as exc:
                    lines.append(str(exc))
        except BaseException as exc:
            lines = [f"child failed: {exc!r}"]
        os.write(write_end, "\n".join(lines).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        lines = pipe.read().decode().split("\n")
    os.waitpid(pid, 0)
    if lines[0].startswith("child failed: PermissionError"):
        pytest.skip("running as root and cannot drop to uid 65534 to make a read fail")
    return lines


def test_permission_denied() -> None:
    with unreadable_files() as (locked, inside):
        expected = [
            f"{locked}: permission denied; make it readable (chmod +r)",
            f"{inside}: permission denied; make it and its directories readable",
        ]
        if os.geteuid() == 0:
            assert refusals_as_nobody((locked, inside)) == expected
        else:
            assert [refusal(locked), refusal(inside)] == expected


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.mp3", b"")
    assert refusal(path) == f"{path}: is empty (0 bytes); {NO_AUDIO}"


def test_huge_file_is_refused_from_its_size_alone(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    with path.open("wb") as fh:
        fh.truncate(5 * 1024**3)  # sparse: 5 GB on paper, nothing on disk
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refusal(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message == (
        f"{path}: is 5120.0 MB, over the 20 MB limit for input audio; "
        "shorten it or compress it to MP3"
    )
    assert peak < 1024 * 1024  # the file was never read
    assert time.perf_counter() - started < 1.0


def test_just_over_the_limit_does_not_round_down(tmp_path: Path) -> None:
    path = tmp_path / "edge.wav"
    with path.open("wb") as fh:
        fh.truncate(MAX_INPUT_BYTES + 1)
    assert refusal(path) == (
        f"{path}: is 20.1 MB, over the 20 MB limit for input audio; "
        "shorten it or compress it to MP3"
    )


# --------------------------------------------------------------------------------------------
# refusals by content


@pytest.mark.parametrize(
    ("fmt", "name"), [("flac", "FLAC"), ("opus", "Ogg Opus"), ("aac", "AAC (ADTS)")]
)
def test_other_codecs_are_named(tmp_path: Path, fmt: codec.AudioFormat, name: str) -> None:
    path = write(tmp_path, "speech.wav", codec.encode(to_pcm16(tone()), fmt))
    assert refusal(path) == (f"{path}: looks like {name}, not WAV or MP3; convert it to WAV or MP3")


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"FORM\x00\x00\x10\x00AIFFCOMM", "AIFF"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "MP4/M4A"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01", "WebM/Matroska"),
        (b"OggS\x00\x02" + bytes(20) + b"\x01\x1e\x01vorbis", "Ogg (Vorbis or FLAC)"),
    ],
)
def test_other_containers_are_named(tmp_path: Path, head: bytes, name: str) -> None:
    path = write(tmp_path, "clip.mp3", head + bytes(500))
    assert refusal(path) == (f"{path}: looks like {name}, not WAV or MP3; convert it to WAV or MP3")


@pytest.mark.parametrize(
    "data",
    [
        b"just some notes, not audio\n" * 20,
        bytes.fromhex("89504e470d0a1a0a0000000d494844520000000100000001") + bytes(100),
        np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
    ],
    ids=["text", "png", "random"],
)
def test_not_audio(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "input.wav", data)
    assert refusal(path) == (f"{path}: not an audio file (neither WAV nor MP3 by content); {GIVE}")


FIX_WAV = "re-export it as 16-bit PCM WAV or MP3"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01", "truncated fmt chunk"),
        (stdlib_wav(tone())[:36], "no data chunk"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
        (
            wav_bytes(tone())[:20] + b"\x34\x12" + wav_bytes(tone())[22:],  # format tag 0x1234
            "no decoder for the codec in this wav data",
        ),
    ],
    ids=["truncated-fmt", "no-data", "no-fmt", "unknown-codec"],
)
def test_undecodable_wav(tmp_path: Path, data: bytes, reason: str) -> None:
    path = write(tmp_path, "broken.wav", data)
    assert refusal(path) == f"{path}: cannot decode this WAV ({reason}); {FIX_WAV}"


def test_wav_without_samples(tmp_path: Path) -> None:
    path = write(tmp_path, "silent.wav", stdlib_wav(np.zeros(0)))
    assert refusal(path) == f"{path}: holds no audio (a WAV with 0 samples); {NO_AUDIO}"


def test_corrupt_mp3(tmp_path: Path) -> None:
    mp3 = codec.encode(to_pcm16(tone()), "mp3")
    tag_end = 10 + (mp3[6] << 21 | mp3[7] << 14 | mp3[8] << 7 | mp3[9])
    path = write(tmp_path, "broken.mp3", mp3[:tag_end] + b"not an mpeg frame " * 100)
    assert refusal(path) == (
        f"{path}: cannot decode this MP3 (not valid mp3 data); re-export it as MP3 or WAV"
    )


def test_mp3_without_frames(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.mp3", codec.encode(b"", "mp3"))
    assert refusal(path) == f"{path}: holds no audio (an MP3 without frames); {NO_AUDIO}"


def test_conversion_that_would_outgrow_the_limit(tmp_path: Path) -> None:
    # 8-bit 8 kHz grows six-fold as 16-bit 24 kHz: 3.6 MB of it becomes 21.6 MB.
    x = np.tile(tone(440.0, 1.0, 8000, amp=0.3), 450)
    path = write(tmp_path, "long.wav", wav_bytes(x, 8000, bits=8))
    assert path.stat().st_size < MAX_INPUT_BYTES
    assert refusal(path) == (
        f"{path}: converted to 16-bit PCM mono 24 kHz WAV it is 20.6 MB, over the 20 MB limit "
        "for input audio; shorten it or compress it to MP3"
    )


# --------------------------------------------------------------------------------------------
# sent as they are


def test_api_pcm16_wav_is_sent_unchanged(tmp_path: Path) -> None:
    data = stdlib_wav(tone(440.0, 1.5))
    path = write(tmp_path, "ok.wav", data)
    prepared = prepare_input_audio(str(path))
    assert prepared == PreparedInput(path, data, "wav", 1.5, None)


def test_api_pcm16_wav_with_extra_chunks_is_sent_unchanged(tmp_path: Path) -> None:
    info = (
        b"LIST" + (16).to_bytes(4, "little") + b"INFOISFT" + (4).to_bytes(4, "little") + b"me\0\0"
    )
    data = wav_bytes(tone(), chunks_before_data=info)
    prepared = prepare_input_audio(write(tmp_path, "tagged.wav", data))
    assert prepared.data == data
    assert prepared.converted is None


def test_mp3_is_sent_unchanged(tmp_path: Path) -> None:
    data = codec.encode(to_pcm16(tone(440.0, 2.0, 44100)), "mp3", sample_rate=44100)
    prepared = prepare_input_audio(write(tmp_path, "clip.mp3", data), flag="--input")
    assert (prepared.data, prepared.format, prepared.converted) == (data, "mp3", None)
    assert prepared.duration_s == pytest.approx(2.0, abs=0.05)


def test_mp3_named_wav_is_sent_as_mp3(tmp_path: Path) -> None:
    data = codec.encode(to_pcm16(tone()), "mp3")
    prepared = prepare_input_audio(write(tmp_path, "really-an-mp3.wav", data))
    assert (prepared.data, prepared.format) == (data, "mp3")


# --------------------------------------------------------------------------------------------
# converted


@pytest.mark.parametrize(
    ("rate", "channels", "encoding", "bits", "extensible", "source"),
    [
        (24000, 1, "pcm", 8, False, "8-bit unsigned PCM 24 kHz mono"),
        (24000, 1, "pcm", 24, False, "24-bit PCM 24 kHz mono"),
        (48000, 1, "pcm", 32, False, "32-bit PCM 48 kHz mono"),
        (44100, 2, "float", 32, False, "32-bit float 44.1 kHz stereo"),
        (16000, 1, "float", 64, False, "64-bit float 16 kHz mono"),
        (8000, 1, "alaw", 8, False, "8-bit A-law 8 kHz mono"),
        (8000, 1, "mulaw", 8, False, "8-bit μ-law 8 kHz mono"),
        (24000, 1, "pcm", 16, True, "16-bit PCM (WAVE_FORMAT_EXTENSIBLE) 24 kHz mono"),
        (24000, 2, "pcm", 16, False, "16-bit PCM 24 kHz stereo"),
        (44100, 1, "pcm", 16, False, "16-bit PCM 44.1 kHz mono"),
        (22050, 6, "pcm", 16, True, "16-bit PCM (WAVE_FORMAT_EXTENSIBLE) 22.05 kHz 6-channel"),
    ],
)
def test_odd_wavs_are_converted(
    tmp_path: Path,
    rate: int,
    channels: int,
    encoding: WavEncoding,
    bits: int,
    extensible: bool,
    source: str,
) -> None:
    x = np.repeat(tone(440.0, 1.25, rate)[:, None], channels, axis=1)
    data = wav_bytes(x, rate, encoding=encoding, bits=bits, extensible=extensible)
    path = write(tmp_path, "odd.wav", data)
    prepared = prepare_input_audio(path)
    assert prepared.converted == f"converted from {source} WAV to 16-bit PCM mono 24 kHz"
    assert prepared.format == "wav"
    assert prepared.path == path
    n_channels, width, out_rate, frames = read_stdlib_wav(prepared.data)
    assert (n_channels, width, out_rate) == (1, 2, RATE)
    assert codec.parse_wav_header(prepared.data).is_api_pcm16
    assert prepared.duration_s == pytest.approx(1.25, abs=1e-3)
    assert len(frames) // 2 == pytest.approx(1.25 * RATE, abs=2)
    assert abs(dominant_hz(frames) - 440.0) < 2.0


def test_truncated_wav_is_rewritten(tmp_path: Path) -> None:
    full = stdlib_wav(tone(440.0, 1.0))
    path = write(tmp_path, "cut.wav", full[: 44 + RATE])  # half the declared audio
    prepared = prepare_input_audio(path)
    assert prepared.converted == (
        "converted from 16-bit PCM 24 kHz mono WAV to 16-bit PCM mono 24 kHz "
        f"(its header declared {RATE * 2} bytes of audio, it holds {RATE})"
    )
    assert prepared.data == full[:4] + (36 + RATE).to_bytes(4, "little") + full[8:40] + (
        RATE.to_bytes(4, "little") + full[44 : 44 + RATE]
    )
    assert prepared.duration_s == 0.5


needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")


@needs_sox
def test_wav_from_sox_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "sox.wav"
    args = ["-r", "44100", "-c", "2", "-b", "32", "-e", "floating-point"]
    subprocess.run(["sox", "-n", *args, str(path), "synth", "2", "sine", "440"], check=True)
    prepared = prepare_input_audio(path)
    assert prepared.converted == (
        "converted from 32-bit float 44.1 kHz stereo WAV to 16-bit PCM mono 24 kHz"
    )
    assert prepared.duration_s == pytest.approx(2.0, abs=1e-3)


@needs_sox
def test_wav_from_sox_at_the_api_format_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "sox.wav"
    args = ["-r", "24000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    subprocess.run(["sox", "-n", *args, str(path), "synth", "1", "sine", "440"], check=True)
    prepared = prepare_input_audio(path)
    assert prepared.converted is None
    assert prepared.data == path.read_bytes()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_speech_from_espeak_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "what is in this recording"], check=True)
    prepared = prepare_input_audio(path)
    assert prepared.converted == (
        "converted from 16-bit PCM 22.05 kHz mono WAV to 16-bit PCM mono 24 kHz"
    )
    assert prepared.duration_s == pytest.approx(codec.duration_s(path.read_bytes(), "wav"), 1e-3)
    assert prepared.duration_s > 0.5
