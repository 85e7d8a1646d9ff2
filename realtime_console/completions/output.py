"""Where the ``audio`` commands put a reply: the output file (picked, checked, written atomically)
and the lines on stdout / stderr.

Every check that can fail without the service runs before the request, so a typo in ``-o`` never
costs a paid call; the write itself goes to a temporary file in the same directory and is renamed
over ``OUT`` only when complete, so a failure never leaves a half file that looks like a reply.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from realtime_console.audio.formats import AudioFormat
from realtime_console.errors import ConfigError, ConsoleError
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor, process_redactor
from realtime_console.ui.output import OutputClosed, write_output, write_status
from realtime_console.ui.sanitize import clean, screen_line

# The extension written for each format when the name is the console's choice (reply.EXT,
# NNN-id.EXT); audio/codec.py's EXTENSIONS is the reverse map and also accepts .ogg and .raw.
EXTENSION: Mapping[AudioFormat, str] = {
    "wav": ".wav",
    "mp3": ".mp3",
    "flac": ".flac",
    "opus": ".opus",
    "aac": ".aac",
    "pcm16": ".pcm",
}
DEFAULT_STEM = "reply"


class OutputWriteError(ConsoleError):
    """The reply arrived but its file could not be written (disk full, directory removed…)."""

    exit_code = 1


@dataclass(frozen=True)
class OutputFile:
    path: Path
    format: AudioFormat


def choose_output(
    out: Path | None, flag_format: AudioFormat | None, default: AudioFormat, *, flag: str = "-o"
) -> OutputFile:
    """OUT and its format: OUT's extension, else ``--format``, else the setting.

    Without ``-o`` the file is ``reply.EXT`` for that format. An extension that names another
    format than ``--format`` is refused rather than guessed at: one of the two is a mistake.
    """
    if out is None:
        fmt = flag_format or default
        return OutputFile(Path(DEFAULT_STEM + EXTENSION[fmt]), fmt)
    from realtime_console.audio.codec import format_for_path

    by_name = format_for_path(out)
    if by_name is not None and flag_format is not None and by_name != flag_format:
        raise ConfigError(
            f"{flag} {out} names {by_name} by its extension but --format is {flag_format}; "
            f"give one, or make them agree"
        )
    return OutputFile(out, by_name or flag_format or default)


def check_writable(path: Path, *, flag: str = "-o") -> None:
    """Raise ConfigError (one line) if ``path`` cannot be created or replaced."""
    where = f"{flag} {path}"
    target = Path(os.path.realpath(path))  # a symlink's target is what gets replaced
    try:
        info: os.stat_result | None = target.stat()
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        raise ConfigError(f"{where}: {path.parent} is not a directory") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot write it ({exc.strerror})") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{where}: is a directory; give a file name, e.g. {path / 'reply.wav'}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        return  # /dev/null, a FIFO: written in place (see write_file)
    parent = target.parent
    if not parent.exists():
        raise ConfigError(f"{where}: directory {path.parent} does not exist; create it first")
    if not parent.is_dir():
        raise ConfigError(f"{where}: {path.parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: permission denied (cannot create files in {path.parent})")
    if info is not None and not os.access(target, os.W_OK):
        raise ConfigError(f"{where}: the file is read-only")


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); OutputWriteError."""
    target = Path(os.path.realpath(path))
    try:
        existing: os.stat_result | None = target.stat()
    except OSError:
        existing = None
    try:
        if existing is not None and _is_device_or_fifo(existing):
            # A device or FIFO cannot be renamed over (and /dev/null must never be replaced).
            with target.open("wb") as fh:
                fh.write(data)
            return
        _replace(target, data, existing)
    except OSError as exc:
        raise OutputWriteError(f"cannot write {path}: {exc.strerror or exc}") from None


def _is_device_or_fifo(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISFIFO(info.st_mode)


def _replace(target: Path, data: bytes, existing: os.stat_result | None) -> None:
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    # 0o666 and the umask, as for any new file; a replaced file keeps its permissions.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            if existing is not None:
                os.fchmod(fh.fileno(), stat.S_IMODE(existing.st_mode))
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            temp.unlink()
        except OSError:
            pass
        raise


def audio_duration_s(data: bytes, fmt: AudioFormat) -> float:
    """Seconds of audio in a reply file (0 when it cannot be measured)."""
    if fmt == "pcm16":
        return pcm.bytes_to_ms(len(data)) / 1000
    from realtime_console.audio import codec

    try:
        return codec.duration_s(data, fmt)
    except codec.CodecError:
        return 0.0


def saved_line(path: Path, seconds: float, fmt: AudioFormat) -> str:
    return f"saved {path} ({seconds:.1f} s, {fmt})"


def one_line(text: str) -> str:
    """A server's text (a transcript) as one printable line: terminal controls removed (the
    service chooses this text; ``ui.sanitize``), line breaks and runs of space made one space,
    so every reply is one line that can be diffed, and a reply cannot forge a ``you>`` line."""
    return " ".join(clean(text).split())


def paragraphs(text: str) -> str:
    """A server's text printed as written (``ask --text-only``: lists, paragraphs), cleaned."""
    return clean(text, newlines=True).strip()


class Lines:
    """stdout for what was said, stderr for what the console says about itself.

    Everything printed is redacted with the process's redactor (a service may quote a key
    back). A stdout whose reader went away (``… | head -1``) is not a failure: ``closed`` tells
    a loop to stop producing output nobody reads, and what is left (a reply file) still gets
    written; one that cannot be written (a full disk) ends the command with one line, exit 1.
    """

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else sys.stderr
        self._redactor = redactor if redactor is not None else process_redactor()
        self.closed = False

    def say(self, text: str) -> None:
        """One line of the conversation (transcript, echo) on stdout."""
        if self.closed:
            return
        try:
            write_output(self._out, self._redactor.text(text) + "\n")
        except OutputClosed as closed:
            if closed.exit_code:
                raise
            self.closed = True

    def notice(self, text: str) -> None:
        """A status line (``-- …``) on stderr, as the realtime commands print them."""
        self._stderr(f"-- {text}")

    def error(self, text: str) -> None:
        """A failure the session survives, shaped like the CLI's fatal lines (and screened
        like them: it may quote the service)."""
        self._stderr(f"realtime-console: {screen_line(text, self._redactor)}")

    def _stderr(self, line: str) -> None:
        write_status(self._err, self._redactor.text(line) + "\n")


def prepare_save_dir(directory: Path, *, flag: str = "--save-audio") -> Path:
    """Create ``directory`` (and its parents) if needed; ConfigError if replies cannot go there."""
    where = f"{flag} {directory}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{where}: exists and is not a directory") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot create it ({exc.strerror})") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: permission denied (cannot create files in it)")
    return directory
