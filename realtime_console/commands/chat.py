"""``chat``: typed text in, audio + transcript out."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_console.commands import SESSION_FLAGS, add_session_options
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings


ORDER = 20

TOOL_FLAGS = {"tools": "tools.files", "tool_mode": "tools.mode", "mcp": "tools.mcp"}


def add_tool_options(parser: argparse.ArgumentParser) -> None:
    """``--tools`` and ``--tool-mode``, for every command that talks to a realtime model."""
    parser.add_argument(
        "--tools",
        metavar="FILE",
        action="append",
        help="functions the model may call: a .py file, a .toml/.json file of definitions, or "
        "a module name (repeatable; replaces the profile's tools.files)",
    )
    parser.add_argument(
        "--tool-mode",
        choices=("auto", "ask", "confirm"),
        help="who answers a call: auto (the function runs), confirm (you say y/n first), ask "
        "(you type the result)",
    )
    parser.add_argument(
        "--mcp",
        metavar="[LABEL=]URL",
        action="append",
        help="a remote MCP server whose tools the model may call (repeatable; replaces the "
        "profile's tools.mcp; the label defaults to the host)",
    )


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "chat",
        help="typed text in, audio + transcript out",
        description="Type a line, hear and read the reply. When stdin is not a terminal, each "
        "line is one turn and the program exits after the last reply. 'q' quits.",
    )
    parser.add_argument("--save-audio", metavar="DIR", type=Path, help="write one WAV per reply")
    parser.add_argument("--no-playback", action="store_true", help="do not play audio")
    add_session_options(parser)
    add_tool_options(parser)
    parser.set_defaults(run=run, setting_flags={**SESSION_FLAGS, **TOOL_FLAGS})


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    import asyncio

    from realtime_console.modes.chat import ChatOptions, run_chat
    from realtime_console.ui.lines import StdinLines
    from realtime_console.ui.plain import PlainView

    view = PlainView(redactor=redactor)
    lines = StdinLines(prompt="you> ")
    options = ChatOptions(save_audio=args.save_audio, echo_input=not lines.interactive)

    async def main() -> int:
        playback = None
        if not args.no_playback:
            from realtime_console.audio.playback import open_playback

            playback = open_playback(settings.audio, view.notice)
        try:
            return await run_chat(
                settings,
                options,
                lines=lines,
                view=view,
                env=os.environ,
                redactor=redactor,
                playback=playback,
            )
        finally:
            view.finish()
            if playback is not None:
                playback.close()

    return asyncio.run(main())
