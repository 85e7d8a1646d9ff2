from __future__ import annotations

import pytest

from realtime_console.protocol.turns import TurnTracker, heard_text
from realtime_console.ui.view import TalkState


def state(turns: TurnTracker) -> TalkState:
    return turns.state  # read through a call: each assert looks afresh (and mypy agrees)


def test_a_voice_turn_walks_through_every_state_and_measures_latency() -> None:
    turns = TurnTracker()
    assert state(turns) is TalkState.CONNECTING
    assert turns.ready() and state(turns) is TalkState.LISTENING
    assert turns.speech_started() and state(turns) is TalkState.USER_SPEAKING
    assert turns.speech_stopped(10.0) and state(turns) is TalkState.THINKING
    turns.response_created("r1")
    changed, latency = turns.audio("r1", 10.35)
    assert changed and state(turns) is TalkState.ASSISTANT_SPEAKING
    assert latency == pytest.approx(350.0)
    assert turns.audio("r1", 10.5) == (False, None)  # only the first delta counts
    assert not turns.response_done("r1", playing=True)  # still audible
    assert turns.playback_idle() and state(turns) is TalkState.LISTENING


def test_latency_is_reported_once_per_turn_and_not_without_a_stop() -> None:
    turns = TurnTracker()
    turns.ready()
    turns.response_created("r1")
    assert turns.audio("r1", 1.0)[1] is None  # a response nobody spoke for (e.g. typed)
    turns.speech_started()
    turns.speech_stopped(2.0)
    assert turns.audio("r2", 2.2)[1] == pytest.approx(200.0)
    assert turns.audio("r3", 2.4)[1] is None


def test_playback_idle_waits_while_a_response_is_still_generating() -> None:
    turns = TurnTracker()
    turns.ready()
    turns.response_created("r1")
    turns.audio("r1", 0.0)
    assert not turns.playback_idle()  # a gap between deltas is not the end
    assert state(turns) is TalkState.ASSISTANT_SPEAKING
    turns.response_done("r1", playing=True)
    assert turns.playback_idle()


def test_a_response_without_audio_returns_to_listening() -> None:
    turns = TurnTracker()
    turns.ready()
    turns.speech_started()
    turns.speech_stopped(0.0)
    turns.response_created("r1")
    assert turns.response_done("r1", playing=False)
    assert state(turns) is TalkState.LISTENING


def test_speech_over_the_assistant_is_user_speaking_and_abandoned_turn_listens() -> None:
    turns = TurnTracker()
    turns.ready()
    turns.audio("r1", 0.0)
    assert turns.speech_started() and state(turns) is TalkState.USER_SPEAKING
    assert turns.turn_abandoned() and state(turns) is TalkState.LISTENING
    assert not turns.turn_abandoned()


def test_reconnecting_then_ready() -> None:
    turns = TurnTracker()
    turns.ready()
    assert turns.reconnecting() and state(turns) is TalkState.RECONNECTING
    assert turns.ready() and state(turns) is TalkState.LISTENING


@pytest.mark.parametrize(
    ("heard", "received", "expected"),
    [
        (0, 1000, ""),
        (1000, 0, ""),
        (1000, 1000, "Hello there, how are you today?"),
        (2000, 1000, "Hello there, how are you today?"),
        (520, 1000, "Hello there, how"),  # 16 of 31 characters: "how" ends there
        (500, 1000, "Hello there,"),  # 15 characters: half of "how", backed up to the word
        (100, 1000, ""),  # inside the first word: nothing whole was heard
        (390, 1000, "Hello there,"),  # lands on the space after "there,"
    ],
)
def test_heard_text_keeps_the_heard_fraction_cut_at_a_word(
    heard: float, received: float, expected: str
) -> None:
    assert heard_text("Hello there, how are you today?", heard, received) == expected
