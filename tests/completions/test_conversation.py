"""AudioConversation: earlier replies by audio id while they live, then by transcript."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from realtime_console.audio.input_file import MAX_INPUT_BYTES, PreparedInput
from realtime_console.completions.conversation import EXPIRY_MARGIN_S, AudioConversation
from realtime_console.completions.errors import AudioNotFound, CompletionsError
from realtime_console.completions.types import AudioReply, AudioRequest
from realtime_console.server.app import LocalServer
from tests.completions.conftest import client_for, needs_routes, openai_env, prepared_input, serve

NOW = 1_800_000_000.0


def reply(n: int, expires_at: int | None = int(NOW) + 3600) -> AudioReply:
    return AudioReply(
        request_id=f"req_{n}",
        completion_id=f"chatcmpl-{n}",
        text=f"reply {n}",
        audio=b"RIFF",
        audio_id=f"audio_{n}",
        expires_at=expires_at,
    )


def test_text_turns_and_instructions() -> None:
    conversation = AudioConversation("Be brief.")
    conversation.add_user("Hi")
    assert conversation.messages(NOW) == (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    )
    assert conversation.turns == 1


def test_audio_turn_is_text_and_input_audio_parts(tmp_path: Path) -> None:
    audio = prepared_input(tmp_path, 0.2)
    conversation = AudioConversation()
    conversation.add_user("What is this?", audio)
    (message,) = conversation.messages(NOW)
    assert message["role"] == "user"
    text, sound = message["content"]
    assert text == {"type": "text", "text": "What is this?"}
    assert sound["type"] == "input_audio" and sound["input_audio"]["format"] == "wav"
    import base64

    assert base64.b64decode(sound["input_audio"]["data"]) == audio.data


def test_replies_go_by_id_until_just_before_they_expire() -> None:
    conversation = AudioConversation()
    conversation.add_user("one")
    conversation.add_reply(reply(1, expires_at=int(NOW) + 100))
    conversation.add_user("two")
    by_id = {"role": "assistant", "audio": {"id": "audio_1"}}
    by_text = {"role": "assistant", "content": "reply 1"}
    assert conversation.messages(NOW)[1] == by_id
    assert conversation.messages(NOW + 100 - EXPIRY_MARGIN_S - 1)[1] == by_id
    assert conversation.messages(NOW + 100 - EXPIRY_MARGIN_S)[1] == by_text
    assert conversation.messages(NOW + 200)[1] == by_text


def test_a_reply_without_audio_goes_by_its_text() -> None:
    conversation = AudioConversation()
    conversation.add_user("one")
    conversation.add_reply(AudioReply("req_1", "chatcmpl-1", "just text"))
    assert conversation.messages(NOW)[1] == {"role": "assistant", "content": "just text"}


def test_forget_audio_ids_for_good() -> None:
    conversation = AudioConversation()
    for n in (1, 2):
        conversation.add_user(f"q{n}")
        conversation.add_reply(reply(n))
    assert conversation.forget_audio_ids() == 2
    assert conversation.forget_audio_ids() == 0
    conversation.add_user("q3")
    conversation.add_reply(reply(3))
    assistant = [m for m in conversation.messages(NOW) if m["role"] == "assistant"]
    assert assistant == [{"role": "assistant", "content": f"reply {n}"} for n in (1, 2, 3)]
    conversation.reset()
    conversation.add_user("q4")
    conversation.add_reply(reply(4))
    assert conversation.messages(NOW)[1] == {"role": "assistant", "audio": {"id": "audio_4"}}


def test_pop_last_user_drops_only_a_pending_turn() -> None:
    conversation = AudioConversation()
    conversation.add_user("one")
    conversation.add_reply(reply(1))
    conversation.pop_last_user()  # the last turn is a reply: nothing to drop
    assert conversation.turns == 1
    conversation.add_user("failed")
    conversation.pop_last_user()
    assert conversation.turns == 1 and len(conversation.messages(NOW)) == 2


def test_input_audio_over_the_request_limit_asks_for_reset(tmp_path: Path) -> None:
    big = PreparedInput(tmp_path / "big.wav", b"\0" * (MAX_INPUT_BYTES // 2 + 1), "wav", 1.0, None)
    conversation = AudioConversation()
    conversation.add_user(audio=big)
    with pytest.raises(CompletionsError, match="/reset"):
        conversation.add_user(audio=big)
    assert conversation.turns == 1
    conversation.reset()
    conversation.add_user(audio=big)


def test_a_turn_needs_something() -> None:
    with pytest.raises(ValueError):
        AudioConversation().add_user()


@needs_routes
async def test_multi_turn_by_id_against_the_server(server: LocalServer, tmp_path: Path) -> None:
    conversation = AudioConversation()
    async with client_for(openai_env(server)) as client:
        conversation.add_user("Hello")
        first = await client.complete(AudioRequest(conversation.messages(NOW)))
        conversation.add_reply(first)
        conversation.add_user("And?", prepared_input(tmp_path, 0.5))
        messages = conversation.messages(time.time())
        assert messages[1] == {"role": "assistant", "audio": {"id": first.audio_id}}
        second = await client.complete(AudioRequest(messages))
    assert second.text == (
        '(local server) I received 0.5 seconds of audio and the text: "And?". '
        "Earlier I said: \"You said: 'Hello'.\"."
    )


@needs_routes
async def test_falls_back_to_transcripts_after_audio_not_found() -> None:
    """The service lost the id before the expiry it announced: the caller forgets the ids and
    asks again, and the transcript carries the context."""
    async with serve(audio_ttl_s=0.2) as forgetful:
        conversation = AudioConversation()
        async with client_for(openai_env(forgetful)) as client:
            conversation.add_user("Hello")
            conversation.add_reply(await client.complete(AudioRequest(conversation.messages(0))))
            conversation.add_user("Again")
            # A clock that says the id is still fresh, while the server has dropped it.
            stale_now = 0.0
            await asyncio.sleep(0.3)
            with pytest.raises(AudioNotFound):
                await client.complete(AudioRequest(conversation.messages(stale_now)))
            assert conversation.forget_audio_ids() == 1
            retried = await client.complete(AudioRequest(conversation.messages(time.time())))
    assert retried.text.endswith("Earlier I said: \"You said: 'Hello'.\".")
