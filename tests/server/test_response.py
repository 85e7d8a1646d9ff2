"""Response plans: chunking, transcript/audio interleaving, pacing and closing events."""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_console.protocol.pcm import bytes_to_ms
from realtime_console.server.response import (
    Pacing,
    ResponseSpec,
    plan_audio,
    plan_text,
    text_pieces,
)
from realtime_console.server.voice import SyntheticVoice

SPEC = ResponseSpec(
    response_id="resp_1",
    item_id="item_1",
    modality="audio",
    voice="alloy",
    conversation_id="conv_1",
)
TEXT_SPEC = ResponseSpec(
    response_id="resp_2", item_id="item_2", modality="text", voice="alloy", conversation_id=None
)
REPLY = '(local server) You said: "What is my name?". Before that you said: "My name is Ada".'


def deltas(events: list[dict[str, Any]], kind: str) -> list[Any]:
    return [e["delta"] for e in events if e["type"] == kind]


def test_text_pieces_are_words_that_rebuild_the_text() -> None:
    assert text_pieces("Hi there,  you.") == [(0, "Hi"), (3, " there,"), (11, "  you.")]
    assert text_pieces("end  ") == [(0, "end  ")]
    assert text_pieces("  ") == [(0, "  ")]


@given(st.text(max_size=80))
def test_any_text_is_rebuilt_from_its_pieces(text: str) -> None:
    assert "".join(piece for _, piece in text_pieces(text)) == text


def test_audio_plan_streams_all_audio_and_the_exact_transcript() -> None:
    speech = SyntheticVoice().synthesize(REPLY, voice="alloy")
    stream = plan_audio(SPEC, REPLY, speech, Pacing(realtime_factor=math.inf), start=0.0)
    events = stream.pop_due(0.0)
    assert stream.finished
    audio = b"".join(base64.b64decode(d) for d in deltas(events, "response.output_audio.delta"))
    assert audio == speech.pcm
    assert "".join(deltas(events, "response.output_audio_transcript.delta")) == REPLY
    sizes_ms = [
        bytes_to_ms(len(base64.b64decode(d))) for d in deltas(events, "response.output_audio.delta")
    ]
    assert all(100 <= size <= 500 for size in sizes_ms), sizes_ms
    assert sizes_ms[:-1] == [200.0] * (len(sizes_ms) - 1)


def test_each_word_goes_out_just_before_the_audio_chunk_that_starts_it() -> None:
    speech = SyntheticVoice().synthesize(REPLY, voice="alloy")
    stream = plan_audio(SPEC, REPLY, speech, Pacing(realtime_factor=math.inf), start=0.0)
    events = stream.pop_due(0.0)
    samples_before = 0  # audio samples sent before each event
    chars_before = 0  # transcript characters sent before each event
    for event in events:
        if event["type"] == "response.output_audio.delta":
            samples_before += len(base64.b64decode(event["delta"])) // 2
        else:
            piece = event["delta"]
            first_char = chars_before + len(piece) - len(piece.lstrip())
            word_start = speech.char_offsets[first_char]
            # the word starts inside the next audio chunk (200 ms = 4800 samples, tail < 9600)
            assert samples_before <= word_start < samples_before + 9600
            chars_before += len(piece)


def test_pacing_releases_audio_as_it_would_be_generated() -> None:
    speech = SyntheticVoice().synthesize("hello world", voice="ash")  # 11 units = 660 ms
    stream = plan_audio(SPEC, "hello world", speech, Pacing(realtime_factor=4.0), start=10.0)
    assert stream.next_due() == pytest.approx(10.0 + 0.2 / 4)  # first 200 ms chunk
    assert stream.pop_due(10.0) == []
    first = stream.pop_due(10.05)
    # "hello" starts in the first chunk; " world" (from 8640 samples) in the second
    assert [(e["type"], e["delta"]) for e in first][0] == (
        "response.output_audio_transcript.delta",
        "hello",
    )
    assert [e["type"] for e in first][1:] == ["response.output_audio.delta"]
    assert stream.sent_audio_bytes == 9600
    second = stream.pop_due(10.1)
    assert second[0]["delta"] == " world"
    assert not stream.finished
    stream.pop_due(10.0 + 0.66 / 4)  # all 660 ms generated
    assert stream.finished
    assert stream.sent_audio_bytes == len(speech.pcm)


def test_text_plan_paces_one_word_per_piece() -> None:
    stream = plan_text(TEXT_SPEC, "one two three", Pacing(realtime_factor=1.0), start=0.0)
    assert [e["delta"] for e in stream.pop_due(0.1)] == ["one", " two"]
    assert [e["delta"] for e in stream.pop_due(1.0)] == [" three"]
    assert stream.finished


def test_closing_after_cancel_reports_only_what_was_sent() -> None:
    speech = SyntheticVoice().synthesize(REPLY, voice="alloy")
    stream = plan_audio(SPEC, REPLY, speech, Pacing(realtime_factor=1.0), start=0.0)
    sent = stream.pop_due(0.5)
    spoken = "".join(deltas(sent, "response.output_audio_transcript.delta"))
    assert 0 < len(spoken) < len(REPLY)
    closing = stream.closing_events("cancelled", {"total_tokens": 1}, previous_item_id="item_0")
    assert [e["type"] for e in closing] == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    assert closing[1]["transcript"] == spoken
    done = closing[-1]["response"]
    assert (done["status"], done["status_details"]["reason"]) == ("cancelled", "client_cancelled")
    assert done["output"][0]["status"] == "incomplete"
    assert stream.finished and stream.pop_due(1e9) == []


def test_out_of_band_responses_skip_conversation_events() -> None:
    stream = plan_text(TEXT_SPEC, "hi", Pacing(), start=0.0)
    opening = [e["type"] for e in stream.opening_events(None)]
    assert "conversation.item.added" not in opening
    closing = [e["type"] for e in stream.closing_events("completed", {}, None)]
    assert closing == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]


@settings(max_examples=30, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=120), st.integers(100, 250)
)
def test_chunks_stay_within_100_to_500_ms(text: str, chunk_ms: int) -> None:
    speech = SyntheticVoice().synthesize(text, voice="sage")
    stream = plan_audio(SPEC, text, speech, Pacing(math.inf, chunk_ms), start=0.0)
    chunks = deltas(stream.pop_due(0.0), "response.output_audio.delta")
    total_ms = bytes_to_ms(len(speech.pcm))
    sizes = [bytes_to_ms(len(base64.b64decode(c))) for c in chunks]
    assert sum(sizes) == pytest.approx(total_ms)
    if total_ms >= 100:
        assert all(100 <= s < 500 for s in sizes), sizes
