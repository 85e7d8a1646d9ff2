"""Settings: defaults, layering, profile lookup, validation messages and the shipped profiles."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from realtime_console.config import (
    PACKAGED_CONFIGS,
    Settings,
    as_dict,
    load_settings,
)
from realtime_console.config.files import MAX_CONFIG_BYTES
from realtime_console.errors import ConfigError
from realtime_console.protocol.session import build_session

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = sorted(REPO_CONFIGS.glob("*.toml"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leaf_keys(obj: Any, prefix: str) -> set[str]:
    """Dotted keys of every non-dataclass field, read from the dataclasses themselves."""
    keys: set[str] = set()
    for f in dataclasses.fields(obj):
        value, key = getattr(obj, f.name), f"{prefix}.{f.name}"
        keys |= leaf_keys(value, key) if dataclasses.is_dataclass(value) else {key}
    return keys


def toml_keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in table.items():
        key = prefix + name
        keys |= toml_keys(value, key + ".") if isinstance(value, dict) else {key}
    return keys


ALL_KEYS = set().union(
    *(
        leaf_keys(getattr(Settings(), s), s)
        for s in ("connection", "session", "audio", "completions", "log", "tools")
    )
)


# --- defaults -----------------------------------------------------------------------------------


def test_defaults_are_seed_003_session() -> None:
    settings = load_settings(env={})
    assert settings.profile_name is None and settings.profile_path is None
    session = build_session(settings.session)
    assert "assistant" in session.pop("instructions")
    # Seed 003's session.update, plus interrupt_response (the API's own default, made explicit).
    assert session == {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "transcription": {"model": "whisper-1"},
                "format": {"type": "audio/pcm", "rate": 24000},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 200,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"voice": "alloy", "format": {"type": "audio/pcm", "rate": 24000}},
        },
    }


def test_defaults_of_the_other_sections() -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    connection = settings.connection
    assert (connection.provider, connection.deployment) == ("azure", "gpt-realtime")
    assert settings.connection.endpoint is None
    assert settings.connection.api_version == "2025-04-01-preview"
    audio = settings.audio  # the documented defaults (README, configs/default.toml)
    assert (audio.block_ms, audio.output_latency, audio.prebuffer_ms) == (10, "low", 40)
    assert settings.log == Settings().log and settings.log.events is None


# --- precedence ---------------------------------------------------------------------------------

PROFILE = '[connection]\ndeployment = "from-profile"\n[session]\nvoice = "echo"\n'


@pytest.mark.parametrize(
    ("with_profile", "env", "overrides", "deployment"),
    [
        (False, {}, {}, "gpt-realtime"),
        (True, {}, {}, "from-profile"),
        (True, {"AZURE_OPENAI_DEPLOYMENT_NAME": "from-env"}, {}, "from-env"),
        (
            True,
            {"AZURE_OPENAI_DEPLOYMENT_NAME": "from-env"},
            {"connection.deployment": "from-flag"},
            "from-flag",
        ),
        (
            True,
            {"AZURE_OPENAI_DEPLOYMENT_NAME": "from-env"},
            {"connection.deployment": None},
            "from-env",
        ),
        (True, {"AZURE_OPENAI_DEPLOYMENT_NAME": "  "}, {}, "from-profile"),
    ],
    ids=["default", "profile>default", "env>profile", "flag>env", "None=no flag", "blank env"],
)
def test_precedence(
    tmp_path: Path,
    with_profile: bool,
    env: dict[str, str],
    overrides: dict[str, object],
    deployment: str,
) -> None:
    config = str(write(tmp_path / "p.toml", PROFILE)) if with_profile else None
    settings = load_settings(config_file=config, env=env, overrides=overrides)
    assert settings.connection.deployment == deployment
    assert settings.session.voice == ("echo" if with_profile else "alloy")


def test_flag_beats_profile_for_session_keys(tmp_path: Path) -> None:
    config = str(write(tmp_path / "p.toml", PROFILE))
    overrides = {"session.voice": "shimmer", "session.turn_detection.type": "none"}
    settings = load_settings(config_file=config, env={}, overrides=overrides)
    assert settings.session.voice == "shimmer"
    assert settings.session.turn_detection.type == "none"
    assert settings.session.turn_detection.threshold == 0.5  # untouched keys keep their layer


@pytest.mark.parametrize(
    ("profile_provider", "env", "flag_provider", "provider", "endpoint"),
    [
        (None, {}, None, "azure", None),
        (None, {"OPENAI_API_KEY": "sk-x"}, None, "openai", None),
        (
            None,
            {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://o:1/v1"},
            None,
            "openai",
            "http://o:1/v1",
        ),
        (
            None,
            {"OPENAI_API_KEY": "sk-x", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"},
            None,
            "azure",
            "https://r.openai.azure.com",
        ),
        # Each variable belongs to one provider: the other provider's endpoint is not borrowed.
        (None, {"OPENAI_BASE_URL": "http://o:1/v1"}, None, "azure", None),
        ("openai", {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"}, None, "openai", None),
        ("azure", {"OPENAI_API_KEY": "sk-x"}, None, "azure", None),
        ("openai", {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"}, "local", "local", None),
    ],
)
def test_provider_choice_and_env_mapping(
    tmp_path: Path,
    profile_provider: str | None,
    env: dict[str, str],
    flag_provider: str | None,
    provider: str,
    endpoint: str | None,
) -> None:
    text = f'[connection]\nprovider = "{profile_provider}"\n' if profile_provider else ""
    settings = load_settings(
        config_file=str(write(tmp_path / "p.toml", text)),
        env=env,
        overrides={"connection.provider": flag_provider},
    )
    assert (settings.connection.provider, settings.connection.endpoint) == (provider, endpoint)


def test_api_version_comes_from_environment_for_any_provider() -> None:
    for provider in ("azure", "openai", "local"):
        settings = load_settings(
            env={"OPENAI_API_VERSION": "2024-10-01-preview"},
            overrides={"connection.provider": provider},
        )
        assert settings.connection.api_version == "2024-10-01-preview"


def test_flag_values_may_be_text() -> None:
    settings = load_settings(
        env={},
        overrides={
            "session.turn_detection.threshold": "0.7",
            "session.turn_detection.create_response": "false",
            "session.output_modalities": "text",
            "audio.output_device": "2",
            "audio.input_device": "",
            "audio.block_ms": 40,
            "log.events": "x.jsonl",
        },
    )
    assert settings.session.turn_detection.threshold == 0.7
    assert settings.session.turn_detection.create_response is False
    assert settings.session.output_modalities == ("text",)
    assert (settings.audio.output_device, settings.audio.input_device) == ("2", None)
    assert (settings.audio.block_ms, settings.log.events) == (40, "x.jsonl")


def test_toml_conveniences(tmp_path: Path) -> None:
    text = (
        '[session]\ninput_transcription_model = ""\n'
        "[session.turn_detection]\nthreshold = 1\nidle_timeout_ms = 6000\n"
        "[audio]\noutput_device = 3\n"
    )
    settings = load_settings(config_file=str(write(tmp_path / "p.toml", text)), env={})
    assert settings.session.input_transcription_model is None  # "" = off
    threshold = settings.session.turn_detection.threshold
    assert threshold == 1.0 and isinstance(threshold, float)  # an int is a fine float
    assert settings.session.turn_detection.idle_timeout_ms == 6000
    assert settings.audio.output_device == "3"  # a device index may be written as a number


# --- profile lookup -----------------------------------------------------------------------------


def test_profile_search_order_cwd_then_user_dir_then_packaged(tmp_path: Path) -> None:
    cwd, user = tmp_path / "work", tmp_path / "xdg"
    in_cwd = write(cwd / "configs" / "azure.toml", '[session]\nvoice = "cwd"\n')
    in_user = write(user / "realtime-console" / "azure.toml", '[session]\nvoice = "user"\n')

    def load() -> Settings:
        return load_settings(profile="azure", env={}, cwd=cwd, user_config_dir=user)

    first = load()
    assert (first.session.voice, first.profile_name) == ("cwd", "azure")
    assert first.profile_path == str(Path("configs") / "azure.toml")
    in_cwd.unlink()
    assert (load().session.voice, load().profile_path) == ("user", str(in_user))
    in_user.unlink()
    packaged = load()
    assert packaged.profile_path == str(PACKAGED_CONFIGS / "azure.toml")
    assert (packaged.session.voice, packaged.connection.provider) == ("alloy", "azure")


def test_user_dir_defaults_to_xdg_config_home(tmp_path: Path) -> None:
    write(tmp_path / "realtime-console" / "mine.toml", '[session]\nvoice = "xdg"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    settings = load_settings(profile="mine", env=env, cwd=tmp_path / "elsewhere")
    assert settings.session.voice == "xdg"


def test_profile_from_environment_and_flag_precedence(tmp_path: Path) -> None:
    write(tmp_path / "configs" / "a.toml", '[session]\nvoice = "a"\n')
    write(tmp_path / "configs" / "b.toml", '[session]\nvoice = "b"\n')
    env = {"REALTIME_CONSOLE_PROFILE": "a"}
    kw: dict[str, Any] = {"env": env, "cwd": tmp_path, "user_config_dir": tmp_path / "none"}
    assert load_settings(**kw).session.voice == "a"
    assert load_settings(profile="b", **kw).session.voice == "b"
    # --config names the file outright, so the environment's profile does not apply.
    assert load_settings(config_file="configs/b.toml", **kw).session.voice == "b"


def test_unknown_profile_lists_places_searched(tmp_path: Path) -> None:
    cwd, user = tmp_path / "work", tmp_path / "xdg"
    with pytest.raises(ConfigError) as caught:
        load_settings(profile="nope", env={}, cwd=cwd, user_config_dir=user)
    message = str(caught.value)
    assert message.startswith("--profile nope: no such profile")
    for place in (
        "configs/nope.toml",
        str(user / "realtime-console" / "nope.toml"),
        str(PACKAGED_CONFIGS / "nope.toml"),
    ):
        assert place in message
    assert "azure" in message  # the available profiles are listed


# --- errors -------------------------------------------------------------------------------------

BAD_TOML = [
    (
        "[session.turn_detection]\nthreshold = 3",
        "bad.toml: session.turn_detection.threshold = 3 is out of range (0..1)",
    ),
    ("[session.turn_detection]\nthreshold = nan", "threshold = NaN is out of range (0..1)"),
    (
        '[session.turn_detection]\nthreshold = "high"',
        'session.turn_detection.threshold = "high" must be a number',
    ),
    ("[audio]\nblock_ms = true", "audio.block_ms = true must be an integer"),
    ("[audio]\nblock_ms = 20.0", "audio.block_ms = 20.0 must be an integer"),
    ("[audio]\nblock_ms = 1", "audio.block_ms = 1 is out of range (5..200)"),
    (
        "[audio]\nprebuffer_ms = 500\nmax_buffer_ms = 400",
        "audio.max_buffer_ms = 400 must be more than audio.prebuffer_ms = 500",
    ),
    ("[session.turn_detection]\nsilence_duration_ms = 0", "silence_duration_ms = 0 must be > 0"),
    ("[session.turn_detection]\nprefix_padding_ms = -1", "prefix_padding_ms = -1 must be >= 0"),
    ("[session.turn_detection]\ncreate_response = 1", "create_response = 1 must be true or false"),
    ("[session]\nvoice = 5", "session.voice = 5 must be a string"),
    ('[session]\nvoice = ""', 'session.voice = "" must not be empty'),
    ("[session]\nvoice = 1979-05-27", 'session.voice = "1979-05-27" must be a string'),
    (
        '[session.turn_detection]\ntype = "vad"',
        'session.turn_detection.type = "vad" must be one of "server_vad", "semantic_vad", "none"',
    ),
    ('[connection]\nprovider = "aws"', 'connection.provider = "aws" must be one of'),
    ("[connection]\nreconnect_attempts = 21", "reconnect_attempts = 21 is out of range (0..20)"),
    ("[connection]\nreconnect_attempts = -1", "reconnect_attempts = -1 is out of range (0..20)"),
    ("[connection]\nreconnect_attempts = 1.5", "reconnect_attempts = 1.5 must be an integer"),
    ("[connection]\nresponse_timeout_s = 0", "connection.response_timeout_s = 0 must be > 0"),
    ("[connection]\nresponse_timeout_s = -3", "response_timeout_s = -3 must be > 0"),
    ("[connection]\nresponse_timeout_s = nan", "response_timeout_s = NaN must be > 0"),
    ('[connection]\nresponse_timeout_s = "30"', 'response_timeout_s = "30" must be a number'),
    ('[log]\naudio = "some"', 'log.audio = "some" must be one of "full", "none"'),
    ('[connection]\nendpoint = "ftp://x"', 'connection.endpoint = "ftp://x" is not an http(s)'),
    ('[session]\noutput_modalities = ["audio", "text"]', "session.output_modalities = "),
    ("[session]\noutput_modalities = []", 'session.output_modalities = [] must be ["audio"]'),
    ('[session]\noutput_modalities = "audio"', "must be a list of strings"),
    ('[session]\nvioce = "echo"', "unknown key session.vioce (did you mean session.voice?)"),
    ('[sesion]\nvoice = "echo"', "unknown key sesion (did you mean session?)"),
    ('voice = "echo"', "unknown key voice (did you mean session.voice?)"),
    (
        "[session.turn_detection]\nthreshhold = 0.5",
        "unknown key session.turn_detection.threshhold"
        " (did you mean session.turn_detection.threshold?)",
    ),
    ("session = 3", "session must be a table, not 3"),
    (
        '[connection]\napi_key = "sk-123"',
        "unknown key connection.api_key (secrets are never read from settings files: set "
        "AZURE_OPENAI_API_KEY (Azure) or OPENAI_API_KEY (OpenAI) in the environment",
    ),
    ('[connection]\ntoken = "x"', "unknown key connection.token (secrets are never read"),
    ("[session\nvoice = 1", "bad.toml: invalid TOML: "),
    ('[session]\nvoice = "a"\nvoice = "b"', "bad.toml: invalid TOML: "),
]


@pytest.mark.parametrize(("text", "expected"), BAD_TOML)
def test_bad_profile_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    write(tmp_path / "configs" / "bad.toml", text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file="configs/bad.toml", env={}, cwd=tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("configs/bad.toml: ")
    assert expected in message
    assert caught.value.exit_code == 2


def test_bad_profile_found_by_name_names_its_path(tmp_path: Path) -> None:
    write(tmp_path / "configs" / "bad.toml", "[audio]\nblock_ms = 0\n")
    with pytest.raises(ConfigError, match=r"^configs/bad\.toml: audio\.block_ms = 0 is out"):
        load_settings(profile="bad", env={}, cwd=tmp_path, user_config_dir=tmp_path)


@pytest.mark.parametrize(
    ("env", "overrides", "expected"),
    [
        (
            {"AZURE_OPENAI_ENDPOINT": "my-resource"},
            {},
            'environment AZURE_OPENAI_ENDPOINT: connection.endpoint = "my-resource" is not an',
        ),
        (
            {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "localhost:8000"},
            {},
            "environment OPENAI_BASE_URL: connection.endpoint = ",
        ),
        ({}, {"session.voice": ""}, '--voice: session.voice = "" must not be empty'),
        ({}, {"audio.output_device": 2.5}, "--output-device: audio.output_device = 2.5 must be a"),
        (
            {},
            {"session.turn_detection.type": "ptt"},
            'command line: session.turn_detection.type = "ptt" must be one of',
        ),
        (
            {},
            {"session.turn_detection.threshold": "loud"},
            'command line: session.turn_detection.threshold = "loud" must be a number',
        ),
        (
            {},
            {"session.turn_detection.create_response": "maybe"},
            'command line: session.turn_detection.create_response = "maybe" must be true or false',
        ),
        (
            {},
            {"session.vocie": "echo"},
            "unknown setting session.vocie (did you mean session.voice?)",
        ),
        (
            {"REALTIME_CONSOLE_PROFILE": "no-such"},
            {},
            "environment REALTIME_CONSOLE_PROFILE no-such: no such profile",
        ),
    ],
)
def test_bad_environment_or_flag_names_its_source(
    tmp_path: Path, env: dict[str, str], overrides: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env, overrides=overrides, cwd=tmp_path, user_config_dir=tmp_path)
    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"config_file": "missing.toml"}, "missing.toml: no such file"),
        ({"config_file": "."}, ".: cannot read"),
        ({"config_file": "latin1.toml"}, "latin1.toml: not UTF-8 text"),
        ({"config_file": "x.toml", "profile": "azure"}, "--profile and --config cannot be used"),
        ({"profile": "configs/azure.toml"}, "--profile 'configs/azure.toml': a profile is a name"),
    ],
)
def test_unusable_profile_source(tmp_path: Path, kwargs: dict[str, Any], expected: str) -> None:
    (tmp_path / "latin1.toml").write_bytes('[session]\nvoice = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, cwd=tmp_path, user_config_dir=tmp_path, **kwargs)
    assert str(caught.value).startswith(expected)


BAD_URLS = [
    ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
    ("http://h:99999", "is not a valid URL (Port out of range 0-65535)"),
    ("https://res.openai.azure.com:https", "is not a valid URL (Port could not be cast"),
    ("http://h:", "has an empty port"),
    ("http://exa mple.com", "has no valid host name"),
    ("https://:443", "has no valid host name"),
    ("https://user:pw@res.openai.azure.com", "must not hold a user name or password"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({}, "configs/bad.toml"),
        ({"AZURE_OPENAI_ENDPOINT": "{url}"}, "environment AZURE_OPENAI_ENDPOINT"),
        ({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "{url}"}, "environment OPENAI_BASE_URL"),
    ],
)
def test_a_malformed_endpoint_names_where_it_came_from(
    tmp_path: Path, url: str, problem: str, env: dict[str, str], source: str
) -> None:
    env = {name: value.replace("{url}", url) for name, value in env.items()}
    if not env:
        write(tmp_path / "configs" / "bad.toml", f"[connection]\nendpoint = {json.dumps(url)}\n")
    config_file = None if env else "configs/bad.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config_file, env=env, cwd=tmp_path, user_config_dir=tmp_path)
    expected = f"{source}: connection.endpoint = {json.dumps(url)} {problem}"
    assert str(caught.value).startswith(expected)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "https://[::1]:443/x", "wss://h.example"])
def test_good_endpoints_pass(url: str) -> None:
    assert load_settings(env={"AZURE_OPENAI_ENDPOINT": url}).connection.endpoint == url


def test_a_settings_file_over_1_mib_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match=r"^big\.toml: larger than 1 MiB; not a settings file$"):
        load_settings(config_file="big.toml", env={}, cwd=tmp_path)
    just_fits = tmp_path / "fits.toml"
    just_fits.write_text("#" * (MAX_CONFIG_BYTES - 1) + "\n")
    assert load_settings(config_file="fits.toml", env={}, cwd=tmp_path).profile_path == "fits.toml"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.timeout(5)
def test_an_endless_file_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^/dev/zero: larger than 1 MiB"):
        load_settings(config_file="/dev/zero", env={}, cwd=tmp_path)


# --- shipped profiles ---------------------------------------------------------------------------


def test_the_documented_profiles_ship() -> None:
    assert {p.stem for p in SHIPPED} == {"default", "azure", "openai", "local"}
    assert {p.name for p in PACKAGED_CONFIGS.glob("*.toml")} == {p.name for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_profile_loads(path: Path, tmp_path: Path) -> None:
    by_file = load_settings(config_file=str(path), env={})
    # Looked up by name from an empty directory, the packaged copy is found and reads the same.
    by_name = load_settings(profile=path.stem, env={}, cwd=tmp_path, user_config_dir=tmp_path)
    assert dataclasses.replace(by_name, profile_name=None, profile_path=None) == (
        dataclasses.replace(by_file, profile_path=None)
    )
    if path.stem != "default":
        assert by_file.connection.provider == path.stem


def test_default_toml_lists_every_key_with_its_default() -> None:
    path = REPO_CONFIGS / "default.toml"
    text = path.read_text(encoding="utf-8")
    assert toml_keys(tomllib.loads(text)) == ALL_KEYS
    loaded = load_settings(config_file=str(path), env={})
    assert dataclasses.replace(loaded, profile_path=None) == Settings()
    for variable in (
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_DEPLOYMENT_NAME",
        "OPENAI_BASE_URL",
        "OPENAI_API_VERSION",
        "OPENAI_API_KEY",
        "REALTIME_CONSOLE_PROFILE",
    ):
        assert variable in text


# --- inspection ---------------------------------------------------------------------------------


def test_as_dict_is_json_ready_and_holds_no_secret() -> None:
    env = {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com", "AZURE_OPENAI_API_KEY": "s3cr3t"}
    data = as_dict(load_settings(env=env))
    assert data["connection"]["endpoint"] == "https://r.openai.azure.com"
    assert data["session"]["output_modalities"] == ["audio"]
    assert data["session"]["turn_detection"]["threshold"] == 0.5
    assert "s3cr3t" not in json.dumps(data)


def test_reconnect_attempts_defaults_to_5_and_0_turns_it_off(tmp_path: Path) -> None:
    assert load_settings(env={}).connection.reconnect_attempts == 5
    config = write(tmp_path / "p.toml", "[connection]\nreconnect_attempts = 0")
    assert load_settings(config_file=str(config), env={}).connection.reconnect_attempts == 0


def test_completions_defaults_and_profile_values(tmp_path: Path) -> None:
    defaults = load_settings(env={}).completions
    assert defaults.model is None and defaults.azure_api == "deployments"
    assert defaults.format == "wav" and defaults.max_retries == 2
    assert defaults.ask_prompt == "Describe in detail the spoken audio input."
    config = write(
        tmp_path / "p.toml", '[completions]\nmodel = "gpt-audio-mini"\nazure_api = "v1"\n'
    )
    loaded = load_settings(config_file=str(config), env={}).completions
    assert loaded.model == "gpt-audio-mini" and loaded.azure_api == "v1"


def test_completions_bad_values_name_the_key_or_flag(tmp_path: Path) -> None:
    config = write(tmp_path / "p.toml", '[completions]\nformat = "ogg"\n')
    with pytest.raises(ConfigError, match=r"completions.format = \"ogg\" must be one of"):
        load_settings(config_file=str(config), env={})
    with pytest.raises(ConfigError, match=r"^--format: completions.format"):
        load_settings(env={}, overrides={"completions.format": "ogg"})


def test_response_timeout_defaults_to_30_s_and_takes_any_positive_number(tmp_path: Path) -> None:
    assert load_settings(env={}).connection.response_timeout_s == 30.0
    config = write(tmp_path / "p.toml", "[connection]\nresponse_timeout_s = 2")
    assert load_settings(config_file=str(config), env={}).connection.response_timeout_s == 2.0
    flag = load_settings(env={}, overrides={"connection.response_timeout_s": "0.25"})
    assert flag.connection.response_timeout_s == 0.25


def test_every_problem_of_a_profile_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        '[connection]\napi_key = "sk-123"\nreconnect_attempts = 99\n'
        '[session]\nvioce = "echo"\n[audio]\nblock_ms = 20\n'
    )
    write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file="bad.toml", env={}, cwd=tmp_path)
    lines = str(caught.value).split("\n")
    assert [line.split(": ", 1)[1].split(" (")[0] for line in lines] == [
        "unknown key connection.api_key",
        "connection.reconnect_attempts = 99 is out of range",
        "unknown key session.vioce",
    ]
    assert all(line.startswith("bad.toml: ") for line in lines)
    assert "sk-123" not in str(caught.value)  # the value of a secret-looking key is never shown
