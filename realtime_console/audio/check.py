"""``devices --test``, the audio doctor: open the speaker and the microphone exactly as ``talk``
does, play a short probe, record it, and say what a first ``talk`` would run into.

The probe is 2 s of soft noise (every frequency at once, so its echo is found precisely and an
echo canceller converges on it) after a moment of silence, which gives the noise floor. The
speaker's far-end tap (``echo/reference.py``) keeps what was played with the times it was handed
over and every microphone block carries its own (``echo/clock.py``), so cross-correlating the two
finds the echo: how loud the microphone hears the speaker, and the true round trip from handing a
sample to the speaker to receiving its echo, beside the latencies PortAudio reports. Where the
``aec`` extra is installed the recording also goes through the echo stage ``talk`` would build.

It reports clipping, whether each side opened at 24 kHz natively, how long each took to start,
and hints: Bluetooth hands-free profile (8/16 kHz), a monitor source as the microphone (it
records the speaker itself), headphones or AEC when the echo is loud. The last line is a
verdict; ``DeviceCheck.as_json`` is ``devices --test --json``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from realtime_console._compat import wait_for
from realtime_console.audio.echo.reference import FarEndTap
from realtime_console.audio.echo.setup import aec_installed
from realtime_console.audio.microphone import InputStreamFactory, MicBlock, Microphone, NativeRate
from realtime_console.audio.speaker import Speaker, StreamFactory
from realtime_console.protocol import pcm

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]

RATE = pcm.SAMPLE_RATE
LEAD_IN_MS = 500.0  # silence before the probe: the noise floor
PROBE_MS = 2000.0
PROBE_DBFS = -24.0  # audible, far from clipping
LISTEN_AFTER_MS = 800.0  # the echo of the probe's end still has to come back
STARTUP_WAIT_S = 3.0  # PortAudio through PulseAudio can take ~2 s to deliver its first block
SEARCH_S = 1.0  # the echo is looked for this far either side of the hand-over alignment
LONG_ROUND_TRIP_MS = 400.0  # beyond this AEC3's delay range (~500 ms) gets tight
FOUND_CORRELATION = 0.2  # a normalised correlation peak above this is an echo, not chance
AUDIBLE_ECHO_DB = -40.0  # an echo louder than this (relative to the playback) reaches the VAD
GOOD_AEC_DB = 20.0
CLIP_LEVEL = 32767
# An output this far behind makes a barge-in audibly late. Above what the defaults measure
# through PulseAudio (10 ms blocks, "low": 25-30 ms), so they do not trip it.
SLOW_OUTPUT_MS = 40.0
LOW_RATES = (8000.0, 16000.0)  # Bluetooth hands-free profile (HFP/HSP) rates


@dataclass(frozen=True)
class DeviceCheck:
    seconds: float  # of microphone audio captured
    played_ms: float  # probe handed to the output device
    output_latency_ms: float
    output_underflows: int
    output_first_callback_ms: float | None
    input_ms: float  # 24 kHz audio delivered by the microphone
    input_samplerate: float
    resampled: bool  # the input could not open at 24 kHz and is resampled
    input_latency_ms: float
    input_startup_ms: float | None  # from start() to the first block; None: no block at all
    input_peak_dbfs: float
    noise_floor_dbfs: float | None
    clipped_samples: int
    echo_found: bool
    echo_gain_db: float | None  # the echo's level relative to what was played
    echo_level_dbfs: float | None  # the microphone's level while the probe's echo came back
    round_trip_ms: float | None  # speaker hand-over to the echo's hand-over by the microphone
    reported_round_trip_ms: float  # the output plus input latency PortAudio reports
    aec_installed: bool
    aec_reduction_db: float | None  # how much of the echo the canceller removed
    input_name: str | None = None
    output_name: str | None = None
    # From handing a block to the output to its first sample at the DAC, by PortAudio's own
    # per-block times (audio/output_clock.py); None where the host API gives no times.
    output_delay_ms: float | None = None
    hints: tuple[str, ...] = field(default=())
    verdict: str = ""

    def lines(self) -> list[str]:
        pace = self.input_ms / (self.seconds * 1000) if self.seconds else 0.0
        first_in = (
            "no input block arrived"
            if self.input_startup_ms is None
            else f"first block after {self.input_startup_ms:.0f} ms"
        )
        first_out = (
            ""
            if self.output_first_callback_ms is None
            else f", first callback after {self.output_first_callback_ms:.0f} ms"
        )
        measured = (
            ""
            if self.output_delay_ms is None
            else f", measured {self.output_delay_ms:.0f} ms to the DAC"
        )
        out = [
            f"output: played {self.played_ms:.0f} ms of the probe at 24000 Hz, reported latency "
            f"{self.output_latency_ms:.0f} ms{measured}, {self.output_underflows} underflows"
            + first_out,
            f"input: {self.input_ms:.0f} ms captured ({pace:.0%} of real time) at "
            f"{self.input_samplerate:.0f} Hz"
            + (" resampled to 24000 Hz" if self.resampled else " (24000 Hz native)")
            + f", reported latency {self.input_latency_ms:.0f} ms, {first_in}",
            f"level: peak {self.input_peak_dbfs:.0f} dBFS, noise floor "
            + _db(self.noise_floor_dbfs, "dBFS")
            + f", {self.clipped_samples} clipped samples",
        ]
        if self.echo_found:
            out.append(
                f"echo: the microphone hears the speaker at {_db(self.echo_gain_db, 'dB')} "
                f"({_db(self.echo_level_dbfs, 'dBFS')}), round trip {self.round_trip_ms:.0f} ms "
                f"(PortAudio reports {self.reported_round_trip_ms:.0f} ms of latency)"
            )
        else:
            out.append("echo: none heard (headphones, or the microphone is far from the speaker)")
        if self.aec_reduction_db is not None:
            out.append(f"after echo cancellation: the echo is {self.aec_reduction_db:.0f} dB lower")
        elif self.echo_found and not self.aec_installed:
            out.append(
                "after echo cancellation: not installed (pip install 'realtime-console[aec]')"
            )
        out += [f"hint: {hint}" for hint in self.hints]
        out.append(f"verdict: {self.verdict}")
        return out

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hints"] = list(self.hints)
        return data


def _db(value: float | None, unit: str) -> str:
    return "unknown" if value is None else f"{value:.0f} {unit}"


def _probe() -> bytes:
    """Soft white noise with 20 ms fades (no clicks), after the lead-in silence."""
    import numpy as np

    n = pcm.ms_to_samples(PROBE_MS)
    noise = np.random.default_rng(7).standard_normal(n) * 10 ** (PROBE_DBFS / 20)
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / pcm.ms_to_samples(20))
    return bytes(pcm.ms_to_bytes(LEAD_IN_MS)) + pcm.float32_to_pcm16(noise * fade)


async def check_devices(
    *,
    input_device: int | str | None = None,
    output_device: int | str | None = None,
    output_factory: StreamFactory | None = None,
    input_factory: InputStreamFactory | None = None,
    native_rate: NativeRate | None = None,
    names: tuple[str | None, str | None] = (None, None),
    block_ms: float = 20.0,
    output_latency: float | str | None = None,
    aec_engine: str = "kalman",
) -> DeviceCheck:
    """Play the probe and record it (AudioDeviceError if a device cannot open). ``names``:
    (input, output) device names, for the hints; ``block_ms`` and ``output_latency``: the
    speaker as ``talk`` opens it (``audio.block_ms``, ``audio.output_latency``);
    ``aec_engine``: the canceller whose reduction is measured (``audio.aec_engine``)."""
    seconds = (LEAD_IN_MS + PROBE_MS + LISTEN_AFTER_MS) / 1000
    tap = FarEndTap(seconds=seconds + STARTUP_WAIT_S + 2 * SEARCH_S + 2)
    speaker = Speaker(
        device=output_device,
        block_ms=block_ms,
        prebuffer_ms=0,
        latency=output_latency,
        stream_factory=output_factory,
        far_end=tap,
    )
    mic = Microphone(
        device=input_device,
        stream_factory=input_factory,
        native_rate=native_rate,
        queue_blocks=max(1, round(seconds * 1000 / 20) + 50),
    )
    started = time.monotonic()
    speaker.start()
    try:
        mic.start()
        in_latency = mic.latency_ms  # the stream is gone once closed
        try:
            blocks, startup_ms = await _record(speaker, mic, seconds)
        finally:
            mic.close()
        first_out = speaker.first_callback_at
        return _analyse(
            blocks,
            tap,
            speaker,
            mic,
            startup_ms=startup_ms,
            first_out_ms=None if first_out is None else (first_out - started) * 1000,
            in_latency=in_latency,
            names=names,
            aec_engine=aec_engine,
        )
    finally:
        speaker.close(discard=True)


async def _record(
    speaker: Speaker, mic: Microphone, seconds: float
) -> tuple[list[MicBlock], float | None]:
    """Wait for the first microphone block (up to ``STARTUP_WAIT_S``), then play the probe and
    capture ``seconds`` from there."""
    started = time.monotonic()
    blocks: list[MicBlock] = []
    startup_ms = None
    deadline = started + STARTUP_WAIT_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            block = await wait_for(mic.read_timed(), left)
        except asyncio.TimeoutError:
            break
        if block is None:
            break
        if startup_ms is None:
            startup_ms = (time.monotonic() - started) * 1000
            deadline = time.monotonic() + seconds  # now measure a full window
            speaker.enqueue(_probe(), "check", "probe")
            speaker.end_response("check")
        blocks.append(block)
    return blocks, startup_ms


def _analyse(
    blocks: list[MicBlock],
    tap: FarEndTap,
    speaker: Speaker,
    mic: Microphone,
    *,
    startup_ms: float | None,
    first_out_ms: float | None,
    in_latency: float,
    aec_engine: str,
    names: tuple[str | None, str | None],
) -> DeviceCheck:
    import numpy as np

    near = np.frombuffer(b"".join(b.pcm for b in blocks), dtype="<i2")
    x = near.astype(np.float64) / 32768
    echo = _find_echo(x, blocks[0].start_time, tap) if len(x) > RATE // 2 else None
    installed = aec_installed(aec_engine)
    out_latency = speaker.reported_latency_ms
    out_delay = round(speaker.latency_ms, 1) if speaker.latency_measured else None
    reduction = None
    if echo is not None and echo.found and installed:
        reduction = _aec_reduction(blocks, tap, echo, aec_engine)
    stats = mic.stats
    check = DeviceCheck(
        seconds=len(x) / RATE,
        played_ms=speaker.played_ms("probe"),
        output_latency_ms=out_latency,
        output_delay_ms=out_delay,
        output_underflows=speaker.stats.output_underflows,
        output_first_callback_ms=first_out_ms,
        input_ms=pcm.bytes_to_ms(len(near) * 2),
        input_samplerate=stats.samplerate,
        resampled=stats.resampled,
        input_latency_ms=in_latency,
        input_startup_ms=startup_ms,
        input_peak_dbfs=_peak_dbfs(near),
        noise_floor_dbfs=None if echo is None else echo.noise_floor_dbfs,
        clipped_samples=int(np.count_nonzero(np.abs(near.astype(np.int32)) >= CLIP_LEVEL)),
        echo_found=echo is not None and echo.found,
        echo_gain_db=None if echo is None or not echo.found else echo.gain_db,
        echo_level_dbfs=None if echo is None or not echo.found else echo.level_dbfs,
        round_trip_ms=None if echo is None or not echo.found else echo.delay_ms,
        reported_round_trip_ms=round(out_latency + in_latency, 1),
        aec_installed=installed,
        aec_reduction_db=reduction,
        input_name=names[0],
        output_name=names[1],
    )
    hints = tuple(hint for test, hint in HINTS if test(check))
    return _with(check, hints=hints, verdict=verdict(check))


def _with(check: DeviceCheck, **changes: Any) -> DeviceCheck:
    import dataclasses

    return dataclasses.replace(check, **changes)


@dataclass(frozen=True)
class _Echo:
    found: bool
    lag: int  # samples: mic[t] hears ref[t + lag]
    gain_db: float
    level_dbfs: float
    delay_ms: float  # the round trip
    noise_floor_dbfs: float | None
    window: tuple[int, int]  # where the probe's echo is in the recording (samples)


def _find_echo(x: Floats, start0: float, tap: FarEndTap) -> _Echo | None:
    """Cross-correlate the recording with what was played, both on the device clock."""
    import numpy as np

    search = round(SEARCH_S * RATE)
    ref = tap.read(start0 - SEARCH_S, len(x) + 2 * search).astype(np.float64) / 32768
    played = np.flatnonzero(np.abs(ref) > 10 ** ((PROBE_DBFS - 30) / 20))
    if len(played) == 0:
        return None  # nothing played while the microphone recorded
    size = 1 << (len(x) + len(ref)).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(x, size)), size)
    lag = int(np.argmax(np.abs(xcorr[: 2 * search + 1])))
    first, last = int(played[0]) - lag, int(played[-1]) - lag
    lo, hi = max(0, first), min(len(x), last)
    if hi - lo < RATE // 10:
        return None
    mic_part, ref_part = x[lo:hi], ref[lo + lag : hi + lag]
    rho = float(
        np.dot(mic_part, ref_part) / max(1e-12, np.linalg.norm(mic_part) * np.linalg.norm(ref_part))
    )
    quiet = x[: max(0, lo - RATE // 20)]
    floor = _floor_dbfs(quiet) if len(quiet) >= RATE // 10 else None
    noise_energy = 0.0 if floor is None else 10 ** (floor / 10)
    mic_energy = float(np.mean(mic_part**2))
    echo_energy = max(mic_energy - noise_energy, 1e-12)
    gain = 10 * float(np.log10(echo_energy / max(float(np.mean(ref_part**2)), 1e-12)))
    return _Echo(
        found=abs(rho) >= FOUND_CORRELATION,
        lag=lag,
        gain_db=round(gain, 1),
        level_dbfs=round(10 * float(np.log10(max(mic_energy, 1e-12))), 1),
        delay_ms=round((SEARCH_S - lag / RATE) * 1000, 1),
        noise_floor_dbfs=floor,
        window=(lo, hi),
    )


def _floor_dbfs(x: Floats) -> float:
    """The quieter end of the room: the 10th percentile of 10 ms frame levels."""
    import numpy as np

    frames = len(x) // 240
    energy = np.mean(x[: frames * 240].reshape(frames, 240) ** 2, axis=1)
    return round(10 * float(np.log10(max(float(np.percentile(energy, 10)), 1e-12))), 1)


def _aec_reduction(
    blocks: list[MicBlock], tap: FarEndTap, echo: _Echo, engine: str
) -> float | None:
    """The recording through the echo stage ``talk`` would build (same canceller, reference
    aligned the same way); the echo's drop over the second half of the probe, after the
    canceller has converged."""
    import numpy as np

    from realtime_console.audio.echo.canceller import EchoSettings, open_echo_canceller
    from realtime_console.audio.echo.stage import EchoStage

    stage = EchoStage(tap, canceller=open_echo_canceller(EchoSettings(engine=engine)))
    near = b"".join(b.pcm for b in blocks)
    out = b"".join(stage.process_now(b.pcm, b.start_time) or b"" for b in blocks)
    x = np.frombuffer(near, dtype="<i2").astype(np.float64)
    y = np.frombuffer(out, dtype="<i2").astype(np.float64)
    lo, hi = echo.window
    lo = (lo + hi) // 2
    before, after = float(np.mean(x[lo:hi] ** 2)), float(np.mean(y[lo:hi] ** 2))
    if before <= 0:
        return None
    return round(10 * float(np.log10(before / max(after, 1e-3))), 1)


def _peak_dbfs(block: Any) -> float:
    import numpy as np

    if len(block) == 0:
        return -120.0
    peak = int(np.max(np.abs(block.astype(np.int32))))
    return max(-120.0, 20 * float(np.log10(peak / 32768))) if peak else -120.0


def _audible_echo(c: DeviceCheck) -> bool:
    return c.echo_found and c.echo_gain_db is not None and c.echo_gain_db > AUDIBLE_ECHO_DB


def _name_has(name: str | None, *words: str) -> bool:
    return bool(name) and any(w in (name or "").lower() for w in words)


HINTS: list[tuple[Any, str]] = [
    (
        lambda c: c.input_samplerate in LOW_RATES,
        "the microphone runs at 8/16 kHz: a Bluetooth headset in hands-free mode (HFP/HSP) "
        "sounds like a telephone; use its A2DP profile for playback and another microphone, "
        "or a wired/USB headset",
    ),
    (
        lambda c: _name_has(c.input_name, "monitor"),
        "the input is a monitor source: it records the speaker itself, not a microphone; "
        "pick a real microphone with --input-device",
    ),
    (
        lambda c: _audible_echo(c) and not c.aec_installed,
        "the microphone hears the speaker: use headphones, or install echo cancellation: "
        "pip install 'realtime-console[aec]'",
    ),
    (
        lambda c: (
            _audible_echo(c) and c.aec_reduction_db is not None and c.aec_reduction_db < GOOD_AEC_DB
        ),
        "echo cancellation removed too little of the echo: use headphones, or try "
        "audio.aec_delay_ms if the speaker is Bluetooth",
    ),
    (
        lambda c: (
            c.echo_found and c.round_trip_ms is not None and c.round_trip_ms > LONG_ROUND_TRIP_MS
        ),
        "the echo comes back very late (Bluetooth?): set audio.aec_delay_ms to the round trip "
        "less 200 ms, so echo cancellation can follow it",
    ),
    (
        lambda c: c.output_delay_ms is not None and c.output_delay_ms > SLOW_OUTPUT_MS,
        "playback runs late (see the output's measured delay): talking over the assistant "
        'stops it that late; audio.output_latency = "low" with audio.block_ms = 10 (the '
        "defaults) or 5 shortens it (through PulseAudio: 25 or 15 ms)",
    ),
    (
        lambda c: c.clipped_samples > 0,
        "the microphone clips: lower its input gain in the system's sound settings",
    ),
    (
        lambda c: c.noise_floor_dbfs is not None and c.noise_floor_dbfs > -45,
        "the room (or the microphone's gain) is noisy: the server's VAD may hear it as speech; "
        "raise session.turn_detection.threshold or set session.input_audio_noise_reduction",
    ),
    (
        lambda c: c.input_startup_ms is not None and c.input_startup_ms > 1000,
        "the microphone takes over a second to start (normal through PulseAudio)",
    ),
]
"""(does it apply, the hint) in the order they are shown."""


def verdict(c: DeviceCheck) -> str:
    if c.input_startup_ms is None or c.input_ms == 0:
        return "the microphone delivers no audio: check the input device (--input-device)"
    if c.played_ms == 0:
        return "nothing was played: check the output device (--output-device)"
    if not _audible_echo(c):
        return "ready for talk: the microphone does not hear the speaker"
    if c.aec_reduction_db is not None and c.aec_reduction_db >= GOOD_AEC_DB:
        return (
            f"ready for talk on speakers: echo cancellation lowers the echo by "
            f"{c.aec_reduction_db:.0f} dB"
        )
    if c.aec_installed:
        return "the echo is too strong for echo cancellation here: use headphones"
    return (
        "talk will interrupt itself on these speakers: use headphones or "
        "pip install 'realtime-console[aec]'"
    )
