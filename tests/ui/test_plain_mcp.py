"""MCP lines in the line output: ``mcp> …``, never inside a reply's line, screened like server
text (the server and the model chose the names, arguments and outputs)."""

from __future__ import annotations

import io

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.plain import PlainView


def test_an_mcp_line_waits_for_the_open_reply_line_and_is_screened() -> None:
    out, err = io.StringIO(), io.StringIO()
    secret = "tok-abcdefghijklmnop0123"
    view = PlainView(out, err, redactor=Redactor([secret]))
    view.assistant_delta("r1", "Checking.")
    view.mcp_status('notes.get_forecast {"city": "Oslo"} -> Sunny (12 ms)')
    view.assistant_done("r1", "completed")
    view.mcp_status(f"notes: listing failed \x1b[31m{secret}")
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "assistant> Checking.",
        'mcp> notes.get_forecast {"city": "Oslo"} -> Sunny (12 ms)',
    ]
    assert lines[2].startswith("mcp> notes: listing failed ")
    assert "\x1b" not in lines[2] and secret not in lines[2] and MASK in lines[2]
    assert err.getvalue() == ""
