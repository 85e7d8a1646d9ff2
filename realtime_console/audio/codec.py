"""Audio files in and out: encode mono PCM16 to every reply format, decode and sniff files.

The ``audio`` command saves replies as wav, mp3, flac, opus (Ogg) or aac (ADTS), and the local
server answers in the same formats; both read WAV/MP3 input. All of that goes through PyAV
(``av``): one maintained library whose wheels for Linux, macOS and Windows bundle FFmpeg with
LAME, Opus and FFmpeg's native AAC encoder, so nothing has to be installed beside pip.
soundfile (libsndfile) has no AAC, and lameenc does MP3 only; either would need more libraries
beside it for the rest. WAV is written with the stdlib ``wave`` module, the one format that
needs no codec at all.

``av`` and ``numpy`` are imported inside the functions that use them: ``--help`` and the
realtime commands never pay for loading FFmpeg.

``pcm16`` is the API's raw audio: 24 kHz mono signed 16-bit little-endian with no header, so it
cannot be sniffed and is decoded only when asked for by name.
"""

from __future__ import annotations

import io
import os
import wave
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, get_args

from realtime_console.audio.errors import CodecError
from realtime_console.audio.formats import AudioFormat  # one list: completions.format too
from realtime_console.audio.sniff import SniffedFormat as SniffedFormat
from realtime_console.audio.sniff import id3v2_end, mp3_frame
from realtime_console.audio.sniff import sniff as sniff
from realtime_console.audio.wav_header import (
    WAVE_FORMAT_ALAW as WAVE_FORMAT_ALAW,
)
from realtime_console.audio.wav_header import (
    WAVE_FORMAT_EXTENSIBLE as WAVE_FORMAT_EXTENSIBLE,
)
from realtime_console.audio.wav_header import (
    WAVE_FORMAT_IEEE_FLOAT as WAVE_FORMAT_IEEE_FLOAT,
)
from realtime_console.audio.wav_header import (
    WAVE_FORMAT_MULAW as WAVE_FORMAT_MULAW,
)
from realtime_console.audio.wav_header import (
    WAVE_FORMAT_PCM as WAVE_FORMAT_PCM,
)
from realtime_console.audio.wav_header import WavHeader as WavHeader
from realtime_console.audio.wav_header import parse_wav_header as parse_wav_header
from realtime_console.protocol import pcm

if TYPE_CHECKING:
    import av
    import av.container
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "EXTENSIONS",
    "OUTPUT_FORMATS",
    "AudioFormat",
    "CodecError",
    "DecodedAudio",
    "WavHeader",
    "decode",
    "duration_s",
    "encode",
    "format_for_path",
    "parse_wav_header",
    "sniff",
]


OUTPUT_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)

EXTENSIONS: Mapping[str, AudioFormat] = MappingProxyType(
    {
        ".wav": "wav",
        ".mp3": "mp3",
        ".flac": "flac",
        ".opus": "opus",
        ".ogg": "opus",  # the only Ogg codec written here
        ".aac": "aac",
        ".pcm": "pcm16",
        ".raw": "pcm16",
    }
)


# PyAV encoder name, FFmpeg muxer, bit rate (None: lossless). The bit rates suit mono speech:
# LAME at 64 kb/s and AAC at 64 kb/s are transparent enough for a voice, Opus needs half that.
_ENCODERS: Mapping[str, tuple[str, str, int | None]] = {
    "mp3": ("libmp3lame", "mp3", 64_000),
    "flac": ("flac", "flac", None),
    "opus": ("libopus", "ogg", 32_000),
    "aac": ("aac", "adts", 64_000),
}

# FFmpeg demuxer per format: naming it skips probing, which is unreliable for headerless MP3/ADTS.
_DEMUXERS: Mapping[str, str] = {
    "wav": "wav",
    "mp3": "mp3",
    "flac": "flac",
    "opus": "ogg",
    "aac": "aac",
}

# How a PCM WAV codec's samples are stored; FFmpeg widens s24 to s32 when decoding, which would
# misreport the file, so the codec name is the truth for these.
_PCM_SAMPLE_FORMATS: Mapping[str, str] = {
    "pcm_u8": "u8",
    "pcm_s16le": "s16",
    "pcm_s24le": "s24",
    "pcm_s32le": "s32",
    "pcm_f32le": "flt",
    "pcm_f64le": "dbl",
    "pcm_alaw": "alaw",
    "pcm_mulaw": "mulaw",
}


def format_for_path(path: str | os.PathLike[str]) -> AudioFormat | None:
    """The format a file name's extension names (case-insensitive), or None."""
    return EXTENSIONS.get(os.path.splitext(os.fspath(path))[1].lower())


# ---------------------------------------------------------------------------------------------
# encode


def encode(pcm16: bytes, fmt: AudioFormat, *, sample_rate: int = pcm.SAMPLE_RATE) -> bytes:
    """Mono little-endian PCM16 at ``sample_rate`` → the bytes of a complete ``fmt`` file.

    Empty input gives a valid file with no audio (an ADTS stream has no header, so that one is
    empty bytes). A codec that cannot run at ``sample_rate`` gets the next supported rate up:
    Opus takes 8/12/16/24/48 kHz, so 24 kHz stays 24 kHz but 44.1 kHz becomes 48 kHz.
    """
    if len(pcm16) % pcm.SAMPLE_WIDTH:
        raise CodecError(f"PCM16 audio must have an even number of bytes, got {len(pcm16)}")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if fmt == "pcm16":
        return pcm16
    if fmt == "wav":
        return _encode_wav(pcm16, sample_rate)
    if fmt not in _ENCODERS:
        raise ValueError(f"unknown audio format {fmt!r}; expected one of {OUTPUT_FORMATS}")
    return _encode_av(pcm16, fmt, sample_rate)


def _encode_wav(pcm16: bytes, sample_rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(pcm.SAMPLE_WIDTH)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm16)
    return buf.getvalue()


def _encode_av(pcm16: bytes, fmt: str, sample_rate: int) -> bytes:
    import av
    import numpy as np

    codec_name, muxer, bit_rate = _ENCODERS[fmt]
    rates = av.Codec(codec_name, "w").audio_rates
    rate = sample_rate
    if rates and rate not in rates:
        rate = min((r for r in rates if r >= sample_rate), default=max(rates))

    buf = io.BytesIO()
    with av.open(buf, "w", format=muxer) as container:
        stream = container.add_stream(codec_name, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)  # an audio codec name makes an audio stream
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        ctx = stream.codec_context
        ctx.open()  # fixes frame_size, which most encoders need every frame (but the last) to have
        # The resampler converts to the encoder's sample format and rate and cuts frame_size
        # blocks; one call takes the whole input.
        resampler = av.AudioResampler(
            format=ctx.format.name, layout="mono", rate=rate, frame_size=ctx.frame_size or None
        )
        # Headers go out even when no packet ever does, so empty audio is still a valid file.
        container.start_encoding()
        frames = []
        if pcm16:
            samples = np.frombuffer(pcm16, dtype="<i2").reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            frame.rate = sample_rate
            frame.pts = 0
            frames = resampler.resample(frame)
        for out in [*frames, *resampler.resample(None)]:
            container.mux(stream.encode(out))
        container.mux(stream.encode(None))
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# decode


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded audio as mono PCM16 at ``sample_rate``, with what the source was."""

    pcm16: bytes
    sample_rate: int
    source_format: str  # an AudioFormat name: "wav", "mp3", ...
    source_rate: int  # 0 when unknown (an empty ADTS stream says nothing)
    source_channels: int
    source_sample_format: str  # "s16", "s24", "flt", "u8", "alaw", "fltp" (decoder's), ...

    @property
    def duration_s(self) -> float:
        return len(self.pcm16) // pcm.SAMPLE_WIDTH / self.sample_rate


def decode(
    data: bytes, fmt: AudioFormat | None = None, *, sample_rate: int = pcm.SAMPLE_RATE
) -> DecodedAudio:
    """Any supported format → mono PCM16 at ``sample_rate``; CodecError for undecodable data.

    ``fmt`` None sniffs the content; ``"pcm16"`` (headerless, taken to be the API's 24 kHz)
    must be named. Channels are averaged, which works for any channel count with or without a
    layout FFmpeg knows, and the rate is converted with soxr's high-quality filter: unlike live
    audio, a file gains nothing from the low-latency setting.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if fmt == "pcm16":
        if len(data) % pcm.SAMPLE_WIDTH:
            raise CodecError(f"PCM16 audio must have an even number of bytes, got {len(data)}")
        out = data if sample_rate == pcm.SAMPLE_RATE else _resample_all(data, sample_rate)
        return DecodedAudio(out, sample_rate, "pcm16", pcm.SAMPLE_RATE, 1, "s16")
    with _Decoder(data, fmt) as dec:
        chunks = list(dec.mono_pcm16(sample_rate))
        return DecodedAudio(
            b"".join(chunks),
            sample_rate,
            dec.fmt,
            dec.source_rate,
            dec.source_channels,
            dec.source_sample_format,
        )


def duration_s(data: bytes, fmt: AudioFormat, *, sample_rate: int = pcm.SAMPLE_RATE) -> float:
    """Seconds of audio in ``data``: header math for WAV and PCM16, a decode for the rest.

    ``sample_rate`` is the rate of headerless ``pcm16`` data; other formats carry their own.
    """
    if fmt == "pcm16":
        return len(data) // pcm.SAMPLE_WIDTH / sample_rate
    if fmt == "wav":
        header = parse_wav_header(data)
        if header.fixed_size_samples:
            return header.duration_s
    with _Decoder(data, fmt) as dec:
        return dec.seconds()


def _resample_all(pcm16: bytes, out_rate: int, in_rate: int = pcm.SAMPLE_RATE) -> bytes:
    from realtime_console.audio.resample import StreamResampler

    resampler = StreamResampler(in_rate, out_rate, quality="HQ")
    return resampler.process(pcm16) + resampler.flush()


class _Decoder:
    """One opened input container: its first audio stream, decoded frame by frame."""

    def __init__(self, data: bytes, fmt: AudioFormat | None) -> None:
        import av

        if not data and fmt != "aac":
            raise CodecError("no data")
        sniffed = sniff(data)
        if fmt is None:
            if sniffed is None:
                raise CodecError("not WAV, MP3, FLAC, Ogg Opus or ADTS AAC audio")
            fmt = sniffed
        if fmt not in _DEMUXERS:
            raise ValueError(f"unknown audio format {fmt!r}; expected one of {OUTPUT_FORMATS}")
        self.fmt: str = fmt
        self._looks_right = sniffed == fmt
        self.source_rate = 0
        self.source_channels = 0
        self.source_sample_format = ""
        self._container: av.container.InputContainer | None = None
        if not data:  # an ADTS stream with no frames: valid, and silent
            return
        try:
            self._container = av.open(io.BytesIO(data), "r", format=_DEMUXERS[fmt])
        except av.FFmpegError as exc:
            # FFmpeg cannot open a file that has headers but no audio frame (what encode()
            # writes for empty input); those are empty audio, not errors.
            empty = _header_only(data, fmt) if sniffed == fmt else None
            if empty is None:
                raise CodecError(_ffmpeg_reason(exc, fmt)) from None
            self.source_rate, self.source_channels, self.source_sample_format = empty
            return
        if not self._container.streams.audio:
            self.close()
            raise CodecError(f"no audio stream in this {fmt} data")
        ctx = self._container.streams.audio[0].codec_context
        if ctx is None:  # FFmpeg demuxed it but has no decoder, e.g. an unknown WAV format tag
            self.close()
            raise CodecError(f"no decoder for the codec in this {fmt} data")
        self.source_rate = ctx.sample_rate
        self.source_channels = ctx.channels
        self.source_sample_format = _PCM_SAMPLE_FORMATS.get(
            ctx.name, ctx.format.name if ctx.format else ""
        )

    def __enter__(self) -> _Decoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def _frames(self) -> Iterator[av.AudioFrame]:
        import av

        if self._container is None:
            return
        stream = self._container.streams.audio[0]
        decoded = bad = 0
        try:
            for packet in self._container.demux(stream):
                try:
                    frames = packet.decode()
                except av.InvalidDataError:
                    bad += 1  # a damaged frame: skip it, as players do
                    continue
                for frame in frames:
                    if isinstance(frame, av.AudioFrame) and frame.samples:
                        decoded += 1
                        yield frame
        except av.FFmpegError as exc:
            raise CodecError(_ffmpeg_reason(exc, self.fmt)) from None
        if bad and not decoded:
            raise CodecError(f"no decodable {self.fmt} frame ({bad} damaged)")
        if not decoded and not self._looks_right:
            # A demuxer that was told the format opens nearly anything; a file that has no
            # audio must at least have the format's header to count as empty rather than bad.
            raise CodecError(f"no {self.fmt} audio found")

    def seconds(self) -> float:
        """The decoded duration; frame by frame, in case the rate changes midway."""
        return sum(frame.samples / frame.rate for frame in self._frames())

    def mono_pcm16(self, out_rate: int) -> Iterator[bytes]:
        from realtime_console.audio.resample import StreamResampler

        resampler: StreamResampler | None = None
        rate = 0
        for frame in self._frames():
            if frame.rate != rate:  # the first frame, or a stream that changes rate midway
                if resampler is not None:
                    yield resampler.flush()
                rate = frame.rate
                resampler = None
                if rate != out_rate:
                    resampler = StreamResampler(rate, out_rate, quality="HQ")
            block = pcm.float32_to_pcm16(_mono_float(frame))
            yield block if resampler is None else resampler.process(block)
        if resampler is not None:
            yield resampler.flush()


def _mono_float(frame: av.AudioFrame) -> npt.NDArray[np.float32]:
    """One frame's samples as float32 in [-1, 1), channels averaged."""
    import numpy as np

    array = frame.to_ndarray()
    channels = len(frame.layout.channels) or 1
    if not frame.format.is_planar:  # packed: one row of interleaved samples
        array = array.reshape(-1, channels).T
    if array.dtype == np.uint8:
        samples = (array.astype(np.float32) - 128.0) / 128.0
    elif array.dtype.kind == "i":
        samples = array.astype(np.float32) / float(2 ** (8 * array.dtype.itemsize - 1))
    else:
        samples = array.astype(np.float32)
    mono: npt.NDArray[np.float32] = samples.mean(axis=0, dtype=np.float32)
    return mono


def _ffmpeg_reason(exc: Exception, fmt: str) -> str:
    """FFmpeg's failure to open or read ``fmt`` data as a short reason."""
    import av

    if isinstance(exc, av.InvalidDataError):
        return f"not valid {fmt} data"
    if isinstance(exc, av.EOFError):
        return f"{fmt} data ends before its first audio frame"
    return f"{fmt} data cannot be read ({getattr(exc, 'strerror', None) or exc})"


def _header_only(data: bytes, fmt: str) -> tuple[int, int, str] | None:
    """(rate, channels, decoder sample format) of a file with headers but no audio frames."""
    if fmt == "mp3":
        # An ID3 tag and at most one frame, which is LAME's "Info"/"Xing" header frame.
        start = id3v2_end(data) or 0
        if start == len(data):
            return (0, 0, "")
        frame = mp3_frame(data, start)
        if frame is None or start + frame.length < len(data):
            return None
        info = data[start : start + frame.length]
        if b"Info" not in info and b"Xing" not in info:
            return None
        return (frame.sample_rate, frame.channels, "fltp")
    if fmt == "opus":
        # Ogg pages whose granule positions are all 0: only the OpusHead and OpusTags packets.
        pos = 0
        while pos < len(data):
            if data[pos : pos + 4] != b"OggS" or pos + 27 > len(data):
                return None
            if int.from_bytes(data[pos + 6 : pos + 14], "little") != 0:
                return None
            segments = data[pos + 26]
            pos += 27 + segments + sum(data[pos + 27 : pos + 27 + segments])
        head = 27 + data[26]
        return (48_000, data[head + 9], "fltp")  # Opus always decodes at 48 kHz
    return None
