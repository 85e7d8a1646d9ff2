"""Input audio "transcription": a deterministic description of the audio, not recognition.

There is no speech recogniser here. When the session configures ``audio.input.transcription``,
each committed user audio item gets a transcript that *describes* its audio, worded so that a
user sees at once it is the local server's stand-in and not a broken recogniser::

    "(1.2 seconds of speech, not recognised)"   a 10 ms frame at or above the VAD threshold level
    "(0.3 seconds of silence)"                  otherwise

(the duration rounded to 0.1 s). It arrives as word-piece ``…transcription.delta`` events and a
``…transcription.completed`` event, and replaces the item's ``transcript`` so replies quote it.
"""

from __future__ import annotations

from realtime_console.protocol.pcm import bytes_to_ms
from realtime_console.server.response import text_pieces
from realtime_console.server.vad import is_speech


def describe(audio: bytes, threshold: float = 0.5) -> str:
    seconds = bytes_to_ms(len(audio)) / 1000.0
    if is_speech(audio, threshold):
        return f"({seconds:.1f} seconds of speech, not recognised)"
    return f"({seconds:.1f} seconds of silence)"


def pieces(text: str) -> list[str]:
    """The delta pieces of a transcript (words with their leading spaces)."""
    return [piece for _, piece in text_pieces(text)]
