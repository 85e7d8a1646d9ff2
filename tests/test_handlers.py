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
