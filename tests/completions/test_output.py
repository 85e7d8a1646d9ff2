"""Reply files: which name and format, the checks before a request, the atomic write."""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import pytest

from realtime_console.completions.output import (
    Lines,
    OutputWriteError,
    check_writable,
    choose_output,
    one_line,
    prepare_save_dir,
    write_file,
)
from realtime_console.errors import ConfigError
from realtime_console.redact import Redactor
from realtime_console.ui.output import OutputClosed


@pytest.mark.parametrize(
    ("out", "flag", "expected"),
    [
        (None, None, ("reply.wav", "wav")),
        (None, "mp3", ("reply.mp3", "mp3")),
        (None, "pcm16", ("reply.pcm", "pcm16")),
        ("a.FLAC", None, ("a.FLAC", "flac")),
        ("a.ogg", "opus", ("a.ogg", "opus")),
        ("a.bin", "aac", ("a.bin", "aac")),  # an unknown extension: --format says
        ("a.bin", None, ("a.bin", "wav")),  # … else the setting
    ],
)
def test_the_extension_then_format_then_the_setting_pick_the_format(
    out: str | None, flag: str | None, expected: tuple[str, str]
) -> None:
    chosen = choose_output(Path(out) if out else None, flag, "wav")  # type: ignore[arg-type]
    assert (str(chosen.path), chosen.format) == expected


def test_an_extension_against_format_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"-o x\.mp3 names mp3 .* --format is wav"):
        choose_output(Path("x.mp3"), "wav", "wav")


def test_writable_checks(tmp_path: Path) -> None:
    check_writable(tmp_path / "new.wav")  # a new file in an existing directory
    (tmp_path / "old.wav").write_bytes(b"x")
    check_writable(tmp_path / "old.wav")  # replaced
    check_writable(Path(os.devnull))  # written in place, never replaced
    with pytest.raises(ConfigError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        check_writable(tmp_path / "no" / "x.wav")


def test_a_write_goes_through_a_temporary_file_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "reply.wav"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_file(target, b"new audio")
    assert target.read_bytes() == b"new audio"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["reply.wav"]


def test_a_failed_write_leaves_neither_a_half_file_nor_a_temporary_one(tmp_path: Path) -> None:
    # The rename fails (a non-empty directory is in the way) after the data was written.
    blocker = tmp_path / "reply.wav"
    blocker.mkdir()
    (blocker / "keep").write_text("x")
    with pytest.raises(OutputWriteError, match=r"cannot write .*reply\.wav"):
        write_file(blocker, b"audio")
    assert os.listdir(tmp_path) == ["reply.wav"] and blocker.is_dir()


def test_a_symlink_keeps_pointing_at_the_new_file(tmp_path: Path) -> None:
    real = tmp_path / "real.wav"
    real.write_bytes(b"old")
    link = tmp_path / "link.wav"
    link.symlink_to(real)
    write_file(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_save_dir_is_created_and_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    assert prepare_save_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        prepare_save_dir(tmp_path / "f")


def test_transcripts_are_one_line() -> None:
    assert one_line("  Yes.\n\nThey are   great.\n") == "Yes. They are great."


class FailingStdout(io.StringIO):
    def __init__(self, error: OSError) -> None:
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error


def test_a_gone_reader_is_noted_not_raised() -> None:
    err = io.StringIO()
    lines = Lines(FailingStdout(BrokenPipeError(errno.EPIPE, "Broken pipe")), err)
    lines.say("assistant> hi")
    assert lines.closed
    lines.say("assistant> again")  # not attempted
    lines.notice("still talking to stderr")
    assert err.getvalue() == "-- still talking to stderr\n"


def test_a_full_disk_on_stdout_ends_the_command() -> None:
    lines = Lines(FailingStdout(OSError(errno.ENOSPC, "No space left on device")), io.StringIO())
    with pytest.raises(OutputClosed) as raised:
        lines.say("assistant> hi")
    assert raised.value.exit_code == 1


def test_server_text_cannot_drive_the_terminal_or_show_a_secret() -> None:
    out, err = io.StringIO(), io.StringIO()
    lines = Lines(out, err, redactor=Redactor(["sk-secret-0123456789"]))
    lines.say("assistant> " + one_line("Hi\x1b]52;c;ZXZpbA==\x07 there\nyou> forged"))
    lines.error("the service said: \x1b[2Jkey sk-secret-0123456789 is wrong")
    assert out.getvalue() == "assistant> Hi there you> forged\n"
    assert err.getvalue() == "realtime-console: the service said: key *** is wrong\n"
