"""``audio say|ask|chat``: the audio chat-completions flows (not realtime), with the realtime
commands' settings, credentials, event log, playback and local server.

Everything that can be checked without the service (the text, the output file, the input file,
flags that contradict each other) is checked here first: a mistake is one line and exit 2, and
never costs a request.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_console.audio.formats import AUDIO_FORMATS
from realtime_console.errors import ConfigError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback
    from realtime_console.completions.output import Lines
    from realtime_console.config import Settings

ORDER = 25  # after chat, before replay

AUDIO_FLAGS: Mapping[str, str] = {
    "voice": "session.voice",
    "format": "completions.format",
    "instructions": "completions.instructions",
}

EPILOG = """\
examples:
  realtime-console --local audio say "Is a golden retriever a good family dog?" -o dog.wav
  realtime-console --local audio ask dog.wav -o analysis.wav
  realtime-console --local audio chat
"""


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "audio",
        help="audio chat completions: say, ask, chat (request/response, not realtime)",
        description="Spoken replies over the chat-completions API (an audio model such as "
        "gpt-audio): turn text into speech, ask about an audio file, or hold a multi-turn "
        "conversation. Replies are printed, saved and played.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="audio_command", metavar="ACTION")
    actions.required = True

    say = actions.add_parser(
        "say",
        help="text in, spoken reply out (saved, printed, played)",
        description="Send TEXT; print the reply's transcript and save its audio to OUT.",
    )
    say.add_argument("text", metavar="TEXT", nargs="+", help="what to say; - reads it from stdin")
    _output_options(say)
    _reply_options(say)
    say.set_defaults(run=run_say, setting_flags=AUDIO_FLAGS)

    ask = actions.add_parser(
        "ask",
        help="an audio file and a prompt in, the reply out",
        description="Send IN (WAV or MP3) with a prompt; print the reply and save its audio.",
    )
    ask.add_argument("input", metavar="IN", type=Path, help="a WAV or MP3 file (at most 20 MB)")
    ask.add_argument(
        "-p",
        "--prompt",
        metavar="PROMPT",
        help="what to ask about it (default: completions.ask_prompt, "
        '"Describe in detail the spoken audio input.")',
    )
    _output_options(ask)
    ask.add_argument(
        "--text-only", action="store_true", help="ask for a text reply only: no audio, no file"
    )
    _reply_options(ask)
    ask.set_defaults(run=run_ask, setting_flags=AUDIO_FLAGS)

    chat = actions.add_parser(
        "chat",
        help="a multi-turn spoken conversation, typed or piped",
        description="Type a line (or /audio FILE [TEXT]) and hear the reply; /help lists the "
        "commands. When stdin is not a terminal, each line is one turn and the program exits "
        "after the last reply (1 if any line failed). 'q' quits.",
    )
    chat.add_argument(
        "--save-audio", metavar="DIR", type=Path, help="write each reply's audio to DIR"
    )
    chat.add_argument("--no-playback", action="store_true", help="do not play the replies")
    _reply_options(chat)
    chat.set_defaults(run=run_chat, setting_flags=AUDIO_FLAGS)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        type=Path,
        help="reply audio file; its extension picks the format (default: reply.wav)",
    )
    parser.add_argument(
        "--play", action="store_true", help="play the reply as it streams (the file is kept too)"
    )


def _reply_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--voice", metavar="V", help="assistant voice (alloy, ash, coral, echo, …)")
    parser.add_argument(
        "--format",
        choices=AUDIO_FORMATS,
        help="reply audio format when OUT's extension does not say (default: completions.format)",
    )
    parser.add_argument("--instructions", metavar="T", help="a system message for the model")


# --- say ------------------------------------------------------------------------------------


def _say_text(words: list[str]) -> str:
    if words == ["-"]:
        try:
            text = sys.stdin.read()
        except UnicodeDecodeError:
            raise ConfigError("TEXT -: stdin is not UTF-8 text") from None
        if not text.strip():
            raise ConfigError("TEXT -: stdin was empty; pipe the text in, or give it as TEXT")
        return text.strip()
    text = " ".join(words).strip()
    if not text:
        raise ConfigError("TEXT is empty; give something to say (or - to read stdin)")
    return text


def run_say(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.completions.output import Lines, check_writable, choose_output
    from realtime_console.modes.audio_say import SayOptions, run_say

    output = choose_output(args.output, args.format, settings.completions.format)
    check_writable(output.path)
    text = _say_text(args.text)
    options = SayOptions(text=text, output=output)
    lines = Lines()

    async def flow(playback: Playback | None) -> int:
        return await run_say(
            settings, options, env=os.environ, redactor=redactor, lines=lines, playback=playback
        )

    return _run(flow, settings, lines, play=args.play)


# --- ask ------------------------------------------------------------------------------------


def run_ask(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.audio.input_file import prepare_input_audio
    from realtime_console.completions.output import Lines, check_writable, choose_output
    from realtime_console.modes.audio_ask import AskOptions, run_ask

    output = None
    if args.text_only:
        given = [
            flag
            for flag, value in (
                ("-o", args.output),
                ("--play", args.play),
                ("--format", args.format),
            )
            if value
        ]
        if given:
            raise ConfigError(
                f"--text-only and {' / '.join(given)} cannot be used together: a text-only "
                "reply has no audio to save or play"
            )
    else:
        output = choose_output(args.output, args.format, settings.completions.format)
        check_writable(output.path)
    prompt = settings.completions.ask_prompt if args.prompt is None else args.prompt.strip()
    if not prompt:
        raise ConfigError("-p is empty; give a prompt, or leave -p out for the default")
    prepared = prepare_input_audio(args.input)
    lines = Lines()
    if prepared.converted:
        lines.notice(f"{args.input}: {prepared.converted}")
    options = AskOptions(audio=prepared, prompt=prompt, output=output)

    async def flow(playback: Playback | None) -> int:
        return await run_ask(
            settings, options, env=os.environ, redactor=redactor, lines=lines, playback=playback
        )

    return _run(flow, settings, lines, play=args.play)


# --- chat -----------------------------------------------------------------------------------


def run_chat(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.completions.output import Lines, prepare_save_dir
    from realtime_console.modes.audio_chat import AudioChatOptions, run_audio_chat
    from realtime_console.ui.lines import StdinLines

    save_dir = None if args.save_audio is None else prepare_save_dir(args.save_audio)
    source = StdinLines(prompt="you> ")
    lines = Lines()
    options = AudioChatOptions(
        format=settings.completions.format,
        save_dir=save_dir,
        echo_input=not source.interactive,
        hint="type a line to talk, /help for commands, q to quit" if source.interactive else None,
    )

    async def flow(playback: Playback | None) -> int:
        return await run_audio_chat(
            settings,
            options,
            lines=source,
            out=lines,
            env=os.environ,
            redactor=redactor,
            playback=playback,
        )

    return _run(flow, settings, lines, play=not args.no_playback)


def _run(
    flow: Callable[[Playback | None], Awaitable[int]],
    settings: Settings,
    lines: Lines,
    *,
    play: bool,
) -> int:
    """Run ``flow`` with the speaker open when asked for (and closed however it ends)."""
    import asyncio

    _check_target(settings)

    async def main() -> int:
        playback = None
        if play:
            from realtime_console.audio.playback import open_playback

            playback = open_playback(settings.audio, lines.notice)
        try:
            return await flow(playback)
        finally:
            if playback is not None:
                playback.close()

    return asyncio.run(main())


def _check_target(settings: Settings) -> None:
    """A missing endpoint or key is the one line to show: found before the speaker opens (and
    says it has no device), not after. The local server's address is known only once it runs."""
    if settings.connection.provider != "local":
        from realtime_console.completions.target import resolve_target

        resolve_target(settings)
