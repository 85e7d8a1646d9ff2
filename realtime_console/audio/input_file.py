"""Checks an audio file before it is sent as a chat completion's ``input_audio``.

The service takes only ``wav`` and ``mp3`` input, at most 20 MB, and answers a bad file with an
HTTP 400 after the upload. Everything it would refuse is caught here first, as one
``ConfigError`` line that starts with the path and says what to do. The format is judged by
content, never by the name: a ``.wav`` holding MP3 is sent as MP3.

A WAV in any other encoding than the API's own (16-bit PCM, mono, 24 kHz, basic header) is
converted to it rather than refused: FFmpeg reads 8/24/32-bit, float, A-law/μ-law, ADPCM,
EXTENSIBLE headers, any rate and channel count, and a 16-bit PCM WAV is what the service is sure
to accept. A WAV already in that encoding, and any MP3, are sent byte for byte.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from realtime_console.audio import codec
from realtime_console.errors import ConfigError
from realtime_console.protocol import pcm

MAX_INPUT_BYTES = 20 * 1024 * 1024
_MB = 1024 * 1024
_TARGET = "16-bit PCM mono 24 kHz"
_LIMIT = f"over the {MAX_INPUT_BYTES // _MB} MB limit for input audio"
# The fix halves of the messages that share one.
_GIVE = "give a WAV or MP3 file"
_NO_AUDIO = "give a WAV or MP3 file with sound in it"
_SMALLER = "shorten it or compress it to MP3"

# Names for sniff()'s results that cannot be sent, and for other audio containers users often
# have (matched by their magic bytes), so the error says what the file is.
_FORMAT_NAMES = {"flac": "FLAC", "opus": "Ogg Opus", "aac": "AAC (ADTS)"}
_OTHER_AUDIO: tuple[tuple[int, bytes, str], ...] = (
    (0, b"OggS", "Ogg (Vorbis or FLAC)"),
    (8, b"AIFF", "AIFF"),
    (8, b"AIFC", "AIFF-C"),
    (4, b"ftyp", "MP4/M4A"),
    (0, b"\x1aE\xdf\xa3", "WebM/Matroska"),
    (0, b"caff", "CAF"),
    (0, b"#!AMR", "AMR"),
    (8, b"AVI ", "AVI video"),
)
_WAV_ENCODINGS = {
    codec.WAVE_FORMAT_PCM: "PCM",
    codec.WAVE_FORMAT_IEEE_FLOAT: "float",
    codec.WAVE_FORMAT_ALAW: "A-law",
    codec.WAVE_FORMAT_MULAW: "μ-law",
    0x0002: "MS ADPCM",
    0x0011: "IMA ADPCM",
    0x0055: "MP3",
}


@dataclass(frozen=True)
class PreparedInput:
    """An input file ready to send: what to send, as which format, and what was done to it."""

    path: Path
    data: bytes
    format: Literal["wav", "mp3"]
    duration_s: float
    converted: str | None  # one line saying what was converted, or None when sent as is


def prepare_input_audio(path: str | os.PathLike[str], *, flag: str = "") -> PreparedInput:
    """Read, check and (for odd WAVs) convert ``path``; ConfigError says what is wrong."""
    where = f"{flag} {os.fspath(path)}" if flag else os.fspath(path)
    file = Path(path)
    data = _read(file, where)

    kind = codec.sniff(data)
    if kind == "mp3":
        return _prepare_mp3(file, data, where)
    if kind == "wav":
        return _prepare_wav(file, data, where)
    looks_like = _FORMAT_NAMES.get(kind or "") or _other_audio(data)
    if looks_like:
        raise _error(where, f"looks like {looks_like}, not WAV or MP3", "convert it to WAV or MP3")
    raise _error(where, "not an audio file (neither WAV nor MP3 by content)", _GIVE)


def _error(where: str, problem: str, fix: str) -> ConfigError:
    """The one line every failure prints: ``PATH: problem; fix``."""
    return ConfigError(f"{where}: {problem}; {fix}")


def _mb(size: int) -> str:
    # Rounded up, so 20 MB and one byte does not read "20.0 MB, over the 20 MB limit".
    return f"{math.ceil(size * 10 / _MB) / 10:.1f} MB"


def _read(file: Path, where: str) -> bytes:
    """The file's bytes, after the checks that need only stat (so a huge file is never read)."""
    try:
        info = file.stat()
    except FileNotFoundError:
        problem = "no such file (a symlink to nothing)" if file.is_symlink() else "no such file"
        raise _error(where, problem, "check the path") from None
    except NotADirectoryError:
        raise _error(
            where, "no such file (a parent is not a directory)", "check the path"
        ) from None
    except PermissionError:
        raise _error(where, "permission denied", "make it and its directories readable") from None
    except OSError as exc:
        raise _error(where, f"cannot read it ({exc.strerror})", "check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise _error(where, "is a directory", _GIVE)
    if not stat.S_ISREG(info.st_mode):  # reading a FIFO or a device could block or never end
        raise _error(where, "not a regular file (a pipe, socket or device)", _GIVE)
    if info.st_size == 0:
        raise _error(where, "is empty (0 bytes)", _NO_AUDIO)
    if info.st_size > MAX_INPUT_BYTES:
        raise _error(where, f"is {_mb(info.st_size)}, {_LIMIT}", _SMALLER)
    try:
        with file.open("rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)  # +1: a file that grew since stat still fails
    except PermissionError:
        raise _error(where, "permission denied", "make it readable (chmod +r)") from None
    except OSError as exc:
        raise _error(where, f"cannot read it ({exc.strerror})", "check the file") from None
    if len(data) > MAX_INPUT_BYTES:
        raise _error(where, f"is over {_mb(MAX_INPUT_BYTES)}, {_LIMIT}", _SMALLER)
    if not data:
        raise _error(where, "is empty (0 bytes)", _NO_AUDIO)
    return data


def _prepare_mp3(file: Path, data: bytes, where: str) -> PreparedInput:
    try:
        seconds = codec.duration_s(data, "mp3")  # a full decode: proves the frames are readable
    except codec.CodecError as exc:
        raise _error(
            where, f"cannot decode this MP3 ({exc})", "re-export it as MP3 or WAV"
        ) from None
    if seconds <= 0:
        raise _error(where, "holds no audio (an MP3 without frames)", _NO_AUDIO)
    return PreparedInput(file, data, "mp3", seconds, None)


def _prepare_wav(file: Path, data: bytes, where: str) -> PreparedInput:
    fix = "re-export it as 16-bit PCM WAV or MP3"
    try:
        header = codec.parse_wav_header(data)
    except codec.CodecError as exc:
        raise _error(where, f"cannot decode this WAV ({exc})", fix) from None
    if header.data_available == 0:
        raise _error(where, "holds no audio (a WAV with 0 samples)", _NO_AUDIO)
    whole = not header.truncated and header.data_size % header.block_align == 0
    if header.is_api_pcm16 and whole:
        return PreparedInput(file, data, "wav", header.duration_s, None)

    try:
        decoded = codec.decode(data, "wav", sample_rate=pcm.SAMPLE_RATE)
    except codec.CodecError as exc:
        raise _error(where, f"cannot decode this WAV ({exc})", fix) from None
    if not decoded.pcm16:
        raise _error(where, "holds no audio (a WAV with 0 samples)", _NO_AUDIO)
    out = codec.encode(decoded.pcm16, "wav", sample_rate=pcm.SAMPLE_RATE)
    if len(out) > MAX_INPUT_BYTES:
        problem = f"converted to {_TARGET} WAV it is {_mb(len(out))}, {_LIMIT}"
        raise _error(where, problem, _SMALLER)
    note = f"converted from {_describe(header)} WAV to {_TARGET}"
    if header.truncated:
        note += f" (its header declared {header.data_size} bytes of audio, it holds "
        note += f"{header.data_available})"
    elif not whole:
        note += " (its audio ended mid-sample)"
    return PreparedInput(file, out, "wav", decoded.duration_s, note)


def _describe(header: codec.WavHeader) -> str:
    """E.g. "32-bit float 44.1 kHz stereo", "16-bit PCM (WAVE_FORMAT_EXTENSIBLE) 24 kHz mono"."""
    encoding = _WAV_ENCODINGS.get(header.format_tag, f"format 0x{header.format_tag:04X}")
    if header.format_tag == codec.WAVE_FORMAT_PCM and header.bits_per_sample == 8:
        encoding = "unsigned PCM"  # 8-bit WAV is the one unsigned PCM width
    if header.extensible:
        encoding += " (WAVE_FORMAT_EXTENSIBLE)"
    bits = f"{header.bits_per_sample}-bit " if header.bits_per_sample else ""
    channels = {1: "mono", 2: "stereo"}.get(header.channels, f"{header.channels}-channel")
    return f"{bits}{encoding} {header.sample_rate / 1000:g} kHz {channels}"


def _other_audio(data: bytes) -> str | None:
    for offset, magic, name in _OTHER_AUDIO:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None
