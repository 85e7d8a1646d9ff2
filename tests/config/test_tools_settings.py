"""The ``[tools]`` settings: defaults, profile, flags (flags win), and their checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_console.config import load_settings
from realtime_console.errors import ConfigError


def test_defaults() -> None:
    tools = load_settings(env={}).tools
    assert tools.files == ()
    assert (tools.mode, tools.timeout_s, tools.tool_choice) == ("auto", 30.0, "auto")


def test_a_profile_sets_them_and_flags_win(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[tools]\nfiles = ["a.py", "b.toml"]\nmode = "ask"\ntimeout_s = 5\n'
        'tool_choice = "get_weather"\n',
        encoding="utf-8",
    )
    tools = load_settings(config_file=str(profile), env={}).tools
    assert tools.files == ("a.py", "b.toml")
    assert (tools.mode, tools.timeout_s, tools.tool_choice) == ("ask", 5.0, "get_weather")
    flagged = load_settings(
        config_file=str(profile),
        env={},
        overrides={"tools.files": ["c.py"], "tools.mode": "confirm"},
    ).tools
    assert (flagged.files, flagged.mode, flagged.timeout_s) == (("c.py",), "confirm", 5.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('mode = "maybe"', 'tools.mode = "maybe" must be one of "auto", "ask", "confirm"'),
        ("timeout_s = 0", "tools.timeout_s = 0 must be > 0"),
        ('tool_choice = "two words"', 'must be "auto", "none", "required" or a tool name'),
        ('files = "a.py"', 'tools.files = "a.py" must be a list of strings'),
        ('files = [""]', "must not hold an empty name"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(f"[tools]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=str(profile), env={})
    assert message in str(caught.value)


def test_a_bad_tool_mode_flag_names_the_flag() -> None:
    with pytest.raises(ConfigError, match="--tool-mode: tools.mode"):
        load_settings(env={}, overrides={"tools.mode": "never"})
