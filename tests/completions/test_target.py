"""Where requests go for every provider and Azure API, and that each one really answers
(through ``open_completions``, which puts the target to use)."""

from __future__ import annotations

import pytest

from realtime_console.completions.opening import open_completions
from realtime_console.completions.target import (
    CompletionsTarget,
    azure_resource_url,
    completions_model,
    resolve_target,
)
from realtime_console.completions.types import AudioRequest
from realtime_console.config import DEFAULT_AUDIO_MODEL
from realtime_console.errors import AuthError, ConfigError
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from tests.completions.conftest import (
    KEY,
    SEED_API_VERSION,
    Notices,
    azure_env,
    client_for,
    needs_routes,
    openai_env,
    settings_for,
)

HELLO = AudioRequest(messages=({"role": "user", "content": "Hello"},))
AZURE = {
    "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com/",
    "AZURE_OPENAI_DEPLOYMENT_NAME": "gpt-audio",
    "OPENAI_API_VERSION": SEED_API_VERSION,
}


def test_azure_deployments_target_from_the_quickstart_variables() -> None:
    target = resolve_target(settings_for(AZURE), credential="AZURE_OPENAI_API_KEY")
    assert target == CompletionsTarget(
        "azure",
        "gpt-audio",
        "azure-deployments",
        "https://r.openai.azure.com",
        SEED_API_VERSION,
        "AZURE_OPENAI_API_KEY",
    )
    assert target.describe() == (
        "azure deployment gpt-audio at https://r.openai.azure.com (api-version 2025-01-01-preview)"
    )


def test_azure_v1_target() -> None:
    target = resolve_target(settings_for(AZURE, completions__azure_api="v1"))
    assert (target.api, target.base_url, target.api_version) == (
        "azure-v1",
        "https://r.openai.azure.com/openai/v1",
        None,
    )
    assert target.describe() == "azure deployment gpt-audio at https://r.openai.azure.com/openai/v1"


def test_completions_model_wins_over_the_deployment() -> None:
    settings = settings_for(AZURE, completions__model="gpt-audio-mini")
    assert completions_model(settings) == "gpt-audio-mini"
    assert resolve_target(settings).model == "gpt-audio-mini"


def test_openai_target_default_and_base_url() -> None:
    plain = resolve_target(settings_for({"OPENAI_API_KEY": "sk-test-000000"}))
    assert (plain.provider, plain.api, plain.model, plain.base_url) == (
        "openai",
        "openai",
        DEFAULT_AUDIO_MODEL,
        "https://api.openai.com/v1",
    )
    custom = resolve_target(
        settings_for({"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://h:1/v1/"})
    )
    assert custom.base_url == "http://h:1/v1"
    assert custom.describe() == f"openai model {DEFAULT_AUDIO_MODEL} at http://h:1/v1"


def test_local_target_uses_the_openai_path() -> None:
    settings = settings_for({}, connection__provider="local")
    target = resolve_target(settings, local_url="http://127.0.0.1:9")
    assert (target.api, target.base_url, target.model) == (
        "openai",
        "http://127.0.0.1:9/v1",
        DEFAULT_AUDIO_MODEL,
    )


@pytest.mark.parametrize(
    ("endpoint", "resource"),
    [
        ("https://r.openai.azure.com", "https://r.openai.azure.com"),
        ("https://r.openai.azure.com/openai/v1/", "https://r.openai.azure.com"),
        ("https://r.openai.azure.com/openai", "https://r.openai.azure.com"),
        ("wss://r.openai.azure.com/openai/v1", "https://r.openai.azure.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_azure_endpoint_forms(endpoint: str, resource: str) -> None:
    assert azure_resource_url(endpoint) == resource


def test_azure_endpoint_must_be_a_url() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        azure_resource_url("r.openai.azure.com")


async def test_azure_without_endpoint_is_a_missing_credential() -> None:
    settings = settings_for({"AZURE_OPENAI_API_KEY": "k" * 20}, connection__provider="azure")
    with pytest.raises(AuthError) as caught:
        async with open_completions(settings, env={}, redactor=Redactor(), notice=print):
            pass
    assert caught.value.exit_code == 2
    assert "--local" in str(caught.value)


async def test_openai_without_key_is_a_missing_credential() -> None:
    settings = settings_for({}, connection__provider="openai")
    with pytest.raises(AuthError, match="OPENAI_API_KEY"):
        async with open_completions(settings, env={}, redactor=Redactor(), notice=print):
            pass


@needs_routes
async def test_azure_deployments_path_answers(server: LocalServer) -> None:
    # Only the variables the Azure seeds set; the api-version is the seeds' own.
    async with client_for(azure_env(server)) as client:
        assert client.target.api == "azure-deployments"
        assert client.target.api_version == SEED_API_VERSION
        reply = await client.complete(HELLO)
    assert reply.text == '(local server) You said: "Hello".'
    assert reply.audio[:4] == b"RIFF" and reply.audio_id and reply.expires_at


@needs_routes
async def test_azure_v1_path_answers(server: LocalServer) -> None:
    async with client_for(azure_env(server), completions__azure_api="v1") as client:
        assert client.target.base_url == server.http_url() + "/openai/v1"
        reply = await client.complete(HELLO)
    assert reply.text.endswith('"Hello".')


@needs_routes
async def test_openai_base_url_answers(server: LocalServer) -> None:
    async with client_for(openai_env(server)) as client:
        assert client.target.provider == "openai"
        reply = await client.complete(HELLO)
    assert reply.completion_id.startswith("chatcmpl-")


@needs_routes
async def test_local_provider_starts_its_own_server() -> None:
    redactor = Redactor()
    settings = settings_for({}, connection__provider="local")
    async with open_completions(settings, env={}, redactor=redactor, notice=Notices()) as client:
        assert client.target.provider == "local"
        assert client.target.base_url.startswith("http://127.0.0.1:")
        reply = await client.complete(AudioRequest(messages=HELLO.messages, format="mp3"))
        # Its random key is known to the redactor, so no log or message can show it.
        assert redactor.text(client._sdk.api_key) == "***"
    assert reply.format == "mp3" and reply.audio


@needs_routes
async def test_entra_token_provider_is_awaited_per_request(server: LocalServer) -> None:
    """The keyless path: an async token callable, on both Azure APIs, asked before each
    request (the local server takes the token as a bearer key)."""
    from realtime_console.completions.client import CompletionsClient
    from realtime_console.completions.target import sdk_client

    calls = 0

    async def token() -> str:
        nonlocal calls
        calls += 1
        return KEY

    settings = settings_for(azure_env(server))
    for api, base in (
        ("azure-deployments", server.http_url()),
        ("azure-v1", server.http_url() + "/openai/v1"),
    ):
        target = CompletionsTarget("azure", "gpt-audio", api, base, SEED_API_VERSION, "Entra ID")
        sdk = sdk_client(target, token, timeout_s=10, connect_timeout_s=5)
        client = CompletionsClient(
            sdk, target, settings.completions, event_log=None, notice=print, redactor=Redactor()
        )
        try:
            await client.complete(HELLO)
            await client.complete(HELLO)
        finally:
            await sdk.close()
    assert calls == 4


@needs_routes
async def test_a_failed_entra_sign_in_surfaces_as_its_own_line(server: LocalServer) -> None:
    from realtime_console.completions.client import CompletionsClient
    from realtime_console.completions.target import sdk_client
    from realtime_console.errors import CredentialError

    async def token() -> str:
        raise CredentialError("Microsoft Entra ID sign-in failed: run `az login`")

    target = CompletionsTarget("azure", "gpt-audio", "azure-deployments", server.http_url(), "v")
    sdk = sdk_client(target, token, timeout_s=10, connect_timeout_s=5)
    settings = settings_for(azure_env(server))
    client = CompletionsClient(
        sdk, target, settings.completions, event_log=None, notice=print, redactor=Redactor()
    )
    try:
        with pytest.raises(CredentialError, match="az login"):
            await client.complete(HELLO)
    finally:
        await sdk.close()
