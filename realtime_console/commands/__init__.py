"""One module per subcommand, found by discovery (adding a command touches no shared list).

Each module has ``ORDER`` (its place in ``--help``) and ``register(commands)``, which adds its
parser and sets ``run`` (called as ``run(args, settings, redactor) -> exit code``) and, optionally,
``setting_flags`` (argparse dest → dotted settings key, applied as command-line overrides).
Modules here must import only light modules at top level: they are all loaded for ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings

Run = Callable[[argparse.Namespace, "Settings", Redactor], int]


def command_modules() -> list[ModuleType]:
    """Every command module, in ``ORDER``."""
    found = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return sorted(found, key=lambda module: (getattr(module, "ORDER", 100), module.__name__))


SESSION_FLAGS: Mapping[str, str] = {
    "voice": "session.voice",
    "instructions": "session.instructions",
}


def add_session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--voice", metavar="V", help="assistant voice (alloy, ash, coral, echo, …)")
    parser.add_argument("--instructions", metavar="T", help="system instructions for the session")
