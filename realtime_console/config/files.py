"""Finding and reading profile files: the lookup order, the size bound, TOML parsing."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from realtime_console.config.settings import PACKAGED_CONFIGS, PROFILE_ENV
from realtime_console.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

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


def read_toml(path: Path, shown: str) -> dict[str, Any]:
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


def shown_path(path: Path, cwd: Path) -> str:
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
        + ", ".join(shown_path(p, cwd) for p in candidates)
        + (f" (available: {', '.join(known)})" if known else "")
    )


class Profile(NamedTuple):
    name: str | None
    path: Path | None
    shown: str  # how messages name the file


def locate(
    profile: str | None,
    config_file: str | None,
    env: Mapping[str, str],
    cwd: Path,
    user_config_dir: Path | None,
) -> Profile:
    if config_file is not None:
        if profile is not None:
            raise ConfigError("--profile and --config cannot be used together")
        return Profile(None, cwd / config_file, config_file)  # an absolute FILE wins the `/`
    source = "--profile"
    if profile is None and env.get(PROFILE_ENV, "").strip():
        profile, source = env[PROFILE_ENV].strip(), f"environment {PROFILE_ENV}"
    if profile is None:
        return Profile(None, None, "")
    path = find_profile(profile, source=source, cwd=cwd, user_config_dir=user_config_dir, env=env)
    return Profile(profile, path, shown_path(path, cwd))
