"""Settings: dataclasses, profile lookup, layering and validation. Pure: reads TOML, nothing else.

Precedence, highest first::

    command-line flags (``overrides``)  >  environment  >  profile file  >  built-in defaults

Profiles
    ``--config FILE`` reads FILE. ``--profile NAME`` (or ``REALTIME_CONSOLE_PROFILE=NAME`` when
    neither flag is given) looks for ``./configs/NAME.toml``, then
    ``$XDG_CONFIG_HOME/realtime-console/NAME.toml`` (``~/.config`` when unset), then the copy
    packaged in ``realtime_console/configs/``. Without a profile only the built-in defaults apply:
    ``configs/default.toml`` documents them and is never loaded implicitly.

Environment (read only when set and non-empty; secrets are never read here, see ``auth``)::

    AZURE_OPENAI_ENDPOINT          -> connection.endpoint     provider azure
    AZURE_OPENAI_DEPLOYMENT_NAME   -> connection.deployment   provider azure
    OPENAI_BASE_URL                -> connection.endpoint     provider openai
    OPENAI_API_VERSION             -> connection.api_version  any provider (chat completions only)
    REALTIME_CONSOLE_PROFILE       -> profile name            when neither --profile nor --config

    When no flag and no profile sets connection.provider: azure if AZURE_OPENAI_ENDPOINT is set,
    else openai if OPENAI_API_KEY is set, else azure (auth then reports the missing credential
    and offers --local).

Validation
    Unknown keys (with the closest known key suggested), wrong types (a bool is not a number; an
    int is a fine float), out-of-range or unknown enum values and invalid TOML all raise
    ``ConfigError`` with one line naming the source and the dotted key, e.g.
    ``configs/bad.toml: session.turn_detection.threshold = 3 is out of range (0..1)``.
    TOML has no null, so ``""`` (and ``0`` for ``idle_timeout_ms``) means "unset" (``None``).
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args
from urllib.parse import urlsplit

from realtime_console.audio.formats import AudioFormat
from realtime_console.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_ASK_PROMPT",
    "DEFAULT_AUDIO_MODEL",
    "DEFAULT_INSTRUCTIONS",
    "PACKAGED_CONFIGS",
    "PROFILE_ENV",
    "AudioSettings",
    "CompletionsSettings",
    "ConnectionSettings",
    "LogSettings",
    "SessionSettings",
    "Settings",
    "TurnDetection",
    "as_dict",
    "find_profile",
    "load_settings",
]

Provider = Literal["azure", "openai", "local"]
AuthMode = Literal["auto", "key", "entra"]
TurnDetectionType = Literal["server_vad", "semantic_vad", "none"]
Eagerness = Literal["low", "medium", "high", "auto"]
AudioLogging = Literal["full", "none"]
AzureChatApi = Literal["deployments", "v1"]

DEFAULT_AUDIO_MODEL = "gpt-audio-1.5"  # OpenAI's current audio chat model (late 2026)
DEFAULT_ASK_PROMPT = "Describe in detail the spoken audio input."
DEFAULT_INSTRUCTIONS = (
    "You are a helpful assistant. You answer out loud, and what you say is also shown as text."
)
PACKAGED_CONFIGS = Path(__file__).parent / "configs"
PROFILE_ENV = "REALTIME_CONSOLE_PROFILE"


@dataclass(frozen=True)
class TurnDetection:
    type: TurnDetectionType = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    create_response: bool = True
    interrupt_response: bool = True
    eagerness: Eagerness = "auto"  # semantic_vad only
    idle_timeout_ms: int | None = None  # server_vad only


@dataclass(frozen=True)
class SessionSettings:
    instructions: str = DEFAULT_INSTRUCTIONS
    voice: str = "alloy"
    output_modalities: tuple[str, ...] = ("audio",)
    input_transcription_model: str | None = "whisper-1"
    turn_detection: TurnDetection = field(default_factory=TurnDetection)


@dataclass(frozen=True)
class AudioSettings:
    input_device: str | None = None  # device index or name substring
    output_device: str | None = None
    block_ms: int = 20
    # Microphone audio per input_audio_buffer.append: each send costs syscalls and a loop
    # wakeup, so 100 ms keeps listening under 1% of a core (benchmarks/talk_cpu.py) for at most
    # 80 ms more before the server hears a block than 20 ms appends would.
    append_ms: int = 100
    prebuffer_ms: int = 40  # benchmarks/talk_playback_latency.py: no underrun at 40 ms jitter
    # The service streams a reply faster than it plays, so a whole reply may be queued: 10 min
    # (28.8 MB of 24 kHz PCM16) covers any reply while bounding memory; beyond it audio is
    # dropped, counted and said once per reply.
    max_buffer_ms: int = 600_000


@dataclass(frozen=True)
class ConnectionSettings:
    provider: Provider = "azure"
    endpoint: str | None = None
    deployment: str = "gpt-realtime"  # Azure deployment name, or the OpenAI model
    api_version: str = "2025-04-01-preview"  # chat completions only
    auth: AuthMode = "auto"
    connect_timeout_s: float = 15.0
    token_timeout_s: float = 20.0
    reconnect_attempts: int = 5  # after a dropped connection; 0 = give up at once (exit 1)
    # A turn's response that shows no life (no event of it, or no response.created after our
    # response.create) for this long is abandoned; each of its events restarts the clock.
    response_timeout_s: float = 30.0
    # The service ends a Realtime session this long after it opened (60 minutes); the console
    # renews it at a quiet moment in its last five minutes. 0 = never renew (a reconnect at the
    # limit instead).
    session_limit_s: float = 3600.0


@dataclass(frozen=True)
class CompletionsSettings:
    """The audio chat-completions commands (``audio say|ask|chat``)."""

    # None = the provider's default: the Azure deployment (connection.deployment, which
    # AZURE_OPENAI_DEPLOYMENT_NAME sets), or DEFAULT_AUDIO_MODEL on OpenAI and the local server.
    model: str | None = None
    # Azure only: "deployments" = /openai/deployments/{model}/chat/completions?api-version=…,
    # "v1" = /openai/v1/chat/completions with model = the deployment's name.
    azure_api: AzureChatApi = "deployments"
    format: AudioFormat = "wav"  # reply audio when neither -o's extension nor --format says
    instructions: str | None = None  # a system message before the conversation; None = none
    ask_prompt: str = DEFAULT_ASK_PROMPT  # `audio ask` without -p
    timeout_s: float = 120.0  # one request, until its last byte
    max_retries: int = 2  # after HTTP 429 / 5xx, honouring retry-after; 0 = fail at once


@dataclass(frozen=True)
class LogSettings:
    events: str | None = None  # path for --log-events
    audio: AudioLogging = "full"


@dataclass(frozen=True)
class Settings:
    """Everything but secrets, which auth reads from the environment and never from profiles."""

    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    completions: CompletionsSettings = field(default_factory=CompletionsSettings)
    log: LogSettings = field(default_factory=LogSettings)
    profile_name: str | None = None
    profile_path: str | None = None


def as_dict(settings: Settings) -> dict[str, Any]:
    """Plain JSON-ready data (tuples become lists) for printing and the event-log header."""
    plain: dict[str, Any] = json.loads(json.dumps(asdict(settings)))
    return plain


# --- validation table -------------------------------------------------------------------------


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


def _not_blank(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None


def _modalities(value: tuple[str, ...]) -> str | None:
    if any(m not in ("audio", "text") for m in value) or len(value) != 1:
        # The GA Realtime API answers with audio (plus transcript) or text, never both at once.
        return 'must be ["audio"] (speech plus transcript) or ["text"]'
    return None


@dataclass(frozen=True)
class _Rule:
    kind: str
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    optional: bool = False  # "" (or 0 for an int) stands for None
    check: Callable[[Any], str | None] | None = None


_RULES: dict[str, _Rule] = {
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
    "audio.input_device": _Rule("device", optional=True),
    "audio.output_device": _Rule("device", optional=True),
    "audio.block_ms": _Rule("int", ge=5, le=200),
    "audio.append_ms": _Rule("int", ge=20, le=500),
    "audio.prebuffer_ms": _Rule("int", ge=0, le=2000),
    "audio.max_buffer_ms": _Rule("int", ge=1, le=3_600_000),
    "completions.model": _Rule("str", optional=True),
    "completions.azure_api": _Rule("str", choices=get_args(AzureChatApi)),
    "completions.format": _Rule("str", choices=get_args(AudioFormat)),
    "completions.instructions": _Rule("str", optional=True),
    "completions.ask_prompt": _Rule("str", check=_not_blank),
    "completions.timeout_s": _Rule("float", gt=0),
    "completions.max_retries": _Rule("int", ge=0, le=10),
    "log.events": _Rule("str", optional=True),
    "log.audio": _Rule("str", choices=get_args(AudioLogging)),
}

_SECTIONS: dict[str, Any] = {
    "connection": ConnectionSettings,
    "session": SessionSettings,
    "session.turn_detection": TurnDetection,
    "audio": AudioSettings,
    "completions": CompletionsSettings,
    "log": LogSettings,
}

# (variable, key, providers it applies to); secrets are deliberately absent.
_ENV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("AZURE_OPENAI_ENDPOINT", "connection.endpoint", ("azure",)),
    ("AZURE_OPENAI_DEPLOYMENT_NAME", "connection.deployment", ("azure",)),
    ("OPENAI_BASE_URL", "connection.endpoint", ("openai",)),
    ("OPENAI_API_VERSION", "connection.api_version", get_args(Provider)),
)

# Overrides are named after the flag that set them, so the error points at what the user typed.
_FLAGS: dict[str, str] = {
    "session.voice": "--voice",
    "session.instructions": "--instructions",
    "audio.input_device": "--input-device",
    "audio.output_device": "--output-device",
    "log.events": "--log-events",
    "completions.format": "--format",
    "completions.instructions": "--instructions",
}


def _show(value: object) -> str:
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


def _coerce(key: str, value: object, source: str, *, from_text: bool) -> object:
    """Validate one value for ``key``; ``from_text`` lets env vars and flags spell numbers."""
    rule, kind = _RULES[key], _KINDS[_RULES[key].kind]

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{source}: {key} = {_show(value)} {problem}")

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


def _did_you_mean(key: str) -> str:
    known = [*_RULES, *_SECTIONS]
    hits = difflib.get_close_matches(key, known, n=1)
    if not hits:  # `voice` at top level is far from `session.voice` as a whole; compare leaves
        by_leaf = {k.rpartition(".")[2]: k for k in known}
        leaves = difflib.get_close_matches(key.rpartition(".")[2], list(by_leaf), n=1)
        hits = [by_leaf[leaf] for leaf in leaves]
    return f" (did you mean {hits[0]}?)" if hits else ""


# --- layers -----------------------------------------------------------------------------------


def _flatten(obj: Any, prefix: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields(obj):
        key, value = f"{prefix}.{f.name}", getattr(obj, f.name)
        out.update(_flatten(value, key) if key in _SECTIONS else {key: value})
    return out


def _build(cls: Any, prefix: str, values: Mapping[str, object]) -> Any:
    kwargs = {}
    for f in fields(cls):
        key = f"{prefix}.{f.name}"
        sub = _SECTIONS.get(key)
        kwargs[f.name] = _build(sub, key, values) if sub else values[key]
    return cls(**kwargs)


_TOP = ("connection", "session", "audio", "completions", "log")
_DEFAULTS: dict[str, object] = {
    key: value for name in _TOP for key, value in _flatten(getattr(Settings(), name), name).items()
}


def _toml_values(doc: Mapping[str, Any], source: str) -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(table: Mapping[str, Any], prefix: str) -> None:
        for name, value in table.items():
            key = prefix + name
            if key in _SECTIONS:
                if not isinstance(value, dict):
                    raise ConfigError(f"{source}: {key} must be a table, not {_show(value)}")
                walk(value, key + ".")
            elif key in _RULES:
                out[key] = _coerce(key, value, source, from_text=False)
            else:
                raise ConfigError(f"{source}: unknown key {key}{_did_you_mean(key)}")

    walk(doc, "")
    return out


MAX_CONFIG_BYTES = 1024 * 1024
"""A settings file is a few KiB; reading stops past this, so ``--config /dev/zero`` (or a
multi-gigabyte file named by mistake) is refused at once instead of read forever."""


def _read_bounded(path: Path, shown: str) -> bytes:
    with path.open("rb") as file:
        data = file.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{shown}: larger than {MAX_CONFIG_BYTES // 2**20} MiB; not a settings file"
        )
    return data


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        text = _read_bounded(path, shown).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None


def _profile_dirs(cwd: Path, user_config_dir: Path | None, env: Mapping[str, str]) -> list[Path]:
    if user_config_dir is None:
        xdg = env.get("XDG_CONFIG_HOME", "")
        # The XDG spec says a relative value is invalid and must be ignored.
        user_config_dir = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return [cwd / "configs", user_config_dir / "realtime-console", PACKAGED_CONFIGS]


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def find_profile(
    name: str,
    *,
    source: str = "--profile",
    cwd: Path | None = None,
    user_config_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """The file of profile ``name``: ./configs, then the user config dir, then the packaged copy."""
    cwd = Path.cwd() if cwd is None else cwd
    if not name or any(sep in name for sep in "/\\") or name.endswith(".toml"):
        raise ConfigError(f"{source} {name!r}: a profile is a name like azure; use --config FILE")
    dirs = _profile_dirs(cwd, user_config_dir, os.environ if env is None else env)
    candidates = [d / f"{name}.toml" for d in dirs]
    for path in candidates:
        if path.is_file():
            return path
    known = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.toml")})
    raise ConfigError(
        f"{source} {name}: no such profile; looked for "
        + ", ".join(_shown(p, cwd) for p in candidates)
        + (f" (available: {', '.join(known)})" if known else "")
    )


def _provider_from_env(env: Mapping[str, str]) -> str:
    if env.get("AZURE_OPENAI_ENDPOINT", "").strip():
        return "azure"
    return "openai" if env.get("OPENAI_API_KEY", "").strip() else "azure"


class _Profile(NamedTuple):
    name: str | None
    path: Path | None
    shown: str  # how messages name the file


def _locate(
    profile: str | None,
    config_file: str | None,
    env: Mapping[str, str],
    cwd: Path,
    user_config_dir: Path | None,
) -> _Profile:
    if config_file is not None:
        if profile is not None:
            raise ConfigError("--profile and --config cannot be used together")
        return _Profile(None, cwd / config_file, config_file)  # an absolute FILE wins the `/`
    source = "--profile"
    if profile is None and env.get(PROFILE_ENV, "").strip():
        profile, source = env[PROFILE_ENV].strip(), f"environment {PROFILE_ENV}"
    if profile is None:
        return _Profile(None, None, "")
    path = find_profile(profile, source=source, cwd=cwd, user_config_dir=user_config_dir, env=env)
    return _Profile(profile, path, _shown(path, cwd))


def load_settings(
    *,
    profile: str | None = None,
    config_file: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
    cwd: Path | None = None,
    user_config_dir: Path | None = None,
) -> Settings:
    """Layer defaults, a profile, the environment and flags (``None`` = not given) into Settings."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    found = _locate(profile, config_file, env, cwd, user_config_dir)
    from_profile = {}
    if found.path is not None:
        from_profile = _toml_values(_read_toml(found.path, found.shown), found.shown)

    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    for key in overrides:
        if key not in _RULES:
            raise ConfigError(f"unknown setting {key}{_did_you_mean(key)}")
    flag_of = {key: _FLAGS.get(key, "command line") for key in overrides}
    from_flags = {k: _coerce(k, v, flag_of[k], from_text=True) for k, v in overrides.items()}

    values, origin = dict(_DEFAULTS), dict.fromkeys(_DEFAULTS, "built-in default")
    values.update(from_profile)
    origin.update(dict.fromkeys(from_profile, found.shown))
    # The provider decides which variables apply, so settle it before reading the environment.
    values["connection.provider"] = provider = from_flags.get(
        "connection.provider", from_profile.get("connection.provider", _provider_from_env(env))
    )
    for var, key, providers in _ENV:
        text = env.get(var, "").strip()
        if text and provider in providers:
            values[key] = _coerce(key, text, f"environment {var}", from_text=True)
            origin[key] = f"environment {var}"
    values.update(from_flags)
    origin.update(flag_of)

    sections = {name: _build(_SECTIONS[name], name, values) for name in _TOP}
    shown = found.shown if found.path else None
    settings = Settings(**sections, profile_name=found.name, profile_path=shown)
    if settings.audio.prebuffer_ms >= settings.audio.max_buffer_ms:
        # Playback would wait for a prebuffer the jitter buffer can never hold.
        raise ConfigError(
            f"{origin['audio.max_buffer_ms']}: audio.max_buffer_ms = {settings.audio.max_buffer_ms}"
            f" must be more than audio.prebuffer_ms = {settings.audio.prebuffer_ms}"
        )
    return settings
