from __future__ import annotations

from realtime_console.dispatcher import ANY, MAX_COUNTED_TYPES, Dispatcher, Event
from realtime_console.recent import OTHER


async def test_routes_by_type_and_maps_beta_names() -> None:
    seen: list[str] = []
    dispatcher = Dispatcher()
    dispatcher.on("response.output_audio_transcript.delta", lambda e: seen.append(e["delta"]))
    await dispatcher.dispatch({"type": "response.output_audio_transcript.delta", "delta": "a"})
    await dispatcher.dispatch({"type": "response.audio_transcript.delta", "delta": "b"})
    assert seen == ["a", "b"]
    assert dispatcher.stats.by_type["response.output_audio_transcript.delta"] == 2


async def test_unknown_types_are_counted_not_fatal() -> None:
    everything: list[object] = []
    dispatcher = Dispatcher()
    dispatcher.on(ANY, lambda e: everything.append(e.get("type")))
    await dispatcher.dispatch({"type": "future.event"})
    await dispatcher.dispatch({"no": "type"})
    assert dispatcher.stats.unknown == {"future.event": 1, "<missing type>": 1}
    assert everything == ["future.event", None]


async def test_failing_handler_is_reported_and_the_rest_still_run() -> None:
    reports: list[tuple[str, str]] = []
    after: list[str] = []

    def broken(event: Event) -> None:
        raise KeyError("boom")

    async def fine(event: Event) -> None:
        after.append("ran")

    dispatcher = Dispatcher(on_handler_error=lambda t, exc: reports.append((t, repr(exc))))
    dispatcher.on("error", broken)
    dispatcher.on("error", fine)
    await dispatcher.dispatch({"type": "error"})
    await dispatcher.dispatch({"type": "error"})
    assert after == ["ran", "ran"]
    assert reports == [("error", "KeyError('boom')")] * 2
    assert dispatcher.stats.handler_errors == 2


async def test_a_flood_of_new_event_types_keeps_the_counters_small_and_the_totals_exact() -> None:
    dispatcher = Dispatcher()
    dispatcher.on("known", lambda e: None)
    for n in range(100_000):
        await dispatcher.dispatch({"type": f"made.up.{n}"})
        if n % 1000 == 0:
            await dispatcher.dispatch({"type": "known"})
    stats = dispatcher.stats
    assert len(stats.unknown) == MAX_COUNTED_TYPES + 1  # the newest, plus "<other>"
    assert sum(stats.unknown.values()) == 100_000
    assert stats.unknown[OTHER] == 100_000 - MAX_COUNTED_TYPES
    assert stats.unknown["made.up.99999"] == 1 and "made.up.0" not in stats.unknown
    assert len(stats.by_type) == MAX_COUNTED_TYPES + 1
    assert sum(stats.by_type.values()) == 100_100
