"""What ``audio.aec`` / ``audio.echo_guard`` turn on, and the status line that says so."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from realtime_console.audio.echo import EchoCancellerUnavailable, setup, webrtc
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


def test_auto_with_the_webrtc_engine_but_not_its_extra_is_off_with_the_pip_command() -> None:
    plan = plan_echo(audio(aec_engine="webrtc"), None, installed=False)
    assert not plan.cancel
    assert "pip install 'realtime-console[aec]'" in plan.status


def test_the_console_canceller_needs_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webrtc, "MODULE", "pywebrtc_audio_not_installed")
    monkeypatch.setattr(setup, "MODULE", "pywebrtc_audio_not_installed")
    assert setup.aec_installed("kalman") and not setup.aec_installed("webrtc")
    plan = plan_echo(audio(), "MacBook Pro Speakers")  # looks for the engine itself
    assert plan.cancel
    stage = plan.stage(FarEndTap(), audio())
    assert stage is not None
    try:
        # It cancels: an echo of what was played comes out far quieter than it went in.
        rng = np.random.default_rng(1)
        far = (rng.standard_normal(24_000 * 2) * 3000).astype(np.int16)
        near = np.concatenate([np.zeros(480, np.int16), far[:-480] // 4])
        canceller = stage.canceller
        assert canceller is not None
        frames = [(near[i : i + 480], far[i : i + 480]) for i in range(0, len(far), 480)]
        out = np.concatenate([canceller.process(n, f) for n, f in frames])
        tail = slice(24_000, None)  # after a second to converge
        reduction = 10 * np.log10(
            np.mean(near[tail].astype(float) ** 2) / np.mean(out[tail].astype(float) ** 2)
        )
        assert reduction >= 20
    finally:
        stage.close()


def test_noise_suppression_without_the_extra_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webrtc, "MODULE", "pywebrtc_audio_not_installed")
    settings = audio(aec="on", noise_suppression=True)
    with pytest.raises(EchoCancellerUnavailable) as caught:
        plan_echo(settings, None).stage(FarEndTap(), settings)
    assert str(caught.value).endswith("pip install 'realtime-console[aec]'")


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
    settings = audio(aec="on", aec_engine="webrtc")
    plan = plan_echo(settings, None, installed=False)
    with pytest.raises(EchoCancellerUnavailable) as caught:
        plan.stage(FarEndTap(), settings)
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
