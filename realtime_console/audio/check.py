"""``devices --test``: open the speaker and the microphone exactly as ``talk`` does, play a short
tone and listen for a second, and report what happened.

It answers the questions a first ``talk`` raises: does the output device accept 24 kHz mono and
keep up in real time, does the input device deliver blocks (and at what rate, resampled or not),
and is there any signal on it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from realtime_console._compat import wait_for
from realtime_console.audio.microphone import InputStreamFactory, Microphone, NativeRate
from realtime_console.audio.speaker import Speaker, StreamFactory
from realtime_console.protocol import pcm

TONE_HZ = 440.0
STARTUP_WAIT_S = 3.0  # PortAudio through PulseAudio can take ~2 s to deliver its first block


@dataclass(frozen=True)
class DeviceCheck:
    seconds: float
    played_ms: float  # tone handed to the output device
    output_latency_ms: float
    output_underflows: int
    input_ms: float  # 24 kHz audio delivered by the microphone
    input_samplerate: float
    resampled: bool
    input_peak_dbfs: float
    input_startup_ms: float | None  # from start() to the first block; None: no block at all

    def lines(self) -> list[str]:
        pace = self.input_ms / (self.seconds * 1000) if self.seconds else 0.0
        startup = (
            "no input block arrived"
            if self.input_startup_ms is None
            else f"first block after {self.input_startup_ms:.0f} ms"
        )
        return [
            f"output: played {self.played_ms:.0f} ms of a {TONE_HZ:.0f} Hz tone, reported "
            f"latency {self.output_latency_ms:.0f} ms, {self.output_underflows} underflows",
            f"input: {self.input_ms:.0f} ms captured in {self.seconds:.1f} s ({pace:.0%} of real "
            f"time) at {self.input_samplerate:.0f} Hz"
            + (" resampled to 24000 Hz" if self.resampled else "")
            + f", peak level {self.input_peak_dbfs:.0f} dBFS, {startup}",
        ]


def _tone(ms: float) -> bytes:
    import numpy as np

    t = np.arange(pcm.ms_to_samples(ms)) / pcm.SAMPLE_RATE
    return pcm.float32_to_pcm16(0.25 * np.sin(2 * np.pi * TONE_HZ * t))


async def check_devices(
    *,
    input_device: int | str | None = None,
    output_device: int | str | None = None,
    seconds: float = 1.0,
    output_factory: StreamFactory | None = None,
    input_factory: InputStreamFactory | None = None,
    native_rate: NativeRate | None = None,
) -> DeviceCheck:
    """Play a tone of ``seconds`` / 2 while capturing for ``seconds`` (AudioDeviceError if a
    device cannot open)."""
    speaker = Speaker(device=output_device, prebuffer_ms=0, stream_factory=output_factory)
    mic = Microphone(
        device=input_device,
        stream_factory=input_factory,
        native_rate=native_rate,
        queue_blocks=max(1, round(seconds * 1000 / 20) + 10),
    )
    speaker.start()
    try:
        started = time.monotonic()
        mic.start()
        try:
            speaker.enqueue(_tone(seconds * 500), "check", "tone")
            speaker.end_response("check")
            captured, peak, startup_ms = 0, -120.0, None
            deadline = time.monotonic() + STARTUP_WAIT_S
            while (left := deadline - time.monotonic()) > 0:
                try:
                    block = await wait_for(mic.read(), left)
                except asyncio.TimeoutError:
                    break
                if block is None:
                    break
                if startup_ms is None:
                    startup_ms = (time.monotonic() - started) * 1000
                    deadline = time.monotonic() + seconds  # now measure a full window
                captured += len(block)
                peak = max(peak, _peak_dbfs(block))
        finally:
            mic.close()
        return DeviceCheck(
            seconds=seconds,
            played_ms=speaker.played_ms("tone"),
            output_latency_ms=speaker.latency_ms,
            output_underflows=speaker.stats.output_underflows,
            input_ms=pcm.bytes_to_ms(captured),
            input_samplerate=mic.stats.samplerate,
            resampled=mic.stats.resampled,
            input_peak_dbfs=peak,
            input_startup_ms=startup_ms,
        )
    finally:
        speaker.close(discard=True)


def _peak_dbfs(block: bytes) -> float:
    import numpy as np

    if not block:
        return -120.0
    peak = int(np.max(np.abs(np.frombuffer(block, dtype="<i2").astype(np.int32))))
    return max(-120.0, 20 * float(np.log10(peak / 32768))) if peak else -120.0
