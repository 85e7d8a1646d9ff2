"""Barge-in on real PulseAudio devices: how soon the sink goes quiet, how true the truncation is.

The real ``realtime-console --local talk --plain`` process plays through PortAudio into a private
PulseAudio null sink (``benchmarks/pulse_rig.py``); its microphone is a pipe source. The local
server's eSpeak NG voice answers; espeak-ng speech is played into the microphone over each reply,
again and again (each interruption's own reply is the next one spoken over). The sink's monitor is
recorded with ``parec``, every sample stamped with the wall clock, and the event log (written
live) gives the times of ``speech_started`` and of the ``conversation.item.truncate``:

* ``silence_ms``: from ``input_audio_buffer.speech_started`` reaching the console to the last
  sound of the reply at the sink (the fade's end). Cuts that fall in a pause of the reply (the
  sink was already quiet) are counted apart, not measured.
* ``truncation_error_ms``: ``audio_end_ms`` sent in the truncate minus ``heard``, the audio of the
  item that had reached the sink when the console cut it (at the truncate's send: the position is
  taken just before it). Where the item is in the recording is found by cross-correlating it
  with the reply's audio deltas from the log (the half second played before the cut).
  ``overshoots``: truncates claiming more than heard. A cut under 100 ms into a reply (the
  interruption's own pause heard as a second turn) has too little audio to place: counted as
  ``unaligned``, not measured.

From the ``barge_in`` notes, informational (what the console itself reports, on PortAudio's
stream clock, from the microphone's timeline; README "Barge-in and truncation"):

* ``onset_to_silence_ms``: the user's speech onset at the microphone to the cut reaching the
  listener; ``detection_ms``: onset to the console handling ``speech_started``.
* ``fed_onset_to_silence_ms``: the same span measured outside the console: from the moment the
  interruption's first voiced 10 ms frame (-40 dBFS, as the local server's VAD judges) was due
  in the pipe source (the wall time it was queued, plus its offset in the speech; the pipe
  writer takes it within its next 20 ms block) to the last sound at the sink. It includes the
  capture path the console cannot see (the pipe source's and PortAudio's input buffering), so
  it is the larger; ``unseen_capture_ms`` is the difference per barge-in.

The monitor shows a sample when the null sink renders it, one monitor block
(``pulse_rig.MONITOR_LATENCY_MS``, 5 ms) before its DAC time: ``heard`` reads up to that much
high, so an exact ``audio_end_ms`` shows as up to ~5 ms under it.

Skipped (JSON ``skipped``: the reason) where PulseAudio, parec, espeak-ng or PortAudio is missing.
Run: ``python -m benchmarks.talk_bargein_pulse [--barge-ins N] [--block-ms MS] [--quick]``;
``--source DIR`` runs the console from another checkout (before/after comparisons).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import pulse_rig as rig
from realtime_console.config import AudioSettings

TARGET_SILENCE_MS = 30.0  # median
TARGET_TRUNCATION_MS = 10.0  # max |error|
BARGE_INS = 24
QUICK_BARGE_INS = 5
MIN_BARGE_INS = 20
# What the console uses unless told otherwise: the figures are the defaults' (10 ms blocks with
# the low-latency stream meet the silence target through PulseAudio; README).
BLOCK_MS = int(AudioSettings().block_ms)
OUTPUT_LATENCY = str(AudioSettings().output_latency)
APPEND_MS = int(AudioSettings().append_ms)
SOUND = 64.0  # |sample| above this (-54 dBFS) is sound at the sink
ALIGNED = 0.9  # a normalised correlation this high is the same audio (a true match is ~1.0)
QUESTION = "Tell me a long story about the sea and the ships that sail on it, please."
INTERRUPTIONS = ("Wait, stop.", "Hold on a moment.", "No, listen.", "Stop there, please.")


def _stats(values: list[float]) -> dict[str, float | int] | None:
    if not values:
        return None
    ordered = sorted(values)
    return {
        "count": len(values),
        "median": round(statistics.median(values), 2),
        "p90": round(ordered[min(len(values) - 1, int(0.9 * len(values)))], 2),
        "p95": round(ordered[min(len(values) - 1, int(0.95 * len(values)))], 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
    }


def _uptime() -> str:
    try:
        return os.popen("uptime").read().strip()
    except OSError:
        return "unknown"


async def run(
    barge_ins: int = BARGE_INS,
    *,
    block_ms: int = BLOCK_MS,
    output_latency: str = OUTPUT_LATENCY,
    append_ms: int = APPEND_MS,
    source: Path | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    reason = rig.skip_reason()
    base: dict[str, Any] = {
        "benchmark": "talk_bargein_pulse",
        "requested": barge_ins,
        "block_ms": block_ms,
        "output_latency": output_latency,
        "append_ms": append_ms,
        "load": _uptime(),
        "targets": {
            "silence_ms_median": f"<= {TARGET_SILENCE_MS:g}",
            "truncation_error_ms_max_abs": f"<= {TARGET_TRUNCATION_MS:g}",
            "overshoots": "== 0",
            "barge_ins": f">= {min(barge_ins, MIN_BARGE_INS)}",
            "onset_to_silence_ms": "informational",
            "detection_ms": "informational",
        },
    }
    if reason is not None:
        return {**base, "skipped": reason}
    with tempfile.TemporaryDirectory(prefix="rc_bargein_") as tmp_name:
        tmp = Path(tmp_name)
        log = tmp / "talk.jsonl"
        settings = f"[audio]\nblock_ms = {block_ms}\n"
        if append_ms != APPEND_MS:  # the default: left out (a checkout may predate it)
            settings += f"append_ms = {append_ms}\n"
        if output_latency:  # "": leave it out (a checkout from before the setting)
            settings += f'output_latency = "{output_latency}"\n'
        record = await _drive(tmp, log, barge_ins, settings, source, random.Random(seed))
        return {**base, "skipped": None, **_analyse(log, record)}


class _Recorded:
    def __init__(
        self,
        samples: Any,
        origin: float,
        attempts: int,
        missed: int,
        said: list[float] | None = None,
    ) -> None:
        self.samples = samples
        self.origin = origin  # wall time of sample 0
        self.attempts = attempts
        self.missed = missed
        # Per interruption: the wall time its first voiced frame was due in the pipe source.
        self.said = said or []

    def index_at(self, wall: float) -> float:
        return (wall - self.origin) * rig.RATE


async def _drive(
    tmp: Path, log: Path, barge_ins: int, settings: str, source: Path | None, rng: random.Random
) -> _Recorded:
    question = rig.espeak(QUESTION, tmp)
    interruptions = [rig.espeak(text, tmp) for text in INTERRUPTIONS]
    config = tmp / "config.toml"
    config.write_text(settings, encoding="utf-8")
    sink, mic_name = f"rc_bench_{os.getpid()}", f"rc_bench_mic_{os.getpid()}"
    extra = {"PULSE_SOURCE": mic_name, "PULSE_SINK": sink}
    if source is not None:
        extra["PYTHONPATH"] = str(source)
    env = rig.console_env(extra)
    tail = rig.LogTail(log)
    attempts = missed = 0
    said: list[float] = []
    with (
        rig.private_null_sink(sink),
        rig.PipeMicrophone(tmp / "mic.fifo", mic_name) as mic,
        rig.monitor_recording(sink) as monitor,
    ):
        console = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "realtime_console",
            "--config",
            str(config),
            "--local",
            "--log-events",
            str(log),
            "talk",
            "--plain",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(source) if source is not None else None,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            await rig.until(
                lambda: _alive(console) and tail.count("client", "input_audio_buffer.append") > 0,
                30,
                "the microphone to stream",
            )
            mic.say(question)
            done = 0
            while done < barge_ins and attempts < barge_ins * 2:
                attempts += 1
                mark = len(monitor.samples())
                await rig.until(
                    lambda mark=mark: (  # type: ignore[misc]
                        not mic.speaking
                        and rig.voiced_ms(monitor.samples()[mark:][-rig.RATE // 3 :]) >= 200
                    ),
                    40,
                    "a reply to be audible",
                )
                await asyncio.sleep(rng.uniform(0.0, 0.6))  # cut at different points
                before = tail.count("meta", "barge_in")
                speech = interruptions[attempts % len(interruptions)]
                said.append(time.time() + _first_voiced_s(speech))
                mic.say(speech)
                try:
                    await rig.until(
                        lambda before=before: tail.count("meta", "barge_in") > before,  # type: ignore[misc]
                        8,
                        "the barge-in",
                    )
                    done += 1
                except AssertionError:
                    missed += 1  # the reply ended before the voice was detected: go on
                await rig.until(lambda: not mic.speaking, 30, "the interruption to be spoken")
            await asyncio.sleep(1.0)  # the last cut's tail reaches the recording
        finally:
            if console.returncode is None:
                console.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(console.communicate(), 15)
            if console.returncode not in (0, 130):
                sys.stderr.write(err.decode(errors="replace"))
        samples = monitor.samples()
        origin = monitor.time_of(0)
    return _Recorded(samples, origin, attempts, missed, said)


def _first_voiced_s(pcm: bytes) -> float:
    """Where the first 10 ms frame at or above -40 dBFS (the local server's VAD threshold)
    begins in ``pcm``, in seconds."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = len(x) // 240
    rms = np.sqrt(np.mean(x[: frames * 240].reshape(frames, 240) ** 2, axis=1))
    voiced = np.flatnonzero(rms >= 32768 * 10 ** (-40 / 20))
    return float(voiced[0]) * 240 / rig.RATE if len(voiced) else 0.0


def _alive(console: asyncio.subprocess.Process) -> bool:
    if console.returncode is not None:
        raise RuntimeError(f"the console exited ({console.returncode})")
    return True


def _analyse(log: Path, rec: _Recorded) -> dict[str, Any]:
    events = rig.log_timed_events(log)
    rows = [_measure(events, rec, i) for i, (_, d, e) in enumerate(events) if _is_note(d, e)]
    silences = [r["silence_ms"] for r in rows if r.get("silence_ms") is not None]
    errors = [r["error_ms"] for r in rows if r.get("error_ms") is not None]
    return {
        "attempts": rec.attempts,
        "missed": rec.missed,
        "barge_ins": len(rows),
        "measured": len(errors),
        "unaligned": sum(1 for r in rows if r.get("error_ms") is None),
        "cut_in_pause": sum(1 for r in rows if r.get("in_pause")),
        "silence_ms": _stats(silences),
        "truncation_error_ms": _stats(errors),
        "truncation_error_ms_max_abs": round(max(map(abs, errors)), 2) if errors else None,
        "overshoots": sum(1 for e in errors if e > 0),
        "cut_after_speech_started_ms": _stats(
            [r["cut_after_speech_started_ms"] for r in rows if "cut_after_speech_started_ms" in r]
        ),
        # The speaker's measured output latency at each cut (the reported one before it).
        "output_latency_ms": _stats(
            [float(r["output_latency_ms"]) for r in rows if r.get("output_latency_ms") is not None]
        ),
        # What the console's barge_in notes say (informational), and the span measured outside.
        "onset_to_silence_ms": _stats(_figures(rows, "onset_to_silence_ms")),
        "detection_ms": _stats(_figures(rows, "detection_ms")),
        "fed_onset_to_silence_ms": _stats(_figures(rows, "fed_onset_to_silence_ms")),
        "unseen_capture_ms": _stats(_figures(rows, "unseen_capture_ms")),
        "samples": rows,
    }


def _figures(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if isinstance(r.get(key), int | float)]


def _is_note(direction: str, event: dict[str, Any]) -> bool:
    return direction == "meta" and event.get("type") == "barge_in"


def _measure(
    events: list[tuple[float, str, dict[str, Any]]], rec: _Recorded, at: int
) -> dict[str, Any]:
    note_t, _, note = events[at]
    item, response = note["item_id"], note["response_id"]
    spoke = [t for t, d, e in events[:at] if _is(d, e, "server", "speech_started")]
    cuts = [t for t, d, e in events[:at] if _is(d, e, "client", "truncate")]
    deltas = [
        (t, e)
        for t, d, e in events
        if d == "server"
        and e.get("type") in ("response.output_audio.delta", "response.audio.delta")
        and e.get("response_id") == response
        and e.get("item_id") == item
    ]
    row: dict[str, Any] = {
        "item_id": item,
        "audio_end_ms": note["audio_end_ms"],
        "played_ms": note.get("played_ms"),
        "output_latency_ms": note.get("output_latency_ms"),
        "onset_to_silence_ms": note.get("onset_to_silence_ms"),
        "detection_ms": note.get("detection_ms"),
    }
    if not spoke or not cuts or not deltas:
        return row
    t_spoke, t_cut = spoke[-1], cuts[-1]
    fed = [t for t in rec.said if t <= t_spoke]  # the interruption the server heard
    row["cut_after_speech_started_ms"] = round((t_cut - t_spoke) * 1000, 2)
    reply = np.frombuffer(
        b"".join(base64.b64decode(e["delta"]) for _, e in deltas), dtype="<i2"
    ).astype(np.float64)
    cut = rec.index_at(t_cut)
    played = int(float(note.get("played_ms") or 0) * 24)
    anchor, quality = _find_anchor(rec.samples, reply, rec.index_at(deltas[0][0]), cut, played)
    row["alignment"] = round(quality, 3)
    if anchor is None:
        return row
    sample, index = anchor
    start = index - sample  # where the item would have begun without any lengthening
    heard_ms = (cut - start) / 24
    row["heard_ms"] = round(heard_ms, 2)
    row["error_ms"] = round(note["audio_end_ms"] - heard_ms, 2)
    stop = _last_sound(rec.samples, int(cut) - rig.RATE // 10, int(cut) + rig.RATE // 2)
    if stop is None:
        return row
    ahead = reply[max(0, stop - start) : max(0, stop - start) + rig.RATE // 50]
    row["in_pause"] = bool(len(ahead) == 0 or np.max(np.abs(ahead)) <= SOUND)
    if not row["in_pause"]:
        row["silence_ms"] = round((rec.origin + stop / rig.RATE - t_spoke) * 1000, 2)
        if fed:
            fed_ms = (rec.origin + stop / rig.RATE - fed[-1]) * 1000
            row["fed_onset_to_silence_ms"] = round(fed_ms, 2)
            if isinstance(note.get("onset_to_silence_ms"), int | float):
                row["unseen_capture_ms"] = round(fed_ms - note["onset_to_silence_ms"], 2)
    return row


def _is(direction: str, event: dict[str, Any], want: str, suffix: str) -> bool:
    return direction == want and str(event.get("type", "")).endswith(suffix)


def _find_anchor(
    x: Any, reply: Any, first_delta: float, cut: float, played: int
) -> tuple[tuple[int, int] | None, float]:
    """(item sample, recording index) of one and the same sample, or None; and the match's
    normalised correlation. The half second of the item played just before the cut (less the
    fade) is looked for from 0.3 s before the item's first delta arrived to past the cut:
    later than the item's start, which the jitter buffer may have lengthened (a repeated pitch
    period), so recording and item run sample for sample from the match to the cut."""
    end = min(len(reply), played - rig.RATE // 200)  # before the 5 ms fade
    n = min(end, rig.RATE // 2)
    if n < rig.RATE // 10:
        return None, 0.0
    first = end - n
    ref = reply[first:end]
    lo = max(0, int(first_delta) - rig.RATE * 3 // 10)
    hi = min(len(x), int(cut) + rig.RATE * 3 // 10)
    window = x[lo:hi]
    if len(window) < n:
        return None, 0.0
    size = 1 << (len(window) + n).bit_length()
    corr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(ref, size)), size)
    lags = len(window) - n + 1
    energy = np.concatenate(([0.0], np.cumsum(window**2)))
    local = np.sqrt(np.maximum(energy[n : n + lags] - energy[:lags], 1e-9))
    score = corr[:lags] / (local * max(float(np.linalg.norm(ref)), 1e-9))
    best = int(np.argmax(score))
    quality = float(score[best])
    return ((first, lo + best) if quality >= ALIGNED else None), quality


def _last_sound(x: Any, lo: int, hi: int) -> int | None:
    """One past the last sample above ``SOUND`` in [lo, hi)."""
    part = np.abs(x[max(0, lo) : min(len(x), hi)])
    loud = np.flatnonzero(part > SOUND)
    return None if len(loud) == 0 else max(0, lo) + int(loud[-1]) + 1


async def main(
    barge_ins: int = BARGE_INS, block_ms: int = BLOCK_MS, output_latency: str = OUTPUT_LATENCY
) -> dict[str, Any]:
    return await run(barge_ins, block_ms=block_ms, output_latency=output_latency)


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--barge-ins", type=int, default=BARGE_INS)
    parser.add_argument("--block-ms", type=int, default=BLOCK_MS, help="audio.block_ms")
    parser.add_argument(
        "--output-latency", default=OUTPUT_LATENCY, help="audio.output_latency (low, high)"
    )
    parser.add_argument(
        "--append-ms", type=int, default=APPEND_MS, help="audio.append_ms (the microphone's block)"
    )
    parser.add_argument("--source", type=Path, help="run the console from this checkout")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BARGE_INS} barge-ins")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    options = parser.parse_args()
    count = QUICK_BARGE_INS if options.quick else options.barge_ins
    started = time.monotonic()
    result = asyncio.run(
        run(
            count,
            block_ms=options.block_ms,
            output_latency=options.output_latency,
            append_ms=options.append_ms,
            source=options.source,
        )
    )
    result["seconds"] = round(time.monotonic() - started, 1)
    text = json.dumps(result, indent=2)
    if options.out is not None:
        options.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    _cli()
