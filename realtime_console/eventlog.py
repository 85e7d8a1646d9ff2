"""Event log, format version 1 (DESIGN §6, docs/event-log.md): JSON Lines, ``.gz`` by extension.

The writer flushes every line so a killed process loses at most the line being written, creates
the file with mode 0600, and redacts at the source. The reader streams, maps beta names to GA,
accepts files of bare server events, and skips (and reports) lines it cannot parse.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
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
    count = event.get("audio_bytes")
    return count if isinstance(count, int) and count > 0 else 0


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


def _open_private(path: Path) -> IO[str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    raw = os.fdopen(fd, "wb")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="wb"), encoding="utf-8")
    return io.TextIOWrapper(raw, encoding="utf-8")


class EventLogWriter:
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
    ) -> None:
        self.path = Path(path)
        self._redactor = redactor
        self._audio = audio
        self._clock = clock
        try:
            self._file: IO[str] | None = _open_private(self.path)
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
        if self._audio == "none":
            event = _drop_audio(event, direction)
        t = round(self._clock() - self._start, 6)
        self._write_obj({"t": t, "dir": direction, "event": event})

    def note(self, event_type: str, **fields: Any) -> None:
        """A meta line for the console's own marks (reconnect, barge-in, underruns…)."""
        self.write("meta", {"type": event_type, **fields})

    def _write_obj(self, obj: Mapping[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(self._redactor.value(obj), separators=(",", ":")) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

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

    def warning(self, path: str | os.PathLike[str]) -> str | None:
        """One line naming the skipped lines, for stderr; None when every line was read."""
        if not self.bad_line_count:
            return None
        shown = ", ".join(
            ("end of file" if n < 0 else f"line {n}") + f" ({why})" for n, why in self.bad_lines[:3]
        )
        more = self.bad_line_count - min(3, len(self.bad_lines))
        plural = "s" if self.bad_line_count > 1 else ""
        tail = f" and {more} more" if more > 0 else ""
        return f"warning: {path}: skipped {self.bad_line_count} bad line{plural}: {shown}{tail}"


def _open_text(path: Path) -> IO[str]:
    try:
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
        return path.open("r", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LogFormatError(f"cannot read event log {path}: {exc.strerror}") from None


def read_log(path: str | os.PathLike[str], report: ReadReport | None = None) -> Iterator[LogRecord]:
    """Stream the records of a v1 log or a bare-event file; bad lines land in ``report``."""
    report = report if report is not None else ReadReport()
    source = Path(path)
    with _open_text(source) as handle:
        try:
            yield from _records(handle, report)
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            # A gzip cut short by a killed writer: keep what was read, report the end.
            report.bad(-1, f"compressed stream ends early: {exc}")


def scan_log(
    path: str | os.PathLike[str], needles: tuple[str, ...], report: ReadReport | None = None
) -> Iterator[LogRecord]:
    """Like ``read_log``, but only lines containing one of ``needles`` are parsed: a cheap
    first pass for the few events a renderer must know before it starts (e.g. truncations).
    Indexes count the parsed lines only; use ``line`` to place a record."""
    report = report if report is not None else ReadReport()
    source = Path(path)
    with _open_text(source) as handle:
        wanted = (
            (number, text)
            for number, text in enumerate(handle, start=1)
            if number == 1 or any(needle in text for needle in needles)
        )
        try:
            yield from _parse_lines(wanted, report)
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            report.bad(-1, f"compressed stream ends early: {exc}")


def _records(handle: IO[str], report: ReadReport) -> Iterator[LogRecord]:
    yield from _parse_lines(enumerate(handle, start=1), report)


def _parse_lines(lines: Iterator[tuple[int, str]], report: ReadReport) -> Iterator[LogRecord]:
    for number, text in lines:
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError:
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
        if record is None:
            report.bad(number, "not an event")
            continue
        report.events += 1
        yield record


def _record(obj: dict[str, Any], number: int, index: int) -> LogRecord | None:
    if "dir" in obj and isinstance(obj.get("event"), dict):
        direction = obj["dir"]
        t = obj.get("t")
        if direction not in DIRECTIONS or not isinstance(t, int | float):
            return None
        return LogRecord(index, number, float(t), direction, to_ga(obj["event"]))
    if isinstance(obj.get("type"), str):  # a bare server event
        return LogRecord(index, number, None, "server", to_ga(obj))
    return None
