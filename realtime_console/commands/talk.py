"""``talk``: live voice conversation (microphone in, speaker out, barge-in, transcripts)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from realtime_console.commands import SESSION_FLAGS, add_session_options
from realtime_console.commands.chat import TOOL_FLAGS, add_tool_options
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.modes.talk_controls import TalkCommands
    from realtime_console.modes.tool_calls import Prompts
    from realtime_console.ui.plain_talk import PlainTalkView
    from realtime_console.ui.view import TalkView


ORDER = 10

TALK_FLAGS = {
    **SESSION_FLAGS,
    "input_device": "audio.input_device",
    "output_device": "audio.output_device",
    "turn_detection": "session.turn_detection.type",
    **TOOL_FLAGS,
}


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "talk",
        help="live voice conversation (mic + speaker)",
        description="Talk to the model: your microphone streams to the service, its voice plays "
        "back, and speaking over it cuts it off (barge-in). Keys: m mute, space push-to-talk "
        "(or interrupt), q quit. A full-screen UI when stdout is a terminal; lines otherwise.",
    )
    parser.add_argument("--input-device", metavar="D", help="microphone: index or name part")
    parser.add_argument("--output-device", metavar="D", help="speaker: index or name part")
    parser.add_argument(
        "--push-to-talk",
        action="store_true",
        help="no voice detection: the talk key starts and ends each turn",
    )
    parser.add_argument(
        "--turn-detection",
        choices=("server_vad", "semantic_vad", "none"),
        help="who ends a turn: server_vad (silence, the default), semantic_vad (the model "
        "judges), none (= --push-to-talk)",
    )
    parser.add_argument(
        "--plain", action="store_true", help="line-oriented output instead of the full-screen UI"
    )
    add_session_options(parser)
    add_tool_options(parser)
    parser.set_defaults(run=run, setting_flags=TALK_FLAGS)


INTERRUPTED = 130  # the exit code of Ctrl+C (docs/architecture.md)


def push_to_talk_settings(settings: Settings) -> Settings:
    """``--push-to-talk``: turn detection off for this run, whatever the profile says."""
    td = dataclasses.replace(settings.session.turn_detection, type="none")
    return dataclasses.replace(
        settings, session=dataclasses.replace(settings.session, turn_detection=td)
    )


def check_credential(settings: Settings, env: Mapping[str, str], redactor: Redactor) -> None:
    """Before any sound device is opened: a credential that is missing is reported first, with
    or without a working microphone. It is fixed from the keyboard (a variable, or ``--local``),
    where a missing device may need hardware, and a run that cannot connect should not touch
    the sound system. An Entra ID sign-in is only tried when connecting (exit 1 if it fails)."""
    from realtime_console.auth import no_azure_endpoint, resolve_credential
    from realtime_console.errors import AuthError

    conn = settings.connection
    if conn.provider == "azure" and not conn.endpoint:
        raise AuthError(no_azure_endpoint(settings.profile_name or settings.profile_path))
    if conn.provider == "openai" or (conn.provider == "azure" and conn.auth == "key"):
        resolve_credential(provider=conn.provider, auth=conn.auth, env=env, redactor=redactor)


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from realtime_console.modes.talk import run_talk
    from realtime_console.modes.talk_controls import TalkCommands

    check_credential(settings, os.environ, redactor)
    if args.push_to_talk:
        settings = push_to_talk_settings(settings)
    push_to_talk = settings.session.turn_detection.type == "none"
    full_screen = not args.plain and _is_terminal(sys.stdout) and _is_terminal(sys.stdin)
    # ask and confirm: a dialog in the full-screen UI, a line of stdin in plain mode.
    # MCP approvals (tools.mcp) are asked the same way.
    tools = bool(settings.tools.files) or bool(settings.tools.mcp)
    prompting = tools and settings.tools.mode != "auto"

    async def main() -> int:
        controls = TalkCommands()
        # `kill` ends the conversation like `q`: streams stopped, socket closed, log completed.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, controls.quit)
        view: TalkView
        ui: _TextualUi | None = None
        keys = None
        tool_prompts: Prompts | None = None
        plain: PlainTalkView | None = None
        if full_screen:
            ui = _textual_ui(controls, push_to_talk)
            view = ui.view
            if prompting:
                from realtime_console.modes.tool_calls import ViewPrompts

                tool_prompts = ViewPrompts(ui.app)  # the app asks in a modal dialog
        else:
            from realtime_console.ui.plain_talk import PlainTalkView

            plain = PlainTalkView(
                transcripts=settings.session.input_transcription_model is not None,
                redactor=redactor,
                push_to_talk=push_to_talk,
            )
            view = plain
            if prompting:
                from realtime_console.ui.lines import StdinLines, ToolPrompts

                # The answers are lines of stdin, so the single keys (m, space, q) are off.
                lines = StdinLines()
                echo = None if lines.interactive else plain
                tool_prompts = ToolPrompts(lines, echo)
            elif _is_terminal(sys.stdin):
                from realtime_console.ui.keys import KeyReader

                keys = KeyReader(controls, push_to_talk=push_to_talk)
                keys.start()
        try:
            code = await run_talk(
                settings,
                controls=controls,
                view=view,
                env=os.environ,
                redactor=redactor,
                ui=ui,
                tool_prompts=tool_prompts,
            )
        finally:
            if keys is not None:
                keys.close()
            if plain is not None:
                # A reply cut by the end (lost for good, q, kill): end its line, so the error
                # or the shell's prompt starts a line of its own.
                plain.finish()
            if ui is not None:
                ui.leave_report(settings.log.events)
        # Inside the full-screen UI, Ctrl+C is a key, not a signal: the app remembers it.
        return INTERRUPTED if ui is not None and ui.interrupted else code

    return asyncio.run(main())


class _TextualUi:
    """Runs the Textual app (ui/tui) as a task of the talk loop and ends it with the loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.view: TalkView = app
        self.ran = False  # the screen was taken over (not so when a device failed first)

    async def run(self) -> None:
        self.ran = True
        await self.app.run_async()

    def exit(self, code: int) -> None:
        self.app.exit(code)

    @property
    def interrupted(self) -> bool:
        return bool(getattr(self.app, "interrupted", False))

    def leave_report(self, log_path: str | None) -> None:
        """The screen is the terminal's again: print the conversation and how it ended, so
        `q` does not leave an empty screen behind."""
        if not self.ran:
            return
        lines, ended = self.app.closing_report(log_path)
        for line in lines:
            print(line)
        print(ended, file=sys.stderr, flush=True)


def _textual_ui(controls: TalkCommands, push_to_talk: bool) -> _TextualUi:
    import importlib

    from realtime_console._imports import without_gc

    # Imported by name, and only here: textual is heavy, and ui/tui is built separately.
    with without_gc():  # a tenth of textual's import time is the GC (see _imports.py)
        tui: Any = importlib.import_module("realtime_console.ui.tui.app")
    app = tui.TalkApp(controls, title="realtime-console talk", push_to_talk=push_to_talk)
    return _TextualUi(app)


def _is_terminal(stream: TextIO | None) -> bool:
    """False for a closed or missing stream too (``talk <&-``): then there are no keys to read."""
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # closed
        return False
