"""SessionCore, the pure protocol state machine: driven with frames and clock readings, no loop."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from realtime_console.protocol.pcm import encode_b64, ms_to_bytes
from realtime_console.server.conversation import item_bytes
from realtime_console.server.core import SessionCore
from realtime_console.server.ids import IdFactory
from realtime_console.server.response import Pacing
from realtime_console.server.testing import collapse_deltas, take_events, types_of
from realtime_console.server.voice import SyntheticVoice
from tests.server.test_vad import silence, tone

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
    "rate_limits.updated",
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


def response_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The response of the last ``response.done`` (``rate_limits.updated`` follows it)."""
    done = [event for event in events if event["type"] == "response.done"]
    assert done, types_of(events)
    response: dict[str, Any] = done[-1]["response"]
    return response


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
    call = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    tool = {"type": "function_call_output", "call_id": "call_1", "output": "42", "id": "item_tool"}
    for item in (assistant, call, tool):
        events = send(core, {"type": "conversation.item.create", "item": item})
        assert types_of(events) == ["conversation.item.added", "conversation.item.done"]
    types = [i["type"] for i in core.conversation.items()]
    assert types == ["message", "function_call", "function_call_output"]
    assert core.conversation.items()[2]["id"] == "item_tool"


def test_audio_response_lifecycle_transcript_and_audio(core: SessionCore) -> None:
    say(core, "Hello there")
    events = respond(core)
    assert collapse_deltas(types_of(events)) == AUDIO_LIFECYCLE
    expected = '(local server) You said: "Hello there".'
    transcript = "".join(
        e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"
    )
    assert transcript == expected
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    assert len(audio) == 2 * SyntheticVoice().sample_count(expected)
    done = response_of(events)
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
        "rate_limits.updated",
    ]
    assert {e["type"] for e in events if e["type"].endswith(".delta")} == {
        "response.output_text.delta"
    }
    assert events[-6]["text"] == '(local server) You said: "hi".'
    assert response_of(events)["output_modalities"] == ["text"]


def test_per_response_overrides(core: SessionCore) -> None:
    say(core, "hi")
    events = respond(
        core, {"output_modalities": ["text"], "instructions": "Shout.", "metadata": {"k": "v"}}
    )
    assert "response.output_text.done" in types_of(events)
    assert response_of(events)["metadata"] == {"k": "v"}
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
    assert (
        response_of(events)["output"][0]["content"][0]["text"]
        == '(local server) You said: "aside".'
    )
    assert response_of(events)["conversation_id"] is None
    assert core.conversation.items() == before


def test_replies_refer_to_the_earlier_turn(core: SessionCore) -> None:
    say(core, "My name is Ada")
    respond(core)
    say(core, "What is my name?")
    events = respond(core)
    assert response_of(events)["output"][0]["content"][0]["transcript"] == (
        '(local server) You said: "What is my name?". Before that you said: "My name is Ada".'
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
    assert response_of(run_to_end(core))["status"] == "completed"


def test_cancel_ends_the_response_with_what_was_sent(core: SessionCore) -> None:
    say(core, "Please say something long enough to interrupt")
    send(core, {"type": "response.create"})
    core.handle_timer(core.next_deadline() or 0.0)
    sent = take_events(core)
    spoken = "".join(
        e["delta"] for e in sent if e["type"] == "response.output_audio_transcript.delta"
    )
    closing = send(core, {"type": "response.cancel"}, now=0.06)
    assert types_of(closing)[-2:] == ["response.done", "rate_limits.updated"]
    done = response_of(closing)
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
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert events[0]["item_id"] == events[1]["item"]["id"] == events[2]["item"]["id"]
    assert events[2]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert error_of(send(core, {"type": "input_audio_buffer.commit"}))["code"] == (
        "input_audio_buffer_commit_empty"
    )
    reply = respond(core)
    assert (
        response_of(reply)["output"][0]["content"][0]["transcript"]
        == '(local server) You said: "(audio)".'
    )
    assert response_of(reply)["usage"]["input_token_details"]["audio_tokens"] == 3


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
    negative = send(
        core,
        {
            "type": "conversation.item.truncate",
            "item_id": assistant["id"],
            "content_index": 0,
            "audio_end_ms": -1,
        },
    )
    assert error_of(negative)["code"] == "integer_below_min_value"
    deleted = send(core, {"type": "conversation.item.delete", "item_id": assistant["id"]})
    assert deleted[0] == {
        **deleted[0],
        "type": "conversation.item.deleted",
        "item_id": assistant["id"],
    }
    missing = send(core, {"type": "conversation.item.retrieve", "item_id": assistant["id"]})
    assert error_of(missing)["code"] == "item_not_found"


def truncate(item_id: str, audio_end_ms: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": audio_end_ms,
        **fields,
    }


def reply_audio_ms(events: list[dict[str, Any]]) -> float:
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    return len(audio) / 48


def test_a_truncate_past_the_end_is_an_unattributed_error_then_applied_at_the_end(
    core: SessionCore,
) -> None:
    """As the service: the error names no client event (``event_id`` null), and the item is
    truncated anyway, at the end of its audio, in whole milliseconds."""
    say(core, "hi")
    heard = reply_audio_ms(respond(core))
    assistant = core.conversation.items()[-1]
    end = int(heard)
    answer = send(core, truncate(assistant["id"], end + 500, event_id="evt_t"))
    assert types_of(answer) == ["error", "conversation.item.truncated"]
    assert answer[0]["error"] == {
        "type": "invalid_request_error",
        "code": "invalid_value",
        "message": f"Audio content of {end}ms is already shorter than {end + 500}ms",
        "param": None,
        "event_id": None,
    }
    assert answer[1]["audio_end_ms"] == end
    assert answer[1]["item_id"] == assistant["id"]
    assert core.conversation.items()[-1]["content"][0]["transcript"] == ""
    # the end is now where it was cut: exactly there is fine, past it is clamped again
    assert types_of(send(core, truncate(assistant["id"], end))) == ["conversation.item.truncated"]
    shorter = send(core, truncate(assistant["id"], 100))
    assert types_of(shorter) == ["conversation.item.truncated"]
    again = send(core, truncate(assistant["id"], 101))
    assert types_of(again) == ["error", "conversation.item.truncated"]
    assert again[0]["error"]["message"] == "Audio content of 100ms is already shorter than 101ms"
    assert again[1]["audio_end_ms"] == 100


ONLY_AUDIO = "Only model output audio messages can be truncated"


@pytest.mark.parametrize(
    ("case", "param"),
    [
        ("at 0 ms", "audio_end_ms"),
        ("a user message", "item_id"),
        ("a text reply", "content_index"),
        ("an assistant text item", "content_index"),
        ("a function call", "item_id"),
    ],
)
def test_only_model_output_audio_can_be_truncated(core: SessionCore, case: str, param: str) -> None:
    say(core, "hi")
    end_ms = 100
    if case == "at 0 ms":
        respond(core)
        end_ms = 0
    elif case == "a text reply":
        respond(core, {"output_modalities": ["text"]})
    elif case == "an assistant text item":
        item = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "typed"}],
        }
        send(core, {"type": "conversation.item.create", "item": item})
    elif case == "a function call":
        call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}
        send(core, {"type": "conversation.item.create", "item": call})
    target = core.conversation.items()[-1]
    before = json.loads(json.dumps(target))
    error = error_of(send(core, truncate(target["id"], end_ms, event_id="evt_t")))
    assert error == {
        "type": "invalid_request_error",
        "code": "unsupported_content_type",
        "message": ONLY_AUDIO,
        "param": param,
        "event_id": "evt_t",
    }
    assert core.conversation.items()[-1] == before


def test_an_audio_reply_cancelled_before_any_audio_cannot_be_truncated(core: SessionCore) -> None:
    say(core, "hi")
    send(core, {"type": "response.create"})
    send(core, {"type": "response.cancel"})
    reply = core.conversation.items()[-1]
    assert reply["role"] == "assistant"
    assert error_of(send(core, truncate(reply["id"], 50)))["message"] == ONLY_AUDIO


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


# ---- turn detection and transcription ----------------------------------------------------------


def stream(core: SessionCore, pcm: bytes, block_ms: int = 20) -> list[dict[str, Any]]:
    """Append ``pcm`` in ``block_ms`` blocks, as a microphone would; the events it caused."""
    step = 2 * 24 * block_ms
    events: list[dict[str, Any]] = []
    for start in range(0, len(pcm), step):
        chunk = encode_b64(pcm[start : start + step])
        events += send(core, {"type": "input_audio_buffer.append", "audio": chunk})
    return events


def detection(**settings: Any) -> dict[str, Any]:
    return {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"turn_detection": settings}}},
    }


TURN_EVENTS = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.created",
    "conversation.item.added",
    "conversation.item.done",
]


def test_server_vad_commits_the_utterance_and_answers(core: SessionCore) -> None:
    events = stream(core, silence(1000) + tone(800) + silence(400))
    assert collapse_deltas(types_of(events))[: len(TURN_EVENTS)] == TURN_EVENTS
    started, stopped, committed = events[0], events[1], events[2]
    assert started["audio_start_ms"] == 1000 - 300  # default prefix padding
    assert stopped["audio_end_ms"] == 1800 + 200  # default silence duration
    assert started["item_id"] == stopped["item_id"] == committed["item_id"]
    assert events[3]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert core._audio_ms[committed["item_id"]] == 2000 - 700  # exactly the detected span
    assert types_of(events)[len(TURN_EVENTS)] == "response.created"
    reply = run_to_end(core)
    assert (
        response_of(reply)["output"][0]["content"][0]["transcript"]
        == '(local server) You said: "(audio)".'
    )


def test_idle_silence_is_not_kept(core: SessionCore) -> None:
    stream(core, silence(10_000))
    assert core.input_audio.duration_ms <= 300 + 20  # the prefix padding (and one block)


def test_vad_without_create_response_only_commits(core: SessionCore) -> None:
    send(core, detection(type="server_vad", create_response=False, silence_duration_ms=500))
    events = stream(core, tone(300) + silence(600))
    assert types_of(events) == TURN_EVENTS
    assert events[1]["audio_end_ms"] == 800


def test_speech_during_a_response_cancels_it_as_turn_detected() -> None:
    core = new_core(realtime_factor=1.0)  # the reply is still playing when the user speaks
    take_events(core)
    stream(core, tone(500) + silence(300))
    assert core.active_response_id is not None
    events = stream(core, tone(100))
    assert types_of(events)[0] == "input_audio_buffer.speech_started"
    assert "response.done" in types_of(events)
    done = response_of(events)
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert core.active_response_id is None


def test_interrupt_response_false_lets_the_response_finish() -> None:
    core = new_core(realtime_factor=1.0)
    take_events(core)
    send(core, detection(type="server_vad", interrupt_response=False))
    stream(core, tone(500) + silence(300))
    events = stream(core, tone(300) + silence(300))
    assert "response.done" not in types_of(events)
    assert "input_audio_buffer.committed" in types_of(events)  # the turn is still taken
    assert core.active_response_id is not None


def test_semantic_vad_behaves_as_server_vad(core: SessionCore) -> None:
    updated = send(core, detection(type="semantic_vad", eagerness="high"))
    assert updated[0]["session"]["audio"]["input"]["turn_detection"]["eagerness"] == "high"
    events = stream(core, tone(300) + silence(300))
    assert types_of(events)[:2] == TURN_EVENTS[:2]
    assert events[1]["audio_end_ms"] == 300 + 250


def test_turn_detection_null_means_manual_commit(core: SessionCore) -> None:
    send(
        core,
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        },
    )
    assert stream(core, tone(300) + silence(600)) == []
    assert core.input_audio.duration_ms == 900
    assert types_of(send(core, {"type": "input_audio_buffer.commit"}))[0] == (
        "input_audio_buffer.committed"
    )


def test_input_clock_runs_across_turns_and_vad_off_periods(core: SessionCore) -> None:
    first = stream(core, tone(200) + silence(300))
    run_to_end(core)
    assert first[0]["audio_start_ms"] == 0
    send(core, detection())  # null would stop VAD; a new object restarts it with the clock
    later = stream(core, silence(500) + tone(200) + silence(300))
    assert later[0]["audio_start_ms"] == 500 + 500 - 300


def test_input_transcription_describes_the_audio(core: SessionCore) -> None:
    transcribe = {"model": "whisper-1"}
    send(
        core,
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"transcription": transcribe}}},
        },
    )
    events = stream(core, tone(1000) + silence(300))
    kinds = types_of(events)
    deltas = [e["delta"] for e in events if e["type"].endswith("transcription.delta")]
    completed = events[kinds.index("conversation.item.input_audio_transcription.completed")]
    assert "".join(deltas) == completed["transcript"] == "(1.2 seconds of speech, not recognised)"
    assert completed["usage"] == {"type": "duration", "seconds": 1.2}
    assert kinds.index("conversation.item.done") < kinds.index("response.created")
    reply = run_to_end(core)
    assert response_of(reply)["output"][0]["content"][0]["transcript"] == (
        '(local server) You said: "(1.2 seconds of speech, not recognised)".'
    )


def test_manual_commit_of_silence_is_described_as_silence(core: SessionCore) -> None:
    send(
        core,
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {
                    "input": {"turn_detection": None, "transcription": {"model": "whisper-1"}}
                },
            },
        },
    )
    stream(core, silence(250))
    events = send(core, {"type": "input_audio_buffer.commit"})
    assert events[-1]["transcript"] == "(0.2 seconds of silence)"


def test_append_errors_keep_the_session(core: SessionCore) -> None:
    odd = send(core, {"type": "input_audio_buffer.append", "audio": encode_b64(b"\x01\x02\x03")})
    assert error_of(odd)["code"] == "invalid_value"
    assert "even number of bytes" in error_of(odd)["message"]
    bad = send(
        core, {"type": "input_audio_buffer.append", "audio": "not base64!", "event_id": "e1"}
    )
    assert error_of(bad)["event_id"] == "e1"
    assert error_of(bad)["param"] == "audio"
    short = stream(core, silence(50))
    assert short == []
    assert error_of(send(core, {"type": "input_audio_buffer.commit"}))["code"] == (
        "input_audio_buffer_commit_empty"
    )


def test_idle_timeout_answers_after_quiet_following_a_response(core: SessionCore) -> None:
    send(core, detection(type="server_vad", idle_timeout_ms=1000))
    stream(core, silence(400))
    say(core, "hi")
    respond(core)  # finishes at input clock 400 ms
    assert stream(core, silence(980)) == []
    events = stream(core, silence(40))
    assert types_of(events)[:6] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    assert (events[0]["audio_start_ms"], events[0]["audio_end_ms"]) == (400, 1400)
    assert events[0]["item_id"] == events[1]["item_id"]
    run_to_end(core)
    speech = stream(core, silence(500) + tone(200) + silence(600))
    assert "input_audio_buffer.timeout_triggered" not in types_of(speech)  # speech came first


def test_no_idle_timeout_unless_configured(core: SessionCore) -> None:
    say(core, "hi")
    respond(core)
    assert stream(core, silence(5000)) == []


# ---- the context bound ---------------------------------------------------------------------


def bounded_core(max_context_bytes: int) -> SessionCore:
    created = SessionCore(
        model="gpt-realtime",
        pacing=Pacing(realtime_factor=4.0),
        ids=IdFactory(random.Random(1)),
        max_context_bytes=max_context_bytes,
    )
    take_events(created)
    return created


def weighed(core: SessionCore) -> int:
    return sum(item_bytes(item) for item in core.conversation.items())


def test_items_past_the_context_bound_are_an_error_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = bounded_core(20_000)
    text = "x" * 6000
    for _ in range(3):
        assert types_of(say(core, text)) == ["conversation.item.added", "conversation.item.done"]
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    for attempt in ("evt_big_1", "evt_big_2"):
        refused = send(
            core, {"type": "conversation.item.create", "event_id": attempt, "item": item}
        )
        error = error_of(refused)
        assert (error["code"], error["param"], error["event_id"]) == (
            "context_length_exceeded",
            "item",
            attempt,
        )
        assert error["type"] == "invalid_request_error"
    assert len(core.conversation) == 3 and core.conversation.total_bytes <= 20_000
    # A full context does not stop a turn: the reply is the server's and is only counted.
    assert response_of(respond(core))["status"] == "completed"
    first = core.conversation.items()[0]["id"]
    send(core, {"type": "conversation.item.delete", "item_id": first})
    assert types_of(say(core, text)) == ["conversation.item.added", "conversation.item.done"]
    logged = [r for r in caplog.records if "max_context_bytes" in r.getMessage()]
    assert len(logged) == 1  # once per session, however often the client tries


def test_the_context_weight_follows_every_change_to_the_items() -> None:
    core = bounded_core(10_000_000)
    transcribe = {"model": "whisper-1"}
    session = {"type": "realtime", "audio": {"input": {"transcription": transcribe}}}
    send(core, {"type": "session.update", "session": session})
    stream(core, tone(600) + silence(300))  # a committed, transcribed item, then a reply
    run_to_end(core)
    say(core, "some text")
    respond(core)
    assert core.conversation.total_bytes == weighed(core)
    reply = core.conversation.items()[-1]
    before = core.conversation.total_bytes
    send(
        core,
        {
            "type": "conversation.item.truncate",
            "item_id": reply["id"],
            "content_index": 0,
            "audio_end_ms": 100,
        },
    )
    assert core.conversation.total_bytes == weighed(core) < before  # the transcript went
    send(core, {"type": "conversation.item.delete", "item_id": reply["id"]})
    assert core.conversation.total_bytes == weighed(core)


@pytest.mark.parametrize("field", ["prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"])
def test_vad_durations_past_float_range_are_accepted_and_the_session_goes_on(
    core: SessionCore, field: str
) -> None:
    """The SDK allows any integer there; ``10**309`` once overflowed the sample arithmetic."""
    assert types_of(send(core, detection(type="server_vad", **{field: 10**309}))) == [
        "session.updated"
    ]
    say(core, "hi")
    respond(core)
    assert "error" not in types_of(stream(core, silence(300) + tone(300) + silence(2000)))
