"""``--save-audio DIR``: one 24 kHz mono 16-bit WAV per response, holding exactly its deltas.

A session can name many responses it never finishes (a peer that starts thousands, replies cut
by a lost connection), so open files are bounded: at most ``MAX_OPEN_FILES`` at once, the oldest
unfinished one is finished as written when another must open. Saving is a convenience beside the
session, so a file that cannot be written (a full disk) is one warning and a ``failed`` entry,
never an exception into the session; ``saved`` lists only files that hold every delta received
for their response and were written and closed without error.
"""

from __future__ import annotations

import logging
import re
import wave
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from realtime_console.errors import ConfigError
from realtime_console.protocol import pcm

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
MAX_OPEN_FILES = 8
"""Replies whose files stay open at once. One reply streams at a time on a Realtime session
(out-of-band responses add a few), so 8 is never reached in normal use, and it keeps a flood of
never-finished response ids far from the process's file-descriptor limit (often 1024)."""
_REMEMBERED_FINISHED = 4096
"""Finished response ids remembered, so a late delta of one is dropped rather than starting a
second file for it. Bounded like every per-id table a peer can grow."""


@dataclass
class _OpenFile:
    path: Path
    file: BinaryIO
    writer: wave.Wave_write

    @classmethod
    def create(cls, path: Path) -> _OpenFile:
        # The file is opened here, not by wave.open(path): when that open fails, the
        # half-built Wave_write's __del__ prints "Exception ignored" to stderr.
        file = path.open("wb")
        writer = wave.open(file, "wb")
        writer.setnchannels(pcm.CHANNELS)
        writer.setsampwidth(pcm.SAMPLE_WIDTH)
        writer.setframerate(pcm.SAMPLE_RATE)
        return cls(path, file, writer)

    def close(self) -> None:
        """Write the header's final sizes and close; the descriptor is released even when
        this raises (a failing flush)."""
        try:
            self.writer.close()
        finally:
            self.file.close()


@dataclass
class _Finished:
    path: Path | None  # None: abandoned before any audio came
    saved: bool  # listed in ``saved`` (closed without error, nothing missed so far)


class ResponseWavRecorder:
    """An audio sink: streams each response's audio to its own file (no whole-reply buffering).

    ``warn`` gets the few lines worth telling the user (default: the module's logger):
    the first file that cannot be written, and the first reply whose later audio arrives after
    its file was finished early. Afterwards, ``saved`` holds the complete files, ``incomplete``
    the ones finished early that then missed audio, ``failed`` the ones that could not be written,
    and ``dropped_bytes`` the audio that went into no file.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        warn: Callable[[str], None] | None = None,
        max_open: int = MAX_OPEN_FILES,
    ) -> None:
        if max_open < 1:
            raise ValueError("max_open must be at least 1")
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--save-audio {directory}: {exc.strerror}") from None
        self._warn = warn or log.warning
        self._max_open = max_open
        self._open: OrderedDict[str, _OpenFile] = OrderedDict()  # oldest first
        # Responses whose file is finished (or that will never get one): late deltas are dropped.
        self._finished: OrderedDict[str, _Finished] = OrderedDict()
        self._count = 0
        self._warned_failure = False
        self._warned_late = False
        self.saved: list[Path] = []
        self.incomplete: list[Path] = []
        self.failed: list[Path] = []
        self.dropped_bytes = 0

    @property
    def open_files(self) -> int:
        return len(self._open)

    def audio(self, response_id: str, item_id: str, pcm16: bytes) -> None:
        entry = self._open.get(response_id)
        if entry is None:
            if response_id in self._finished:
                self._late_audio(response_id, len(pcm16))
                return
            entry = self._open_file(response_id)
            if entry is None:
                self.dropped_bytes += len(pcm16)
                return
        try:
            entry.writer.writeframes(pcm16)
        except OSError as exc:
            self.dropped_bytes += len(pcm16)
            self._fail(response_id, entry, exc)

    def response_done(self, response_id: str) -> None:
        self._finish(response_id)

    def abandon(self, response_id: str) -> None:
        """The response will not be finished (a watchdog gave up on it): finish its file as
        written and drop any audio of it that still comes."""
        if not self._finish(response_id) and response_id not in self._finished:
            self._remember_finished(response_id, _Finished(None, saved=False))

    def close(self) -> None:
        for response_id in list(self._open):
            self._finish(response_id)

    # ------------------------------------------------------------------ internals

    def _open_file(self, response_id: str) -> _OpenFile | None:
        while len(self._open) >= self._max_open:
            self._finish(next(iter(self._open)))  # the oldest unfinished reply, as written
        self._count += 1
        path = self.directory / f"{self._count:03d}-{_UNSAFE.sub('_', response_id)}.wav"
        try:
            entry = _OpenFile.create(path)
        except OSError as exc:
            self.failed.append(path)
            self._remember_finished(response_id, _Finished(path, saved=False))
            self._warn_failure(path, exc)
            return None
        self._open[response_id] = entry
        return entry

    def _finish(self, response_id: str) -> bool:
        """Close the response's open file (True), or do nothing if none is open (False)."""
        entry = self._open.pop(response_id, None)
        if entry is None:
            return False
        try:
            entry.close()
        except OSError as exc:
            self._fail(response_id, entry, exc, closed=True)
            return True
        self.saved.append(entry.path)
        self._remember_finished(response_id, _Finished(entry.path, saved=True))
        return True

    def _fail(
        self, response_id: str, entry: _OpenFile, exc: OSError, *, closed: bool = False
    ) -> None:
        self._open.pop(response_id, None)
        if not closed:
            try:
                entry.close()
            except OSError:
                pass  # already failed and warned; the descriptor is released regardless
        self.failed.append(entry.path)
        self._remember_finished(response_id, _Finished(entry.path, saved=False))
        self._warn_failure(entry.path, exc)

    def _late_audio(self, response_id: str, n_bytes: int) -> None:
        self.dropped_bytes += n_bytes
        finished = self._finished[response_id]
        if not finished.saved or finished.path is None:
            return  # abandoned before any audio, failed, or already counted as incomplete
        finished.saved = False
        self.saved.remove(finished.path)  # O(files), but at most once per file
        self.incomplete.append(finished.path)
        if not self._warned_late:
            self._warned_late = True  # a flood of ids would repeat it for every one
            self._warn(
                f"--save-audio: audio of {response_id} came after {finished.path.name} was "
                f"finished (more than {self._max_open} replies unfinished at once, or given "
                "up on); the rest of it is not saved"
            )

    def _warn_failure(self, path: Path, exc: OSError) -> None:
        if self._warned_failure:
            return  # a full disk fails every file: once is enough, ``failed`` lists them all
        self._warned_failure = True
        self._warn(f"--save-audio: cannot write {path}: {exc.strerror or exc}; it is not saved")

    def _remember_finished(self, response_id: str, finished: _Finished) -> None:
        self._finished[response_id] = finished
        self._finished.move_to_end(response_id)
        while len(self._finished) > _REMEMBERED_FINISHED:
            self._finished.popitem(last=False)
