"""What the handlers need from a renderer; every UI implements this."""

from __future__ import annotations

from typing import Protocol


class ConsoleView(Protocol):
    def session_started(self, session_id: str, model: str) -> None: ...

    def user_text(self, text: str) -> None:
        """A user turn the console sent as text (shown when input is not typed live)."""

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        """Transcription of the user's speech: a delta, or the final text when ``final``."""

    def assistant_delta(self, response_id: str, text: str) -> None: ...

    def assistant_done(self, response_id: str, status: str) -> None:
        """End of a response; ``status`` is the service's (completed, cancelled, …)."""

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None: ...

    def notice(self, text: str) -> None:
        """A one-line status message from the console itself."""
