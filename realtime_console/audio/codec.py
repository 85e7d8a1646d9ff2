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
from typing import TYPE_CHECKING, Literal, get_args

from realtime_console.audio.formats import AudioFormat  # one list: completions.format too
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

SniffedFormat = Literal["wav", "mp3", "flac", "opus", "aac"]

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


class CodecError(ValueError):
    """Data that cannot be decoded as the audio format asked for (or any known one)."""


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
# WAV headers (read by hand: ``wave`` refuses float, A-law and, before 3.12, EXTENSIBLE files)

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_ALAW = 0x0006
WAVE_FORMAT_MULAW = 0x0007
WAVE_FORMAT_EXTENSIBLE = 0xFFFE

# Format tags whose data is plain fixed-size samples, so duration is bytes / block_align / rate.
_FIXED_SIZE_TAGS = frozenset(
    {WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW}
)


@dataclass(frozen=True)
class WavHeader:
    """A RIFF/WAVE file's ``fmt `` chunk and where its ``data`` chunk is."""

    format_tag: int  # for WAVE_FORMAT_EXTENSIBLE files, the sub-format's tag
    extensible: bool
    channels: int
    sample_rate: int
    bits_per_sample: int
    block_align: int
    data_offset: int
    data_size: int  # as the header declares it
    data_available: int  # what the file actually holds after data_offset (up to data_size)

    @property
    def truncated(self) -> bool:
        return self.data_available < self.data_size

    @property
    def is_api_pcm16(self) -> bool:
        """Plain 16-bit PCM, mono, 24 kHz, in the basic (non-extensible) layout."""
        return (
            self.format_tag == WAVE_FORMAT_PCM
            and not self.extensible
            and self.channels == pcm.CHANNELS
            and self.sample_rate == pcm.SAMPLE_RATE
            and self.bits_per_sample == 16
            and self.block_align == pcm.SAMPLE_WIDTH
        )

    @property
    def fixed_size_samples(self) -> bool:
        """Uncompressed samples whose size agrees with the block alignment: header math works."""
        width = (self.bits_per_sample + 7) // 8
        return self.format_tag in _FIXED_SIZE_TAGS and self.block_align == self.channels * width

    @property
    def duration_s(self) -> float:
        """Header math; meaningful only when ``fixed_size_samples``."""
        return self.data_available // self.block_align / self.sample_rate


def parse_wav_header(data: bytes) -> WavHeader:
    """Walk a RIFF/WAVE file's chunks up to ``data``; CodecError names what is missing."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise CodecError("not a RIFF/WAVE file")
    fmt_chunk: bytes | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt_chunk = data[body : body + size]
            if len(fmt_chunk) < 16 or size < 16:
                raise CodecError("truncated fmt chunk")
        elif chunk_id == b"data":
            if fmt_chunk is None:
                raise CodecError("data chunk before the fmt chunk")
            available = min(size, len(data) - body)
            return _wav_header(fmt_chunk, body, size, available)
        pos = body + size + (size & 1)  # chunks are padded to an even length
    raise CodecError("no fmt chunk" if fmt_chunk is None else "no data chunk")


def _wav_header(fmt_chunk: bytes, data_offset: int, data_size: int, available: int) -> WavHeader:
    def u16(i: int) -> int:
        return int.from_bytes(fmt_chunk[i : i + 2], "little")

    tag, channels, bits, block_align = u16(0), u16(2), u16(14), u16(12)
    rate = int.from_bytes(fmt_chunk[4:8], "little")
    extensible = tag == WAVE_FORMAT_EXTENSIBLE
    if extensible:
        if len(fmt_chunk) < 40:
            raise CodecError("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk")
        tag = u16(24)  # the sub-format GUID starts with the classic format tag
    if channels == 0 or rate == 0 or block_align == 0:
        raise CodecError(f"fmt chunk has {channels} channels, {rate} Hz, block align {block_align}")
    return WavHeader(
        tag, extensible, channels, rate, bits, block_align, data_offset, data_size, available
    )


# ---------------------------------------------------------------------------------------------
# sniff

# MPEG audio layer III: kb/s per bitrate index (0 = free format, 15 = invalid, both refused).
_MP3_KBPS_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates per version field (0 = MPEG 2.5, 1 = reserved, 2 = MPEG 2, 3 = MPEG 1).
_MP3_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


@dataclass(frozen=True)
class _Mp3Frame:
    length: int
    version: int
    sample_rate: int
    channels: int


def _mp3_frame(data: bytes, pos: int) -> _Mp3Frame | None:
    """The MPEG layer III frame header at ``pos``, if one parses there."""
    if pos + 4 > len(data):
        return None
    h = int.from_bytes(data[pos : pos + 4], "big")
    version, layer = (h >> 19) & 3, (h >> 17) & 3
    br_index, sr_index, padding = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
    if h >> 21 != 0x7FF or version == 1 or layer != 1:  # 11 sync bits; layer bits 01 = III
        return None
    if br_index in (0, 15) or sr_index == 3 or h & 3 == 2:  # free/bad rate, reserved emphasis
        return None
    rate = _MP3_RATES[version][sr_index]
    kbps = (_MP3_KBPS_V1 if version == 3 else _MP3_KBPS_V2)[br_index]
    length = (144 if version == 3 else 72) * kbps * 1000 // rate + padding
    channels = 1 if (h >> 6) & 3 == 3 else 2
    return _Mp3Frame(length, version, rate, channels)


def _adts_frame_length(data: bytes, pos: int) -> int | None:
    """The length of the ADTS frame at ``pos``, if its header parses: sync 0xFFF, layer 00."""
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
        return None
    if (data[pos + 2] >> 2) & 15 > 12:  # sampling-frequency index 13..15 is reserved
        return None
    length = ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    return length if length >= 7 else None


def _id3v2_end(data: bytes) -> int | None:
    """Where the audio starts after a leading ID3v2 tag, or None when there is no such tag."""
    if len(data) < 10 or data[:3] != b"ID3" or data[3] == 0xFF or data[4] == 0xFF:
        return None
    if any(b & 0x80 for b in data[6:10]):  # the size is "syncsafe": 7 bits per byte
        return None
    size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
    end = 10 + size + (10 if data[5] & 0x10 else 0)  # flag 0x10: a footer follows
    while end < len(data) and data[end] == 0:  # some taggers pad with zeros outside the tag
        end += 1
    return end


def sniff(data: bytes) -> SniffedFormat | None:
    """The format ``data`` holds, judged by content alone, or None.

    A frame-sync format (MP3 without an ID3 tag, ADTS) must show two consecutive valid headers
    (or one frame that is the whole buffer): a single 11/12-bit sync word is common in noise.
    Pass at least a few kilobytes from the start of the file.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS" and len(data) >= 27:
        payload = 27 + data[26]  # header, then one lacing byte per segment
        return "opus" if data[payload : payload + 8] == b"OpusHead" else None
    id3_end = _id3v2_end(data)
    if id3_end is not None:
        # An ID3v2 tag means MP3 nearly always; FLAC and ADTS files are sometimes tagged too.
        if data[id3_end : id3_end + 4] == b"fLaC":
            return "flac"
        if _adts_frame_length(data, id3_end) is not None:
            return "aac"
        return "mp3"
    # Without a tag: the first frame must be followed by a second of the same kind (or end
    # the data exactly).
    first = _mp3_frame(data, 0)
    if first is not None:
        second = _mp3_frame(data, first.length)
        if first.length == len(data) or (
            second is not None
            and (second.version, second.sample_rate) == (first.version, first.sample_rate)
        ):
            return "mp3"
        return None
    length = _adts_frame_length(data, 0)
    if length is not None:
        if length == len(data) or (
            _adts_frame_length(data, length) is not None
            and data[length + 2] >> 2 & 15 == data[2] >> 2 & 15  # same sampling rate
        ):
            return "aac"
    return None


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
        start = _id3v2_end(data) or 0
        if start == len(data):
            return (0, 0, "")
        frame = _mp3_frame(data, start)
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
