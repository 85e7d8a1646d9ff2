"""The responses in flight that a follow-up response.create must wait for."""

from __future__ import annotations

import asyncio

from realtime_console.modes.active_responses import MAX_ACTIVE, ActiveResponses


def created(response_id: str, conversation: str = "auto") -> dict[str, object]:
    return {
        "type": "response.created",
        "response": {"id": response_id, "conversation_id": "conv_1", "status": "in_progress"}
        | ({"metadata": {"topic": "x"}, "conversation_id": None} if conversation == "none" else {}),
    }


async def test_a_follow_up_waits_until_every_conversation_response_is_done() -> None:
    active = ActiveResponses()
    active.created(created("resp_1"))
    active.created(created("resp_2"))
    waiter = asyncio.ensure_future(active.wait_idle())
    active.done("resp_1")
    await asyncio.sleep(0)
    assert not waiter.done()  # resp_2 still streams
    active.done("resp_2")
    await asyncio.wait_for(waiter, 1)


async def test_a_dropped_connection_leaves_nothing_in_flight() -> None:
    active = ActiveResponses()
    active.created(created("resp_1"))
    active.forget()
    await asyncio.wait_for(active.wait_idle(), 1)


async def test_ids_whose_done_never_comes_do_not_pile_up() -> None:
    active = ActiveResponses()
    for n in range(MAX_ACTIVE + 10):
        active.created(created(f"resp_{n}"))
    for n in range(10, MAX_ACTIVE + 10):
        active.done(f"resp_{n}")
    await asyncio.wait_for(active.wait_idle(), 1)  # the 10 oldest were let go


async def test_an_out_of_band_response_never_blocks_the_follow_up() -> None:
    active = ActiveResponses()
    active.created(created("resp_oob", conversation="none"))
    await asyncio.wait_for(active.wait_idle(), 1)
