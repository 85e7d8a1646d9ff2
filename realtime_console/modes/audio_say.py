"""``audio say``: text in, a spoken reply out: the transcript printed, the audio saved (and played).

The request/playback/file steps here are shared by ``audio ask`` and ``audio chat``: a reply that
is to be heard is streamed as pcm16 and each piece goes to the speaker as it arrives (playback
starts within a chunk of the first one, as in the realtime ``chat``), and is encoded to the
output's format locally once the stream has ended; a reply that is only saved is asked for in
that format directly.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_console.audio.formats import AudioFormat
from realtime_console.completions.output import (
    Lines,
    OutputFile,
    audio_duration_s,
    one_line,
    saved_line,
    write_file,
)
from realtime_console.completions.types import AudioReply, AudioRequest
from realtime_console.errors import ConsoleError
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback
    from realtime_console.completions.client import CompletionsClient
    from realtime_console.config import Settings

Messages = tuple[dict[str, Any], ...]

# The speaker tells replies apart by id; the request id is known only once complete() returns,
# after the first pieces have been queued, so each played reply gets a local id of its own.
_playback_ids = itertools.count(1)


@dataclass(frozen=True)
class SayOptions:
    text: str
    output: OutputFile


async def run_say(
    settings: Settings,
    options: SayOptions,
    *,
    env: Mapping[str, str],
    redactor: Redactor,
    lines: Lines,
    playback: Playback | None = None,
) -> int:
    from realtime_console.completions.conversation import AudioConversation
    from realtime_console.completions.opening import open_completions

    conversation = AudioConversation(settings.completions.instructions)
    conversation.add_user(text=options.text)
    async with open_completions(
        settings, env=env, redactor=redactor, notice=lines.notice
    ) as client:
        reply = await complete_spoken(
            client,
            conversation.messages(time.time()),
            voice=settings.session.voice,
            fmt=options.output.format,
            playback=playback,
        )
    lines.say(one_line(reply.text))
    save_reply(reply, options.output, lines)
    if playback is not None:
        await playback.drain()
    return 0


async def complete_spoken(
    client: CompletionsClient,
    messages: Messages,
    *,
    voice: str,
    fmt: AudioFormat,
    playback: Playback | None,
) -> AudioReply:
    """One request for a spoken reply: streamed to ``playback`` as pcm16, or in ``fmt`` when
    nobody listens (a format the service encodes costs no local CPU and no quality)."""
    if playback is None:
        return await client.complete(AudioRequest(messages, voice=voice, format=fmt))
    key = f"audio-reply-{next(_playback_ids)}"

    def on_audio(piece: bytes) -> None:
        playback.audio(key, key, piece)

    request = AudioRequest(messages, voice=voice, format="pcm16", stream=True)
    try:
        reply = await client.complete(request, on_audio=on_audio)
    except BaseException:
        playback.drop_response(key)  # a retried or failed stream must not be heard half twice
        raise
    playback.response_done(key)  # a reply shorter than the prebuffer starts now
    return reply


def reply_audio(reply: AudioReply, fmt: AudioFormat) -> bytes:
    """The reply's audio as a complete ``fmt`` file."""
    if reply.format == fmt:
        return reply.audio
    from realtime_console.audio import codec

    if reply.format == "pcm16":
        return codec.encode(reply.audio, fmt)  # a played stream, encoded once it has ended
    return codec.encode(codec.decode(reply.audio, reply.format).pcm16, fmt)


def save_reply(reply: AudioReply, output: OutputFile, lines: Lines) -> None:
    """Write the reply's audio to ``output`` and say so, only once the file is complete."""
    if not reply.has_audio:
        raise ConsoleError(f"the reply has no audio; nothing was written to {output.path}")
    data = reply_audio(reply, output.format)
    write_file(output.path, data)
    if reply.format == "pcm16":
        seconds = pcm.bytes_to_ms(len(reply.audio)) / 1000  # exact, no decoding
    else:
        seconds = audio_duration_s(data, output.format)
    lines.notice(saved_line(output.path, seconds, output.format))
