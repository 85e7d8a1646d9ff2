"""The names of the reply audio formats the service offers: one list for settings, flags and
the codec. Light on purpose: the command line imports it to build ``--help``."""

from __future__ import annotations

from typing import Literal, get_args

AudioFormat = Literal["wav", "mp3", "flac", "opus", "aac", "pcm16"]
AUDIO_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)
