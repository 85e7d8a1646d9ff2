"""``audio ask``: an audio file and a prompt in, the reply's text (and spoken reply) out.

The file was checked (and, for odd WAVs, converted) by ``prepare_input_audio`` before this runs,
so the one request is the first thing that can cost anything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime_console.completions.output import Lines, OutputFile, one_line, paragraphs
from realtime_console.completions.types import AudioRequest
from realtime_console.modes.audio_say import complete_spoken, save_reply
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.audio.input_file import PreparedInput
    from realtime_console.audio.playback import Playback
    from realtime_console.config import Settings


@dataclass(frozen=True)
class AskOptions:
    audio: PreparedInput
    prompt: str
    output: OutputFile | None  # None: --text-only (no audio asked for, nothing written)


async def run_ask(
    settings: Settings,
    options: AskOptions,
    *,
    env: Mapping[str, str],
    redactor: Redactor,
    lines: Lines,
    playback: Playback | None = None,
) -> int:
    from realtime_console.completions.conversation import AudioConversation
    from realtime_console.completions.opening import open_completions

    conversation = AudioConversation(settings.completions.instructions)
    conversation.add_user(text=options.prompt, audio=options.audio)
    messages = conversation.messages(time.time())
    voice = settings.session.voice
    async with open_completions(
        settings, env=env, redactor=redactor, notice=lines.notice
    ) as client:
        if options.output is None:
            reply = await client.complete(AudioRequest(messages, voice=voice, audio_out=False))
        else:
            reply = await complete_spoken(
                client, messages, voice=voice, fmt=options.output.format, playback=playback
            )
    if options.output is None:
        lines.say(paragraphs(reply.text))  # a text answer may be paragraphs or a list
        return 0
    lines.say(one_line(reply.text))
    save_reply(reply, options.output, lines)
    if playback is not None:
        await playback.drain()
    return 0
