"""codec: real encodes and decodes through PyAV/FFmpeg, hand-built WAV headers, content sniffing.

The signals and hand-built WAVs come from tests/fixtures/audio_files.py.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from realtime_console import config
from realtime_console.audio import codec, formats, sniff
from realtime_console.audio.codec import AudioFormat, CodecError
from tests.fixtures.audio_files import (
    FRAME_SLACK_S,
    LOSSY,
    RATE,
    SNIFFABLE,
    WavEncoding,
    best_correlation,
    chirp,
    dominant_hz,
    rms,
    samples_of,
    stdlib_wav,
    strip_id3,
    to_pcm16,
    tone,
    wav_bytes,
)

# --------------------------------------------------------------------------------------------
# names and extensions


def test_formats_are_configs_formats() -> None:
    # Every format the codec writes is one completions.format accepts, and the list is one list.
    assert codec.OUTPUT_FORMATS == get_args(formats.AudioFormat)
    for fmt in codec.OUTPUT_FORMATS:
        overrides = {"completions.format": fmt}
        assert config.load_settings(env={}, overrides=overrides).completions.format == fmt
    assert set(codec.EXTENSIONS.values()) == set(codec.OUTPUT_FORMATS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reply.wav", "wav"),
        ("REPLY.WAV", "wav"),
        ("a/b.c/reply.Mp3", "mp3"),
        ("x.flac", "flac"),
        ("x.opus", "opus"),
        ("x.ogg", "opus"),
        ("x.aac", "aac"),
        ("x.pcm", "pcm16"),
        ("x.RAW", "pcm16"),
        ("x.m4a", None),
        ("x.wav.txt", None),
        ("wav", None),
        (".wav", None),  # a hidden file with no extension
        ("dir.wav/file", None),
    ],
)
def test_format_for_path(name: str, expected: str | None) -> None:
    assert codec.format_for_path(name) == expected
    assert codec.format_for_path(Path(name)) == expected


# --------------------------------------------------------------------------------------------
# encode → decode


@pytest.mark.parametrize("fmt", codec.OUTPUT_FORMATS)
def test_round_trip_keeps_duration_and_pitch(fmt: AudioFormat) -> None:
    source = to_pcm16(tone(440.0, 2.0))
    data = codec.encode(source, fmt)
    decoded = codec.decode(data, fmt)
    assert decoded.sample_rate == RATE
    assert decoded.source_format == fmt
    assert decoded.source_channels == 1
    assert abs(decoded.duration_s - 2.0) <= FRAME_SLACK_S[fmt] + 1e-9
    assert abs(dominant_hz(decoded.pcm16) - 440.0) < 2.0
    assert abs(rms(decoded.pcm16) - rms(source)) < 0.05 * rms(source)
    if fmt in ("wav", "flac", "pcm16"):
        assert decoded.pcm16 == source  # lossless: sample for sample
    assert codec.duration_s(data, fmt) == pytest.approx(decoded.duration_s, abs=1e-3)


@pytest.mark.parametrize("fmt", codec.OUTPUT_FORMATS)
def test_round_trip_correlates_with_the_input(fmt: AudioFormat) -> None:
    reference = chirp()
    decoded = codec.decode(codec.encode(to_pcm16(reference), fmt), fmt)
    assert best_correlation(reference, decoded.pcm16) > (0.9 if fmt in LOSSY else 0.9999)


def test_encoded_files_have_the_expected_codecs_and_sizes() -> None:
    # Tone plus noise: Opus's VBR spends well over its target on a pure tone, not on speech.
    noise = np.random.default_rng(0).standard_normal(10 * RATE)
    pcm16 = to_pcm16(tone(440.0, 10.0, amp=0.3) + 0.05 * noise)
    sizes = {fmt: len(codec.encode(pcm16, fmt)) for fmt in codec.OUTPUT_FORMATS}
    assert sizes["pcm16"] == len(pcm16)
    assert sizes["wav"] == len(pcm16) + 44
    # The bit rates: 64 kb/s MP3 and AAC, 32 kb/s Opus; 10 s each, within container overhead.
    assert 75_000 < sizes["mp3"] < 85_000
    assert 70_000 < sizes["aac"] < 90_000
    assert 30_000 < sizes["opus"] < 45_000
    assert sizes["flac"] < len(pcm16)


@pytest.mark.parametrize("fmt", codec.OUTPUT_FORMATS)
def test_empty_input_gives_a_valid_empty_file(fmt: AudioFormat) -> None:
    data = codec.encode(b"", fmt)
    if fmt in ("aac", "pcm16"):  # neither has a file header
        assert data == b""
    else:
        assert codec.sniff(data) == fmt
    decoded = codec.decode(data, fmt)
    assert decoded.pcm16 == b""
    assert decoded.duration_s == 0.0
    assert codec.duration_s(data, fmt) == 0.0


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_encode_at_other_rates(fmt: AudioFormat, rate: int) -> None:
    data = codec.encode(to_pcm16(tone(440.0, 1.0, rate)), fmt, sample_rate=rate)
    decoded = codec.decode(data, fmt, sample_rate=rate)
    if fmt == "opus":
        assert decoded.source_rate == 48000  # Opus always decodes at 48 kHz
    else:
        assert decoded.source_rate == rate  # every rate here is one LAME and AAC take
    assert abs(decoded.duration_s - 1.0) <= FRAME_SLACK_S[fmt] * 2 + 1e-9
    assert abs(dominant_hz(decoded.pcm16, rate) - 440.0) < 3.0


def opus_input_rate(data: bytes) -> int:
    """The encoder's input rate as the OpusHead packet records it."""
    head = data.index(b"OpusHead")
    return int.from_bytes(data[head + 12 : head + 16], "little")


@pytest.mark.parametrize(("rate", "opus_rate"), [(22050, 24000), (44100, 48000), (32000, 48000)])
def test_opus_at_a_rate_it_cannot_take_uses_the_next_rate_up(rate: int, opus_rate: int) -> None:
    data = codec.encode(to_pcm16(tone(1000.0, 1.0, rate)), "opus", sample_rate=rate)
    assert opus_input_rate(data) == opus_rate
    decoded = codec.decode(data, "opus")
    assert abs(decoded.duration_s - 1.0) <= 0.04
    assert abs(dominant_hz(decoded.pcm16) - 1000.0) < 3.0


def test_opus_keeps_24k_when_asked_for_it() -> None:
    data = codec.encode(to_pcm16(tone()), "opus")
    assert opus_input_rate(data) == 24000


def test_encode_rejects_odd_bytes_and_unknown_formats() -> None:
    with pytest.raises(CodecError, match="even number of bytes"):
        codec.encode(b"\x00\x01\x02", "mp3")
    with pytest.raises(ValueError, match="unknown audio format"):
        codec.encode(b"", "ogg")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# decode


def test_decode_sniffs_when_no_format_is_given() -> None:
    source = to_pcm16(tone(440.0, 1.0))
    for fmt in SNIFFABLE:
        decoded = codec.decode(codec.encode(source, fmt))
        assert decoded.source_format == fmt
        assert abs(dominant_hz(decoded.pcm16) - 440.0) < 2.0


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_decode_resamples(rate: int) -> None:
    decoded = codec.decode(stdlib_wav(tone(440.0, 1.0)), sample_rate=rate)
    assert decoded.sample_rate == rate
    assert len(decoded.pcm16) // 2 == pytest.approx(rate, abs=2)
    assert abs(dominant_hz(decoded.pcm16, rate) - 440.0) < 2.0
    assert codec.decode(to_pcm16(tone(440.0, 1.0)), "pcm16", sample_rate=rate).duration_s == (
        pytest.approx(1.0, abs=1e-3)
    )


def test_decode_averages_channels() -> None:
    left, right = tone(440.0, 1.0, amp=0.8), np.zeros(RATE)
    decoded = codec.decode(stdlib_wav(np.stack([left, right], axis=1), channels=2))
    assert decoded.source_channels == 2
    assert rms(decoded.pcm16) == pytest.approx(rms(to_pcm16(left)) / 2, rel=0.01)
    same = codec.decode(stdlib_wav(np.stack([left, left], axis=1), channels=2))
    assert rms(same.pcm16) == pytest.approx(rms(to_pcm16(left)), rel=0.01)


@pytest.mark.parametrize(
    ("encoding", "bits", "extensible", "sample_format"),
    [
        ("pcm", 8, False, "u8"),
        ("pcm", 16, False, "s16"),
        ("pcm", 24, False, "s24"),
        ("pcm", 32, False, "s32"),
        ("float", 32, False, "flt"),
        ("float", 64, False, "dbl"),
        ("alaw", 8, False, "alaw"),
        ("mulaw", 8, False, "mulaw"),
        ("pcm", 16, True, "s16"),
        ("pcm", 24, True, "s24"),
        ("float", 32, True, "flt"),
    ],
)
def test_decode_hand_built_wavs(
    encoding: WavEncoding, bits: int, extensible: bool, sample_format: str
) -> None:
    x = tone(440.0, 1.0, 16000)
    data = wav_bytes(x, 16000, encoding=encoding, bits=bits, extensible=extensible)
    header = codec.parse_wav_header(data)
    assert (header.format_tag, header.extensible, header.bits_per_sample) == (
        {"pcm": 1, "float": 3, "alaw": 6, "mulaw": 7}[encoding],
        extensible,
        bits,
    )
    assert codec.duration_s(data, "wav") == 1.0  # header math
    decoded = codec.decode(data)
    assert decoded.source_sample_format == sample_format
    assert (decoded.source_rate, decoded.source_channels) == (16000, 1)
    assert decoded.duration_s == pytest.approx(1.0, abs=1e-3)
    assert abs(dominant_hz(decoded.pcm16) - 440.0) < 2.0
    tolerance = 0.05 if bits == 8 else 0.01  # 8-bit and G.711 quantise coarsely
    assert rms(decoded.pcm16) == pytest.approx(rms(to_pcm16(x)), rel=tolerance)


def test_decode_refuses_what_is_not_audio() -> None:
    for data, fmt, reason in [
        (b"", None, "no data"),
        (b"hello world\n" * 100, None, "not WAV, MP3, FLAC, Ogg Opus or ADTS AAC"),
        (b"\x00\x01\x02", "pcm16", "even number of bytes"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "wav", "not valid wav data"),
        (codec.encode(to_pcm16(tone()), "mp3"), "wav", "not valid wav data"),
        (bytes(range(256)) * 40, "flac", "no flac audio found"),
        (bytes(range(256)) * 40, "aac", "aac"),
    ]:
        with pytest.raises(CodecError, match=reason):
            codec.decode(data, fmt)  # type: ignore[arg-type]
    assert issubclass(CodecError, ValueError)


def test_decode_refuses_an_id3_tag_over_garbage() -> None:
    mp3 = codec.encode(to_pcm16(tone()), "mp3")
    tag = mp3[: len(mp3) - len(strip_id3(mp3))]
    garbage = tag + b"this is not an mpeg frame " * 200
    assert codec.sniff(garbage) == "mp3"  # the tag says MP3 ...
    with pytest.raises(CodecError, match="not valid mp3 data"):  # ... the frames do not
        codec.decode(garbage)
    with pytest.raises(CodecError, match="not valid mp3 data"):
        codec.duration_s(garbage, "mp3")


def test_decode_keeps_what_a_truncated_file_holds() -> None:
    mp3 = codec.encode(to_pcm16(tone(440.0, 2.0)), "mp3")
    half = codec.decode(mp3[: len(mp3) // 2])
    assert 0.8 < half.duration_s < 1.2
    wav = stdlib_wav(tone(440.0, 2.0))
    assert codec.decode(wav[: 44 + RATE * 2]).duration_s == pytest.approx(1.0)


def test_duration_s() -> None:
    assert codec.duration_s(bytes(48000), "pcm16") == 1.0
    assert codec.duration_s(bytes(48000), "pcm16", sample_rate=16000) == 1.5
    wav = wav_bytes(tone(440.0, 0.5, 8000), 8000, encoding="pcm", bits=24)
    assert codec.duration_s(wav, "wav") == 0.5
    truncated = stdlib_wav(tone(440.0, 1.0))[: 44 + 24000]
    assert codec.duration_s(truncated, "wav") == 0.5  # what is there, not what was declared


# --------------------------------------------------------------------------------------------
# WAV headers


def test_parse_wav_header_walks_chunks() -> None:
    odd_chunk = b"xtra" + struct.pack("<I", 3) + b"abc\x00"  # odd size, padded to even
    data = wav_bytes(tone(), chunks_before_data=odd_chunk)
    header = codec.parse_wav_header(data)
    assert header.is_api_pcm16
    assert not header.truncated
    assert header.data_offset == len(data) - RATE * 2
    assert header.data_size == header.data_available == RATE * 2
    assert codec.decode(data).pcm16 == to_pcm16(tone())


def test_parse_wav_header_flags() -> None:
    assert not codec.parse_wav_header(wav_bytes(tone(), extensible=True)).is_api_pcm16
    assert not codec.parse_wav_header(wav_bytes(tone(), RATE, bits=24)).is_api_pcm16
    assert not codec.parse_wav_header(wav_bytes(tone(), 16000)).is_api_pcm16
    short = codec.parse_wav_header(wav_bytes(tone(), declared_data_size=10**6))
    assert short.truncated
    assert short.data_available == RATE * 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"RIFF\x00\x00\x00\x00WAVX", "not a RIFF/WAVE file"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
        (b"RIFF\x0c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "truncated fmt chunk"),
        (b"RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00", "data chunk before the fmt chunk"),
        (wav_bytes(tone())[:36], "no data chunk"),
        (
            b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"
            + struct.pack("<HHIIHH", 1, 0, RATE, 0, 0, 16)
            + b"data\x00\x00\x00\x00",
            "0 channels",
        ),
    ],
)
def test_parse_wav_header_errors(data: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        codec.parse_wav_header(data)


# --------------------------------------------------------------------------------------------
# sniff


@pytest.mark.parametrize("fmt", SNIFFABLE)
def test_sniff_identifies_each_format_and_its_first_kilobytes(fmt: AudioFormat) -> None:
    data = codec.encode(to_pcm16(tone(440.0, 2.0)), fmt)
    assert codec.sniff(data) == fmt
    assert codec.sniff(data[:4096]) == fmt


def test_sniff_mp3_without_a_tag_needs_two_frames() -> None:
    frames = strip_id3(codec.encode(to_pcm16(tone(440.0, 2.0)), "mp3"))
    assert frames[:2] == b"\xff\xf3"  # MPEG-2 layer III: 24 kHz
    assert codec.sniff(frames) == "mp3"
    first = sniff.mp3_frame(frames, 0)
    assert first is not None
    assert codec.sniff(frames[: first.length]) == "mp3"  # one whole frame, nothing else
    assert codec.sniff(frames[: first.length] + b"\x00" * 600) is None  # no second frame


def test_sniff_looks_past_an_id3_tag() -> None:
    mp3 = codec.encode(to_pcm16(tone()), "mp3")
    tag = mp3[: len(mp3) - len(strip_id3(mp3))]
    assert codec.sniff(tag + codec.encode(to_pcm16(tone()), "flac")) == "flac"
    assert codec.sniff(tag + codec.encode(to_pcm16(tone()), "aac")) == "aac"
    assert codec.sniff(tag + bytes(64) + strip_id3(mp3)) == "mp3"  # zero padding after the tag


def test_sniff_is_not_fooled_by_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    path.write_bytes(codec.encode(to_pcm16(tone()), "mp3"))
    assert codec.format_for_path(path) == "wav"
    assert codec.sniff(path.read_bytes()) == "mp3"


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"ID3",
        b"hello world, this is plain text\n" * 50,
        b'{"audio": "not really"}',
        PNG + bytes(200),
        b"OggS" + bytes(23) + b"\x01\x1e\x01vorbis" + bytes(30),  # Ogg, but Vorbis
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"\xff" * 1000,  # sync bits everywhere, but layer I
        bytes(1000),
    ],
)
def test_sniff_returns_none_for_other_data(data: bytes) -> None:
    assert codec.sniff(data) is None


def test_sniff_random_bytes_are_not_audio() -> None:
    rng = np.random.default_rng(20240601)
    found = {}
    for i in range(20_000):
        data = rng.integers(0, 256, int(rng.integers(1, 2048)), dtype=np.uint8).tobytes()
        kind = codec.sniff(data)
        if kind is not None:
            found[i] = kind
    assert found == {}


def test_sniff_random_bytes_behind_a_frame_header_are_rarely_mp3() -> None:
    # Every buffer starts with a valid 24 kHz 64 kb/s MP3 header; only a second valid header at
    # exactly the right offset passes (chance ~1 in 30000).
    rng = np.random.default_rng(7)
    header = bytes.fromhex("fff384c4")
    hits = 0
    for _ in range(5_000):
        data = header + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
        hits += codec.sniff(data) == "mp3"
    assert hits <= 2


# --------------------------------------------------------------------------------------------
# laziness and cross-checks


def test_importing_the_modules_loads_neither_av_nor_numpy() -> None:
    code = (
        "import sys, realtime_console.audio.codec, realtime_console.audio.input_file\n"
        "print(sorted(m for m in ('av', 'numpy', 'soxr') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")


@needs_sox
@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_sox_reads_what_encode_writes(tmp_path: Path, fmt: AudioFormat) -> None:
    path = tmp_path / f"tone.{fmt}"
    path.write_bytes(codec.encode(to_pcm16(tone(440.0, 1.5)), fmt))
    # One flag per call: sox --i prints the fields of several flags in its own order.
    rate = subprocess.run(["sox", "--i", "-r", str(path)], capture_output=True, text=True)
    seconds = subprocess.run(["sox", "--i", "-D", str(path)], capture_output=True, text=True)
    assert rate.stdout.strip() == "24000"
    assert float(seconds.stdout) == pytest.approx(1.5)


@needs_sox
@pytest.mark.parametrize(
    ("args", "rate", "channels", "sample_format"),
    [
        (["-r", "44100", "-c", "2", "-b", "32", "-e", "floating-point"], 44100, 2, "flt"),
        (["-r", "48000", "-b", "24"], 48000, 1, "s24"),
        (["-r", "8000", "-e", "a-law"], 8000, 1, "alaw"),
        (["-r", "8000", "-e", "u-law"], 8000, 1, "mulaw"),
        (["-r", "16000", "-b", "8", "-e", "unsigned"], 16000, 1, "u8"),
    ],
)
def test_decode_wavs_written_by_sox(
    tmp_path: Path, args: list[str], rate: int, channels: int, sample_format: str
) -> None:
    path = tmp_path / "sox.wav"
    subprocess.run(["sox", "-n", *args, str(path), "synth", "1", "sine", "440"], check=True)
    decoded = codec.decode(path.read_bytes())
    assert (decoded.source_rate, decoded.source_channels) == (rate, channels)
    assert decoded.source_sample_format == sample_format
    assert decoded.duration_s == pytest.approx(1.0, abs=1e-3)
    assert abs(dominant_hz(decoded.pcm16) - 440.0) < 2.0
    assert codec.duration_s(path.read_bytes(), "wav") == pytest.approx(1.0)


@needs_sox
def test_decode_flac_written_by_sox(tmp_path: Path) -> None:
    path = tmp_path / "sox.flac"
    subprocess.run(["sox", "-n", "-r", "16000", str(path), "synth", "1", "sine", "440"], check=True)
    assert codec.sniff(path.read_bytes()) == "flac"
    decoded = codec.decode(path.read_bytes())
    assert decoded.source_rate == 16000
    assert decoded.duration_s == pytest.approx(1.0, abs=1e-3)
    assert abs(dominant_hz(decoded.pcm16) - 440.0) < 2.0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_decode_speech_from_espeak(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "hello from the codec test"], check=True)
    data = path.read_bytes()
    decoded = codec.decode(data)
    assert decoded.source_rate == 22050
    assert decoded.duration_s == pytest.approx(codec.duration_s(data, "wav"), abs=1e-3)
    for fmt in LOSSY:  # speech survives each lossy codec at its bit rate
        again = codec.decode(codec.encode(decoded.pcm16, fmt), fmt)
        assert best_correlation(samples_of(decoded.pcm16), again.pcm16) > 0.8
