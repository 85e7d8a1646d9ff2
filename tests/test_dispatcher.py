from __future__ import annotations

from realtime_console.dispatcher import ANY, Dispatcher, Event


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
