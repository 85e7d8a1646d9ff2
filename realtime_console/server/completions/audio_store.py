"""Reply audio ids, remembered until they expire, for multi-turn requests.

The service keeps each audio reply for a while (``message.audio.expires_at``); a later request
may refer to it with an assistant message ``{"role": "assistant", "audio": {"id": …}}`` instead
of sending the audio back. The local server keeps only what the reply needs from it: the
transcript and the duration (for usage), never the audio itself.

Pure: the clock (unix seconds) is injected; the store is bounded (the oldest ids go first),
so a long-running server does not grow with its traffic.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_ENTRIES = 4096


def new_audio_id() -> str:
    """``audio_`` and 32 hex digits, like the service's ids."""
    return "audio_" + secrets.token_hex(16)


@dataclass(frozen=True)
class StoredAudio:
    id: str
    transcript: str
    duration_s: float
    expires: float  # unix seconds, exact; the API shows it as a whole number

    @property
    def expires_at(self) -> int:
        # Rounded up: a client that trusts the shown time never sees an id expire early.
        return math.ceil(self.expires)


class AudioStore:
    def __init__(
        self,
        ttl_s: float,
        *,
        clock: Callable[[], float] = time.time,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        new_id: Callable[[], str] = new_audio_id,
    ) -> None:
        if not ttl_s > 0 or max_entries < 1:
            raise ValueError(f"AudioStore needs ttl_s > 0 and max_entries >= 1 ({ttl_s=})")
        self.ttl_s = ttl_s
        self._clock = clock
        self._max_entries = max_entries
        self._new_id = new_id
        self._entries: OrderedDict[str, StoredAudio] = OrderedDict()  # oldest first

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, transcript: str, duration_s: float) -> StoredAudio:
        now = self._clock()
        self._forget_expired(now)
        stored = StoredAudio(self._new_id(), transcript, duration_s, now + self.ttl_s)
        self._entries[stored.id] = stored
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return stored

    def get(self, audio_id: str) -> StoredAudio | None:
        """The stored reply, or None when the id is unknown, expired or pushed out."""
        stored = self._entries.get(audio_id)
        if stored is None or self._clock() >= stored.expires:
            return None
        return stored

    def _forget_expired(self, now: float) -> None:
        # One ttl for all: entries expire in insertion order, so only the front needs looking at.
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now < oldest.expires:
                break
            self._entries.popitem(last=False)
