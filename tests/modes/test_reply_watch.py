"""The response watchdog on its own: which response is the turn's, what resets its clock, what
counts as silent. Events as the SDK types them, through the real Dispatcher; the clock is a list."""

from __future__ import annotations

from typing import Any

from realtime_console.dispatcher import ANY, Dispatcher
from realtime_console.modes.reply_watch import Overdue, ReplyWatch, answers_the_conversation


def created(response_id: str, **fields: Any) -> dict[str, Any]:
    response = {"id": response_id, "object": "realtime.response", "conversation_id": "conv_1"}
    return {"type": "response.created", "response": {**response, **fields}}


def done(response_id: str) -> dict[str, Any]:
    return {"type": "response.done", "response": {"id": response_id, "status": "completed"}}


def delta(response_id: str) -> dict[str, Any]:
    return {"type": "response.output_audio.delta", "response_id": response_id, "delta": ""}


class Rig:
    def __init__(self, timeout_s: float = 10.0) -> None:
        self.now = [100.0]
        self.watch = ReplyWatch(timeout_s, clock=lambda: self.now[0])
        self.dispatcher = Dispatcher()
        self.dispatcher.on(ANY, self.watch)

    async def server(self, *events: dict[str, Any]) -> None:
        for event in events:
            await self.dispatcher.dispatch(event)

    def later(self, seconds: float) -> None:
        self.now[0] += seconds


async def test_the_turn_is_the_first_conversation_response_after_ask() -> None:
    rig = Rig()
    await rig.server(created("r_before"))  # not asked for: watched, but not the turn's
    rig.watch.ask()
    await rig.server(created("r_oob", conversation_id=None), created("r_tagged", metadata={"a": 1}))
    assert rig.watch.turn_response is None
    await rig.server(created("r_ours"), created("r_after"))
    assert rig.watch.turn_response == "r_ours"
    assert rig.watch.live == ["r_before", "r_ours", "r_after"]  # out-of-band: not watched


async def test_only_the_turns_own_done_ends_it() -> None:
    rig = Rig()
    rig.watch.ask()
    await rig.server(created("r1"))
    stale, bare, foreign = done("r0"), {"type": "response.done"}, done("r_other")
    assert not any(rig.watch.is_turn_done(e) for e in (stale, bare, foreign, delta("r1")))
    assert rig.watch.is_turn_done(done("r1"))
    await rig.server(done("r1"))
    assert rig.watch.live == []


async def test_every_event_of_the_response_restarts_its_clock() -> None:
    rig = Rig(timeout_s=10)
    rig.watch.ask()
    await rig.server(created("r1"))
    for _ in range(30):  # 60 s of reply, never 10 s without an event
        rig.later(2)
        await rig.server(delta("r1"))
        assert rig.watch.overdue() == []
    rig.later(5)
    await rig.server(delta("r_someone_else"), {"type": "rate_limits.updated"})  # not its events
    assert rig.watch.seconds_to_next_check() == 5
    rig.later(5)
    assert rig.watch.overdue() == [Overdue("r1", 10)]
    assert rig.watch.overdue() == []  # reported once
    assert rig.watch.seconds_to_next_check() is None


async def test_an_unanswered_ask_is_overdue_without_a_response() -> None:
    rig = Rig(timeout_s=3)
    rig.watch.ask()
    rig.later(2.9)
    assert rig.watch.overdue() == []
    rig.later(0.1)
    assert rig.watch.overdue() == [Overdue(None, 3)]


async def test_a_dropped_connection_forgets_everything() -> None:
    rig = Rig(timeout_s=1)
    rig.watch.ask()
    await rig.server(created("r1"), created("r2"))
    assert rig.watch.forget() == ["r1", "r2"]
    rig.later(5)
    assert rig.watch.overdue() == []


async def test_a_server_cannot_make_the_table_grow() -> None:
    rig = Rig()
    for n in range(10_000):
        await rig.server(created(f"r{n}"))
    assert len(rig.watch.live) == 64


def test_responses_of_older_servers_without_conversation_id_count_as_ours() -> None:
    assert answers_the_conversation({"type": "response.created", "response": {"id": "r"}})
    assert not answers_the_conversation({"type": "response.created"})
