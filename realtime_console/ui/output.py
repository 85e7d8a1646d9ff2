"""Writing to stdout and stderr when the other end may be gone.

``chat | head -c 5`` leaves the reader gone after five bytes; ``chat > /dev/full`` fails every
flush. Like ``cat``, the console then stops: a gone reader is a normal end (exit 0), a device
that cannot take the conversation is a failure (exit 1, one line). Either way the session ends
through the same path as end of input: socket closed with 1000, files finished.

As the Python documentation advises for SIGPIPE, the failed stream is pointed at /dev/null,
so the interpreter's own flush at exit has nowhere to fail ("Exception ignored … BrokenPipeError").
"""

from __future__ import annotations

import errno
import os
from typing import TextIO


class OutputClosed(BaseException):
    """Standard output cannot take the conversation any more.

    A ``BaseException``, like ``KeyboardInterrupt``: it is not a failed event handler for the
    dispatcher to report and survive, it ends the session.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.errno = error.errno

    @property
    def exit_code(self) -> int:
        return 0 if self.errno == errno.EPIPE else 1

    def __str__(self) -> str:
        why = os.strerror(self.errno) if self.errno else "closed"
        return f"cannot write to standard output: {why}"


def silence(stream: TextIO | None) -> None:
    """Point the stream's file descriptor at /dev/null: later writes and flushes succeed."""
    if stream is None:
        return
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # not a real file (a test's StringIO), or closed
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _write(stream: TextIO | None, text: str) -> None:
    if stream is None:  # the descriptor was closed before we started (`>&-`)
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    try:
        stream.write(text)
        stream.flush()
    except ValueError:  # the stream object was closed
        raise OSError(errno.EBADF, os.strerror(errno.EBADF)) from None


def write_output(stream: TextIO | None, text: str) -> None:
    """Write and flush the conversation; ``OutputClosed`` if the stream cannot take it."""
    try:
        _write(stream, text)
    except OSError as exc:
        silence(stream)
        raise OutputClosed(exc) from None


def write_status(stream: TextIO | None, text: str) -> None:
    """Write and flush a status line; if stderr is gone, status lines are dropped (there is
    nowhere left to say anything) and the session goes on."""
    try:
        _write(stream, text)
    except OSError:
        silence(stream)
