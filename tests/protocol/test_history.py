"""The conversation mirror behind reconnects: what it records and what it would re-create."""

from __future__ import annotations

from typing import Any

from realtime_console.protocol.history import ConversationHistory, new_item_id
from realtime_console.protocol.schema import validate_client_event


def user_text(item_id: str, text: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }


def user_audio(item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": None}],
    }


def reply(item_id: str, transcript: str | None = None) -> dict[str, Any]:
    content = [] if transcript is None else [{"type": "output_audio", "transcript": transcript}]
    return {"id": item_id, "type": "message", "role": "assistant", "content": content}


def feed(history: ConversationHistory, *events: dict[str, Any]) -> None:
    for event in events:
        history(event)


def added(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "conversation.item.added", "item": item}


def done(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "conversation.item.done", "item": item}


def restored(history: ConversationHistory) -> list[tuple[str, str, str]]:
    plan = history.restore_plan()
    for event in plan.events:
        validate_client_event(event)
    return [
        (e["item"]["id"], e["item"]["role"], e["item"]["content"][0]["text"]) for e in plan.events
    ]


def test_a_conversation_is_restored_in_order_as_text() -> None:
    history = ConversationHistory()
    feed(
        history,
        added(user_text("u1", "hi")),
        done(user_text("u1", "hi")),
        {"type": "response.output_item.added", "item": reply("a1")},
        added(reply("a1")),
        {"type": "response.output_audio_transcript.done", "item_id": "a1", "transcript": "Hey."},
        done(reply("a1", "Hey.")),
        added(user_audio("u2")),
        done(user_audio("u2")),
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "u2",
            "content_index": 0,
            "transcript": "how are you",
        },
    )
    assert restored(history) == [
        ("u1", "user", "hi"),
        ("a1", "assistant", "Hey."),
        ("u2", "user", "how are you"),
    ]
    assert history.restore_plan().skipped == 0
    assert [e["item"]["content"][0]["type"] for e in history.restore_plan().events] == [
        "input_text",
        "output_text",
        "input_text",
    ]


def test_a_transcript_that_arrives_before_the_done_echo_is_kept() -> None:
    history = ConversationHistory()
    feed(
        history,
        added(user_audio("u1")),
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "u1",
            "transcript": "early",
        },
        done(user_audio("u1")),  # transcript None in the echo: must not erase "early"
    )
    assert restored(history) == [("u1", "user", "early")]


def test_unrestorable_items_are_skipped_and_counted() -> None:
    history = ConversationHistory()
    feed(
        history,
        added(user_audio("u1")),  # no transcript ever came
        added(reply("a1")),  # cut off: never done
        {"type": "response.output_audio_transcript.delta", "item_id": "a1", "delta": "Par"},
        added({"id": "f1", "type": "function_call", "name": "x", "arguments": "{}"}),
        added(user_text("u2", "still here")),
    )
    plan = history.restore_plan()
    assert restored(history) == [("u2", "user", "still here")]
    assert plan.skipped == 3


def test_deleted_and_truncated_items() -> None:
    history = ConversationHistory()
    feed(
        history,
        added(user_text("u1", "one")),
        done(reply("a1", "A long answer")),
        added(user_text("u2", "two")),
        {"type": "conversation.item.deleted", "item_id": "u2"},
        {"type": "conversation.item.truncated", "item_id": "a1", "audio_end_ms": 300},
    )
    assert not history.has("u2")
    # The service keeps only the heard audio of a truncated reply, which cannot be re-sent.
    assert restored(history) == [("u1", "user", "one")]
    assert history.restore_plan().skipped == 1


def test_clear_and_the_echo_of_restored_items_refill_it() -> None:
    history = ConversationHistory()
    feed(history, added(user_text("u1", "one")), done(reply("a1", "Yes.")))
    plan = history.restore_plan()
    history.clear()
    assert history.items == [] and not history.has("u1")
    for event in plan.events:  # the new server echoes what was created
        feed(history, added(event["item"]), done(event["item"]))
    assert restored(history) == [("u1", "user", "one"), ("a1", "assistant", "Yes.")]


def test_a_long_conversation_keeps_its_last_items_and_counts_the_rest() -> None:
    history = ConversationHistory(max_items=3)
    for n in range(5):
        feed(history, added(user_text(f"u{n}", f"m{n}")))
    assert [item_id for item_id, _, _ in restored(history)] == ["u2", "u3", "u4"]
    assert history.restore_plan().skipped == 2


def test_events_it_does_not_know_and_malformed_ones_are_ignored() -> None:
    history = ConversationHistory()
    feed(
        history,
        {"type": "response.output_audio.delta", "delta": "AAAA"},
        {"type": "conversation.item.added"},
        {"type": "conversation.item.added", "item": {"type": "message"}},
        {"type": "conversation.item.input_audio_transcription.completed", "item_id": "nope"},
    )
    assert history.items == []


def test_new_item_ids_are_unique_and_short() -> None:
    ids = {new_item_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) <= 32 for i in ids)
