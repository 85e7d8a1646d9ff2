"""Tools in ``session.update``: the entries and ``tool_choice`` as the SDK types them."""

from __future__ import annotations

from pathlib import Path

from realtime_console.config import SessionSettings
from realtime_console.protocol.client_events import function_call_output, session_update
from realtime_console.protocol.schema import validate_client_event
from realtime_console.protocol.session import build_session, tool_choice_param, with_tools
from realtime_console.tools import load_tools

WEATHER = Path(__file__).resolve().parents[2] / "examples" / "tools" / "weather.py"


def test_the_session_offers_the_tools_and_the_choice() -> None:
    entries = load_tools([str(WEATHER)]).session_tools()
    session = with_tools(build_session(SessionSettings()), entries, "get_weather")
    assert session["tools"] == entries
    assert session["tool_choice"] == {"type": "function", "name": "get_weather"}
    validate_client_event(session_update(session))
    for word in ("auto", "none", "required"):
        assert tool_choice_param(word) == word
        validate_client_event(session_update(with_tools(session, entries, word)))


def test_no_tools_leaves_the_session_as_it_was() -> None:
    session = build_session(SessionSettings())
    assert with_tools(session, [], "required") == session


def test_an_output_names_its_call() -> None:
    event = function_call_output("call_1", '{"temp": 21}', "item_c1")
    validate_client_event(event)
    assert event["item"] == {
        "id": "item_c1",
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"temp": 21}',
    }
