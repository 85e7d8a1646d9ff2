"""Event log, format version 1 (docs/event-log.md): JSON Lines, ``.gz`` by extension.

The writer flushes every line so a killed process loses at most the line being written, creates
the file with mode 0600, and redacts at the source. The reader streams, maps beta names to GA,
accepts files of bare server events, and skips (and reports) lines it cannot parse.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import json
import logging
import math
import os
import stat
import sys
import time
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from realtime_console.errors import LogFormatError
from realtime_console.protocol import pcm
from realtime_console.protocol.aliases import to_ga
from realtime_console.redact import Redactor

FORMAT = "realtime-console-log"
VERSION = 1

# "http": one request or response of the audio chat-completions commands (docs/event-log.md).
Direction = Literal["client", "server", "meta", "http"]
DIRECTIONS: tuple[Direction, ...] = ("client", "server", "meta", "http")
AudioPolicy = Literal["full", "none"]

# Where each event type carries base64 audio: (event type, path to the payload).
_AUDIO_FIELDS: Mapping[str, str] = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
}


# JSON readers (Python's too) accept NaN, Infinity and integers of thousands of digits, which no
# float holds: ``float()``, ``x / 1000.0`` or ``f"{x:g}"`` on one raises OverflowError, and a NaN
# passed on ends up as ``NaN`` in ``--json``, which is not JSON. Every figure read from a log goes
# through these, so such a value counts as absent, like any other value of the wrong type.
_FLOAT_MAX_INT = int(sys.float_info.max)


def finite_number(value: object) -> float | None:
    """A JSON number as a finite float; None for NaN, ±Infinity, an integer past float range, a
    bool or anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and abs(value) > _FLOAT_MAX_INT:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def whole_number(value: object) -> int | None:
    """A JSON integer within float range (a count, a position in ms); None for anything else,
    bools included. Sums of these stay printable and can be divided without OverflowError."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _FLOAT_MAX_INT:
        return None
    return value


def recorded_byte_count(value: object) -> int:
    """The size an ``audio_bytes`` field records in place of a dropped payload; 0 when it is not
    a positive integer no larger than one line's payload (``MAX_AUDIO_BYTES``)."""
    count = whole_number(value)
    return count if count is not None and 0 < count <= MAX_AUDIO_BYTES else 0


def audio_field(event_type: str) -> str | None:
    """The field holding base64 audio in events of this (GA) type, if any."""
    return _AUDIO_FIELDS.get(event_type)


def audio_byte_count(event: Mapping[str, Any]) -> int:
    """PCM16 bytes an event carries, without decoding: the payload's size, or ``audio_bytes``
    when the log was written with ``--log-audio none``. 0 for events without audio."""
    key = _AUDIO_FIELDS.get(str(event.get("type")))
    if key is None:
        return 0
    payload = event.get(key)
    if isinstance(payload, str):
        return pcm.b64_decoded_len(payload)
    return recorded_byte_count(event.get("audio_bytes"))


def audio_payload(event: Mapping[str, Any]) -> bytes | None:
    """The decoded PCM16 of an audio event; None when absent (dropped, or not an audio event)."""
    key = _AUDIO_FIELDS.get(str(event.get("type")))
    payload = event.get(key) if key is not None else None
    return pcm.decode_b64(payload) if isinstance(payload, str) else None


# In HTTP exchanges audio sits in ``{"input_audio": {"data": …}}`` (request messages) and
# ``{"audio": {"data": …}}`` (a reply's message, a stream chunk's delta), however deep.
_HTTP_AUDIO_KEYS = frozenset({"audio", "input_audio"})


def _drop_http_audio(value: Any, parent_key: str | None = None) -> Any:
    """A copy of an HTTP exchange with every base64 audio ``data`` replaced by ``audio_bytes``
    (the size of the encoded file it held)."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key == "data" and parent_key in _HTTP_AUDIO_KEYS and isinstance(item, str):
                out["audio_bytes"] = pcm.b64_decoded_len(item)
            else:
                out[key] = _drop_http_audio(item, key)
        return out
    if isinstance(value, list | tuple):
        return [_drop_http_audio(item) for item in value]
    return value


def _drop_audio(event: Mapping[str, Any], direction: Direction = "server") -> Mapping[str, Any]:
    """Replace the audio payload with its byte count (``--log-audio none``)."""
    if direction == "http":
        dropped: Mapping[str, Any] = _drop_http_audio(event)
        return dropped
    key = _AUDIO_FIELDS.get(str(event.get("type")))
    if key is None or not isinstance(event.get(key), str):
        return event
    out = {k: v for k, v in event.items() if k != key}
    out["audio_bytes"] = pcm.b64_decoded_len(event[key])
    return out


def _open_private(path: Path) -> tuple[IO[str], IO[bytes]]:
    """The text stream to write, and the file under it (a ``GzipFile`` does not close it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # O_CREAT's mode does not apply to a file that already existed: tighten it. Only a
        # regular file: a device or pipe (/dev/stdout, /dev/full) is not ours to chmod.
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    raw = os.fdopen(fd, "wb")
    if path.suffix == ".gz":
        compressed = gzip.GzipFile(fileobj=raw, mode="wb")
        return io.TextIOWrapper(compressed, encoding="utf-8"), raw
    return io.TextIOWrapper(raw, encoding="utf-8"), raw


def _close_all(*handles: IO[Any]) -> OSError | None:
    """Close every handle even when one fails (a full disk fails each flush); the first error."""
    first: OSError | None = None
    for handle in handles:
        try:
            handle.close()
        except OSError as exc:
            first = first or exc
    return first


def _log_warning(message: str) -> None:
    logging.getLogger(__name__).warning("%s", message)


class EventLogWriter:
    """Writes one session's log. Opening fails early (``LogFormatError``); once open, a failing
    write (a full disk, an I/O error) never reaches the session: it is reported once through
    ``on_error``, recording stops, and the session goes on without it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        provider: str,
        model: str,
        session: Mapping[str, Any],
        program_version: str,
        redactor: Redactor,
        audio: AudioPolicy = "full",
        clock: Callable[[], float] = time.monotonic,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self._redactor = redactor
        self._audio = audio
        self._clock = clock
        self._on_error = on_error if on_error is not None else _log_warning
        self.failed = False
        self.left_out = 0  # events nested too deep to redact and serialize (see ``write``)
        try:
            self._file: IO[str] | None
            self._file, self._raw = _open_private(self.path)
        except OSError as exc:
            raise LogFormatError(f"cannot write event log {self.path}: {exc.strerror}") from None
        self._start = clock()
        self.lines = 0
        self._write_obj(
            {
                "format": FORMAT,
                "version": VERSION,
                "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                "provider": provider,
                "model": model,
                "session": session,
                "program_version": program_version,
            }
        )

    def write(self, direction: Direction, event: Mapping[str, Any]) -> None:
        if self._file is None:
            return
        t = round(self._clock() - self._start, 6)
        try:
            if self._audio == "none":
                event = _drop_audio(event, direction)
            line = self._line({"t": t, "dir": direction, "event": event})
        except RecursionError:
            # json.loads accepts a server frame nested ~1000 deep; redacting and writing it
            # recurse deeper than Python allows. That one event is left out (said once), the
            # session and the recording go on: the reader would skip such a line anyway.
            self._leave_out(direction, event)
            return
        self._put(line)

    def note(self, event_type: str, **fields: Any) -> None:
        """A meta line for the console's own marks (reconnect, barge-in, underruns…)."""
        self.write("meta", {"type": event_type, **fields})

    def _line(self, obj: Mapping[str, Any]) -> str:
        return json.dumps(self._redactor.value(obj), separators=(",", ":")) + "\n"

    def _leave_out(self, direction: Direction, event: Mapping[str, Any]) -> None:
        self.left_out += 1
        if self.left_out == 1:
            kind = str(event.get("type"))[:60]
            self._on_error(
                f"event log {self.path}: left out a {direction} event ({kind}) nested too deep "
                "to record; recording goes on"
            )

    def _write_obj(self, obj: Mapping[str, Any]) -> None:
        self._put(self._line(obj))

    def _put(self, line: str) -> None:
        if self._file is None:
            return
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as exc:
            self._fail(exc)
            return
        self.lines += 1

    def _fail(self, exc: OSError) -> None:
        """Stop recording for good: a log with a hole in it would mislead ``replay``."""
        file, self._file = self._file, None
        if file is not None:
            _close_all(file, self._raw)
        if not self.failed:
            self.failed = True
            why = exc.strerror or str(exc) or type(exc).__name__
            self._on_error(
                f"event log {self.path}: cannot write ({why}); recording stopped after "
                f"{self.lines} lines, the session goes on"
            )

    def close(self) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        error = _close_all(file, self._raw)  # a .gz writes its trailer here
        if error is not None:
            self._fail(error)

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class LogRecord:
    index: int  # 0-based among events (the header is not an event)
    line: int  # 1-based line number in the file
    t: float | None  # seconds since start; None for bare-event files
    dir: Direction
    event: dict[str, Any]


MAX_REPORTED_BAD_LINES = 100  # a garbage file must not make the report grow with it
# A line longer than this is skipped (and reported) without being held whole: read in pieces and
# dropped, so memory stays bounded whatever the file holds (a 2 GB file without a newline). The
# longest real line is one audio event: 64 MiB of base64 is ~17 minutes of 24 kHz PCM16.
MAX_LINE_BYTES = 64 * 1024 * 1024
# The most audio one event can carry: what the base64 of the longest line decodes to. An
# ``audio_bytes`` above it (``--log-audio none``) describes a payload no log line could have held.
MAX_AUDIO_BYTES = MAX_LINE_BYTES * 3 // 4
_PIECE = 1024 * 1024  # bytes read at a time while a line is longer


@dataclass
class ReadReport:
    header: dict[str, Any] | None = None
    events: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (line, why); -1: the end
    bad_line_count: int = 0  # all of them, also past MAX_REPORTED_BAD_LINES

    def bad(self, line: int, why: str) -> None:
        self.bad_line_count += 1
        if len(self.bad_lines) < MAX_REPORTED_BAD_LINES:
            self.bad_lines.append((line, why))

    @property
    def is_event_log(self) -> bool:
        """False when something was read and none of it was a header or an event: a file of
        another kind (an image, a binary), not a log cut short. An empty file is an (empty) log."""
        return self.header is not None or self.events > 0 or self.bad_line_count == 0

    def check_event_log(self, path: str | os.PathLike[str]) -> None:
        """Refuse (exit 2) a file that is not an event log at all."""
        if self.is_event_log:
            return
        first = _where(*self.bad_lines[0]) if self.bad_lines else "nothing readable"
        plural = "s" if self.bad_line_count > 1 else ""
        raise LogFormatError(
            f"{path} is not an event log: no line of it parses "
            f"({self.bad_line_count} line{plural}; {first})"
        )

    def warning(self, path: str | os.PathLike[str]) -> str | None:
        """One line naming the skipped lines, for stderr; None when every line was read."""
        if not self.bad_line_count:
            return None
        shown = ", ".join(_where(n, why) for n, why in self.bad_lines[:3])
        more = self.bad_line_count - min(3, len(self.bad_lines))
        plural = "s" if self.bad_line_count > 1 else ""
        tail = f" and {more} more" if more > 0 else ""
        return f"warning: {path}: skipped {self.bad_line_count} bad line{plural}: {shown}{tail}"


def _where(line: int, why: str) -> str:
    return ("end of file" if line < 0 else f"line {line}") + f" ({why})"


def _open_binary(path: Path) -> io.BufferedIOBase:
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as exc:
        raise LogFormatError(f"cannot read event log {path}: {exc.strerror}") from None


def _lines(handle: io.BufferedIOBase, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line; ``None`` for a line longer than ``limit`` bytes. Lines
    are read in pieces, so an over-long one costs at most ``limit`` bytes before it is dropped."""
    number = 0
    step = min(_PIECE, limit + 1)  # a first piece ending in a newline is within the limit
    while True:
        piece = handle.readline(step)
        if not piece:
            return
        number += 1
        if piece.endswith(b"\n"):
            yield number, piece  # nearly every line: one read, no copy
            continue
        pieces, size = [piece], len(piece)  # a list: growing one buffer would copy it
        while piece and not piece.endswith(b"\n") and size <= limit:
            piece = handle.readline(step)
            pieces.append(piece)
            size += len(piece)
        newline = 1 if pieces[-1].endswith(b"\n") else 0
        if size - newline <= limit:
            yield number, b"".join(pieces)
            continue
        del pieces
        while piece and not piece.endswith(b"\n"):
            piece = handle.readline(step)
        yield number, None


def _stream(
    path: str | os.PathLike[str],
    report: ReadReport,
    keep: Callable[[int, bytes], bool],
    limit: int,
) -> Generator[LogRecord, None, None]:
    source = Path(path)
    with _open_binary(source) as handle:
        try:
            wanted = (
                (n, line) for n, line in _lines(handle, limit) if line is None or keep(n, line)
            )
            yield from _parse_lines(wanted, report, limit)
        except EOFError as exc:
            # A gzip cut short by a killed writer: keep what was read, report the end.
            report.bad(-1, f"compressed stream ends early: {exc}")
        except (gzip.BadGzipFile, zlib.error) as exc:
            # Damaged on disk or in transit: the deflate data (zlib.error), the header or the
            # checksum (BadGzipFile). Like a cut: what was read is kept, the rest is reported.
            report.bad(-1, f"compressed stream is damaged: {exc}")
        except OSError as exc:
            report.bad(-1, f"read failed: {exc.strerror or exc}")


def read_log(
    path: str | os.PathLike[str],
    report: ReadReport | None = None,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Generator[LogRecord, None, None]:
    """Stream the records of a v1 log or a bare-event file; bad lines land in ``report``."""
    report = report if report is not None else ReadReport()
    return _stream(path, report, lambda _n, _line: True, max_line_bytes)


def probe_log(path: str | os.PathLike[str]) -> ReadReport:
    """Read up to the first event: enough to know the header and to tell an event log from a file
    of another kind (which is read to its end: no line of it may parse), before replaying."""
    report = ReadReport()
    records = read_log(path, report)
    try:
        next(records, None)
    finally:
        records.close()
    return report


def scan_log(
    path: str | os.PathLike[str],
    needles: tuple[str, ...],
    report: ReadReport | None = None,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Generator[LogRecord, None, None]:
    """Like ``read_log``, but only lines containing one of ``needles`` are parsed: a cheap
    first pass for the few events a renderer must know before it starts (e.g. truncations).
    Indexes count the parsed lines only; use ``line`` to place a record."""
    report = report if report is not None else ReadReport()
    wanted = tuple(needle.encode() for needle in needles)

    def keep(number: int, line: bytes) -> bool:
        return number == 1 or any(needle in line for needle in wanted)

    return _stream(path, report, keep, max_line_bytes)


def _parse_lines(
    lines: Iterable[tuple[int, bytes | None]], report: ReadReport, limit: int
) -> Iterator[LogRecord]:
    for number, raw in lines:
        if raw is None:
            report.bad(number, f"longer than {_size(limit)}")
            continue
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than json allows
            report.bad(number, "not valid JSON")
            continue
        if not isinstance(obj, dict):
            report.bad(number, "not a JSON object")
            continue
        if obj.get("format") == FORMAT:
            if obj.get("version") != VERSION:
                raise LogFormatError(f"unsupported event log version {obj.get('version')!r}")
            report.header = obj
            continue
        record = _record(obj, number, report.events)
        if isinstance(record, str):
            report.bad(number, record)
            continue
        report.events += 1
        yield record


def _size(n_bytes: int) -> str:
    mib = 1024 * 1024
    return f"{n_bytes // mib} MiB" if n_bytes % mib == 0 else f"{n_bytes} bytes"


def _record(obj: dict[str, Any], number: int, index: int) -> LogRecord | str:
    """The record a line holds, or why it is not one."""
    if "dir" in obj and isinstance(obj.get("event"), dict):
        direction = obj["dir"]
        t = obj.get("t")
        if direction not in DIRECTIONS or not isinstance(t, int | float) or isinstance(t, bool):
            return "not an event"
        seconds = finite_number(t)
        if seconds is None:  # NaN, Infinity, an integer past float range: a time cannot be one
            return f"t is {t}" if isinstance(t, float) else "t is past float range"
        return LogRecord(index, number, seconds, direction, to_ga(obj["event"]))
    if isinstance(obj.get("type"), str):  # a bare server event
        return LogRecord(index, number, None, "server", to_ga(obj))
    return "not an event"
