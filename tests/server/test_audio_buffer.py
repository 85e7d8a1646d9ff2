"""Input audio buffer: append, commit (with the service's 100 ms minimum), clear, bounds."""

from __future__ import annotations

import pytest

from realtime_console.protocol.pcm import encode_b64, ms_to_bytes
from realtime_console.server.audio_buffer import InputAudioBuffer
from realtime_console.server.service_errors import ServiceError


def test_commit_returns_everything_appended_and_empties_the_buffer() -> None:
    buffer = InputAudioBuffer()
    first, second = b"\x01\x00" * 1200, b"\x02\x00" * 2400
    buffer.append(encode_b64(first))
    buffer.append(encode_b64(second))
    assert buffer.duration_ms == 150.0
    assert buffer.commit() == first + second
    assert buffer.duration_ms == 0.0


def test_commit_under_100_ms_is_refused_like_the_service() -> None:
    buffer = InputAudioBuffer()
    buffer.append(encode_b64(bytes(ms_to_bytes(50))))
    with pytest.raises(ServiceError) as caught:
        buffer.commit()
    assert caught.value.code == "input_audio_buffer_commit_empty"
    assert "50.00ms" in caught.value.message
    assert buffer.duration_ms == 50.0  # a refused commit keeps the audio


def test_clear_drops_the_audio() -> None:
    buffer = InputAudioBuffer()
    buffer.append(encode_b64(bytes(ms_to_bytes(200))))
    buffer.clear()
    assert buffer.duration_ms == 0.0


@pytest.mark.parametrize("payload", ["not base64!", encode_b64(b"\x00\x00\x00")])
def test_bad_audio_is_an_invalid_value(payload: str) -> None:
    with pytest.raises(ServiceError) as caught:
        InputAudioBuffer().append(payload)
    assert (caught.value.code, caught.value.param) == ("invalid_value", "audio")


def test_the_buffer_is_bounded() -> None:
    buffer = InputAudioBuffer(max_ms=100)
    buffer.append(encode_b64(bytes(ms_to_bytes(100))))
    with pytest.raises(ServiceError) as caught:
        buffer.append(encode_b64(bytes(ms_to_bytes(10))))
    assert caught.value.code == "input_audio_buffer_full"
    assert buffer.duration_ms == 100.0
