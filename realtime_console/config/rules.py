"""What each setting may hold, and checking a value against it.

``RULES`` maps every dotted key to its kind (str, int, float, bool, list of strings, device),
range, choices or check; ``coerce`` validates one value from a profile, the environment or a
flag and names where it came from in the error. ``toml_values`` checks a whole profile and
reports every problem in it at once.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, get_args
from urllib.parse import urlsplit

from realtime_console.audio.formats import AudioFormat
from realtime_console.config import mcp_servers
from realtime_console.config.settings import (
    AecEngine,
    AecMode,
    AudioLogging,
    AudioSettings,
    AuthMode,
    AzureChatApi,
    CompletionsSettings,
    ConnectionSettings,
    Eagerness,
    LogSettings,
    NoiseReduction,
    OutputLatency,
    Provider,
    SessionSettings,
    ToolMode,
    ToolsSettings,
    TurnDetection,
    TurnDetectionType,
)
from realtime_console.errors import ConfigError


class _Kind(NamedTuple):
    accepts: Callable[[object], bool]
    noun: str
    parse: Callable[[str], object]  # from the text of an env var or flag
    normalize: Callable[[Any], object]


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)  # TOML `true` must not pass as 1


_BOOL_WORDS = dict.fromkeys(("true", "yes", "on", "1"), True)
_BOOL_WORDS.update(dict.fromkeys(("false", "no", "off", "0"), False))


def _parse_bool(text: str) -> bool:
    try:
        return _BOOL_WORDS[text.strip().lower()]
    except KeyError:
        raise ValueError(text) from None


_KINDS: dict[str, _Kind] = {
    "str": _Kind(lambda v: isinstance(v, str), "a string", str, str),
    "int": _Kind(_is_int, "an integer", int, int),
    "float": _Kind(lambda v: _is_int(v) or isinstance(v, float), "a number", float, float),
    "bool": _Kind(lambda v: isinstance(v, bool), "true or false", _parse_bool, bool),
    "strs": _Kind(
        lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v),
        "a list of strings",
        lambda text: [part.strip() for part in text.split(",")],
        tuple,
    ),
    # [[tools.mcp]] tables from a profile, [LABEL=]URL strings from --mcp (mcp_servers.py).
    "mcp": _Kind(mcp_servers.accepts, "a list of MCP servers", str, tuple),
    # A device is picked by index or by name; an index written as a TOML integer is natural.
    "device": _Kind(lambda v: isinstance(v, str) or _is_int(v), "a device index or name", str, str),
}


URL_SCHEMES = ("http", "https", "ws", "wss")


def url_problem(value: str) -> str | None:
    """Why ``value`` cannot be an endpoint URL (phrased to follow the value), or None.

    Checked here, where the message can name the variable or key, rather than deep in the SDK or
    websockets, which raise bare ValueErrors for a bad host or port.
    """
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - parsing it raises for a port out of range or not a number
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", …
        return f"is not a valid URL ({exc})"
    if parts.scheme not in URL_SCHEMES or not parts.netloc:
        return "is not an http(s):// or ws(s):// URL"
    host = parts.hostname or ""
    if not host or any(c.isspace() or not c.isprintable() or c == "\\" for c in host):
        return "has no valid host name"
    if "@" in parts.netloc:
        return "must not hold a user name or password (keys belong in the environment)"
    if parts.netloc.endswith(":"):
        return "has an empty port"
    return None


def _delay_ms(value: str) -> str | None:
    text = value.strip()
    if text == "auto" or (text.isdigit() and int(text) <= 1000):
        return None
    return 'must be "auto" or a number of milliseconds (0..1000)'


def _not_blank(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None


def _modalities(value: tuple[str, ...]) -> str | None:
    if any(m not in ("audio", "text") for m in value) or len(value) != 1:
        # The GA Realtime API answers with audio (plus transcript) or text, never both at once.
        return 'must be ["audio"] (speech plus transcript) or ["text"]'
    return None


_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # the service's rule, as tools.model.NAME_RULE


def _tool_files(value: tuple[str, ...]) -> str | None:
    return "must not hold an empty name" if any(not v.strip() for v in value) else None


def _tool_choice(value: str) -> str | None:
    # "auto", "none", "required" or one tool's name (the service's name rule); whether the
    # named tool exists is checked once the tools are loaded.
    if value in ("auto", "none", "required") or _TOOL_NAME.match(value):
        return None
    return 'must be "auto", "none", "required" or a tool name'


@dataclass(frozen=True)
class _Rule:
    kind: str
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    optional: bool = False  # "" (or 0 for an int) stands for None
    hide_value: bool = False  # the message names the problem only (the value may hold a secret)
    check: Callable[[Any], str | None] | None = None


RULES: dict[str, _Rule] = {
    "connection.provider": _Rule("str", choices=get_args(Provider)),
    "connection.endpoint": _Rule("str", optional=True, check=url_problem),
    "connection.deployment": _Rule("str", check=_not_blank),
    "connection.api_version": _Rule("str", check=_not_blank),
    "connection.auth": _Rule("str", choices=get_args(AuthMode)),
    "connection.connect_timeout_s": _Rule("float", gt=0),
    "connection.token_timeout_s": _Rule("float", gt=0),
    "connection.reconnect_attempts": _Rule("int", ge=0, le=20),
    "connection.response_timeout_s": _Rule("float", gt=0),
    "connection.session_limit_s": _Rule("float", ge=0),
    "session.instructions": _Rule("str"),
    "session.voice": _Rule("str", check=_not_blank),
    "session.output_modalities": _Rule("strs", check=_modalities),
    "session.input_transcription_model": _Rule("str", optional=True),
    "session.turn_detection.type": _Rule("str", choices=get_args(TurnDetectionType)),
    "session.turn_detection.threshold": _Rule("float", ge=0, le=1),
    "session.turn_detection.prefix_padding_ms": _Rule("int", ge=0),
    "session.turn_detection.silence_duration_ms": _Rule("int", gt=0),
    "session.turn_detection.create_response": _Rule("bool"),
    "session.turn_detection.interrupt_response": _Rule("bool"),
    "session.turn_detection.eagerness": _Rule("str", choices=get_args(Eagerness)),
    "session.turn_detection.idle_timeout_ms": _Rule("int", gt=0, optional=True),
    "session.input_audio_noise_reduction": _Rule("str", choices=get_args(NoiseReduction)),
    "audio.input_device": _Rule("device", optional=True),
    "audio.output_device": _Rule("device", optional=True),
    "audio.block_ms": _Rule("int", ge=5, le=200),
    "audio.output_latency": _Rule("str", choices=get_args(OutputLatency)),
    "audio.append_ms": _Rule("int", ge=20, le=500),
    "audio.prebuffer_ms": _Rule("int", ge=0, le=2000),
    "audio.max_prebuffer_ms": _Rule("int", ge=0, le=5000),
    "audio.max_buffer_ms": _Rule("int", ge=1, le=3_600_000),
    "audio.aec": _Rule("str", choices=get_args(AecMode)),
    "audio.aec_engine": _Rule("str", choices=get_args(AecEngine)),
    # "auto" or milliseconds; TOML may write the number bare, hence the str-or-int kind.
    "audio.aec_delay_ms": _Rule("device", check=_delay_ms),
    "audio.noise_suppression": _Rule("bool"),
    "audio.auto_gain": _Rule("bool"),
    "audio.echo_guard": _Rule("bool"),
    "completions.model": _Rule("str", optional=True),
    "completions.azure_api": _Rule("str", choices=get_args(AzureChatApi)),
    "completions.format": _Rule("str", choices=get_args(AudioFormat)),
    "completions.instructions": _Rule("str", optional=True),
    "completions.ask_prompt": _Rule("str", check=_not_blank),
    "completions.timeout_s": _Rule("float", gt=0),
    "completions.max_retries": _Rule("int", ge=0, le=10),
    "log.events": _Rule("str", optional=True),
    "log.audio": _Rule("str", choices=get_args(AudioLogging)),
    "tools.files": _Rule("strs", check=_tool_files),
    "tools.mode": _Rule("str", choices=get_args(ToolMode)),
    "tools.timeout_s": _Rule("float", gt=0),
    "tools.tool_choice": _Rule("str", check=_tool_choice),
    "tools.mcp": _Rule("mcp", check=mcp_servers.problem, hide_value=True),
}

SECTIONS: dict[str, Any] = {
    "connection": ConnectionSettings,
    "session": SessionSettings,
    "session.turn_detection": TurnDetection,
    "audio": AudioSettings,
    "completions": CompletionsSettings,
    "log": LogSettings,
    "tools": ToolsSettings,
}

# (variable, key, providers it applies to); secrets are deliberately absent.
ENV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("AZURE_OPENAI_ENDPOINT", "connection.endpoint", ("azure",)),
    ("AZURE_OPENAI_DEPLOYMENT_NAME", "connection.deployment", ("azure",)),
    ("OPENAI_BASE_URL", "connection.endpoint", ("openai",)),
    ("OPENAI_API_VERSION", "connection.api_version", get_args(Provider)),
)

# Overrides are named after the flag that set them, so the error points at what the user typed.
FLAGS: dict[str, str] = {
    "session.voice": "--voice",
    "session.instructions": "--instructions",
    "audio.input_device": "--input-device",
    "audio.output_device": "--output-device",
    "log.events": "--log-events",
    "completions.format": "--format",
    "completions.instructions": "--instructions",
    "tools.files": "--tools",
    "tools.mode": "--tool-mode",
    "tools.mcp": "--mcp",
}


def show(value: object) -> str:
    """A value as it would be written in TOML, shortened for a one-line message."""
    text = json.dumps(list(value) if isinstance(value, tuple) else value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: float) -> str:
    """A bound as a user would write it: 3600000, not 3.6e+06; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _range_problem(rule: _Rule, v: float) -> str | None:
    # Each test is phrased as "not ok" so that NaN, which fails every comparison, is rejected.
    if rule.ge is not None and rule.le is not None and not rule.ge <= v <= rule.le:
        return f"is out of range ({_number(rule.ge)}..{_number(rule.le)})"
    if rule.ge is not None and not v >= rule.ge:
        return f"must be >= {_number(rule.ge)}"
    if rule.gt is not None and not v > rule.gt:
        return f"must be > {_number(rule.gt)}"
    return None


def coerce(key: str, value: object, source: str, *, from_text: bool) -> object:
    """Validate one value for ``key``; ``from_text`` lets env vars and flags spell numbers."""
    rule, kind = RULES[key], _KINDS[RULES[key].kind]

    def fail(problem: str) -> ConfigError:
        if rule.hide_value:
            return ConfigError(f"{source}: {key} {problem}")
        return ConfigError(f"{source}: {key} = {show(value)} {problem}")

    v = value
    if from_text and isinstance(v, str) and rule.kind not in ("str", "device"):
        try:
            v = kind.parse(v)
        except ValueError:
            raise fail(f"must be {kind.noun}") from None
    if rule.optional and (v == "" or (rule.kind == "int" and _is_int(v) and v == 0)):
        return None
    if not kind.accepts(v):
        raise fail(f"must be {kind.noun}")
    v = kind.normalize(v)
    if rule.choices and v not in rule.choices:
        raise fail("must be one of " + ", ".join(json.dumps(c) for c in rule.choices))
    problem = _range_problem(rule, v) if isinstance(v, (int, float)) else None
    problem = problem or (rule.check(v) if rule.check else None)
    if problem:
        raise fail(problem)
    return v


# Leaf names that mean a secret: settings files never hold one (they get copied, shared and
# committed), so such a key is answered with where the secret does come from.
_SECRET_WORDS = ("api_key", "apikey", "key", "token", "secret", "password")
_SECRET_HINT = (
    " (secrets are never read from settings files: set AZURE_OPENAI_API_KEY (Azure) or "
    "OPENAI_API_KEY (OpenAI) in the environment, or use Entra ID on Azure)"
)


def did_you_mean(key: str) -> str:
    """The hint after an unknown key: where a secret comes from, or the closest known key."""
    if key.rpartition(".")[2].lower().replace("-", "_") in _SECRET_WORDS:
        return _SECRET_HINT
    known = [*RULES, *SECTIONS]
    hits = difflib.get_close_matches(key, known, n=1)
    if not hits:  # `voice` at top level is far from `session.voice` as a whole; compare leaves
        by_leaf = {k.rpartition(".")[2]: k for k in known}
        leaves = difflib.get_close_matches(key.rpartition(".")[2], list(by_leaf), n=1)
        hits = [by_leaf[leaf] for leaf in leaves]
    return f" (did you mean {hits[0]}?)" if hits else ""


def toml_values(doc: Mapping[str, Any], source: str) -> dict[str, object]:
    """The checked values of a profile. Every problem in it is reported at once (one line
    each, in file order): fixing a file one error per run is slow."""
    out: dict[str, object] = {}
    problems: list[str] = []

    def walk(table: Mapping[str, Any], prefix: str) -> None:
        for name, value in table.items():
            key = prefix + name
            if key in SECTIONS:
                if isinstance(value, dict):
                    walk(value, key + ".")
                else:
                    problems.append(f"{source}: {key} must be a table, not {show(value)}")
            elif key in RULES:
                try:
                    out[key] = coerce(key, value, source, from_text=False)
                except ConfigError as exc:
                    problems.append(str(exc))
            else:
                problems.append(f"{source}: unknown key {key}{did_you_mean(key)}")

    walk(doc, "")
    if problems:
        raise ConfigError("\n".join(problems))
    return out
