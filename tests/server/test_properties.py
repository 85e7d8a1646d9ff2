"""Property: random client event sequences, garbage included, never crash, hang or grow the core.

Drives the pure ``SessionCore`` (fast enough for hundreds of examples) with a moving clock.
Every event it emits must validate against the SDK's ``RealtimeServerEvent``; an ``error`` may
answer anything, but nothing may raise; memory is held to fixed bounds (the input buffer, the
conversation, the outbox) whatever the sequence.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_console.protocol.pcm import encode_b64
from realtime_console.server.audio_buffer import InputAudioBuffer
from realtime_console.server.core import KNOWN_CLIENT_EVENTS, SessionCore
from realtime_console.server.ids import IdFactory
from realtime_console.server.response import Pacing
from realtime_console.server.testing import take_events
from tests.server.test_vad import silence, tone

AUDIO = [encode_b64(tone(120)), encode_b64(silence(300)), encode_b64(tone(40, -60.0)), "AAA=", "@@"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)

items = st.sampled_from(
    [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "x"}]},
        {"type": "function_call_output", "call_id": "c", "output": "1"},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": AUDIO[0]}],
        },
        {"type": "message", "role": "wizard"},
    ]
)

sessions = st.sampled_from(
    [
        {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        {
            "type": "realtime",
            "audio": {
                "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 100}}
            },
        },
        {"type": "realtime", "audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}},
        {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
        {"type": "realtime", "output_modalities": ["text"]},
        {"type": "realtime", "audio": {"output": {"voice": "ash"}}},
        {
            "type": "realtime",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 7}}},
        },
    ]
)


@st.composite
def client_frames(draw: st.DrawFn) -> str | bytes:
    kind = draw(st.sampled_from([*KNOWN_CLIENT_EVENTS, "garbage", "random", "unknown"]))
    if kind == "garbage":
        return draw(st.one_of(st.text(max_size=20), st.binary(max_size=20)))
    if kind == "unknown":
        return json.dumps({"type": draw(st.text(max_size=12))})
    event: dict[str, Any] = {"type": kind}
    if kind == "random":
        event = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=4))
    elif kind == "session.update":
        event["session"] = draw(sessions)
    elif kind == "conversation.item.create":
        event["item"] = draw(items)
    elif kind in ("conversation.item.delete", "conversation.item.retrieve"):
        event["item_id"] = draw(st.sampled_from(["item_a", "root", ""]))
    elif kind == "conversation.item.truncate":
        event.update(item_id="item_a", content_index=0, audio_end_ms=draw(st.integers(-1, 9999)))
    elif kind == "input_audio_buffer.append":
        event["audio"] = draw(st.sampled_from(AUDIO))
    elif kind == "response.create":
        event["response"] = draw(
            st.sampled_from(
                [{}, {"output_modalities": ["text"]}, {"conversation": "none"}, {"voice": 3}]
            )
        )
    if draw(st.booleans()):
        event[draw(st.sampled_from(["event_id", "extra", "type"]))] = draw(json_values)
    return json.dumps(event)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=st.lists(client_frames(), max_size=40),
    steps=st.lists(st.floats(0.0, 2.0), min_size=40, max_size=40),
)
def test_random_sequences_never_break_the_core(
    frames: list[str | bytes], steps: list[float]
) -> None:
    core = SessionCore(
        model="m", pacing=Pacing(realtime_factor=8.0), ids=IdFactory(random.Random(0))
    )
    core.conversation.max_items = 12
    core.input_audio = InputAudioBuffer(max_ms=2000.0)
    now = 0.0
    emitted = len(take_events(core))
    for frame, step in zip(frames, steps, strict=False):
        now += step
        core.receive_frame(frame, now)
        outbox = take_events(core)  # validates every event
        assert len(outbox) < 1000
        emitted += len(outbox)
        assert core.input_audio.duration_ms <= 2000.0
        assert len(core.conversation) <= 12
        assert len(core._audio_ms) <= 12 + 1  # one per item (+ an active response's)
    # and it always finishes: every deadline moves forward until nothing is pending
    for _ in range(10_000):
        deadline = core.next_deadline()
        if deadline is None:
            break
        assert deadline >= 0
        now = max(now, deadline)
        core.handle_timer(now)
        take_events(core)
    assert core.next_deadline() is None
    assert emitted >= 1
