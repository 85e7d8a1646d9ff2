"""Default session, session.update merging, and the value rules beyond the SDK types."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.realtime import SessionCreatedEvent

from realtime_console.server.service_errors import ServiceError
from realtime_console.server.session_config import (
    check_response,
    check_session_update,
    check_values,
    default_session,
    merge_session,
)


def session() -> dict[str, Any]:
    return default_session(session_id="sess_1", model="my-deployment", expires_at=1800)


def test_default_session_is_a_full_ga_session_object() -> None:
    created = SessionCreatedEvent.model_validate(
        {"type": "session.created", "event_id": "event_1", "session": session()}, strict=True
    )
    s = session()
    assert created.session.type == "realtime"
    assert (s["id"], s["object"], s["model"]) == ("sess_1", "realtime.session", "my-deployment")
    assert s["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert s["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert s["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert (s["tools"], s["tool_choice"], s["max_output_tokens"]) == ([], "auto", "inf")


def test_update_merges_audio_containers_and_replaces_the_rest() -> None:
    current = session()
    merged = merge_session(
        current,
        {"type": "realtime", "instructions": "Be brief.", "audio": {"output": {"voice": "cedar"}}},
    )
    assert merged["instructions"] == "Be brief."
    assert merged["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "cedar",
        "speed": 1.0,
    }
    assert merged["audio"]["input"] == current["audio"]["input"]
    assert current["audio"]["output"]["voice"] == "marin"  # the original is untouched


def test_a_new_turn_detection_replaces_the_old_and_gets_its_defaults() -> None:
    semantic = merge_session(
        session(), {"audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}}
    )
    assert semantic["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "auto",
        "create_response": True,
        "interrupt_response": True,
    }
    vad = merge_session(
        session(),
        {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.8}}}},
    )
    assert vad["audio"]["input"]["turn_detection"]["threshold"] == 0.8
    assert vad["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 200
    off = merge_session(session(), {"audio": {"input": {"turn_detection": None}}})
    assert off["audio"]["input"]["turn_detection"] is None


@pytest.mark.parametrize(
    ("update", "code", "param"),
    [
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}}},
            "decimal_above_max_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": -0.1}}}},
            "decimal_below_min_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            {
                "audio": {
                    "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": -1}}
                }
            },
            "integer_below_min_value",
            "session.audio.input.turn_detection.silence_duration_ms",
        ),
        (
            {"audio": {"output": {"speed": 2.0}}},
            "decimal_above_max_value",
            "session.audio.output.speed",
        ),
        ({"audio": {"output": {"voice": "nova"}}}, "invalid_value", "session.audio.output.voice"),
        (
            {"audio": {"output": {"voice": {"id": "voice_123"}}}},
            "invalid_value",
            "session.audio.output.voice",
        ),
        (
            {"audio": {"output": {"format": {"type": "audio/pcmu"}}}},
            "invalid_value",
            "session.audio.output.format.type",
        ),
        ({"max_output_tokens": 0}, "integer_below_min_value", "session.max_output_tokens"),
        ({"max_output_tokens": 5000}, "integer_above_max_value", "session.max_output_tokens"),
        ({"output_modalities": ["text", "audio"]}, "invalid_value", "session.output_modalities"),
        ({"type": "transcription"}, "invalid_value", "session.type"),
    ],
)
def test_values_the_sdk_types_allow_but_the_service_refuses(
    update: dict[str, Any], code: str, param: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        check_session_update(session(), {"type": "realtime", **update}, voice_locked=False)
    assert (caught.value.code, caught.value.param) == (code, param)


def test_in_range_values_pass() -> None:
    update = {
        "type": "realtime",
        "max_output_tokens": "inf",
        "audio": {
            "input": {
                "turn_detection": {"type": "server_vad", "threshold": 1, "prefix_padding_ms": 0}
            },
            "output": {"voice": "shimmer", "speed": 0.25},
        },
    }
    check_session_update(session(), update, voice_locked=False)


def test_the_voice_is_fixed_once_the_assistant_has_spoken() -> None:
    change = {"type": "realtime", "audio": {"output": {"voice": "echo"}}}
    with pytest.raises(ServiceError) as caught:
        check_session_update(session(), change, voice_locked=True)
    assert caught.value.code == "cannot_update_voice"
    same = {"type": "realtime", "audio": {"output": {"voice": "marin"}}}
    check_session_update(session(), same, voice_locked=True)


def test_response_overrides_use_the_response_prefix() -> None:
    with pytest.raises(ServiceError) as caught:
        check_values({"audio": {"output": {"voice": "nova"}}}, "response")
    assert caught.value.param == "response.audio.output.voice"
    assert "Supported values are: 'alloy', 'ash'," in caught.value.message


@pytest.mark.parametrize(
    ("update", "param"),
    [
        ({"audio": None}, "session.audio"),
        ({"audio": {"input": None}}, "session.audio.input"),
        ({"audio": {"output": None}}, "session.audio.output"),
    ],
)
def test_null_audio_settings_are_a_wrong_type(update: dict[str, Any], param: str) -> None:
    with pytest.raises(ServiceError) as caught:
        check_session_update(session(), {"type": "realtime", **update}, voice_locked=False)
    assert (caught.value.code, caught.value.param) == ("invalid_type", param)
    assert caught.value.message.endswith("expected an object, but got null instead.")


def test_nulls_that_clear_a_setting_are_still_accepted() -> None:
    update = {
        "type": "realtime",
        "audio": {"input": {"turn_detection": None, "transcription": None}},
    }
    check_session_update(session(), update, voice_locked=False)


@pytest.mark.parametrize(
    ("params", "param", "expected"),
    [
        ({"input": None}, "response.input", "an array"),
        ({"audio": None}, "response.audio", "an object"),
        ({"audio": {"output": None}}, "response.audio.output", "an object"),
    ],
)
def test_a_null_response_context_or_audio_is_a_wrong_type(
    params: dict[str, Any], param: str, expected: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        check_response(params)
    assert (caught.value.code, caught.value.param) == ("invalid_type", param)
    assert f"expected {expected}, but got null" in caught.value.message
