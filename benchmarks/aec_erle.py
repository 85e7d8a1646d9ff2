"""Echo cancellers compared on a simulated speaker → microphone echo path.

Far end: the local server's eSpeak NG voice (``marin``; the synthetic voice where eSpeak is
missing) reading sentences with their natural pauses, through ``audio.echo.path.render``: a delay
of 30-150 ms, a short room impulse response, ``--gain-db`` of attenuation and 4 ms of clock drift
over the run, plus a -70 dBFS noise floor. Near end: another voice (``cedar``) talking over the
last third (double talk). With the default -6 dB path the near end is ~5 dB louder than the echo
over the double talk (``signal_to_echo_db``; 5.6 dB over the near end's active frames): a user at
arm's length from a laptop whose speaker plays at conversation level, well inside the -10..+10 dB
range echo-cancellation test sets use. Every canceller goes through the console's own framing
(``audio.echo.framing.FramedCanceller``) in 20 ms blocks, at 24 kHz directly or through soxr at
16/48 kHz, exactly as ``talk`` would call it.

Per candidate and scenario:

* ``erle_db``: echo return loss enhancement after convergence, 10·log10(mic energy / output
  energy) over the second half of the echo-only part. Target >= 25 dB.
* ``convergence_s``: when the 0.5 s ERLE first reaches 20 dB and never falls below 10 dB again
  (windows with the far end silent are skipped).
* ``near_end_correlation``: Pearson correlation of the output with the clean near-end speech over
  the whole double-talk part (its pauses included, so residual echo there counts against it),
  which starts after the canceller has converged, at the best lag within 0-100 ms (found by
  cross-correlation: cancellers delay their output, AEC3 by 9.3 ms at 24 kHz, and a sample-level
  correlation at the wrong lag would mean nothing). Target >= 0.9. ``mic_correlation`` is the
  same for the unprocessed microphone, for scale; ``no_echo_correlation`` the same when the
  microphone does not hear the speaker at all (what processing alone costs the voice).
* ``cpu_ms_per_s``: CPU milliseconds per second of audio (10 = 1 % of a core), resampling
  included; ``resample_cpu_ms_per_s`` is the soxr round trip alone at that rate.

``python -m benchmarks.aec_erle [--quick]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from realtime_console.audio.echo.framing import FramedCanceller, FrameProcessor
from realtime_console.audio.echo.path import EchoPathSpec, render
from realtime_console.protocol.pcm import SAMPLE_RATE, pcm16_to_float32

Samples = npt.NDArray[np.float32]
Pcm = npt.NDArray[np.int16]
TARGET_ERLE_DB = 25.0
TARGET_CORRELATION = 0.9
BLOCK = 480  # 20 ms at 24 kHz, the speaker's block
FAR_TEXT = (
    "Once upon a time, on a rocky island far out at sea, there lived a lighthouse keeper. "
    "Every evening he climbed the hundred steps of the tower and lit the great lamp. "
    "Ships passing in the night saw its beam and knew where the rocks were. "
    "In the winter the storms were fierce, and the waves broke over the walls of the tower. "
    "Still the keeper climbed the steps, and still the lamp was lit."
)
NEAR_TEXT = (
    "Sorry, can I stop you there? What was the name of the island? "
    "And how many steps did he climb every evening? I would like to know more."
)


# ---------------------------------------------------------------------------- signals


def speech(text: str, voice: str, seconds: float) -> Samples:
    """``seconds`` of a voice reading ``text`` over and over (eSpeak NG when installed)."""
    from realtime_console.server.espeak import EspeakVoice, espeak_available
    from realtime_console.server.voice import SyntheticVoice

    engine = EspeakVoice() if espeak_available() else SyntheticVoice()
    sentences = [s.strip() + "." for s in text.split(".") if s.strip()]
    parts: list[Samples] = []
    total, gap = 0, np.zeros(SAMPLE_RATE // 4, dtype=np.float32)
    while total < seconds * SAMPLE_RATE:
        for sentence in sentences:
            part = pcm16_to_float32(engine.synthesize(sentence, voice=voice).pcm)
            parts += [part, gap]
            total += len(part) + len(gap)
    return np.concatenate(parts)[: round(seconds * SAMPLE_RATE)]


@dataclass(frozen=True)
class Scenario:
    far: Samples  # what the speaker played
    echo: Samples  # what of it reached the microphone
    near: Samples  # the user's clean speech (zero outside double talk)
    mic: Samples  # echo + near + noise
    double_talk_from: int  # sample where the near end starts
    delay_ms: float


def scenario(seconds: float, delay_ms: float, gain_db: float, drift_ms: float) -> Scenario:
    n = round(seconds * SAMPLE_RATE)
    far = speech(FAR_TEXT, "marin", seconds)
    spec = EchoPathSpec(delay_ms=delay_ms, gain_db=gain_db, drift_ms=drift_ms)
    echo = render(far, spec)
    dt_from = n * 2 // 3
    near = np.zeros(n, dtype=np.float32)
    voice = speech(NEAR_TEXT, "cedar", (n - dt_from) / SAMPLE_RATE)
    near[dt_from:] = voice[: n - dt_from]
    noise = np.random.default_rng(3).standard_normal(n).astype(np.float32) * 10 ** (-70 / 20)
    return Scenario(far, echo, near, echo + near + noise, dt_from, delay_ms)


def without_echo(sc: Scenario) -> Scenario:
    """The same scene with a microphone that does not hear the speaker (a headset, a far mic)."""
    return Scenario(
        sc.far, sc.echo * 0, sc.near, sc.mic - sc.echo, sc.double_talk_from, sc.delay_ms
    )


def signal_to_echo_db(sc: Scenario) -> float:
    """Near end over echo, in energy, over the double talk."""
    dt = slice(sc.double_talk_from, None)
    return erle_db(sc.near[dt], sc.echo[dt])


def to_pcm(x: Samples) -> Pcm:
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------------------- candidates


class Console:
    """The console's own canceller (audio/echo/fdkf.py): a frequency-domain Kalman filter and a
    residual suppressor, numpy; 24 kHz only."""

    def __init__(self, rate: int) -> None:
        from realtime_console.audio.echo.fdkf import KalmanCanceller

        if rate != SAMPLE_RATE:
            raise ValueError("the console's canceller runs at 24 kHz")
        self._p = KalmanCanceller()
        self.rate = rate
        self.stream_delay_ms = 0

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        return self._p.process_frames(near, far)


class PyWebRtc:
    """``pywebrtc-audio``: AEC3 (the console's adapter, audio/echo/webrtc.py)."""

    def __init__(self, rate: int) -> None:
        from realtime_console.audio.echo.webrtc import WebRtcProcessor

        self._p = WebRtcProcessor(rate)
        self.rate = rate
        self.stream_delay_ms = 0

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        return self._p.process_frames(near, far)


class LiveKit:
    """``livekit``: ``rtc.AudioProcessingModule`` (AEC3 through the LiveKit FFI library)."""

    def __init__(self, rate: int) -> None:
        rtc: Any = importlib.import_module("livekit.rtc")
        self._rtc = rtc
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True, high_pass_filter=True)
        self.rate = rate
        self.stream_delay_ms = 0

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        n = self.rate // 100
        out = np.empty_like(near)
        for i in range(0, len(near), n):
            ref = self._rtc.AudioFrame(bytearray(far[i : i + n].tobytes()), self.rate, 1, n)
            self._apm.process_reverse_stream(ref)
            frame = self._rtc.AudioFrame(bytearray(near[i : i + n].tobytes()), self.rate, 1, n)
            self._apm.process_stream(frame)
            out[i : i + n] = np.frombuffer(frame.data, dtype=np.int16)
        return out


class Speex:
    """``speexdsp-aec``: ctypes over the system's libspeexdsp (MDF), 10 ms frames, 300 ms tail."""

    def __init__(self, rate: int) -> None:
        module: Any = importlib.import_module("speexdsp_aec")
        self._aec = module.SpeexAec(sample_rate=rate, frame_ms=10, filter_tail_ms=300)
        self.rate = rate
        self.stream_delay_ms = 0

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        return np.frombuffer(self._aec.process(near, far), dtype=np.int16)


class AecAudioProcessing:
    """``aec-audio-processing``: SWIG over libwebrtc-audio-processing 2 (AEC3), bytes per 10 ms."""

    def __init__(self, rate: int) -> None:
        module: Any = importlib.import_module("aec_audio_processing")
        self._ap = module.AudioProcessor(enable_aec=True, enable_ns=False, enable_agc=False)
        self._ap.set_stream_format(rate, 1, rate, 1)
        self._ap.set_reverse_stream_format(rate, 1)
        self.rate = rate
        self.stream_delay_ms = 0

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        n = self.rate // 100
        out = np.empty_like(near)
        for i in range(0, len(near), n):
            self._ap.process_reverse_stream(far[i : i + n].tobytes())
            cleaned = self._ap.process_stream(near[i : i + n].tobytes())
            out[i : i + n] = np.frombuffer(cleaned, dtype=np.int16)
        return out


class Passthrough:
    """No canceller: the framing and resampling alone (the resampling cost and the baseline)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.stream_delay_ms = 0

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        return near


CHOSEN = "console-kalman"
CANDIDATES: dict[str, Callable[[int], FrameProcessor]] = {
    CHOSEN: Console,
    "pywebrtc-audio": PyWebRtc,
    "livekit": LiveKit,
    "aec-audio-processing": AecAudioProcessing,
    "speexdsp-aec": Speex,
}
ONLY_24K = {CHOSEN}  # runs at the API's rate by design: no resampled rows
NOT_INSTALLABLE = {
    "webrtc-apm": "PyPI has only a Windows cp311 wheel and no source distribution",
    "speexdsp": "source only (2018); its build needs swig and libspeexdsp headers",
}


# ---------------------------------------------------------------------------- measuring


def run_canceller(processor: FrameProcessor, sc: Scenario) -> tuple[Samples, float]:
    """The cleaned microphone signal and the CPU seconds it took, in 20 ms blocks."""
    canceller = FramedCanceller(processor)
    near, far = to_pcm(sc.mic), to_pcm(sc.far)
    out = np.empty_like(near)
    cpu = time.process_time()
    for i in range(0, len(near) - BLOCK + 1, BLOCK):
        out[i : i + BLOCK] = canceller.process(near[i : i + BLOCK], far[i : i + BLOCK])
    cpu = time.process_time() - cpu
    used = len(near) // BLOCK * BLOCK
    return (out[:used] / np.float32(32768)).astype(np.float32), cpu


def _energy(x: Samples) -> float:
    return float(np.sum(x.astype(np.float64) ** 2))


def erle_db(mic: Samples, out: Samples) -> float:
    return 10 * float(np.log10(max(_energy(mic), 1e-12) / max(_energy(out), 1e-12)))


def convergence_s(sc: Scenario, out: Samples) -> float | None:
    window = SAMPLE_RATE // 2
    end = min(sc.double_talk_from, len(out))
    times, values = [], []
    for start in range(0, end - window + 1, window // 2):
        if _energy(sc.echo[start : start + window]) < window * 10 ** (-50 / 10):
            continue  # the far end paused: nothing to cancel, nothing to measure
        times.append((start + window) / SAMPLE_RATE)
        values.append(erle_db(sc.mic[start : start + window], out[start : start + window]))
    for i, value in enumerate(values):
        if value >= 20 and all(v >= 10 for v in values[i:]):
            return round(times[i], 2)
    return None


def correlation(clean: Samples, signal: Samples, max_lag: int = 2400) -> tuple[float, int]:
    """Pearson correlation of ``signal`` with ``clean`` delayed by the best lag in 0..max_lag
    samples, and that lag (framing and resampling delay the output)."""
    n = min(len(clean), len(signal))
    a, b = clean[:n].astype(np.float64), signal[:n].astype(np.float64)
    size = 1 << (2 * n - 1).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lag = int(np.argmax(xcorr[: max_lag + 1]))
    a, b = a[: n - lag], b[lag:]
    return float(np.corrcoef(a, b)[0, 1]), lag


def measure(
    name: str, make: Callable[[int], FrameProcessor], rate: int, sc: Scenario
) -> dict[str, Any]:
    out, cpu = run_canceller(make(rate), sc)
    quiet, _ = run_canceller(make(rate), without_echo(sc))
    mic = sc.mic[: len(out)]
    echo_only = slice(sc.double_talk_from // 2, sc.double_talk_from)
    dt = slice(sc.double_talk_from, len(out))
    seconds = len(out) / SAMPLE_RATE
    near_corr, lag = correlation(sc.near[dt], out[dt])
    result: dict[str, Any] = {
        "candidate": name,
        "rate": rate,
        "delay_ms": sc.delay_ms,
        "erle_db": round(erle_db(mic[echo_only], out[echo_only]), 1),
        "convergence_s": convergence_s(sc, out),
        "near_end_correlation": round(near_corr, 3),
        "mic_correlation": round(correlation(sc.near[dt], mic[dt])[0], 3),
        "no_echo_correlation": round(correlation(sc.near[dt], quiet[dt])[0], 3),
        # Output level over the double talk against the clean near end's (residual echo adds).
        "near_end_level_db": round(-erle_db(sc.near[dt], out[dt]), 1),
        "output_delay_ms": round(lag * 1000 / SAMPLE_RATE, 1),
        "cpu_ms_per_s": round(1000 * cpu / seconds, 2),
    }
    result["meets_targets"] = (
        result["erle_db"] >= TARGET_ERLE_DB and result["near_end_correlation"] >= TARGET_CORRELATION
    )
    return result


def available(name: str, make: Callable[[int], FrameProcessor]) -> str | None:
    """None when the candidate can be built, else why not (one line)."""
    try:
        make(SAMPLE_RATE)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def _passthrough(sc: Scenario, rate: int) -> Samples:
    out, _ = run_canceller(Passthrough(rate), sc)
    return out


def main(quick: bool = False, gain_db: float = -6.0) -> dict[str, Any]:
    """Every installed candidate over the delays at 24 kHz, and at 16/48 kHz through soxr."""
    seconds = 18.0 if quick else 36.0
    delays = [80.0] if quick else [30.0, 80.0, 150.0]
    scenarios = {d: scenario(seconds, d, gain_db, drift_ms=4.0) for d in delays}
    results: list[dict[str, Any]] = []
    unavailable = dict(NOT_INSTALLABLE)
    for name, make in CANDIDATES.items():
        if (why := available(name, make)) is not None:
            unavailable[name] = why
            continue
        for delay, sc in scenarios.items():
            results.append(measure(name, make, SAMPLE_RATE, sc))
            if delay == 80.0 and name not in ONLY_24K:
                for rate in (16_000, 48_000):
                    results.append(measure(name, make, rate, sc))
    resampling = {}
    base = scenarios[80.0]
    for rate in (16_000, 48_000):
        r = measure("soxr round trip", Passthrough, rate, base)
        resampling[str(rate)] = {
            "cpu_ms_per_s": r["cpu_ms_per_s"],
            "output_delay_ms": r["output_delay_ms"],
            "correlation_with_input": round(correlation(base.mic, _passthrough(base, rate))[0], 3),
        }
    chosen = [r for r in results if r["candidate"] == CHOSEN and r["rate"] == SAMPLE_RATE]
    return {
        "benchmark": "aec_erle",
        "seconds_per_scenario": seconds,
        "echo_gain_db": gain_db,
        "drift_ms": 4.0,
        "signal_to_echo_db": round(signal_to_echo_db(base), 1),
        "targets": {"erle_db": TARGET_ERLE_DB, "near_end_correlation": TARGET_CORRELATION},
        "results": results,
        "resampling_round_trip": resampling,
        "unavailable": unavailable,
        "chosen": CHOSEN,
        "meets_targets": bool(chosen) and all(r["meets_targets"] for r in chosen),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="one 18 s scenario instead of three of 36 s"
    )
    parser.add_argument("--gain-db", type=float, default=-6.0, help="echo level vs playback")
    args = parser.parse_args()
    print(json.dumps(main(quick=args.quick, gain_db=args.gain_db), indent=2))
