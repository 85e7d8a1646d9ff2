from __future__ import annotations

import io
import json
from typing import TextIO

from realtime_console.dispatcher import Dispatcher
from realtime_console.handlers import ConsoleHandlers
from realtime_console.protocol import pcm
from realtime_console.recent import OTHER
from realtime_console.ui.plain import PlainView


def wired(out: TextIO) -> tuple[Dispatcher, ConsoleHandlers, list[str]]:
    errors: list[str] = []
    dispatcher = Dispatcher(on_handler_error=lambda kind, exc: errors.append(f"{kind}: {exc}"))
    handlers = ConsoleHandlers(PlainView(out, io.StringIO()))
    dispatcher.register(handlers.table())
    return dispatcher, handlers, errors


async def test_a_lone_surrogate_in_a_transcript_shows_as_a_replacement_character() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # encodes as stdout does: strictly
    dispatcher, _, errors = wired(out)
    # As they come off the socket: JSON escapes, which decode to lone surrogates.
    frames = [
        r'{"type":"response.output_audio_transcript.delta","response_id":"r1","delta":"a\ud800b"}',
        r'{"type":"conversation.item.input_audio_transcription.completed","transcript":"\udfff"}',
    ]
    for frame in frames:
        await dispatcher.dispatch(json.loads(frame))
    assert errors == []
    assert raw.getvalue().decode("utf-8") == "assistant> a\ufffdb\nyou (heard)> \ufffd\n"


async def test_audio_byte_counts_stay_bounded_when_every_delta_has_a_new_response_id() -> None:
    dispatcher, handlers, _ = wired(io.StringIO())
    delta = pcm.encode_b64(bytes(48))
    for n in range(100_000):
        await dispatcher.dispatch(
            {"type": "response.output_audio.delta", "response_id": f"r{n}", "delta": delta}
        )
    assert len(handlers.audio_bytes) == 101
    assert handlers.audio_bytes["r99999"] == 48
    assert sum(handlers.audio_bytes.values()) == 48 * 100_000
    assert OTHER in handlers.audio_bytes


async def test_an_unfinished_reply_closes_its_line_once_and_its_late_events_add_nothing() -> None:
    out, err = io.StringIO(), io.StringIO()
    handlers = ConsoleHandlers(PlainView(out, err))
    dispatcher = Dispatcher()
    dispatcher.register(handlers.table())

    def text(response_id: str, delta: str) -> dict[str, str]:
        return {"type": "response.output_text.delta", "response_id": response_id, "delta": delta}

    await dispatcher.dispatch(text("r1", "half a"))
    handlers.end_unfinished("r1")
    handlers.end_unfinished("r_silent")  # showed nothing: no line to close, nothing to say
    await dispatcher.dispatch(text("r1", " reply"))
    await dispatcher.dispatch({"type": "response.done", "response": {"id": "r1", "status": "x"}})
    assert out.getvalue() == "assistant> half a [incomplete]\n"
    assert err.getvalue() == ""


async def test_an_expected_error_is_not_shown_and_others_still_are() -> None:
    out, err = io.StringIO(), io.StringIO()
    handlers = ConsoleHandlers(PlainView(out, err))
    dispatcher = Dispatcher()
    dispatcher.register(handlers.table())
    handlers.expect_error("evt_cancel")

    def error(event_id: str | None) -> dict[str, object]:
        body = {"type": "invalid_request_error", "code": "c", "message": "m", "event_id": event_id}
        return {"type": "error", "error": body}

    await dispatcher.dispatch(error("evt_cancel"))
    assert err.getvalue() == ""
    await dispatcher.dispatch(error("evt_cancel"))  # expected once only
    await dispatcher.dispatch(error(None))
    assert err.getvalue() == "server error [c]: m (event evt_cancel)\nserver error [c]: m\n"


def limits_event(tokens_left: int, reset_s: float = 30.0) -> dict[str, object]:
    return {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 40000, "remaining": tokens_left, "reset_seconds": reset_s},
            {"name": "broken", "limit": "many"},  # skipped, the others still count
        ],
    }


def transcript(response_id: str, delta: str) -> dict[str, object]:
    return {
        "type": "response.output_audio_transcript.delta",
        "response_id": response_id,
        "item_id": "item1",
        "content_index": 0,
        "delta": delta,
    }


def transcript_done(response_id: str, text: str) -> dict[str, object]:
    return {
        "type": "response.output_audio_transcript.done",
        "response_id": response_id,
        "item_id": "item1",
        "content_index": 0,
        "transcript": text,
    }


def done(response_id: str) -> dict[str, object]:
    return {"type": "response.done", "response": {"id": response_id, "status": "completed"}}


async def test_a_final_transcript_equal_to_the_deltas_prints_nothing_more() -> None:
    out = io.StringIO()
    dispatcher, _, errors = wired(out)
    for event in (
        transcript("r1", "Hel"),
        transcript("r1", "lo."),
        transcript_done("r1", "Hello."),
    ):
        await dispatcher.dispatch(event)
    await dispatcher.dispatch(done("r1"))
    assert (out.getvalue(), errors) == ("assistant> Hello.\n", [])


async def test_a_corrected_final_text_prints_one_screened_final_line() -> None:
    out = io.StringIO()
    dispatcher, _, errors = wired(out)
    await dispatcher.dispatch(transcript("r1", "Helo"))
    await dispatcher.dispatch(transcript_done("r1", "Hello\x1b[2J\nthere"))
    await dispatcher.dispatch(done("r1"))
    # A text reply too: its done event carries ``text``.
    await dispatcher.dispatch(
        {"type": "response.output_text.delta", "response_id": "r2", "delta": "4"}
    )
    await dispatcher.dispatch(
        {"type": "response.output_text.done", "response_id": "r2", "text": "42"}
    )
    await dispatcher.dispatch(done("r2"))
    assert errors == []
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["assistant> Helo", "assistant (final)> Hello there"]
    assert "\x1b" not in out.getvalue() and len(lines) == 4  # one line each, no forged lines
    assert lines[2:] == ["assistant> 4", "assistant (final)> 42"]


async def test_a_cut_reply_gets_no_final_line() -> None:
    out = io.StringIO()
    dispatcher, handlers, _ = wired(out)
    await dispatcher.dispatch(transcript("r1", "Once upon"))
    handlers.dropped_responses.add("r1")  # as a barge-in does
    await dispatcher.dispatch(transcript_done("r1", "Once upon a time there was"))
    assert out.getvalue() == "assistant> Once upon"


async def test_a_low_rate_limit_is_noticed_once_per_crossing() -> None:
    err = io.StringIO()
    handlers = ConsoleHandlers(PlainView(io.StringIO(), err))
    dispatcher = Dispatcher()
    dispatcher.register(handlers.table())
    for left in (39_000, 3_500, 1_200, 30_000, 2_000):  # low, still low, recovered, low again
        await dispatcher.dispatch(limits_event(left, reset_s=12.25))
    assert err.getvalue().splitlines() == [
        "-- rate limit low: tokens 3.5k/40k left, resets in 12.2 s",
        "-- rate limit low: tokens 2k/40k left, resets in 12.2 s",
    ]
    assert [limit.name for limit in handlers.rate_limits] == ["requests", "tokens"]


class OlderView:
    """A ``ConsoleView`` written before rate limits and final texts (replay's ``SilentView``)."""

    def __init__(self) -> None:
        self.deltas: list[str] = []

    def session_started(self, session_id: str, model: str) -> None: ...

    def user_text(self, text: str) -> None: ...

    def user_transcript(self, item_id: str, text: str, final: bool) -> None: ...

    def assistant_delta(self, response_id: str, text: str) -> None:
        self.deltas.append(text)

    def assistant_done(self, response_id: str, status: str) -> None: ...

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None: ...

    def notice(self, text: str) -> None: ...


async def test_a_view_without_the_new_methods_still_works() -> None:
    view = OlderView()
    errors: list[str] = []
    dispatcher = Dispatcher(on_handler_error=lambda kind, exc: errors.append(f"{kind}: {exc}"))
    handlers = ConsoleHandlers(view)
    dispatcher.register(handlers.table())
    for event in (transcript("r1", "a"), transcript_done("r1", "ab"), limits_event(10)):
        await dispatcher.dispatch(event)
    assert (view.deltas, errors) == (["a"], [])
    assert handlers.rate_limits[1].remaining == 10


async def test_service_errors_of_ordinary_use_are_one_calm_line_each() -> None:
    out, err = io.StringIO(), io.StringIO()
    dispatcher, handlers, errors = wired(out)
    handlers.view = PlainView(out, err)
    handlers.expect_truncate("evt_cut")

    async def error(event_id: str | None, code: str, message: str) -> None:
        body = {"type": "invalid_request_error", "code": code, "message": message}
        await dispatcher.dispatch({"type": "error", "error": {**body, "event_id": event_id}})

    await error("evt_cut", "unsupported_content_type", "Only model output audio messages can be…")
    await error(None, "invalid_value", "Audio content of 9800ms is already shorter than 11579ms")
    await error("evt_2", "conversation_already_has_active_response", "Conversation already has…")
    await error("evt_cut", "unsupported_content_type", "again")  # answered already: shown
    await error(None, "invalid_value", "Audio content is bad")  # not the truncate's sentence
    assert errors == []
    assert err.getvalue().splitlines() == [
        "-- barge-in: the server kept the reply as it was "
        "(Only model output audio messages can be…)",
        "-- barge-in: the server cut the reply at the end of its audio "
        "(Audio content of 9800ms is already shorter than 11579ms)",
        "-- a reply is already in progress; the server did not start another",
        "server error [unsupported_content_type]: again (event evt_cut)",
        "server error [invalid_value]: Audio content is bad",
    ]
    assert out.getvalue() == ""


async def test_audio_that_is_not_pcm16_is_skipped_and_told_once_per_response() -> None:
    out, err = io.StringIO(), io.StringIO()
    dispatcher, handlers, errors = wired(out)
    handlers.view = PlainView(out, err)
    good = pcm.encode_b64(bytes(96))
    for response_id, delta in [("r1", "@@"), ("r1", "AA=="), ("r1", good), ("r2", "%")]:
        await dispatcher.dispatch(
            {"type": "response.output_audio.delta", "response_id": response_id, "delta": delta}
        )
    assert errors == []
    assert handlers.audio_bytes == {"r1": 96}
    lines = err.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "-- skipped audio of response r1 that is not PCM16",
        "-- skipped audio of response r2 that is not PCM16",
    ]
