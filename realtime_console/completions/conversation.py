"""A multi-turn audio chat as chat-completions messages (pure; the clock is passed in).

Chat completions keep no state on the service: every request carries the whole conversation.
An earlier spoken reply is referred to by its ``audio.id`` while the service still holds it
(``{"role": "assistant", "audio": {"id": …}}``: the model hears its own voice again, and the
request stays small), and by its transcript once the id has expired or the service said
``audio_not_found``.

A user turn's audio, though, has no id: it is sent again, as base64, in every later request.
The service takes at most 20 MB of input audio per request, so the conversation refuses a turn
that would take it past that and asks for ``/reset`` instead (the request would only be refused
after the upload). Base64 makes the body a third larger still.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from realtime_console.audio.input_file import MAX_INPUT_BYTES, PreparedInput
from realtime_console.completions.errors import CompletionsError
from realtime_console.completions.types import AudioReply

# An id used this close to its expiry could expire while the request is in flight (uploads of
# long audio take a while), so it is replaced by the transcript a little early.
EXPIRY_MARGIN_S = 30.0


@dataclass(frozen=True)
class _UserTurn:
    text: str | None
    audio: PreparedInput | None

    def message(self) -> dict[str, Any]:
        if self.audio is None:
            return {"role": "user", "content": self.text or ""}
        parts: list[dict[str, Any]] = []
        if self.text:
            parts.append({"type": "text", "text": self.text})
        data = base64.b64encode(self.audio.data).decode("ascii")
        parts.append(
            {"type": "input_audio", "input_audio": {"data": data, "format": self.audio.format}}
        )
        return {"role": "user", "content": parts}


@dataclass
class _ReplyTurn:
    reply: AudioReply
    by_id: bool  # False once the id was forgotten: go by transcript

    def message(self, now: float) -> dict[str, Any]:
        reply = self.reply
        live = reply.expires_at is None or now < reply.expires_at - EXPIRY_MARGIN_S
        if self.by_id and reply.audio_id and live:
            return {"role": "assistant", "audio": {"id": reply.audio_id}}
        return {"role": "assistant", "content": reply.text}


class AudioConversation:
    def __init__(self, instructions: str | None = None) -> None:
        self.instructions = instructions
        self._turns: list[_UserTurn | _ReplyTurn] = []
        self._ids_forgotten = False

    @property
    def turns(self) -> int:
        """User turns held (a turn still waiting for its reply included)."""
        return sum(isinstance(turn, _UserTurn) for turn in self._turns)

    @property
    def input_audio_bytes(self) -> int:
        """Input audio every request of this conversation now carries."""
        return sum(
            len(turn.audio.data)
            for turn in self._turns
            if isinstance(turn, _UserTurn) and turn.audio is not None
        )

    def add_user(self, text: str | None = None, audio: PreparedInput | None = None) -> None:
        """A user turn: text, audio, or both. ``CompletionsError`` (and nothing added) when its
        audio would take the conversation past the service's limit."""
        if not text and audio is None:
            raise ValueError("a user turn needs text or audio")
        if audio is not None:
            total = self.input_audio_bytes + len(audio.data)
            if total > MAX_INPUT_BYTES:
                raise CompletionsError(
                    f"the conversation's input audio would be {total / 1024 / 1024:.1f} MB, over "
                    f"the {MAX_INPUT_BYTES // 1024 // 1024} MB a request may carry (every turn's "
                    "audio is sent again each time); /reset to start a new conversation"
                )
        self._turns.append(_UserTurn(text, audio))

    def add_reply(self, reply: AudioReply) -> None:
        self._turns.append(_ReplyTurn(reply, by_id=not self._ids_forgotten))

    def messages(self, now: float) -> tuple[dict[str, Any], ...]:
        """The request's messages at unix time ``now``."""
        out: list[dict[str, Any]] = []
        if self.instructions:
            out.append({"role": "system", "content": self.instructions})
        for turn in self._turns:
            out.append(turn.message(now) if isinstance(turn, _ReplyTurn) else turn.message())
        return tuple(out)

    def forget_audio_ids(self) -> int:
        """After ``AudioNotFound``: every reply, earlier and later, goes by transcript from now
        on (a service that lost one id may lose the next). How many ids were dropped."""
        self._ids_forgotten = True
        dropped = 0
        for turn in self._turns:
            if isinstance(turn, _ReplyTurn) and turn.by_id and turn.reply.audio_id:
                turn.by_id = False
                dropped += 1
        return dropped

    def pop_last_user(self) -> None:
        """Drop the last user turn if no reply follows it: a failed turn is not kept."""
        if self._turns and isinstance(self._turns[-1], _UserTurn):
            self._turns.pop()

    def reset(self) -> None:
        self._turns.clear()
        self._ids_forgotten = False
