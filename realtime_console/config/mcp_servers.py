"""Remote MCP servers as session tools: ``[[tools.mcp]]`` tables and ``--mcp`` values, checked,
and turned into the session's ``{"type": "mcp"}`` tools.

A profile entry (the service's field names)::

    [[tools.mcp]]
    server_url = "https://notes.example.com/mcp"
    server_label = "notes"                     # optional: derived from the host
    allowed_tools = ["add_note", "list_notes"] # optional: only these are listed
    require_approval = "always"                # "always" (the default), "never", or
                                               # { never = ["list_notes"] } (names)
    headers = { Authorization = "Bearer ${NOTES_MCP_TOKEN}" }

``--mcp URL`` or ``--mcp LABEL=URL`` is the same without the optional keys.

Header values name environment variables as ``${NAME}``: a profile is copied, shared and
committed, so it never holds a credential. A header whose name says it carries one
(``Authorization``, ``Cookie``, anything with ``key``, ``token``, ``secret``, ``password`` or
``auth``) may hold nothing literal but a scheme word (``Bearer ${TOKEN}``); other headers may be
literal (``X-Api-Version = "2025-06-18"``). The variables are read when the session starts
(``session_tools``), and every value read is added to the redactor, so the event log and the
screen mask it wherever it appears. Pure: no I/O here; the environment is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from realtime_console.errors import ConfigError

_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a tool name, as the service allows them
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)
_SECRET_HEADER = re.compile(r"auth|cookie|key|token|secret|password|session", re.IGNORECASE)
_SCHEME_ONLY = re.compile(r"^[A-Za-z-]*\s*$")  # "Bearer ", "Basic ", "Token ", or nothing
_KEYS = frozenset({"server_url", "server_label", "allowed_tools", "require_approval", "headers"})
_APPROVALS = ("always", "never")


@dataclass(frozen=True)
class McpServer:
    """One checked MCP server entry; ``headers`` still hold their ``${NAME}`` references."""

    label: str
    url: str
    allowed_tools: tuple[str, ...] | None = None
    require_approval: str | Mapping[str, tuple[str, ...]] = "always"
    headers: tuple[tuple[str, str], ...] = ()


def parse_servers(value: Sequence[object]) -> list[McpServer]:
    """Every entry checked (a table from a profile, a ``[LABEL=]URL`` string from ``--mcp``);
    a ``ValueError`` whose text is one line saying what is wrong."""
    servers = [_parse(entry) for entry in value]
    seen: set[str] = set()
    for server in servers:
        if server.label in seen:
            raise ValueError(
                f"names server label {server.label!r} twice (give one a label: LABEL=URL or "
                "server_label)"
            )
        seen.add(server.label)
    return servers


def problem(value: object) -> str | None:
    """``config.rules``'s check: why ``value`` is not a list of MCP servers, or None."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return "must be a list of MCP servers"
    try:
        parse_servers(value)
    except ValueError as exc:
        return str(exc)
    return None


def accepts(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str | dict) for v in value)


def _parse(entry: object) -> McpServer:
    if isinstance(entry, str):
        return _from_flag(entry)
    if not isinstance(entry, Mapping):
        raise ValueError(f"has {entry!r}, not a table or a URL")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ValueError(
            f"has an unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
            + (
                " (secrets go in headers, as ${VARIABLE})"
                if _SECRET_HEADER.search(unknown[0])
                else ""
            )
        )
    url = entry.get("server_url")
    if not isinstance(url, str):
        raise ValueError("has an entry without server_url")
    _check_url(url)
    label = entry.get("server_label", _label_of(url))
    if not isinstance(label, str) or not _LABEL.match(label):
        raise ValueError(f"has server_label {label!r}: letters, digits, _ and - (at most 64)")
    return McpServer(
        label=label,
        url=url,
        allowed_tools=_names(entry, "allowed_tools", label) if "allowed_tools" in entry else None,
        require_approval=_approval(entry.get("require_approval", "always"), label),
        headers=_headers(entry.get("headers", {}), label),
    )


def _from_flag(text: str) -> McpServer:
    label, sep, url = text.partition("=")
    if not sep or "://" in label:  # a bare URL (its query may hold '=')
        label, url = _label_of(text), text
    _check_url(url)
    if not _LABEL.match(label):
        raise ValueError(f"has label {label!r}: letters, digits, _ and - (at most 64)")
    return McpServer(label=label, url=url)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        raise ValueError(f"has {url!r}, which is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"has {url!r}, which is not an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "has a URL with a user name or password in it (put credentials in headers, as "
            "${VARIABLE})"
        )


def _label_of(url: str) -> str:
    """The label of a server given by URL only: its host, every run of other characters than
    letters and digits made one ``_`` (``notes.example.com`` → ``notes_example_com``)."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        host = ""
    return re.sub(r"[^A-Za-z0-9]+", "_", host).strip("_")[:64] or "mcp"


def _names(entry: Mapping[str, Any], key: str, label: str) -> tuple[str, ...]:
    names = entry.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) and _NAME.match(n) for n in names):
        raise ValueError(f"[{label}] {key} must be a list of tool names")
    return tuple(names)


def _approval(value: object, label: str) -> str | Mapping[str, tuple[str, ...]]:
    if isinstance(value, str) and value in _APPROVALS:
        return value
    if isinstance(value, Mapping) and value and set(value) <= set(_APPROVALS):
        return {key: _names(value, key, label) for key in _APPROVALS if key in value}
    raise ValueError(
        f'[{label}] require_approval must be "always", "never" or a table of tool names '
        '({ never = ["list_notes"] })'
    )


def _headers(value: object, label: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise ValueError(f'[{label}] headers must be a table (headers = {{ Name = "value" }})')
    out: list[tuple[str, str]] = []
    for name, text in value.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"[{label}] header {name!r} is not a valid header name")
        if not isinstance(text, str):
            raise ValueError(f"[{label}] header {name} must be a string")
        literal = _REFERENCE.sub("", text)
        if _SECRET_HEADER.search(name) and not (
            _REFERENCE.search(text) and _SCHEME_ONLY.match(literal)
        ):
            # The value is not shown: it may be the very secret that must not be in the file.
            raise ValueError(
                f"[{label}] header {name} holds a literal value: credentials are never read "
                f'from settings files; name an environment variable ({name} = "Bearer '
                '${MY_MCP_TOKEN}")'
            )
        out.append((name, text))
    return tuple(out)


def session_tools(
    servers: Sequence[McpServer], env: Mapping[str, str], secrets: Any = None
) -> list[dict[str, Any]]:
    """The session's ``{"type": "mcp"}`` tools, header references filled in from ``env``.
    Each value read goes to ``secrets.add`` (the redactor). An unset variable is a
    ``ConfigError``: the server would refuse every call, later and less clearly."""
    tools: list[dict[str, Any]] = []
    for server in servers:
        tool: dict[str, Any] = {
            "type": "mcp",
            "server_label": server.label,
            "server_url": server.url,
            "require_approval": _approval_param(server.require_approval),
        }
        if server.allowed_tools is not None:
            tool["allowed_tools"] = list(server.allowed_tools)
        if server.headers:
            tool["headers"] = {
                name: _filled(server.label, name, text, env, secrets)
                for name, text in server.headers
            }
        tools.append(tool)
    return tools


def _approval_param(value: str | Mapping[str, tuple[str, ...]]) -> object:
    if isinstance(value, str):
        return value
    return {key: {"tool_names": list(names)} for key, names in value.items()}


def _filled(label: str, name: str, text: str, env: Mapping[str, str], secrets: Any) -> str:
    def value_of(match: re.Match[str]) -> str:
        variable = match.group(1)
        found = env.get(variable, "")
        if not found:
            raise ConfigError(
                f"tools.mcp [{label}] header {name}: environment variable {variable} is not set"
            )
        if secrets is not None:
            secrets.add(found)
        return found

    filled = _REFERENCE.sub(value_of, text)
    if secrets is not None and _REFERENCE.search(text):
        secrets.add(filled)  # "Bearer <token>" as a whole, too
    return filled
