"""Awaiting a matching event: which errors a waiter may take as the answer to its event."""

from __future__ import annotations

import asyncio

import pytest

from realtime_console.waiters import EventWaiters, settle, unattributed_error


def error(event_id: str | None, message: str = "Invalid value") -> dict[str, object]:
    return {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "event_id": event_id,
            "code": "invalid_value",
            "message": message,
        },
    }


def test_an_error_that_names_no_event_is_unattributed() -> None:
    match = unattributed_error()
    assert match(error(None))
    assert match({"type": "error"})  # no error object at all: nothing to go by
    assert not match(error("evt_1"))
    assert not match({"type": "session.updated"})


def test_a_truncate_past_the_end_is_never_taken_for_another_events_answer() -> None:
    past_end = error(None, "Audio content of 1200ms is already shorter than 1500ms")
    assert not unattributed_error()(past_end)


async def test_a_waiter_ignores_the_truncate_error_and_gets_its_real_answer() -> None:
    waiters = EventWaiters()
    answer = waiters.expect(unattributed_error())
    waiters(error(None, "Audio content of 10ms is already shorter than 40ms"))
    assert not answer.done()
    waiters(error(None, "Invalid session settings"))
    event = await settle(answer, 1)
    assert event["error"]["message"] == "Invalid session settings"


async def test_settle_times_out_and_cancels_the_future() -> None:
    waiters = EventWaiters()
    answer = waiters.expect(unattributed_error())
    with pytest.raises(asyncio.TimeoutError):
        await settle(answer, 0.01)
    assert answer.cancelled()
