"""What an audio file is, by its content only (a ``.wav`` name proves nothing): WAV, MP3 (an ID3
tag, or two consecutive MPEG layer III frames, so random bytes rarely pass), FLAC, Ogg Opus, ADTS
AAC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SniffedFormat = Literal["wav", "mp3", "flac", "opus", "aac"]

# MPEG audio layer III: kb/s per bitrate index (0 = free format, 15 = invalid, both refused).
_MP3_KBPS_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates per version field (0 = MPEG 2.5, 1 = reserved, 2 = MPEG 2, 3 = MPEG 1).
_MP3_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


@dataclass(frozen=True)
class Mp3Frame:
    length: int
    version: int
    sample_rate: int
    channels: int


def mp3_frame(data: bytes, pos: int) -> Mp3Frame | None:
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
    return Mp3Frame(length, version, rate, channels)


def _adts_frame_length(data: bytes, pos: int) -> int | None:
    """The length of the ADTS frame at ``pos``, if its header parses: sync 0xFFF, layer 00."""
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
        return None
    if (data[pos + 2] >> 2) & 15 > 12:  # sampling-frequency index 13..15 is reserved
        return None
    length = ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    return length if length >= 7 else None


def id3v2_end(data: bytes) -> int | None:
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
    id3_end = id3v2_end(data)
    if id3_end is not None:
        # An ID3v2 tag means MP3 nearly always; FLAC and ADTS files are sometimes tagged too.
        if data[id3_end : id3_end + 4] == b"fLaC":
            return "flac"
        if _adts_frame_length(data, id3_end) is not None:
            return "aac"
        return "mp3"
    # Without a tag: the first frame must be followed by a second of the same kind (or end
    # the data exactly).
    first = mp3_frame(data, 0)
    if first is not None:
        second = mp3_frame(data, first.length)
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
