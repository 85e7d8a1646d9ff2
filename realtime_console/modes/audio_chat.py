"""``audio chat``: a multi-turn conversation over audio chat completions, typed or piped.

Each line is one turn (or a ``/command``); each reply is printed as ``assistant> TRANSCRIPT``,
played (streamed as pcm16, like ``audio say --play``) and, with a save directory, written as
``NNN-<id>.<ext>``. The conversation is resent with every request: earlier replies by their audio
id while the service still has them, as their transcript once it has forgotten them.

A turn that fails (a service error, a bad ``/audio`` file) prints one line, leaves the
conversation as it was before that turn, and the chat goes on; the exit code says whether any
line failed, so a piped script notices.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from realtime_console.audio.formats import AudioFormat
from realtime_console.completions.output import (
    EXTENSION,
    Lines,
    OutputFile,
    one_line,
    prepare_save_dir,
)
from realtime_console.errors import ConfigError, ConsoleError
from realtime_console.modes.audio_say import complete_spoken, save_reply
from realtime_console.redact import Redactor
from realtime_console.ui.lines import LineSource

if TYPE_CHECKING:
    from realtime_console.audio.input_file import PreparedInput
    from realtime_console.audio.playback import Playback
    from realtime_console.completions.client import CompletionsClient
    from realtime_console.completions.conversation import AudioConversation
    from realtime_console.completions.types import AudioReply
    from realtime_console.config import Settings

QUIT_WORDS = frozenset({"q", "/quit", "/exit"})
EXPIRED = "an earlier reply's audio has expired on the server; sending its transcript instead"
HELP = (
    "TEXT: say TEXT",
    "/audio FILE [TEXT]: send a WAV or MP3 file (and TEXT with it) as your turn",
    "/save DIR: save each reply's audio in DIR from now on",
    "/reset: forget the conversation and start a new one",
    "/help: this list",
    "q, /quit or Ctrl+D: quit",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class AudioChatOptions:
    format: AudioFormat  # of saved replies (and of requests when nothing is played)
    save_dir: Path | None = None  # already prepared (prepare_save_dir)
    echo_input: bool = False  # print "you> …" for lines that were not typed at a prompt
    hint: str | None = None  # a notice once the service is ready (for a prompt at a terminal)


async def run_audio_chat(
    settings: Settings,
    options: AudioChatOptions,
    *,
    lines: LineSource,
    out: Lines,
    env: Mapping[str, str],
    redactor: Redactor,
    playback: Playback | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """``clock`` (unix seconds) judges whether earlier replies' audio ids are still live."""
    from realtime_console.completions.conversation import AudioConversation
    from realtime_console.completions.opening import open_completions

    conversation = AudioConversation(settings.completions.instructions)
    async with open_completions(settings, env=env, redactor=redactor, notice=out.notice) as client:
        chat = _Chat(client, conversation, settings.session.voice, options, out, playback, clock)
        if options.hint:
            out.notice(options.hint)
        while not out.closed:
            line = await lines.read()
            if line is None or not await chat.handle(line):
                break
    if chat.failed:
        noun = "line" if chat.entered == 1 else "lines"
        out.error(f"{chat.failed} of {chat.entered} {noun} failed (see above)")
        return 1
    return 0


class _Chat:
    def __init__(
        self,
        client: CompletionsClient,
        conversation: AudioConversation,
        voice: str,
        options: AudioChatOptions,
        out: Lines,
        playback: Playback | None,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._clock = clock
        self._conversation = conversation
        self._voice = voice
        self._options = options
        self._out = out
        self._playback = playback
        self._save_dir = options.save_dir
        self._replies = 0  # numbers the saved files, across /save changes
        self.entered = 0
        self.failed = 0

    async def handle(self, line: str) -> bool:
        """One line; False when it asks to quit."""
        text = line.strip()
        if not text:
            return True
        if text.lower() in QUIT_WORDS:
            return False
        self.entered += 1
        if self._options.echo_input:
            self._out.say(f"you> {text}")
        word, _, rest = text.partition(" ")
        if not word.startswith("/"):
            await self._turn(text, None)
        elif word == "/audio":
            await self._audio_turn(rest.strip())
        elif word == "/save":
            self._set_save_dir(rest.strip())
        elif word == "/reset":
            self._conversation.reset()
            self._out.notice("conversation forgotten; the next turn starts a new one")
        elif word == "/help":
            for entry in HELP:
                self._out.notice(entry)
        else:
            self._fail(f"unknown command {word}; /help lists the commands")
        return True

    def _fail(self, message: str) -> None:
        self.failed += 1
        self._out.error(message)

    async def _audio_turn(self, rest: str) -> None:
        from realtime_console.audio.input_file import prepare_input_audio

        path, text = _split_path(rest)
        if not path:
            self._fail("/audio needs a file: /audio FILE [TEXT]")
            return
        try:
            audio = prepare_input_audio(path, flag="/audio")
        except ConfigError as exc:
            self._fail(str(exc))
            return
        if audio.converted:
            self._out.notice(f"{path}: {audio.converted}")
        await self._turn(text or None, audio)

    def _set_save_dir(self, rest: str) -> None:
        directory, _ = _split_path(rest)
        if not directory:
            self._fail("/save needs a directory: /save DIR")
            return
        try:
            self._save_dir = prepare_save_dir(Path(directory), flag="/save")
        except ConfigError as exc:
            self._fail(str(exc))
            return
        self._out.notice(f"saving replies in {directory}")

    async def _turn(self, text: str | None, audio: PreparedInput | None) -> None:
        from realtime_console.completions.errors import CompletionsError

        try:
            self._conversation.add_user(text=text, audio=audio)  # refuses audio past 20 MB
        except CompletionsError as exc:
            self._fail(str(exc))
            return
        try:
            reply = await self._complete()
        except CompletionsError as exc:
            self._conversation.pop_last_user()  # the next turn must not answer this one too
            self._fail(str(exc))
            return
        self._conversation.add_reply(reply)
        self._replies += 1
        self._out.say(f"assistant> {one_line(reply.text)}")
        if self._save_dir is not None:
            self._save(reply)
        if self._playback is not None:
            await self._playback.drain()  # the next prompt appears once the reply was heard

    async def _complete(self) -> AudioReply:
        from realtime_console.completions.errors import AudioNotFound

        try:
            return await self._request()
        except AudioNotFound:
            if not self._conversation.forget_audio_ids():
                raise  # not an id of ours: nothing to fall back on
        # The service forgets reply audio after a while; the transcripts carry the same words.
        self._out.notice(EXPIRED)
        return await self._request()

    async def _request(self) -> AudioReply:
        return await complete_spoken(
            self._client,
            self._conversation.messages(self._clock()),
            voice=self._voice,
            fmt=self._options.format,
            playback=self._playback,
        )

    def _save(self, reply: AudioReply) -> None:
        assert self._save_dir is not None
        fmt = self._options.format
        name = f"{self._replies:03d}-{_UNSAFE.sub('_', reply.completion_id)}{EXTENSION[fmt]}"
        try:
            save_reply(reply, OutputFile(self._save_dir / name, fmt), self._out)
        except ConsoleError as exc:  # a full disk, a removed directory, a reply without audio
            self._fail(str(exc))


def _split_path(rest: str) -> tuple[str, str]:
    """``FILE [TEXT]`` → (FILE, TEXT); FILE may be quoted to hold spaces: ``"my file.wav" hi``."""
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        if end > 0:
            return rest[1:end], rest[end + 1 :].strip()
    path, _, text = rest.partition(" ")
    return path, text.strip()
