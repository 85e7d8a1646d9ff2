from __future__ import annotations

from pathlib import Path

import pytest

from realtime_console.errors import ConfigError
from realtime_console.tools import ToolSet, load_tools
from realtime_console.tools.loader import load_source

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tools"


def test_the_examples_load_together() -> None:
    tools = load_tools([str(EXAMPLES / "weather.py"), str(EXAMPLES / "tools.toml")])
    assert list(tools) == [
        "get_weather",
        "get_forecast",
        "convert_temperature",
        "define_word",
        "get_user_location",
    ]
    assert tools["get_weather"].source == str(EXAMPLES / "weather.py")
    assert tools["get_weather"].parameters["properties"]["unit"]["enum"] == [
        "celsius",
        "fahrenheit",
    ]
    assert tools["define_word"].timeout_s == 5.0


def test_relative_sources_resolve_against_base_dir() -> None:
    tools = load_tools(["weather.py", "tools.toml"], base_dir=EXAMPLES)
    assert len(tools) == 5
    assert tools["get_weather"].source == "weather.py"


def test_sources_by_kind(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text('[{"name": "j", "description": "J.", "result": "1"}]')
    (tmp_path / "T.TOML").write_text("[[tools]]\nname = 't'\ndescription = 'T.'\nresult = '1'\n")
    assert [t.name for t in load_source(str(tmp_path / "t.json"))] == ["j"]
    assert [t.name for t in load_source("T.TOML", base_dir=tmp_path)] == ["t"]
    assert "lookup" in [t.name for t in load_source("tests.tools.sample_tools")]


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    (tmp_path / "more.toml").write_text(
        "[[tools]]\nname = 'get_weather'\ndescription = 'Again.'\nresult = 'sunny'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_tools([str(EXAMPLES / "weather.py"), str(tmp_path / "more.toml")])
    assert str(caught.value) == (
        f"tool 'get_weather' is defined in {EXAMPLES / 'weather.py'} and in "
        f"{tmp_path / 'more.toml'}; tool names must be unique"
    )


def test_duplicate_names_within_a_file(tmp_path: Path) -> None:
    entry = "[[tools]]\nname = 'a'\ndescription = 'A.'\nresult = '1'\n"
    (tmp_path / "twice.toml").write_text(entry * 2)
    with pytest.raises(ConfigError) as caught:
        load_tools(["twice.toml"], base_dir=tmp_path)
    assert str(caught.value) == "tool 'a' is defined twice in twice.toml; tool names must be unique"


def test_the_same_module_twice_is_a_duplicate_too() -> None:
    with pytest.raises(ConfigError, match="tool 'get_weather' is defined"):
        load_tools([str(EXAMPLES / "weather.py"), str(EXAMPLES / "weather.py")])


def test_toolset_is_a_read_only_mapping() -> None:
    tools = ToolSet(load_source("tests.tools.sample_tools"))
    assert "lookup" in tools and len(tools) == 8
    assert tools.get("nope") is None
    assert ToolSet().session_tools() == []
