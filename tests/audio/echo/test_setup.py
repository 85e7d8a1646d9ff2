"""What ``audio.aec`` / ``audio.echo_guard`` turn on, and the status line that says so."""

from __future__ import annotations

import dataclasses

import pytest

from realtime_console.audio.echo import EchoCancellerUnavailable, webrtc
from realtime_console.audio.echo.reference import FarEndTap
from realtime_console.audio.echo.setup import looks_like_headset, plan_echo
from realtime_console.config import AudioSettings


def audio(**changes: object) -> AudioSettings:
    return dataclasses.replace(AudioSettings(), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "Jabra Evolve2 Headset",
        "WH-1000XM4 Hands-Free AG Audio",
        "AirPods Pro",
        "Headphones (Realtek)",
        "Galaxy Buds2",
        "bluez_sink.XX.handsfree_head_unit",
    ],
)
def test_headset_names_are_recognised(name: str) -> None:
    assert looks_like_headset(name)


@pytest.mark.parametrize("name", ["MacBook Pro Speakers", "Built-in Audio Analog Stereo", None])
def test_speaker_names_are_not(name: str | None) -> None:
    assert not looks_like_headset(name)


def test_auto_is_on_for_speakers_when_installed_and_says_so() -> None:
    plan = plan_echo(audio(), "MacBook Pro Speakers", installed=True)
    assert plan.cancel and not plan.guard
    assert plan.status == "echo cancellation on (output: MacBook Pro Speakers)"


def test_auto_is_off_for_a_headset_and_says_why() -> None:
    plan = plan_echo(audio(), "Jabra Evolve2 Headset", installed=True)
    assert not plan.cancel
    assert plan.status == "echo cancellation off: Jabra Evolve2 Headset looks like a headset"


def test_auto_without_the_extra_is_off_with_the_pip_command() -> None:
    plan = plan_echo(audio(), None, installed=False)
    assert not plan.cancel
    assert "pip install 'realtime-console[aec]'" in plan.status


def test_on_and_off_are_obeyed_and_the_guard_and_delay_are_carried() -> None:
    plan = plan_echo(audio(aec="on", aec_delay_ms="120"), "AirPods", installed=False)
    assert plan.cancel and plan.extra_delay_ms == 120
    off = plan_echo(audio(aec="off", echo_guard=True), None, installed=True)
    assert not off.cancel and off.guard
    assert off.status == "echo cancellation off (audio.aec = off); echo guard on"


def test_on_without_the_library_fails_with_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webrtc, "MODULE", "pywebrtc_audio_not_installed")
    plan = plan_echo(audio(aec="on"), None, installed=False)
    with pytest.raises(EchoCancellerUnavailable) as caught:
        plan.stage(FarEndTap(), audio(aec="on"))
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith("pip install 'realtime-console[aec]'")


@pytest.mark.parametrize("kind", ["near_field", "far_field"])
def test_the_service_noise_reduction_goes_into_session_update(kind: str) -> None:
    from realtime_console.config import SessionSettings
    from realtime_console.protocol.schema import validate_client_event
    from realtime_console.protocol.session import build_session

    settings = dataclasses.replace(SessionSettings(), input_audio_noise_reduction=kind)  # type: ignore[arg-type]
    session = build_session(settings)
    assert session["audio"]["input"]["noise_reduction"] == {"type": kind}
    validate_client_event({"type": "session.update", "session": session})  # the SDK's types
    off = build_session(SessionSettings())
    assert "noise_reduction" not in off["audio"]["input"]  # "off": the service's default
