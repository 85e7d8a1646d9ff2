"""The pure parts of the error mapping and the retry policy."""

from __future__ import annotations

import email.utils
import time

import httpx2
import openai

from realtime_console.completions import retry
from realtime_console.completions.errors import (
    MAX_MESSAGE_CHARS,
    AudioNotFound,
    Failure,
    clean_message,
    error_for,
    failure_of,
    from_sdk_error,
    retry_after_s,
)
from realtime_console.completions.target import CompletionsTarget
from realtime_console.errors import CredentialError
from realtime_console.redact import Redactor

TARGET = CompletionsTarget(
    "azure", "gpt-audio", "azure-deployments", "https://r.openai.azure.com", "2025-01-01-preview"
)
SECRET = "sk-secret-0123456789abcdef"


def status_error(status: int, error: dict[str, object], **headers: str) -> openai.APIStatusError:
    """What the SDK raises for an HTTP error: the same constructor, a real httpx2 response."""
    request = httpx2.Request("POST", "https://r.openai.azure.com/openai/v1/chat/completions")
    response = httpx2.Response(status, headers=headers, json={"error": error}, request=request)
    return openai.APIStatusError("Error code", response=response, body=error)


def test_clean_message_strips_control_characters_bounds_and_redacts() -> None:
    text = f"bad\x1b[31m key\n{SECRET}\x00 " + "x" * 1000
    cleaned = clean_message(text, Redactor([SECRET]))
    assert "\x1b" not in cleaned and "\n" not in cleaned and "\x00" not in cleaned
    assert SECRET not in cleaned and "***" in cleaned
    assert len(cleaned) == MAX_MESSAGE_CHARS and cleaned.endswith("…")


def test_service_message_with_a_secret_is_masked_in_the_line() -> None:
    exc = status_error(400, {"message": f"bad key {SECRET}", "code": "invalid_value", "param": "x"})
    line = str(from_sdk_error(exc, TARGET, redactor=Redactor([SECRET])))
    assert line == "the service refused the request (HTTP 400): bad key *** (param x)"


def test_audio_not_found_is_its_own_class() -> None:
    exc = status_error(
        400, {"message": "Audio with id audio_1 not found.", "code": "audio_not_found"}
    )
    error = from_sdk_error(exc, TARGET)
    assert isinstance(error, AudioNotFound) and error.exit_code == 1


def test_413_and_other_statuses() -> None:
    too_big = str(from_sdk_error(status_error(413, {"message": "Too large."}), TARGET))
    assert "too large for azure deployment gpt-audio" in too_big and "/reset" in too_big
    odd = str(from_sdk_error(status_error(422, {"message": "Nope."}), TARGET))
    assert odd.endswith("answered HTTP 422: Nope.")


def test_console_errors_pass_through() -> None:
    signed_out = CredentialError("Microsoft Entra ID sign-in failed")
    assert from_sdk_error(signed_out, TARGET) is signed_out


def test_entra_refusals_name_the_fix() -> None:
    entra = CompletionsTarget("azure", "d", "azure-v1", "https://r/openai/v1", None, "Entra ID")
    rejected = str(from_sdk_error(status_error(401, {"message": "Bad token."}), entra))
    assert "(Entra ID, HTTP 401): Bad token.; sign in again (`az login`)" in rejected
    denied = str(from_sdk_error(status_error(403, {"message": "No role."}), entra))
    assert denied.endswith(
        "give your account the Cognitive Services OpenAI User role on the resource"
    )


def test_retry_after_forms() -> None:
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"retry-after": "3"}) == 3.0
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = retry_after_s({"retry-after": later})
    assert wait is not None and 28 <= wait <= 31
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None


def test_failure_carries_the_hint() -> None:
    failure = failure_of(status_error(429, {"message": "Slow down."}, **{"retry-after-ms": "100"}))
    assert failure == Failure("status", 429, None, None, "Slow down.", 0.1)
    assert retry.is_retryable(failure) and retry.wait_before(failure, 1) == 0.1


def test_retry_policy() -> None:
    assert [retry.backoff_s(n) for n in (1, 2, 3, 4, 5, 9)] == [1, 2, 4, 8, 8, 8]
    for status, retried in (
        (429, True),
        (500, True),
        (503, True),
        (504, True),
        (400, False),
        (501, False),
    ):
        assert retry.is_retryable(Failure("status", status, None, None, "")) is retried
    assert retry.is_retryable(Failure("connection", None, None, None, "connection refused"))
    assert not retry.is_retryable(Failure("timeout", None, None, None, "no answer in time"))


def test_error_for_a_stream_error_event() -> None:
    failure = Failure("stream", None, "server_error", None, "The model broke.")
    assert str(error_for(failure, TARGET)).endswith(
        "reported an error mid-reply [server_error]: The model broke."
    )
