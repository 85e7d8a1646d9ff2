from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from realtime_console.audio.fakestream import FakeCallbackFlags, FakeInputStream
from realtime_console.audio.microphone import Microphone
from realtime_console.errors import AudioDeviceError
from realtime_console.protocol.pcm import ms_to_samples
from tests.audio.helpers import counting_pcm, settle


class PortAudioError(Exception):
    """Named like sounddevice's, which is how the audio layer recognises device errors."""


def fake_mic(**kwargs: Any) -> tuple[Microphone, list[FakeInputStream]]:
    streams: list[FakeInputStream] = []

    def factory(**stream_kwargs: Any) -> FakeInputStream:
        stream = FakeInputStream(**stream_kwargs)
        streams.append(stream)
        return stream

    return Microphone(stream_factory=factory, **kwargs), streams


async def test_opens_24khz_mono_int16_with_20ms_blocks_and_delivers_exact_copies() -> None:
    mic, streams = fake_mic()
    mic.start()
    stream = streams[0]
    assert (stream.samplerate, stream.channels, stream.dtype.name) == (24000.0, 1, "int16")
    assert stream.blocksize == ms_to_samples(20)
    source = counting_pcm(1, stream.blocksize * 3)
    stream.feed(source)
    stream.advance(3)
    await settle()
    got = [await mic.read() for _ in range(3)]
    assert b"".join(b for b in got if b) == source  # copies: the fake reuses its buffer
    mic.close()
    assert await mic.read() is None


async def test_a_slow_reader_loses_the_oldest_blocks_and_the_queue_stays_bounded() -> None:
    mic, streams = fake_mic(queue_blocks=4)
    mic.start()
    stream = streams[0]
    stream.feed(counting_pcm(1, stream.blocksize * 10))
    stream.advance(10)
    await settle()
    assert mic.queued == 4
    assert mic.stats.dropped_blocks == 6
    newest = np.frombuffer(await mic.read() or b"", dtype="<i2")
    assert newest[0] == 1 + 6 * stream.blocksize  # the 7th block: the oldest six were dropped
    mic.close()


async def test_status_flags_are_counted() -> None:
    mic, streams = fake_mic()
    mic.start()
    streams[0].advance(2, status=FakeCallbackFlags(input_overflow=True))
    assert mic.stats.input_overflows == 2
    assert mic.stats.blocks == 2
    mic.close()


async def test_a_device_without_24khz_is_opened_at_its_rate_and_resampled() -> None:
    streams: list[FakeInputStream] = []

    def factory(**kwargs: Any) -> FakeInputStream:
        if kwargs["samplerate"] != 48000:
            raise PortAudioError("Invalid sample rate [PaErrorCode -9997]")
        stream = FakeInputStream(**kwargs)
        streams.append(stream)
        return stream

    mic = Microphone(stream_factory=factory, native_rate=lambda device: 48000.0, queue_blocks=64)
    mic.start()
    stream = streams[0]
    assert stream.samplerate == 48000 and stream.blocksize == 960
    assert mic.stats.resampled
    t = np.arange(48000) / 48000
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    stream.feed(tone)
    stream.advance(50)  # one second
    await settle()
    out = b""
    while mic.queued:
        out += await mic.read() or b""
    samples = np.frombuffer(out, dtype="<i2").astype(np.float64)
    assert abs(len(samples) - 24000) < 50  # the filter holds back about 1 ms
    spectrum = np.abs(np.fft.rfft(samples[2000:])) / len(samples[2000:])
    peak_hz = np.argmax(spectrum) * 24000 / len(samples[2000:])
    assert abs(peak_hz - 440) < 5  # the tone survives at its pitch (decimation would too…
    rms = np.sqrt(np.mean(samples[2000:] ** 2))
    assert 8000 / np.sqrt(2) * 0.9 < rms < 8000 / np.sqrt(2) * 1.1  # …and at its level)
    mic.close()


async def test_resampling_filters_what_24khz_cannot_carry() -> None:
    # A 15 kHz tone at 48 kHz would alias to 9 kHz if samples were simply dropped.
    streams: list[FakeInputStream] = []

    def factory(**kwargs: Any) -> FakeInputStream:
        if kwargs["samplerate"] != 48000:
            raise PortAudioError("Invalid sample rate")
        streams.append(FakeInputStream(**kwargs))
        return streams[-1]

    mic = Microphone(stream_factory=factory, native_rate=lambda device: 48000.0, queue_blocks=64)
    mic.start()
    t = np.arange(48000) / 48000
    streams[0].feed((np.sin(2 * np.pi * 15000 * t) * 8000).astype("<i2"))
    streams[0].advance(50)
    await settle()
    out = b""
    while mic.queued:
        out += await mic.read() or b""
    samples = np.frombuffer(out, dtype="<i2").astype(np.float64)[2000:]
    assert np.sqrt(np.mean(samples**2)) < 100  # nothing folded back into the speech band
    mic.close()


async def test_no_device_at_all_is_one_line_audio_device_error() -> None:
    def factory(**kwargs: Any) -> FakeInputStream:
        raise PortAudioError("Error querying device -1")

    def no_rate(device: int | str | None) -> float:
        raise PortAudioError("Error querying device -1")

    mic = Microphone(stream_factory=factory, native_rate=no_rate)
    with pytest.raises(AudioDeviceError) as caught:
        mic.start()
    assert str(caught.value) == (
        "no default input device (none is plugged in or the sound server is not running; "
        "PortAudio: Error querying device -1)"
    )
    assert "\n" not in str(caught.value)


async def test_reader_waiting_on_an_empty_queue_is_woken_by_close() -> None:
    mic, _ = fake_mic()
    mic.start()
    reader = asyncio.ensure_future(mic.read())
    await settle()
    assert not reader.done()
    mic.close()
    assert await reader is None


async def test_realtime_callback_thread_hands_blocks_to_the_loop() -> None:
    streams: list[FakeInputStream] = []

    def factory(**kwargs: Any) -> FakeInputStream:
        streams.append(FakeInputStream(**kwargs, realtime=True))
        return streams[-1]

    mic = Microphone(stream_factory=factory)
    mic.start()
    try:
        blocks = [await asyncio.wait_for(mic.read(), 2.0) for _ in range(3)]
    finally:
        mic.close()
    assert all(block is not None and len(block) == 960 for block in blocks)
    assert streams[0].closed


async def test_discarding_stale_audio_restarts_the_drop_count() -> None:
    mic, streams = fake_mic(queue_blocks=2)
    mic.start()
    streams[0].advance(5)
    await settle()
    assert mic.stats.dropped_blocks == 3
    assert mic.discard_queued() == 2
    assert mic.queued == 0 and mic.stats.dropped_blocks == 0
    mic.close()
