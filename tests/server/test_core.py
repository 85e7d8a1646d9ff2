"""SessionCore, the pure protocol state machine: driven with frames and clock readings, no loop."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from realtime_console.protocol.pcm import encode_b64, ms_to_bytes
from realtime_console.server.core import SessionCore
from realtime_console.server.ids import IdFactory
from realtime_console.server.response import Pacing
from realtime_console.server.testing import collapse_deltas, take_events, types_of
from realtime_console.server.voice import SyntheticVoice

AUDIO_LIFECYCLE = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "*.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


def new_core(realtime_factor: float = 4.0) -> SessionCore:
    return SessionCore(
        model="gpt-realtime",
        pacing=Pacing(realtime_factor=realtime_factor),
        ids=IdFactory(random.Random(1)),
        wall_time=1_700_000_000,
    )


@pytest.fixture
def core() -> SessionCore:
    created = new_core()
    take_events(created)  # session.created, checked in its own test
    return created


def send(core: SessionCore, event: dict[str, Any] | str, now: float = 0.0) -> list[dict[str, Any]]:
    core.receive_frame(event if isinstance(event, str) else json.dumps(event), now)
    return take_events(core)


def say(core: SessionCore, text: str, now: float = 0.0) -> list[dict[str, Any]]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return send(core, {"type": "conversation.item.create", "item": item}, now)


def run_to_end(core: SessionCore) -> list[dict[str, Any]]:
    """Advance the clock deadline by deadline until the active response is done."""
    events: list[dict[str, Any]] = []
    while (deadline := core.next_deadline()) is not None:
        core.handle_timer(deadline)
        events += take_events(core)
    return events


def respond(core: SessionCore, response: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    event: dict[str, Any] = {"type": "response.create"}
    if response is not None:
        event["response"] = response
    return send(core, event) + run_to_end(core)


def error_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert types_of(events) == ["error"], types_of(events)
    error: dict[str, Any] = events[0]["error"]
    return error


def test_the_first_event_is_session_created_with_the_full_session() -> None:
    events = take_events(new_core())
    assert types_of(events) == ["session.created"]
    session = events[0]["session"]
    assert session["id"].startswith("sess_")
    assert session["expires_at"] == 1_700_000_000 + 1800
    assert session["audio"]["output"]["voice"] == "marin"


def test_session_update_answers_with_the_merged_session(core: SessionCore) -> None:
    events = send(
        core,
        {
            "type": "session.update",
            "event_id": "evt_client_1",
            "session": {
                "type": "realtime",
                "instructions": "Be terse.",
                "audio": {"output": {"voice": "alloy"}},
            },
        },
    )
    assert types_of(events) == ["session.updated"]
    session = events[0]["session"]
    assert session["instructions"] == "Be terse."
    assert session["audio"]["output"]["voice"] == "alloy"
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"  # kept
    assert events[0]["event_id"] != "evt_client_1"


def test_invalid_session_update_is_an_error_and_changes_nothing(core: SessionCore) -> None:
    before = json.loads(json.dumps(core.session))
    update = {
        "type": "session.update",
        "event_id": "evt_bad",
        "session": {
            "type": "realtime",
            "instructions": "changed",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}},
        },
    }
    error = error_of(send(core, update))
    assert error == {
        "type": "invalid_request_error",
        "code": "decimal_above_max_value",
        "message": "Invalid 'session.audio.input.turn_detection.threshold': decimal above "
        "maximum value. Expected a value <= 1, but got 1.5 instead.",
        "param": "session.audio.input.turn_detection.threshold",
        "event_id": "evt_bad",
    }
    assert core.session == before


def test_user_text_item_is_added_then_done(core: SessionCore) -> None:
    first = say(core, "hello")
    assert types_of(first) == ["conversation.item.added", "conversation.item.done"]
    item = first[0]["item"]
    assert item["id"].startswith("item_")
    assert (item["object"], item["status"], first[0]["previous_item_id"]) == (
        "realtime.item",
        "completed",
        None,
    )
    assert first[1]["item"] == item
    second = say(core, "again")
    assert second[0]["previous_item_id"] == item["id"]


def test_assistant_and_tool_output_items_are_accepted(core: SessionCore) -> None:
    assistant = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "hi"}],
    }
    tool = {"type": "function_call_output", "call_id": "call_1", "output": "42", "id": "item_tool"}
    for item in (assistant, tool):
        events = send(core, {"type": "conversation.item.create", "item": item})
        assert types_of(events) == ["conversation.item.added", "conversation.item.done"]
    assert [i["type"] for i in core.conversation.items()] == ["message", "function_call_output"]
    assert core.conversation.items()[1]["id"] == "item_tool"


def test_audio_response_lifecycle_transcript_and_audio(core: SessionCore) -> None:
    say(core, "Hello there")
    events = respond(core)
    assert collapse_deltas(types_of(events)) == AUDIO_LIFECYCLE
    expected = 'You said "Hello there".'
    transcript = "".join(
        e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"
    )
    assert transcript == expected
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    assert len(audio) == 2 * SyntheticVoice().sample_count(expected)
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": expected}]
    usage = done["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert usage["output_token_details"]["audio_tokens"] > 0
    # the assistant's item is now part of the conversation
    assert core.conversation.items()[-1]["content"][0]["transcript"] == expected
    assert core.next_deadline() is None


def test_events_are_paced_by_the_clock() -> None:
    core = new_core(realtime_factor=2.0)
    take_events(core)
    say(core, "Hello there", now=100.0)
    opening = send(core, {"type": "response.create"}, now=100.0)
    assert types_of(opening)[-1] == "response.content_part.added"  # no audio before its time
    assert core.next_deadline() == pytest.approx(100.1)  # 200 ms of audio at 2x
    core.handle_timer(100.05)
    assert take_events(core) == []
    core.handle_timer(100.1)
    assert types_of(take_events(core))[-1] == "response.output_audio.delta"
    # a frame arriving later first releases what became due in the meantime
    later = send(core, {"type": "input_audio_buffer.clear"}, now=100.3)
    assert types_of(later)[-1] == "input_audio_buffer.cleared"
    assert types_of(later).count("response.output_audio.delta") == 2


def test_text_only_session_streams_output_text(core: SessionCore) -> None:
    send(
        core,
        {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}},
    )
    say(core, "hi")
    events = respond(core)
    assert collapse_deltas(types_of(events)) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "*.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    assert {e["type"] for e in events if e["type"].endswith(".delta")} == {
        "response.output_text.delta"
    }
    assert events[-5]["text"] == 'You said "hi".'
    assert events[-1]["response"]["output_modalities"] == ["text"]


def test_per_response_overrides(core: SessionCore) -> None:
    say(core, "hi")
    events = respond(
        core, {"output_modalities": ["text"], "instructions": "Shout.", "metadata": {"k": "v"}}
    )
    assert "response.output_text.done" in types_of(events)
    assert events[-1]["response"]["metadata"] == {"k": "v"}
    events = respond(core, {"audio": {"output": {"voice": "cedar"}}})
    assert events[0]["response"]["audio"]["output"]["voice"] == "cedar"
    assert core.session["audio"]["output"]["voice"] == "marin"  # the session keeps its own


def test_out_of_band_response_uses_its_input_and_leaves_the_conversation_alone(
    core: SessionCore,
) -> None:
    say(core, "in the conversation")
    before = core.conversation.items()
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "aside"}]}
    events = respond(core, {"conversation": "none", "input": [user], "output_modalities": ["text"]})
    assert "conversation.item.added" not in types_of(events)
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == 'You said "aside".'
    assert events[-1]["response"]["conversation_id"] is None
    assert core.conversation.items() == before


def test_replies_refer_to_the_earlier_turn(core: SessionCore) -> None:
    say(core, "My name is Ada")
    respond(core)
    say(core, "What is my name?")
    events = respond(core)
    assert events[-1]["response"]["output"][0]["content"][0]["transcript"] == (
        'You said "What is my name?". Before that you said "My name is Ada".'
    )


def test_second_response_create_while_active_is_refused(core: SessionCore) -> None:
    say(core, "hi")
    opening = send(core, {"type": "response.create"})
    active = opening[0]["response"]["id"]
    error = error_of(send(core, {"type": "response.create", "event_id": "evt_2"}))
    assert error["code"] == "conversation_already_has_active_response"
    assert active in error["message"]
    assert error["event_id"] == "evt_2"
    # the first response carries on to completion
    assert run_to_end(core)[-1]["response"]["status"] == "completed"


def test_cancel_ends_the_response_with_what_was_sent(core: SessionCore) -> None:
    say(core, "Please say something long enough to interrupt")
    send(core, {"type": "response.create"})
    core.handle_timer(core.next_deadline() or 0.0)
    sent = take_events(core)
    spoken = "".join(
        e["delta"] for e in sent if e["type"] == "response.output_audio_transcript.delta"
    )
    closing = send(core, {"type": "response.cancel"}, now=0.06)
    assert types_of(closing)[-1] == "response.done"
    done = closing[-1]["response"]
    assert (done["status"], done["status_details"]["type"]) == ("cancelled", "cancelled")
    assert done["output"][0]["status"] == "incomplete"
    assert done["output"][0]["content"][0]["transcript"] == spoken
    assert core.next_deadline() is None
    assert core.conversation.items()[-1]["status"] == "incomplete"
    error = error_of(send(core, {"type": "response.cancel"}))
    assert error["code"] == "response_cancel_not_active"


def test_cancel_of_another_response_id_is_refused(core: SessionCore) -> None:
    say(core, "hi")
    send(core, {"type": "response.create"})
    error = error_of(send(core, {"type": "response.cancel", "response_id": "resp_other"}))
    assert error["code"] == "response_cancel_not_active"
    assert core.active_response_id is not None


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "invalid_json"),
        ('{"type": "response.audio.delta"}', "invalid_value"),
        ('{"type": "conversation.item.create", "event_id": "e1"}', "missing_required_parameter"),
        (
            '{"type": "session.update", "session": {"type": "realtime", "colour": "blue"}}',
            "unknown_parameter",
        ),
    ],
)
def test_bad_frames_get_an_error_and_the_session_carries_on(
    core: SessionCore, frame: str, code: str
) -> None:
    assert error_of(send(core, frame))["code"] == code
    assert types_of(say(core, "still here")) == [
        "conversation.item.added",
        "conversation.item.done",
    ]


def test_input_audio_commit_creates_a_user_audio_item(core: SessionCore) -> None:
    assert (
        send(
            core,
            {"type": "input_audio_buffer.append", "audio": encode_b64(bytes(ms_to_bytes(300)))},
        )
        == []
    )
    events = send(core, {"type": "input_audio_buffer.commit"})
    assert types_of(events) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert events[0]["item_id"] == events[1]["item"]["id"]
    assert events[1]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert error_of(send(core, {"type": "input_audio_buffer.commit"}))["code"] == (
        "input_audio_buffer_commit_empty"
    )
    reply = respond(core)
    assert reply[-1]["response"]["output"][0]["content"][0]["transcript"] == 'You said "(audio)".'
    assert reply[-1]["response"]["usage"]["input_token_details"]["audio_tokens"] == 3


def test_clear_empties_the_buffer(core: SessionCore) -> None:
    send(core, {"type": "input_audio_buffer.append", "audio": encode_b64(bytes(ms_to_bytes(300)))})
    assert types_of(send(core, {"type": "input_audio_buffer.clear"})) == [
        "input_audio_buffer.cleared"
    ]
    assert core.input_audio.duration_ms == 0


def test_retrieve_delete_and_truncate(core: SessionCore) -> None:
    say(core, "hi")
    respond(core)
    assistant = core.conversation.items()[-1]
    retrieved = send(core, {"type": "conversation.item.retrieve", "item_id": assistant["id"]})
    assert retrieved[0]["item"] == assistant
    truncated = send(
        core,
        {
            "type": "conversation.item.truncate",
            "item_id": assistant["id"],
            "content_index": 0,
            "audio_end_ms": 300,
        },
    )
    assert types_of(truncated) == ["conversation.item.truncated"]
    assert truncated[0]["audio_end_ms"] == 300
    assert core.conversation.items()[-1]["content"][0]["transcript"] == ""
    too_far = send(
        core,
        {
            "type": "conversation.item.truncate",
            "item_id": assistant["id"],
            "content_index": 0,
            "audio_end_ms": 301,
        },
    )
    assert error_of(too_far)["param"] == "audio_end_ms"
    deleted = send(core, {"type": "conversation.item.delete", "item_id": assistant["id"]})
    assert deleted[0] == {
        **deleted[0],
        "type": "conversation.item.deleted",
        "item_id": assistant["id"],
    }
    missing = send(core, {"type": "conversation.item.retrieve", "item_id": assistant["id"]})
    assert error_of(missing)["code"] == "item_not_found"


def test_voice_is_fixed_after_the_assistant_spoke(core: SessionCore) -> None:
    change = {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"output": {"voice": "echo"}}},
    }
    assert types_of(send(core, change)) == ["session.updated"]
    say(core, "hi")
    respond(core)
    back = {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"output": {"voice": "ash"}}},
    }
    assert error_of(send(core, back))["code"] == "cannot_update_voice"


def test_every_event_id_is_unique(core: SessionCore) -> None:
    events = say(core, "one") + respond(core) + say(core, "two") + respond(core)
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids))
