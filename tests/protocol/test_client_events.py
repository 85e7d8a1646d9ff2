from __future__ import annotations

import pytest

from realtime_console.config import SessionSettings, TurnDetection
from realtime_console.protocol import client_events as ce
from realtime_console.protocol import pcm
from realtime_console.protocol.schema import SchemaError, validate_client_event
from realtime_console.protocol.session import build_session

ALL_BUILDERS = [
    ce.session_update(build_session(SessionSettings())),
    ce.user_text_item("hello"),
    ce.response_create(),
    ce.response_create(instructions="be brief", output_modalities=["text"]),
    ce.response_cancel(),
    ce.response_cancel("resp_1"),
    ce.input_audio_append(b"\x00\x01" * 480),
    ce.input_audio_commit(),
    ce.input_audio_clear(),
    ce.item_truncate("item_1", 1234),
    ce.item_delete("item_1"),
    ce.item_retrieve("item_1"),
]


@pytest.mark.parametrize("event", ALL_BUILDERS, ids=lambda e: str(e["type"]))
def test_every_builder_matches_the_sdk_type(event: dict[str, object]) -> None:
    validate_client_event(event)


def test_event_ids_are_unique() -> None:
    ids = {ce.response_create()["event_id"] for _ in range(1000)}
    assert len(ids) == 1000


def test_truncate_never_sends_negative_audio_end() -> None:
    assert ce.item_truncate("item_1", -5)["audio_end_ms"] == 0


def test_append_carries_base64_pcm() -> None:
    event = ce.input_audio_append(b"\x01\x02\x03\x04")
    assert pcm.decode_b64(event["audio"]) == b"\x01\x02\x03\x04"


def test_schema_names_the_bad_field() -> None:
    with pytest.raises(SchemaError, match="audio_end_ms"):
        validate_client_event({"type": "conversation.item.truncate", "item_id": "x"})


def test_default_session_is_seed_003() -> None:
    session = build_session(SessionSettings())
    audio_in = session["audio"]["input"]
    assert audio_in["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
        "create_response": True,
        "interrupt_response": True,
    }
    assert audio_in["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "alloy",
    }
    assert audio_in["transcription"] == {"model": "whisper-1"}
    assert session["output_modalities"] == ["audio"]


def test_push_to_talk_turns_detection_off() -> None:
    settings = SessionSettings(turn_detection=TurnDetection(type="none"))
    session = build_session(settings)
    assert session["audio"]["input"]["turn_detection"] is None
    validate_client_event(ce.session_update(session))


def test_semantic_vad_and_no_transcription() -> None:
    settings = SessionSettings(
        turn_detection=TurnDetection(type="semantic_vad", eagerness="high"),
        input_transcription_model=None,
    )
    session = build_session(settings)
    assert session["audio"]["input"]["turn_detection"]["eagerness"] == "high"
    assert "transcription" not in session["audio"]["input"]
    validate_client_event(ce.session_update(session))
