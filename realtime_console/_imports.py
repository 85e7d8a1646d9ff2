"""Importing the heavy modules (the ``openai`` SDK, the local server, Textual) cheaply for the GC.

Importing ``openai`` builds thousands of pydantic models: about 150,000 objects that all live
until exit. While they are being made the cyclic garbage collector runs again and again over the
growing heap and finds almost nothing to free (about 2,000 objects): over 100 ms of a `--local`
start-up (``benchmarks/start_latency.py``). Merely pausing it is not enough: the first
collections afterwards walk all those new objects, and cost as much. So the block runs with the
collector paused, and what it imported is then frozen (``gc.freeze``): moved out of the
collector's sight for good, as module contents are never garbage. That also keeps every later
full collection, in the middle of a conversation, short. Reference counting, which frees almost
everything, is not affected.

Frozen only when the block imported something: a later block that finds everything imported
already (a reconnect, a second run in the same process, as in tests) freezes nothing, so no
garbage of a long-running process is kept by mistake.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_gc() -> Iterator[None]:
    """Run the block (heavy imports) with the cyclic GC paused, then freeze what it imported.

    A GC that the caller had paused stays paused.
    """
    was_enabled = gc.isenabled()
    modules = len(sys.modules)
    gc.disable()
    try:
        yield
        if len(sys.modules) > modules:
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
