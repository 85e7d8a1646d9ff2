"""Refuses a replay whose output would overwrite its input (or another output).

``realtime-console --log-events talk.jsonl replay talk.jsonl --local`` would truncate the log
being re-sent before reading it, and ``--wav talk.jsonl`` would replace it. "The same file" is
decided by the file system (``os.path.samefile``: symlinks and hard links included); a path that
does not exist yet is the same as another only when both resolve to the same place.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from pathlib import Path

from realtime_console.errors import ConfigError


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def refuse_overwrites(
    inputs: Mapping[str, Path], outputs: Mapping[str, str | os.PathLike[str] | None]
) -> None:
    """``inputs``/``outputs``: flag (as the user typed it) → path. Raises ``ConfigError``."""
    given = {flag: Path(path) for flag, path in outputs.items() if path is not None}
    for (out_flag, out), (in_flag, source) in itertools.product(given.items(), inputs.items()):
        if same_file(out, source):
            raise ConfigError(
                f"{out_flag} {out} and {in_flag} {source} are the same file: writing it would "
                "destroy the log being replayed; give another output file"
            )
    for (flag_a, a), (flag_b, b) in itertools.combinations(given.items(), 2):
        if same_file(a, b):
            raise ConfigError(f"{flag_a} {a} and {flag_b} {b} are the same file: give two files")
