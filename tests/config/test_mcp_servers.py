"""``tools.mcp``: profile tables and ``--mcp`` values checked, and turned into session tools
with their header variables filled in from the environment (and given to the redactor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_console.config import load_settings
from realtime_console.config.mcp_servers import parse_servers, session_tools
from realtime_console.errors import ConfigError
from realtime_console.redact import Redactor


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return str(path)


def test_a_profile_table_becomes_a_session_tool(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "[[tools.mcp]]\n"
        'server_url = "https://notes.example.com/mcp"\n'
        'allowed_tools = ["add_note", "list_notes"]\n'
        'require_approval = { never = ["list_notes"] }\n'
        'headers = { Authorization = "Bearer ${NOTES_TOKEN}", X-Api-Version = "2025-06-18" }\n',
    )
    settings = load_settings(config_file=config, env={})
    redactor = Redactor()
    (tool,) = session_tools(
        parse_servers(settings.tools.mcp), {"NOTES_TOKEN": "tok-0123456789"}, redactor
    )
    assert tool == {
        "type": "mcp",
        "server_label": "notes_example_com",  # from the host
        "server_url": "https://notes.example.com/mcp",
        "require_approval": {"never": {"tool_names": ["list_notes"]}},
        "allowed_tools": ["add_note", "list_notes"],
        "headers": {"Authorization": "Bearer tok-0123456789", "X-Api-Version": "2025-06-18"},
    }
    # The value read and the header as sent are both secrets now (either masks the token).
    shown = redactor.text("sent Bearer tok-0123456789 and tok-0123456789")
    assert shown in ("sent *** and ***", "sent Bearer *** and ***")


def test_flag_values_take_a_label_or_derive_it() -> None:
    servers = parse_servers(["http://127.0.0.1:8000/mcp", "docs=https://d.example/mcp?x=1"])
    assert [(s.label, s.url, s.require_approval) for s in servers] == [
        ("127_0_0_1", "http://127.0.0.1:8000/mcp", "always"),
        ("docs", "https://d.example/mcp?x=1", "always"),
    ]


def test_the_flag_replaces_the_profile_list(tmp_path: Path) -> None:
    config = write(tmp_path, '[[tools.mcp]]\nserver_url = "https://a.example/mcp"\n')
    settings = load_settings(
        config_file=config, env={}, overrides={"tools.mcp": ["b=https://b.example/mcp"]}
    )
    assert [s.label for s in parse_servers(settings.tools.mcp)] == ["b"]


@pytest.mark.parametrize(
    ("table", "says"),
    [
        (
            'server_url = "https://a.example/mcp"\n'
            'headers = { Authorization = "Bearer abc123xyz" }',
            "header Authorization holds a literal value",
        ),
        (
            'server_url = "https://a.example/mcp"\nheaders = { X-Api-Key = "${K} and-more" }',
            "header X-Api-Key holds a literal value",
        ),
        ('server_url = "https://a.example/mcp"\napi_key = "sk-abcdefgh"', "unknown key 'api_key'"),
        (
            'server_url = "https://a.example/mcp"\nrequire_approval = "sometimes"',
            "require_approval must be",
        ),
        ('server_label = "x"', "without server_url"),
        (
            'server_url = "https://a.example/mcp"\nserver_label = "two words"',
            "server_label 'two words'",
        ),
    ],
)
def test_a_bad_table_is_one_line_naming_the_file_without_its_value(
    tmp_path: Path, table: str, says: str
) -> None:
    config = write(tmp_path, f"[[tools.mcp]]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config, env={})
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"{config}: tools.mcp ") and says in line
    for secret in ("abc123xyz", "and-more", "sk-abcdefgh"):
        assert secret not in line


def test_two_servers_with_one_label_are_refused() -> None:
    with pytest.raises(ConfigError, match="names server label 'a' twice"):
        load_settings(env={}, overrides={"tools.mcp": ["a=https://x/mcp", "a=https://y/mcp"]})


def test_an_unset_variable_is_a_config_error_naming_it() -> None:
    (server,) = parse_servers(
        [{"server_url": "https://a.example/mcp", "headers": {"Authorization": "${NOPE}"}}]
    )
    with pytest.raises(ConfigError, match="environment variable NOPE is not set"):
        session_tools([server], {})
