"""WAV headers read by hand: ``wave`` refuses float, A-law and (before Python 3.12) EXTENSIBLE
files, and the input-file checks must say what a file holds before deciding to convert it."""

from __future__ import annotations

from dataclasses import dataclass

from realtime_console.audio.errors import CodecError
from realtime_console.protocol import pcm

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
