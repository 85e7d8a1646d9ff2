"""Every client event type, valid and invalid, through the real SDK on one connection.

Each event the server sends is validated against ``RealtimeServerEvent`` by ``EventRecorder``;
every invalid input must get exactly an ``error`` naming the offending event, and the connection
must survive to the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openai import AsyncOpenAI

from realtime_console.protocol.pcm import encode_b64
from realtime_console.server import LocalServer
from realtime_console.server.core import KNOWN_CLIENT_EVENTS
from realtime_console.server.testing import EventRecorder, types_of
from tests.server.test_vad import silence, tone

API_KEY = "test-key-0123456789"


def user_text(text: str, item_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }
    if item_id:
        item["id"] = item_id
    return item


def update(**session: Any) -> dict[str, Any]:
    return {"type": "session.update", "session": {"type": "realtime", **session}}


@dataclass
class Case:
    event: dict[str, Any] | str | bytes  # str/bytes: sent as a raw frame
    until: tuple[str, ...] = ()  # the answer ends with one of these; () = no answer
    code: str | None = None  # an error is expected, with this code
    expect: list[str] = field(default_factory=list)  # these types must be among the answer


PCM_200MS = encode_b64(tone(200))
CASES: list[Case] = [
    # session
    Case(update(audio={"output": {"voice": "echo"}}), ("session.updated",)),
    Case(
        update(audio={"input": {"turn_detection": None, "transcription": {"model": "whisper-1"}}}),
        ("session.updated",),
    ),
    Case(update(audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}}}), code="x"),
    Case(update(audio={"output": {"voice": "nobody"}}), code="invalid_value"),
    Case(
        update(audio={"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}}),
        code="decimal_above_max_value",
    ),
    Case(update(audio={"input": {"turn_detection": {"type": "magic"}}}), code="x"),
    Case(update(instructions=5), code="invalid_type"),
    # conversation items
    Case(
        {"type": "conversation.item.create", "item": user_text("one", "item_walk1")},
        ("conversation.item.done",),
    ),
    Case(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "two"}],
            },
        },
        ("conversation.item.done",),
    ),
    Case(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        },
        ("conversation.item.done",),
    ),
    Case(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "c1", "output": "42"},
        },
        ("conversation.item.done",),
    ),
    Case(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": PCM_200MS}],
            },
        },
        ("conversation.item.done",),
    ),
    Case({"type": "conversation.item.create"}, code="missing_required_parameter"),
    Case(
        {"type": "conversation.item.create", "item": {"type": "message", "role": "robot"}},
        code="x",
    ),
    Case(
        {"type": "conversation.item.create", "item": user_text("dup", "item_walk1")},
        code="invalid_value",
    ),
    Case(
        {"type": "conversation.item.retrieve", "item_id": "item_walk1"},
        ("conversation.item.retrieved",),
    ),
    Case({"type": "conversation.item.retrieve", "item_id": "item_nope"}, code="item_not_found"),
    Case(
        {"type": "conversation.item.delete", "item_id": "item_walk1"},
        ("conversation.item.deleted",),
    ),
    Case({"type": "conversation.item.delete", "item_id": "item_walk1"}, code="item_not_found"),
    Case(
        {
            "type": "conversation.item.truncate",
            "item_id": "nope",
            "content_index": 0,
            "audio_end_ms": 0,
        },
        code="item_not_found",
    ),
    # input audio buffer (turn detection is off here: manual commits)
    Case(
        {"type": "input_audio_buffer.append", "audio": encode_b64(b"\x01\x02\x03")},
        code="invalid_value",
    ),
    Case({"type": "input_audio_buffer.append", "audio": "%%%not base64%%%"}, code="invalid_value"),
    Case({"type": "input_audio_buffer.append", "audio": encode_b64(silence(50))}),
    Case({"type": "input_audio_buffer.commit"}, code="input_audio_buffer_commit_empty"),
    Case({"type": "input_audio_buffer.append", "audio": PCM_200MS}),
    Case(
        {"type": "input_audio_buffer.commit"},
        ("conversation.item.input_audio_transcription.completed",),
        expect=[
            "input_audio_buffer.committed",
            "conversation.item.created",
            "conversation.item.added",
            "conversation.item.done",
        ],
    ),
    Case({"type": "input_audio_buffer.append", "audio": PCM_200MS}),
    Case({"type": "input_audio_buffer.clear"}, ("input_audio_buffer.cleared",)),
    Case({"type": "output_audio_buffer.clear"}, code="invalid_value"),
    # responses
    Case({"type": "response.cancel"}, code="response_cancel_not_active"),
    Case({"type": "response.create"}, ("rate_limits.updated",), expect=["response.done"]),
    Case(
        {
            "type": "response.create",
            "response": {"output_modalities": ["text"], "instructions": "be brief"},
        },
        ("rate_limits.updated",),
        expect=["response.output_text.done"],
    ),
    Case({"type": "response.create", "response": {"output_modalities": ["video"]}}, code="x"),
    Case({"type": "response.create", "response": {"max_output_tokens": 0}}, code="x"),
    # garbage
    Case({"type": "foo.bar"}, code="x"),
    Case("not json at all", code="x"),
    Case("[1, 2, 3]", code="x"),
    Case(b"\xff\xfe binary", code="x"),
    Case("{}", code="x"),
]


async def test_every_client_event_type_valid_and_invalid(server: LocalServer) -> None:
    sent_types = {c.event["type"] for c in CASES if isinstance(c.event, dict)}
    assert set(KNOWN_CLIENT_EVENTS) <= sent_types | {"conversation.item.truncate"}
    client = AsyncOpenAI(
        websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=API_KEY
    )
    async with client.realtime.connect(model="gpt-realtime") as connection:
        events = EventRecorder(connection)
        await events.expect("session.created")
        for number, case in enumerate(CASES):
            event_id = f"evt_walk_{number}"
            if isinstance(case.event, dict):
                await connection.send_raw(json.dumps({**case.event, "event_id": event_id}))
            else:
                await connection.send_raw(case.event)
            if case.code is not None:
                error = await events.expect("error")
                if case.code != "x":
                    assert error["error"]["code"] == case.code, (case, error)
                if isinstance(case.event, dict) and case.event.get("type") != "foo.bar":
                    assert error["error"]["event_id"] == event_id
                continue
            if case.until:
                answer = types_of(await events.until(*case.until))
                assert "error" not in answer, (case, answer)
                for kind in case.expect:
                    assert kind in answer, (case.event, answer)
        # truncate a real assistant audio item, then too far; the connection is still fine
        await connection.response.create()
        done = [
            e for e in await events.until("rate_limits.updated") if e["type"] == "response.done"
        ]
        item_id = done[0]["response"]["output"][0]["id"]
        await connection.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=100
        )
        assert (await events.expect("conversation.item.truncated"))["audio_end_ms"] == 100
        await connection.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=900, event_id="evt_far"
        )
        error = await events.expect("error")  # naming no client event, as the service's does
        assert error["error"]["message"] == "Audio content of 100ms is already shorter than 900ms"
        assert error["error"]["event_id"] is None
        assert (await events.expect("conversation.item.truncated"))["audio_end_ms"] == 100
    assert len(events.events) > 100
