"""``--save-audio DIR``: one 24 kHz mono 16-bit WAV per response, holding exactly its deltas."""

from __future__ import annotations

import re
import wave
from pathlib import Path

from realtime_console.errors import ConfigError
from realtime_console.protocol import pcm

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def open_wav_writer(path: Path) -> wave.Wave_write:
    writer = wave.open(str(path), "wb")
    writer.setnchannels(pcm.CHANNELS)
    writer.setsampwidth(pcm.SAMPLE_WIDTH)
    writer.setframerate(pcm.SAMPLE_RATE)
    return writer


class ResponseWavRecorder:
    """An audio sink: streams each response's audio to its own file (no whole-reply buffering)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--save-audio {directory}: {exc.strerror}") from None
        self._open: dict[str, wave.Wave_write] = {}
        self._count = 0
        self.saved: list[Path] = []

    def audio(self, response_id: str, item_id: str, pcm16: bytes) -> None:
        writer = self._open.get(response_id)
        if writer is None:
            self._count += 1
            name = f"{self._count:03d}-{_UNSAFE.sub('_', response_id)}.wav"
            path = self.directory / name
            writer = open_wav_writer(path)
            self._open[response_id] = writer
            self.saved.append(path)
        writer.writeframes(pcm16)

    def response_done(self, response_id: str) -> None:
        writer = self._open.pop(response_id, None)
        if writer is not None:
            writer.close()

    def close(self) -> None:
        for response_id in list(self._open):
            self.response_done(response_id)
