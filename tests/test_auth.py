from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from realtime_console.auth import resolve_credential
from realtime_console.errors import AuthError, CredentialError
from realtime_console.redact import Redactor


def test_azure_key_is_used_when_set_and_registered_for_redaction() -> None:
    redactor = Redactor()
    cred = resolve_credential(
        provider="azure",
        auth="auto",
        env={"AZURE_OPENAI_API_KEY": "azure-key-0123456789"},
        redactor=redactor,
    )
    assert cred.api_key == "azure-key-0123456789"
    assert "AZURE_OPENAI_API_KEY" in cred.description
    assert "azure-key-0123456789" not in cred.description
    assert redactor.text("x azure-key-0123456789 y") == "x *** y"


def test_openai_needs_its_key() -> None:
    with pytest.raises(AuthError, match="OPENAI_API_KEY"):
        resolve_credential(provider="openai", auth="auto", env={}, redactor=Redactor())
    cred = resolve_credential(
        provider="openai", auth="key", env={"OPENAI_API_KEY": "sk-abcdefgh12"}, redactor=Redactor()
    )
    assert cred.api_key == "sk-abcdefgh12"


def test_forced_key_auth_without_a_key_names_the_variable() -> None:
    with pytest.raises(AuthError, match="AZURE_OPENAI_API_KEY"):
        resolve_credential(provider="azure", auth="key", env={}, redactor=Redactor())


@pytest.fixture
def no_azure_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Developer credentials only (no network probes), and none of them usable here."""
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `az`, `azd` or `pwsh` to ask
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in list(os.environ):
        if name.startswith(("AZURE_CLIENT", "AZURE_TENANT", "AZURE_USERNAME", "IDENTITY_")):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_azure_login")
async def test_keyless_failure_is_one_clear_line_and_fast() -> None:
    cred = resolve_credential(provider="azure", auth="auto", env={}, redactor=Redactor())
    assert "Entra" in cred.description
    assert callable(cred.api_key)
    started = time.monotonic()
    with pytest.raises(CredentialError) as caught:
        await cred.api_key()
    await cred.aclose()
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "\n" not in message
    assert "Entra ID" in message and "az login" in message and "AZURE_OPENAI_API_KEY" in message
    assert caught.value.exit_code == 1
