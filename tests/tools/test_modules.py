from __future__ import annotations

import sys
from pathlib import Path

import pytest

from realtime_console.errors import ConfigError
from realtime_console.tools.modules import import_module, is_path, resolve_callable


def test_paths_and_dotted_names_are_told_apart() -> None:
    assert is_path("tools.py") and is_path("./tools") and is_path("a/b")
    assert not is_path("pkg.tools")


def test_a_file_is_imported_once_under_a_private_name(tmp_path: Path) -> None:
    path = tmp_path / "counter.py"
    path.write_text("import builtins\nbuiltins.__dict__.setdefault('_rc_imports', []).append(1)\n")
    first, shown = import_module(str(path))
    second, _ = import_module("counter.py", base_dir=tmp_path)
    assert first is second
    assert shown == str(path)
    assert first.__name__.startswith("_realtime_console_tools_counter_")
    assert sys.modules[first.__name__] is first
    import builtins

    assert builtins.__dict__.pop("_rc_imports") == [1]


def test_a_dotted_name_is_imported_from_the_python_path() -> None:
    module, shown = import_module("tests.tools.sample_tools")
    assert module.__name__ == "tests.tools.sample_tools"
    assert shown == "tests.tools.sample_tools"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def f(:\n", "broken.py: importing it raised SyntaxError: invalid syntax"),
        ("raise ValueError('no\\nway')\n", "broken.py: importing it raised ValueError: no way"),
        ("import sys\nsys.exit(3)\n", "broken.py: importing it raised SystemExit: 3"),
        ("import no_such_dependency_xyz\n", "ModuleNotFoundError: No module named"),
    ],
)
def test_a_file_that_fails_to_import(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "broken.py").write_text(body)
    with pytest.raises(ConfigError) as caught:
        import_module("broken.py", base_dir=tmp_path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    # a half-run module is not kept: fixing the file and loading again works
    (tmp_path / "broken.py").write_text("X = 1\n")
    module, _ = import_module("broken.py", base_dir=tmp_path)
    assert module.X == 1


def test_missing_file_and_unknown_module() -> None:
    with pytest.raises(ConfigError, match=r"^nowhere/tools\.py: no such file$"):
        import_module("nowhere/tools.py")
    with pytest.raises(ConfigError) as caught:
        import_module("no_such_pkg_xyz.tools")
    assert str(caught.value) == (
        "no_such_pkg_xyz.tools: no module of that name on the Python path "
        "(to load a file, give its path, e.g. ./no_such_pkg_xyz/tools.py)"
    )
    with pytest.raises(ConfigError, match=r"^my-tools: not a \.py file path or a dotted"):
        import_module("my-tools")


def test_a_module_whose_own_import_fails_says_so(tmp_path: Path) -> None:
    package = tmp_path / "rc_pkg_with_bad_dep"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tools.py").write_text("import no_such_dependency_xyz\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ConfigError) as caught:
            import_module("rc_pkg_with_bad_dep.tools")
    finally:
        sys.path.remove(str(tmp_path))
    assert str(caught.value) == (
        "rc_pkg_with_bad_dep.tools: importing it raised ModuleNotFoundError: "
        "No module named 'no_such_dependency_xyz'"
    )


def test_resolve_callable(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text("def go():\n    return 1\nVALUE = 3\n")
    assert resolve_callable("handlers.py:go", "t", tmp_path)() == 1
    assert resolve_callable("tests.tools.sample_tools:no_arguments", "t")() == "ok"
    cases = {
        "handlers.py": 't = \'handlers.py\' must be "pkg.module:function" or "file.py:function"',
        "handlers.py:missing": "t: handlers.py has no function 'missing'",
        "handlers.py:VALUE": "t: handlers.py:VALUE is not a function",
        "gone.py:f": "t: gone.py: no such file",
    }
    for ref, message in cases.items():
        with pytest.raises(ConfigError) as caught:
            resolve_callable(ref, "t", tmp_path)
        assert str(caught.value) == message
