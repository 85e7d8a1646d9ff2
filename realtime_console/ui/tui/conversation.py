"""The conversation as the terminal UI shows it: turns in order, kept apart from any widget.

The app feeds every view call into a :class:`Conversation` whether or not the screen is mounted
yet, so nothing said before the first frame (or while the pane is hidden) is lost; the pane only
mirrors the turns this model reports as changed.

Ordering: the service transcribes the user's speech asynchronously, so the transcript of a turn
often arrives after the assistant already started answering it. To keep turns in the order they
were spoken, :meth:`Conversation.speech_started` (the talk state entering "user speaking") opens a
placeholder turn, and the next transcript of an unseen item fills the oldest open placeholder.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_TURNS = 1000
"""Turns kept (and shown); older ones are dropped so a day-long session stays bounded."""


def _now() -> float:
    return time.time()


@dataclass(eq=False)
class Turn:
    """One block of the conversation pane. ``key`` is unique and stable (the widget id)."""

    key: int
    at: float


@dataclass(eq=False)
class UserSpeech(Turn):
    item_id: str | None = None  # None: a placeholder no transcript has claimed yet
    text: str = ""
    final: bool = False
    speaking: bool = True  # the user is still talking (placeholder state)


@dataclass(eq=False)
class UserText(Turn):
    text: str = ""


@dataclass(eq=False)
class Cut:
    heard_text: str
    heard_ms: int
    talked_over_ms: float | None = None  # speech onset → silence at the listener, if known


@dataclass(eq=False)
class AssistantTurn(Turn):
    response_id: str = ""
    text: str = ""
    status: str | None = None  # None while streaming; the service's status once done
    cut: Cut | None = None
    latency_ms: float | None = None

    def split_at_cut(self) -> tuple[str, str]:
        """The transcript as (heard, unheard); everything is heard when there was no cut."""
        if self.cut is None:
            return self.text, ""
        heard = self.cut.heard_text
        # heard_text is "about" the prefix the listener heard; trust it when it is one, else
        # cut at its length so more deltas after the cut still land on the unheard side.
        split = len(heard) if self.text.startswith(heard) else min(len(heard), len(self.text))
        return self.text[:split], self.text[split:]


@dataclass(eq=False)
class ServerError(Turn):
    code: str | None = None
    message: str = ""
    event_id: str | None = None


@dataclass(eq=False)
class Notice(Turn):
    text: str = ""


@dataclass(eq=False)
class ToolEntry(Turn):
    """One function call of the model, once it ended (``tool>`` in the line views)."""

    name: str = ""
    arguments: str = ""
    outcome: str = ""  # "-> output", "failed: …", "timed out after 30 s", "declined", …
    duration_ms: float | None = None


@dataclass
class Changes:
    """What one call changed: turns to (re)draw, in order, and turns dropped off the top."""

    updated: list[Turn] = field(default_factory=list)
    dropped: list[Turn] = field(default_factory=list)


class Conversation:
    def __init__(self, max_turns: int = MAX_TURNS, clock: Callable[[], float] = _now) -> None:
        self._max_turns = max_turns
        self._clock = clock
        self._turns: deque[Turn] = deque()
        self._next_key = 0
        self._speech: dict[str, UserSpeech] = {}
        self._responses: dict[str, AssistantTurn] = {}
        self._placeholders: deque[UserSpeech] = deque()
        self._pending_latency: float | None = None

    @property
    def turns(self) -> list[Turn]:
        return list(self._turns)

    def __len__(self) -> int:
        return len(self._turns)

    # -- helpers ------------------------------------------------------------------------------

    def _append(self, make: Callable[[int, float], Turn]) -> tuple[Turn, Changes]:
        turn = make(self._next_key, self._clock())
        self._next_key += 1
        self._turns.append(turn)
        changes = Changes(updated=[turn])
        while len(self._turns) > self._max_turns:
            old = self._turns.popleft()
            self._forget(old)
            changes.dropped.append(old)
        return turn, changes

    def _forget(self, turn: Turn) -> None:
        if isinstance(turn, UserSpeech):
            if turn.item_id is not None:
                self._speech.pop(turn.item_id, None)
            if turn in self._placeholders:
                self._placeholders.remove(turn)
        elif isinstance(turn, AssistantTurn):
            self._responses.pop(turn.response_id, None)

    def _response(self, response_id: str) -> tuple[AssistantTurn, Changes]:
        existing = self._responses.get(response_id)
        if existing is not None:
            return existing, Changes(updated=[existing])
        turn, changes = self._append(
            lambda key, at: AssistantTurn(
                key, at, response_id=response_id, latency_ms=self._pending_latency
            )
        )
        self._pending_latency = None
        assert isinstance(turn, AssistantTurn)
        self._responses[response_id] = turn
        return turn, changes

    # -- what the view calls map to ----------------------------------------------------------

    def speech_started(self) -> Changes:
        """The user started speaking: hold their place in the conversation."""
        turn, changes = self._append(lambda key, at: UserSpeech(key, at))
        assert isinstance(turn, UserSpeech)
        self._placeholders.append(turn)
        return changes

    def speech_stopped(self) -> Changes:
        """The user stopped speaking: open placeholders now wait for their transcript."""
        changes = Changes()
        for turn in self._placeholders:
            if turn.speaking:
                turn.speaking = False
                changes.updated.append(turn)
        return changes

    def user_transcript(self, item_id: str, text: str, final: bool) -> Changes:
        turn = self._speech.get(item_id)
        if turn is not None:
            changes = Changes(updated=[turn])
        elif self._placeholders:
            turn = self._placeholders.popleft()
            changes = Changes(updated=[turn])
        else:
            new, changes = self._append(lambda key, at: UserSpeech(key, at))
            assert isinstance(new, UserSpeech)
            turn = new
        turn.item_id = item_id
        turn.speaking = False
        self._speech[item_id] = turn
        if final:
            turn.text = text
            turn.final = True
        elif not turn.final:
            turn.text += text
        return changes

    def user_text(self, text: str) -> Changes:
        return self._append(lambda key, at: UserText(key, at, text=text))[1]

    def assistant_delta(self, response_id: str, text: str) -> Changes:
        turn, changes = self._response(response_id)
        turn.text += text
        return changes

    def assistant_final(self, response_id: str, text: str) -> Changes:
        """The server's final text of the response replaces what the deltas said."""
        turn, changes = self._response(response_id)
        turn.text = text
        return changes

    def assistant_done(self, response_id: str, status: str) -> Changes:
        turn, changes = self._response(response_id)
        turn.status = status
        return changes

    def assistant_cut(
        self, response_id: str, heard_text: str, heard_ms: int, talked_over_ms: float | None = None
    ) -> Changes:
        turn, changes = self._response(response_id)
        turn.cut = Cut(heard_text, heard_ms, talked_over_ms)
        return changes

    def turn_latency(self, ms: float) -> Changes:
        """Attach the latency to the answer it measured: the newest assistant turn if it
        started after the user's last turn, else the next one to start."""
        for turn in reversed(self._turns):
            if isinstance(turn, UserSpeech | UserText):
                break
            if isinstance(turn, AssistantTurn):
                turn.latency_ms = ms
                return Changes(updated=[turn])
        self._pending_latency = ms
        return Changes()

    def server_error(self, code: str | None, message: str, event_id: str | None) -> Changes:
        return self._append(
            lambda key, at: ServerError(key, at, code=code, message=message, event_id=event_id)
        )[1]

    def notice(self, text: str) -> Changes:
        return self._append(lambda key, at: Notice(key, at, text=text))[1]

    def tool_call(
        self, name: str, arguments: str, outcome: str, duration_ms: float | None
    ) -> Changes:
        return self._append(
            lambda key, at: ToolEntry(
                key, at, name=name, arguments=arguments, outcome=outcome, duration_ms=duration_ms
            )
        )[1]
