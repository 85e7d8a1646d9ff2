"""Credentials for each provider: API keys, keyless Microsoft Entra ID, the local server's key.

Secrets come from the environment only (never from profile files) and are registered with the
process's ``Redactor`` the moment they are read or minted, so no log line or event log can hold one.
The Entra token provider is an async callable handed to ``AsyncOpenAI(api_key=…)``: the SDK awaits
it on every (re)connect, so tokens never go stale in a long session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from realtime_console._compat import wait_for
from realtime_console.errors import AuthError, CredentialError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import ConnectionSettings

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"

ApiKey = str | Callable[[], Awaitable[str]]

NO_CREDENTIALS = (
    "no credentials: set AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT_NAME (with "
    "AZURE_OPENAI_API_KEY, or `az login` for Entra ID), or OPENAI_API_KEY; "
    "or add --local to use the built-in local server"
)


def no_azure_endpoint(profile: str | None) -> str:
    """Azure without an endpoint. When a profile chose Azure, OpenAI's variable would not help,
    so the line names only what does."""
    if profile is None:
        return NO_CREDENTIALS
    return (
        f"profile {profile} uses Azure OpenAI but names no endpoint: set AZURE_OPENAI_ENDPOINT "
        "(and AZURE_OPENAI_DEPLOYMENT_NAME) or connection.endpoint, with AZURE_OPENAI_API_KEY "
        "or `az login` for Entra ID; or add --local to use the built-in local server"
    )


async def _close_nothing() -> None:
    return None


@dataclass
class Credential:
    """What ``AsyncOpenAI`` needs to authenticate, and how to release it."""

    api_key: ApiKey
    description: str  # safe to show: names the mechanism, never the secret
    aclose: Callable[[], Awaitable[None]] = field(default=_close_nothing)


def resolve_credential(
    *,
    provider: str,
    auth: str,
    env: Mapping[str, str],
    redactor: Redactor,
    token_timeout_s: float = 20.0,
) -> Credential:
    """Pick the credential for ``provider`` per the ``auth`` setting (auto | key | entra)."""
    if provider == "openai":
        key = env.get("OPENAI_API_KEY", "")
        if not key:
            raise AuthError("OPENAI_API_KEY is not set (or add --local to use the built-in server)")
        redactor.add(key)
        return Credential(key, "OpenAI API key (OPENAI_API_KEY)")
    if provider != "azure":
        raise AuthError(f"provider {provider!r} takes no credential from the environment")

    key = env.get("AZURE_OPENAI_API_KEY", "")
    if auth == "key" or (auth == "auto" and key):
        if not key:
            raise AuthError("connection.auth is 'key' but AZURE_OPENAI_API_KEY is not set")
        redactor.add(key)
        return Credential(key, "Azure API key (AZURE_OPENAI_API_KEY)")
    provider_fn, close = entra_token_provider(redactor, token_timeout_s)
    return Credential(provider_fn, "Microsoft Entra ID (DefaultAzureCredential)", close)


def credential_for(
    connection: ConnectionSettings, *, env: Mapping[str, str], redactor: Redactor
) -> Credential:
    """The credential the connection settings ask for (realtime and chat completions alike)."""
    return resolve_credential(
        provider=connection.provider,
        auth=connection.auth,
        env=env,
        redactor=redactor,
        token_timeout_s=connection.token_timeout_s,
    )


def entra_token_provider(
    redactor: Redactor, timeout_s: float
) -> tuple[Callable[[], Awaitable[str]], Callable[[], Awaitable[None]]]:
    """An awaitable bearer-token provider over ``DefaultAzureCredential``, and its closer.

    Failures become one ``CredentialError`` line with the fix, and a time limit keeps an offline
    machine (where some credentials probe the network) from hanging the console.
    """
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

    credential = DefaultAzureCredential()
    inner = get_bearer_token_provider(credential, ENTRA_SCOPE)

    async def token() -> str:
        try:
            value = await wait_for(inner(), timeout_s)
        except asyncio.TimeoutError:
            raise CredentialError(
                f"Microsoft Entra ID sign-in timed out after {timeout_s:g} s: run `az login`, "
                "or set AZURE_OPENAI_API_KEY to use key auth"
            ) from None
        except ClientAuthenticationError:
            raise CredentialError(
                "Microsoft Entra ID sign-in failed (no usable Azure credential): run `az login`, "
                "or set AZURE_OPENAI_API_KEY to use key auth"
            ) from None
        redactor.add(value)
        return str(value)

    async def close() -> None:
        await credential.close()

    return token, close
