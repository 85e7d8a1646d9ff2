from __future__ import annotations

from realtime_console.ui.tui.conversation import (
    AssistantTurn,
    Conversation,
    Notice,
    ServerError,
    UserSpeech,
    UserText,
)


def kinds(conversation: Conversation) -> list[str]:
    return [type(turn).__name__ for turn in conversation.turns]


def test_streamed_user_transcript_then_final_replaces_the_deltas() -> None:
    conv = Conversation()
    conv.user_transcript("item_1", "What's the", False)
    conv.user_transcript("item_1", " weather", False)
    (turn,) = conv.turns
    assert isinstance(turn, UserSpeech)
    assert (turn.text, turn.final) == ("What's the weather", False)
    conv.user_transcript("item_1", "What's the weather?", True)
    assert (turn.text, turn.final) == ("What's the weather?", True)
    conv.user_transcript("item_1", " late", False)  # a delta after the final changes nothing
    assert turn.text == "What's the weather?"
    assert len(conv) == 1


def test_assistant_deltas_stream_per_response_and_done_sets_status() -> None:
    conv = Conversation()
    conv.assistant_delta("r1", "Hel")
    conv.assistant_delta("r2", "Other")
    conv.assistant_delta("r1", "lo")
    conv.assistant_done("r1", "completed")
    first, second = conv.turns
    assert isinstance(first, AssistantTurn) and isinstance(second, AssistantTurn)
    assert (first.text, first.status) == ("Hello", "completed")
    assert (second.text, second.status) == ("Other", None)


def test_done_without_transcript_still_makes_a_turn_with_its_status() -> None:
    conv = Conversation()
    conv.assistant_done("r9", "failed")
    (turn,) = conv.turns
    assert isinstance(turn, AssistantTurn)
    assert (turn.text, turn.status) == ("", "failed")


def test_late_transcript_fills_the_placeholder_opened_when_speech_started() -> None:
    conv = Conversation()
    conv.speech_started()
    conv.speech_stopped()
    conv.assistant_delta("r1", "Sunny.")  # the answer starts before the transcript arrives
    conv.user_transcript("item_1", "Weather?", True)
    user, assistant = conv.turns
    assert isinstance(user, UserSpeech) and isinstance(assistant, AssistantTurn)
    assert (user.item_id, user.text, user.speaking) == ("item_1", "Weather?", False)


def test_speech_stopped_marks_open_placeholders_only() -> None:
    conv = Conversation()
    changes = conv.speech_started()
    (placeholder,) = changes.updated
    assert isinstance(placeholder, UserSpeech) and placeholder.speaking
    assert conv.speech_stopped().updated == [placeholder]
    assert not placeholder.speaking
    assert conv.speech_stopped().updated == []


def test_transcript_without_placeholder_appends_a_turn() -> None:
    conv = Conversation()
    conv.assistant_delta("r1", "Hi")
    conv.user_transcript("item_1", "hello", True)
    assert kinds(conv) == ["AssistantTurn", "UserSpeech"]


def test_cut_splits_heard_and_unheard_and_later_deltas_stay_unheard() -> None:
    conv = Conversation()
    conv.assistant_delta("r1", "Once upon a time there")
    conv.assistant_cut("r1", "Once upon", 1200)
    (turn,) = conv.turns
    assert isinstance(turn, AssistantTurn)
    assert turn.split_at_cut() == ("Once upon", " a time there")
    conv.assistant_delta("r1", " lived")
    assert turn.split_at_cut() == ("Once upon", " a time there lived")


def test_cut_text_that_is_not_a_prefix_cuts_at_its_length() -> None:
    conv = Conversation()
    conv.assistant_delta("r", "Hello  world")
    conv.assistant_cut("r", "Hello w", 500)
    (turn,) = conv.turns
    assert isinstance(turn, AssistantTurn)
    assert turn.split_at_cut() == ("Hello  ", "world")
    conv.assistant_cut("r", "far longer than the transcript so far", 900)
    assert turn.split_at_cut() == ("Hello  world", "")


def test_cut_of_an_unseen_response_makes_its_turn() -> None:
    conv = Conversation()
    conv.assistant_cut("r1", "", 80)
    (turn,) = conv.turns
    assert isinstance(turn, AssistantTurn) and turn.cut is not None
    assert turn.cut.heard_ms == 80


def test_latency_attaches_to_the_answer_it_measured() -> None:
    conv = Conversation()
    conv.user_transcript("i1", "hi", True)
    assert conv.turn_latency(640.0).updated == []  # the answer has no transcript yet
    conv.assistant_delta("r1", "Hello")
    conv.turn_latency(700.0)  # (a second report for the same answer wins)
    conv.user_transcript("i2", "and?", True)
    conv.assistant_delta("r2", "More")
    first, second = (t for t in conv.turns if isinstance(t, AssistantTurn))
    assert first.latency_ms == 700.0
    assert second.latency_ms is None


def test_pending_latency_goes_to_the_next_answer() -> None:
    conv = Conversation()
    conv.user_transcript("i1", "hi", True)
    conv.turn_latency(640.0)
    conv.assistant_delta("r1", "Hello")
    (_, answer) = conv.turns
    assert isinstance(answer, AssistantTurn) and answer.latency_ms == 640.0


def test_errors_notices_and_typed_text_append_in_order() -> None:
    conv = Conversation()
    conv.user_text("typed")
    conv.server_error("rate_limited", "slow down", "evt_1")
    conv.notice("reconnecting")
    text, error, notice = conv.turns
    assert isinstance(text, UserText) and text.text == "typed"
    assert isinstance(error, ServerError)
    assert (error.code, error.message, error.event_id) == ("rate_limited", "slow down", "evt_1")
    assert isinstance(notice, Notice) and notice.text == "reconnecting"


def test_turn_count_is_bounded_and_dropped_turns_are_forgotten() -> None:
    conv = Conversation(max_turns=3)
    conv.assistant_delta("r0", "zero")
    conv.speech_started()
    conv.notice("a")
    changes = conv.notice("b")
    assert len(conv) == 3
    assert [type(t).__name__ for t in changes.dropped] == ["AssistantTurn"]
    conv.notice("c")  # drops the placeholder: a transcript now appends instead of filling it
    conv.assistant_delta("r0", "again")  # r0 was forgotten: a new turn
    conv.user_transcript("i1", "x", True)
    assert kinds(conv) == ["Notice", "AssistantTurn", "UserSpeech"]
    keys = [turn.key for turn in conv.turns]
    assert keys == sorted(keys) and len(set(keys)) == 3
