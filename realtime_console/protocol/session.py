"""Builds the ``session`` object of ``session.update`` from the console's settings.

The default is the Azure realtime quickstart's session: server VAD (0.5 / 300 ms / 200 ms,
create_response), audio/pcm 24 kHz in and out, whisper-1 input transcription. The audio format
is not a setting: the console's audio path is 24 kHz mono PCM16 end to end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realtime_console.protocol import pcm

if TYPE_CHECKING:
    from realtime_console.config import SessionSettings, TurnDetection

PCM_FORMAT: dict[str, Any] = {"type": "audio/pcm", "rate": pcm.SAMPLE_RATE}


def turn_detection_param(td: TurnDetection) -> dict[str, Any] | None:
    """The GA ``turn_detection`` object; ``None`` turns detection off (push-to-talk)."""
    if td.type == "none":
        return None
    if td.type == "semantic_vad":
        return {
            "type": "semantic_vad",
            "eagerness": td.eagerness,
            "create_response": td.create_response,
            "interrupt_response": td.interrupt_response,
        }
    param: dict[str, Any] = {
        "type": "server_vad",
        "threshold": td.threshold,
        "prefix_padding_ms": td.prefix_padding_ms,
        "silence_duration_ms": td.silence_duration_ms,
        "create_response": td.create_response,
        "interrupt_response": td.interrupt_response,
    }
    if td.idle_timeout_ms is not None:
        param["idle_timeout_ms"] = td.idle_timeout_ms
    return param


def build_session(settings: SessionSettings) -> dict[str, Any]:
    """The ``session`` payload for ``session.update`` (type ``realtime``)."""
    audio_input: dict[str, Any] = {
        "format": dict(PCM_FORMAT),
        "turn_detection": turn_detection_param(settings.turn_detection),
    }
    if settings.input_transcription_model:
        audio_input["transcription"] = {"model": settings.input_transcription_model}
    if settings.input_audio_noise_reduction != "off":
        audio_input["noise_reduction"] = {"type": settings.input_audio_noise_reduction}
    return {
        "type": "realtime",
        "instructions": settings.instructions,
        "output_modalities": list(settings.output_modalities),
        "audio": {
            "input": audio_input,
            "output": {"format": dict(PCM_FORMAT), "voice": settings.voice},
        },
    }


TOOL_CHOICE_WORDS = ("auto", "none", "required")


def tool_choice_param(choice: str) -> str | dict[str, Any]:
    """``tools.tool_choice`` as the session takes it: a word, or one function by name."""
    if choice in TOOL_CHOICE_WORDS:
        return choice
    return {"type": "function", "name": choice}


def with_tools(
    session: dict[str, Any], tools: list[dict[str, Any]], tool_choice: str
) -> dict[str, Any]:
    """``session`` with the function tools the model may call (``tools.session_tools()``
    entries) and ``tool_choice``; unchanged when there are none (the service's defaults)."""
    if not tools:
        return session
    return {**session, "tools": tools, "tool_choice": tool_choice_param(tool_choice)}
