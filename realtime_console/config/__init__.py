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
    ``configs/bad.toml: session.turn_detection.threshold = 3 is out of range (0..1)``; a
    profile's problems are all reported at once, one line each.
    TOML has no null, so ``""`` (and ``0`` for ``idle_timeout_ms``) means "unset" (``None``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from realtime_console.config.files import find_profile, locate, read_toml
from realtime_console.config.rules import (
    ENV,
    FLAGS,
    RULES,
    SECTIONS,
    coerce,
    did_you_mean,
    toml_values,
    url_problem,
)
from realtime_console.config.settings import (
    DEFAULT_ASK_PROMPT,
    DEFAULT_AUDIO_MODEL,
    DEFAULT_INSTRUCTIONS,
    PACKAGED_CONFIGS,
    PROFILE_ENV,
    AudioSettings,
    CompletionsSettings,
    ConnectionSettings,
    LogSettings,
    SessionSettings,
    Settings,
    TurnDetection,
    as_dict,
)
from realtime_console.errors import ConfigError

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
    "url_problem",
]


def _flatten(obj: Any, prefix: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields(obj):
        key, value = f"{prefix}.{f.name}", getattr(obj, f.name)
        out.update(_flatten(value, key) if key in SECTIONS else {key: value})
    return out


def _build(cls: Any, prefix: str, values: Mapping[str, object]) -> Any:
    kwargs = {}
    for f in fields(cls):
        key = f"{prefix}.{f.name}"
        sub = SECTIONS.get(key)
        kwargs[f.name] = _build(sub, key, values) if sub else values[key]
    return cls(**kwargs)


_TOP = ("connection", "session", "audio", "completions", "log", "tools")
_DEFAULTS: dict[str, object] = {
    key: value for name in _TOP for key, value in _flatten(getattr(Settings(), name), name).items()
}


def _provider_from_env(env: Mapping[str, str]) -> str:
    if env.get("AZURE_OPENAI_ENDPOINT", "").strip():
        return "azure"
    return "openai" if env.get("OPENAI_API_KEY", "").strip() else "azure"


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
    found = locate(profile, config_file, env, cwd, user_config_dir)
    from_profile = {}
    if found.path is not None:
        from_profile = toml_values(read_toml(found.path, found.shown), found.shown)

    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    for key in overrides:
        if key not in RULES:
            raise ConfigError(f"unknown setting {key}{did_you_mean(key)}")
    flag_of = {key: FLAGS.get(key, "command line") for key in overrides}
    from_flags = {k: coerce(k, v, flag_of[k], from_text=True) for k, v in overrides.items()}

    values, origin = dict(_DEFAULTS), dict.fromkeys(_DEFAULTS, "built-in default")
    values.update(from_profile)
    origin.update(dict.fromkeys(from_profile, found.shown))
    # The provider decides which variables apply, so settle it before reading the environment.
    values["connection.provider"] = provider = from_flags.get(
        "connection.provider", from_profile.get("connection.provider", _provider_from_env(env))
    )
    for var, key, providers in ENV:
        text = env.get(var, "").strip()
        if text and provider in providers:
            values[key] = coerce(key, text, f"environment {var}", from_text=True)
            origin[key] = f"environment {var}"
    values.update(from_flags)
    origin.update(flag_of)

    sections = {name: _build(SECTIONS[name], name, values) for name in _TOP}
    shown = found.shown if found.path else None
    settings = Settings(**sections, profile_name=found.name, profile_path=shown)
    if settings.audio.prebuffer_ms >= settings.audio.max_buffer_ms:
        # Playback would wait for a prebuffer the jitter buffer can never hold.
        raise ConfigError(
            f"{origin['audio.max_buffer_ms']}: audio.max_buffer_ms = {settings.audio.max_buffer_ms}"
            f" must be more than audio.prebuffer_ms = {settings.audio.prebuffer_ms}"
        )
    if settings.audio.max_prebuffer_ms < settings.audio.prebuffer_ms:
        # The adaptive playout delay starts at prebuffer_ms and is capped at max_prebuffer_ms;
        # name the file that set one of them (the cap's, unless it is the default).
        where = origin["audio.max_prebuffer_ms"]
        if where == "built-in default":
            where = origin["audio.prebuffer_ms"]
        raise ConfigError(
            f"{where}: audio.max_prebuffer_ms ="
            f" {settings.audio.max_prebuffer_ms} must be at least audio.prebuffer_ms ="
            f" {settings.audio.prebuffer_ms}"
        )
    return settings
