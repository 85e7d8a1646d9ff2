from __future__ import annotations

import io

from realtime_console.ui.lines import StdinLines


async def test_lines_then_end_of_input() -> None:
    lines = StdinLines(io.StringIO("one\r\ntwo\n"))
    assert not lines.interactive
    assert [await lines.read(), await lines.read(), await lines.read()] == ["one", "two", None]


async def test_a_closed_stream_is_an_input_that_has_ended() -> None:
    stream = io.StringIO("never read")
    stream.close()
    lines = StdinLines(stream)
    assert not lines.interactive
    assert await lines.read() is None
