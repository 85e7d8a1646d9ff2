"""Where audio chat completions go, and opening a client there.

Three ways to reach the service, all through the ``openai`` SDK (``CompletionsTarget.api``):

- ``openai``: ``{base_url}/chat/completions``, for OpenAI and the local server
  (``AsyncOpenAI(base_url=…)``).
- ``azure-deployments``: ``{endpoint}/openai/deployments/{model}/chat/completions?api-version=…``
  (``AsyncAzureOpenAI(azure_endpoint=…, azure_deployment=…, api_version=…)``).
- ``azure-v1``: ``{endpoint}/openai/v1/chat/completions`` (``AsyncOpenAI(base_url=…)``).

``endpoint`` also resolves the credential (``auth``) and, for ``provider = "local"``, starts
the in-process local server; ``completions/opening.py`` puts a client together from them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from realtime_console.auth import ApiKey, credential_for, no_azure_endpoint
from realtime_console.config import DEFAULT_AUDIO_MODEL
from realtime_console.errors import AuthError, ConfigError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from realtime_console.config import Settings

OPENAI_BASE_URL = "https://api.openai.com/v1"
LOCAL_KEY_SOURCE = "local server key"

# Azure's chat path per completions.azure_api; both use the deployment's name as the model.
_AZURE_API = {"deployments": "azure-deployments", "v1": "azure-v1"}
_HTTP_SCHEME = {"https": "https", "http": "http", "wss": "https", "ws": "http"}


@dataclass(frozen=True)
class CompletionsTarget:
    """Where requests go. Nothing here is secret: it is shown to the user and logged."""

    provider: str  # azure | openai | local
    model: str  # the model, or the Azure deployment's name (in the path, and as ``model``)
    api: str  # "openai" | "azure-deployments" | "azure-v1"
    base_url: str  # the SDK's base URL; for azure-deployments the resource endpoint
    api_version: str | None = None  # azure-deployments only: the ``api-version`` query
    # Where the credential came from, so a refusal can name what to fix: AZURE_OPENAI_API_KEY,
    # OPENAI_API_KEY, "Entra ID" or "local server key" ("" when not known).
    credential: str = ""

    def describe(self) -> str:
        """E.g. ``azure deployment gpt-audio at https://r.openai.azure.com (api-version …)``."""
        noun = "deployment" if self.provider == "azure" else "model"
        text = f"{self.provider} {noun} {self.model} at {self.base_url}"
        return text + (f" (api-version {self.api_version})" if self.api_version else "")


def completions_model(settings: Settings) -> str:
    """``completions.model``; else the Azure deployment, or DEFAULT_AUDIO_MODEL elsewhere."""
    if settings.completions.model:
        return settings.completions.model
    if settings.connection.provider == "azure":
        return settings.connection.deployment
    return DEFAULT_AUDIO_MODEL


def azure_resource_url(endpoint: str) -> str:
    """``https://r.openai.azure.com[/openai[/v1]][/]`` → ``https://r.openai.azure.com``: the
    realtime commands accept the endpoint with its ``/openai/v1`` path, so these do too."""
    parts = urlsplit(endpoint.strip())
    scheme = _HTTP_SCHEME.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ConfigError(
            f"AZURE_OPENAI_ENDPOINT {endpoint!r} is not an http(s) URL "
            "(expected https://RESOURCE.openai.azure.com)"
        )
    path = parts.path.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def credential_source(provider: str, api_key: ApiKey) -> str:
    """What supplied the credential, as errors name it (never the secret itself)."""
    if provider == "local":
        return LOCAL_KEY_SOURCE
    if provider == "openai":
        return "OPENAI_API_KEY"
    return "AZURE_OPENAI_API_KEY" if isinstance(api_key, str) else "Entra ID"


def resolve_target(
    settings: Settings, *, credential: str = "", local_url: str | None = None
) -> CompletionsTarget:
    """Pure: the target the settings describe. ``local_url`` is the running local server's
    ``http://HOST:PORT`` (provider local). Azure without an endpoint is ``AuthError``."""
    conn = settings.connection
    model = completions_model(settings)
    if conn.provider == "local":
        if local_url is None:
            raise ValueError("provider local needs the local server's URL")
        return CompletionsTarget("local", model, "openai", local_url + "/v1", None, credential)
    if conn.provider == "openai":
        base = (conn.endpoint or OPENAI_BASE_URL).rstrip("/")
        return CompletionsTarget("openai", model, "openai", base, None, credential)
    if not conn.endpoint:
        raise AuthError(no_azure_endpoint(settings.profile_name or settings.profile_path))
    resource = azure_resource_url(conn.endpoint)
    api = _AZURE_API[settings.completions.azure_api]
    if api == "azure-v1":
        return CompletionsTarget("azure", model, api, resource + "/openai/v1", None, credential)
    return CompletionsTarget("azure", model, api, resource, conn.api_version, credential)


def sdk_client(
    target: CompletionsTarget, api_key: ApiKey, *, timeout_s: float, connect_timeout_s: float
) -> AsyncOpenAI:
    """The SDK client for ``target``. Its own retries are off: ``CompletionsClient`` retries,
    with a notice per retry. Every SDK argument is explicit, so no ``OPENAI_*`` / ``AZURE_*``
    variable the SDK would read on its own can change where requests go."""
    from realtime_console._imports import without_gc

    with without_gc():  # the SDK's first import is most of the start-up (_imports.py)
        from openai import AsyncAzureOpenAI, AsyncOpenAI, Timeout

    # The whole budget for reading, but no 2-minute wait for a host that does not answer.
    timeout = Timeout(timeout_s, connect=min(timeout_s, connect_timeout_s))
    if target.api != "azure-deployments":
        # An async api_key callable (Entra ID) is awaited by the SDK before every request.
        return AsyncOpenAI(
            base_url=target.base_url, api_key=api_key, timeout=timeout, max_retries=0
        )
    if isinstance(api_key, str):
        return AsyncAzureOpenAI(
            azure_endpoint=target.base_url,
            azure_deployment=target.model,
            api_version=target.api_version,
            api_key=api_key,  # sent as the ``api-key`` header
            timeout=timeout,
            max_retries=0,
        )
    return AsyncAzureOpenAI(
        azure_endpoint=target.base_url,
        azure_deployment=target.model,
        api_version=target.api_version,
        azure_ad_token_provider=api_key,  # awaited per request: tokens never go stale
        timeout=timeout,
        max_retries=0,
    )


@contextlib.asynccontextmanager
async def endpoint(
    settings: Settings, env: Mapping[str, str], redactor: Redactor
) -> AsyncIterator[tuple[CompletionsTarget, ApiKey]]:
    """The target and its credential; for provider local, the in-process server behind it."""
    if settings.connection.provider == "local":
        from realtime_console.server.app import LocalServer
        from realtime_console.server.options import ServerOptions

        key = secrets.token_urlsafe(24)
        redactor.add(key)
        # eSpeak NG speech when installed, like the realtime --local, else the synthetic voice.
        async with LocalServer(ServerOptions(api_key=key, voice_engine="auto")) as server:
            yield (
                resolve_target(settings, credential=LOCAL_KEY_SOURCE, local_url=server.http_url()),
                key,
            )
        return
    resolve_target(settings)  # AuthError for Azure without an endpoint, before any sign-in
    conn = settings.connection
    credential = credential_for(conn, env=env, redactor=redactor)
    try:
        source = credential_source(conn.provider, credential.api_key)
        yield resolve_target(settings, credential=source), credential.api_key
    finally:
        await credential.aclose()
