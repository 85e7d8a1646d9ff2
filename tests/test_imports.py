"""``_imports.without_gc``: the cyclic GC paused for a heavy import, what it imported frozen, and
the GC given back as it was."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_console._imports import without_gc


@pytest.fixture
def gc_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    was_frozen = gc.get_freeze_count()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()
    if not was_frozen:
        gc.unfreeze()  # the test process's objects are collected as before


@pytest.fixture
def new_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The name of a module no one has imported yet (one class: objects the GC tracks)."""
    name = f"heavy_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "class Model:\n    fields = [object() for _ in range(5)]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_paused_inside_and_enabled_again_after(gc_restored: None) -> None:
    gc.enable()
    with without_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_block_imported_is_frozen(gc_restored: None, new_module: str) -> None:
    gc.unfreeze()
    with without_gc():
        importlib.import_module(new_module)
    assert gc.get_freeze_count() > 0


def test_a_block_that_imports_nothing_new_freezes_nothing(gc_restored: None) -> None:
    gc.unfreeze()
    with without_gc():
        import realtime_console.errors  # noqa: F401  (imported long before)
    assert gc.get_freeze_count() == 0


def test_enabled_again_and_nothing_frozen_when_the_import_fails(gc_restored: None) -> None:
    gc.enable()
    gc.unfreeze()
    with pytest.raises(ModuleNotFoundError), without_gc():
        import realtime_console.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_gc_paused_by_the_caller_stays_paused(gc_restored: None) -> None:
    gc.disable()
    with without_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()
