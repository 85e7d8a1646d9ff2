"""Where the user's speech began at the microphone, from the server's ``speech_started``.

``InputTimeline`` (``audio/input_timeline.py``) maps a point of the audio sent to the server onto
the capture clock. This keeps it in step with the server session that counts that audio:

- A new server session counts from 0: after a reconnect (``session.link`` is a new link), the
  audio not yet sent starts the new count; after a renewal, the audio held for the new link
  while it was set up does, less what the session dropped of it past its bound
  (``Session.held_dropped_samples``). A renewal that failed leaves the count alone.
- ``audio_start_ms`` is the start of the speech less the session's ``prefix_padding_ms``: the
  padding is added back. But the server never puts a start before its last commit (a turn's
  ``audio_end_ms``, or 0 in a new session): a start there may have been clamped, and the onset
  is then unknown.

Everything runs on the event loop thread.
"""

from __future__ import annotations

from realtime_console.audio.input_timeline import InputTimeline

# A padding of more than a minute is no padding a server keeps (and no float holds a huge one).
MAX_PADDING_MS = 60_000


class SpeechOnsets:
    """The sent-audio timeline, the server session it counts for, and that session's floor."""

    def __init__(self, *, block_ms: float, padding_ms: int, link: object) -> None:
        """``block_ms``: the microphone's block (sizes the timeline's ring); ``padding_ms``:
        the session's ``prefix_padding_ms``; ``link``: the connection the count starts on."""
        self.timeline = InputTimeline(block_ms=block_ms)
        self.padding_ms = min(max(0, padding_ms), MAX_PADDING_MS)
        self._link = link
        self._held_from: int | None = None  # where audio held for a renewal starts
        self._floor_ms = 0  # the server's last commit in the current session

    def sync(
        self, *, link: object, renewing: bool, unsent_samples: int, held_dropped_samples: int
    ) -> None:
        """Follow the session: ``link`` is the current connection, ``renewing`` whether a
        renewal is swapping it (appends are held meanwhile), ``unsent_samples`` the recorded
        audio not sent yet, ``held_dropped_samples`` the held audio the session dropped. Call
        before each append, when a renewal ends, after a reconnect and before a lookup."""
        unsent_from = self.timeline.samples - unsent_samples
        if renewing:
            if self._held_from is None:  # the first append held for the renewed link
                self._held_from = unsent_from
            return
        if link is not self._link:
            self._link = link
            if self._held_from is not None:
                self.timeline.restart(self._held_from + held_dropped_samples)
            else:
                self.timeline.restart(unsent_from)
            self._floor_ms = 0
        self._held_from = None  # renewed, or the renewal failed and the old session had it

    def committed(self, audio_end_ms: int) -> None:
        """The server committed its input up to ``audio_end_ms`` (a turn's end, an idle
        timeout's): no speech start it reports later lies before it."""
        self._floor_ms = max(self._floor_ms, audio_end_ms)

    def onset(self, audio_start_ms: int) -> float | None:
        """When the speech a ``speech_started`` reports began, on the capture clock; None when
        unknown (its start sits on the last commit, or the timeline cannot place it)."""
        if audio_start_ms <= self._floor_ms:
            return None
        return self.timeline.adc_time(audio_start_ms + self.padding_ms)
