"""One module per subcommand. Each has ``register(commands)``, which adds its parser and sets
``run`` (called as ``run(args, settings, redactor) -> exit code``) and, optionally,
``setting_flags`` (argparse dest → dotted settings key, applied as command-line overrides).

Modules here must import only light modules at top level: they are all loaded for ``--help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings

Run = Callable[[argparse.Namespace, "Settings", Redactor], int]

# The order of ``realtime-console --help``.
COMMAND_MODULES = ("chat", "serve", "devices")

SESSION_FLAGS: Mapping[str, str] = {
    "voice": "session.voice",
    "instructions": "session.instructions",
}


def add_session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--voice", metavar="V", help="assistant voice (alloy, ash, coral, echo, …)")
    parser.add_argument("--instructions", metavar="T", help="system instructions for the session")
