"""CPU cost of ``talk``: while listening, and during full-duplex speech.

The console runs in this process exactly as ``talk`` does (``run_talk``: microphone pump, speaker,
SDK client, dispatcher, handlers), on the package's fake streams ticking in real time on their
own threads (in ``audio.block_ms`` blocks, the default); the local server runs in a separate
process (``serve``), so its VAD and voice synthesis are not counted. CPU is this process's
``time.process_time()`` over wall time.

PortAudio through PulseAudio costs ~20% of a core here even with an empty callback, so
the console's own cost is reported as the difference from the same fake streams running with
empty callbacks (``baseline``), which is the fakes' own ticking. That baseline alone moves by up
to 1 % of a core from one run to the next on a 2-core machine, so the whole measurement runs
``--rounds`` times (3) and each figure is the median of its rounds' differences.

* ``listening_cpu_percent``: microphone streaming silence to the server, speaker idle.
  Target: <= 1% of one core.
* ``full_duplex_cpu_percent``: while the assistant's reply plays and the microphone keeps
  streaming (measured over the assistant-speaking periods of several turns). Target: <= 1.5%.
* With ``--aec``: the same run again with echo cancellation on (``audio.aec = "on"``: the
  default engine, ``audio.aec_engine``, on the echo worker thread, the speaker's far-end tap),
  and ``aec_full_duplex_cpu_percent`` / ``aec_listening_cpu_percent``, its cost over the run
  without. Target: <= 3% in full duplex.
  The first run has ``audio.aec = "off"`` either way, so its figures compare with earlier ones.
* With ``--block-ms MS``: the same run again with ``audio.block_ms = MS`` (the small output
  blocks a quick barge-in through PulseAudio needs, README "Barge-in and truncation"), less its
  own baseline: ``block_ms_MS``, the console's cost at that block size.

Figures move with machine load; run on an idle machine. ``python -m benchmarks.talk_cpu``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import socket
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_console.audio.fakestream import FakeInputStream, FakeOutputStream
from realtime_console.config import AudioSettings, ConnectionSettings, Settings
from realtime_console.modes.talk import AudioBackend, run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.protocol.pcm import ms_to_samples
from realtime_console.redact import Redactor
from realtime_console.ui.plain_talk import PlainTalkView
from realtime_console.ui.view import TalkState

LISTEN_S = 8.0
TURNS = 4
ROUNDS = 3
TARGET_LISTENING = 1.0
TARGET_FULL_DUPLEX = 1.5
TARGET_AEC = 3.0


class TimedView(PlainTalkView):
    """Records (state, wall, cpu) at each state change."""

    def __init__(self) -> None:
        null = open(os.devnull, "w")  # open for the whole run
        super().__init__(null, null)
        self.marks: list[tuple[TalkState, float, float]] = []
        self.changed = asyncio.Event()

    def set_state(self, state: TalkState) -> None:
        super().set_state(state)
        self.marks.append((state, time.monotonic(), time.process_time()))
        self.changed.set()

    async def reach(self, state: TalkState, since: int = 0) -> int:
        """Wait until ``state`` is entered at or after mark ``since``; its mark index."""
        while True:
            for index in range(since, len(self.marks)):
                if self.marks[index][0] is state:
                    return index
            self.changed.clear()
            await self.changed.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tone(ms: int) -> bytes:
    t = np.arange(24 * ms) / 24000
    return (np.sin(2 * np.pi * 220 * t) * 9000).astype("<i2").tobytes()


async def _baseline(seconds: float, out_block: int | None = None) -> float:
    """CPU % of the fake streams alone, with callbacks that only fill or drop the buffer; the
    output in ``out_block`` frames (default: ``audio.block_ms``'s, as talk opens it)."""
    if out_block is None:
        out_block = ms_to_samples(AudioSettings().block_ms)

    def out_cb(outdata: Any, frames: int, t: Any, status: Any) -> None:
        outdata.fill(0)

    def in_cb(indata: Any, frames: int, t: Any, status: Any) -> None:
        pass

    out = FakeOutputStream(
        samplerate=24000,
        blocksize=out_block,
        channels=1,
        dtype="int16",
        callback=out_cb,
        realtime=True,
        record=False,
    )
    inp = FakeInputStream(
        samplerate=24000,
        # The same block size talk opens the microphone with, so the subtraction is like for like.
        blocksize=ms_to_samples(max(AudioSettings().block_ms, AudioSettings().append_ms)),
        channels=1,
        dtype="int16",
        callback=in_cb,
        realtime=True,
        record=False,
    )
    wall, cpu = time.monotonic(), time.process_time()
    out.start()
    inp.start()
    await asyncio.sleep(seconds)
    out.close()
    inp.close()
    return 100 * (time.process_time() - cpu) / (time.monotonic() - wall)


async def _talk(
    port: int, key: str, listen_s: float, turns: int, aec: str, block_ms: int | None = None
) -> dict[str, Any]:
    if block_ms is None:
        block_ms = AudioSettings().block_ms  # the default, as talk runs out of the box
    inputs: list[FakeInputStream] = []

    def output(**kwargs: Any) -> FakeOutputStream:
        return FakeOutputStream(**kwargs, realtime=True, record=False)

    def input_(**kwargs: Any) -> FakeInputStream:
        inputs.append(FakeInputStream(**kwargs, realtime=True, record=False))
        return inputs[-1]

    settings = Settings(
        connection=ConnectionSettings(provider="azure", endpoint=f"http://127.0.0.1:{port}"),
        audio=dataclasses.replace(AudioSettings(), aec=aec, block_ms=block_ms),  # type: ignore[arg-type]
    )
    env = {"AZURE_OPENAI_API_KEY": key}
    view, controls = TimedView(), TalkCommands()
    backend = AudioBackend(output_factory=output, input_factory=input_)
    talk = asyncio.ensure_future(
        run_talk(
            settings, controls=controls, view=view, env=env, redactor=Redactor(), backend=backend
        )
    )
    await view.reach(TalkState.LISTENING)
    await asyncio.sleep(1.0)  # settle: imports, first allocations
    wall, cpu = time.monotonic(), time.process_time()
    await asyncio.sleep(listen_s)
    listening = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)

    speaking_wall = speaking_cpu = 0.0
    for _ in range(turns):
        start = len(view.marks)
        inputs[0].feed(_tone(900))
        spoke = await view.reach(TalkState.ASSISTANT_SPEAKING, start)
        done = await view.reach(TalkState.LISTENING, spoke)
        speaking_wall += view.marks[done][1] - view.marks[spoke][1]
        speaking_cpu += view.marks[done][2] - view.marks[spoke][2]
        await asyncio.sleep(0.5)
    controls.quit()
    await talk
    return {
        "listening_cpu_percent_raw": round(listening, 2),
        "full_duplex_cpu_percent_raw": round(100 * speaking_cpu / speaking_wall, 2),
        "full_duplex_seconds": round(speaking_wall, 1),
    }


async def main(
    listen_s: float = LISTEN_S,
    turns: int = TURNS,
    aec: bool = False,
    block_ms: int | None = None,
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    port, key = _free_port(), secrets.token_urlsafe(16)
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "realtime_console", "serve", "--port", str(port)),
        *("--api-key", key),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENAI_"))},
    )
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        # Rounds of (baseline, talk, talk with AEC), each figure the median of its rounds'
        # differences: one run's baseline alone moves by up to 1 % of a core on this machine.
        measured = []
        for _ in range(max(1, rounds)):
            baseline = await _baseline(listen_s)
            talk = await _talk(port, key, listen_s, turns, "off")
            with_aec = await _talk(port, key, listen_s, turns, "on") if aec else None
            measured.append((baseline, talk, with_aec))
        small: dict[str, Any] = {}
        if block_ms is not None:
            small_base = await _baseline(listen_s, ms_to_samples(block_ms))
            run = await _talk(port, key, listen_s, turns, "off", block_ms)
            small = {
                f"block_ms_{block_ms}": {
                    "baseline_fake_streams_cpu_percent": round(small_base, 2),
                    "listening_cpu_percent": round(
                        run["listening_cpu_percent_raw"] - small_base, 2
                    ),
                    "full_duplex_cpu_percent": round(
                        run["full_duplex_cpu_percent_raw"] - small_base, 2
                    ),
                }
            }
    finally:
        server.terminate()
        await server.wait()

    def median_of(figure: Callable[[float, dict[str, Any], dict[str, Any] | None], float]) -> float:
        return round(statistics.median(figure(*m) for m in measured), 2)

    listening = median_of(lambda b, t, a: t["listening_cpu_percent_raw"] - b)
    duplex = median_of(lambda b, t, a: t["full_duplex_cpu_percent_raw"] - b)
    baseline = median_of(lambda b, t, a: b)
    aec_figures: dict[str, Any] = {}
    if with_aec is not None:
        aec_figures = {
            "with_aec": with_aec,
            "aec_listening_cpu_percent": median_of(
                lambda b, t, a: (
                    (a or t)["listening_cpu_percent_raw"] - t["listening_cpu_percent_raw"]
                )
            ),
            "aec_full_duplex_cpu_percent": median_of(
                lambda b, t, a: (
                    (a or t)["full_duplex_cpu_percent_raw"] - t["full_duplex_cpu_percent_raw"]
                )
            ),
        }
    return {
        "benchmark": "talk_cpu",
        "rounds": len(measured),
        "baseline_fake_streams_cpu_percent": round(baseline, 2),
        **talk,
        "listening_cpu_percent": round(listening, 2),
        "full_duplex_cpu_percent": round(duplex, 2),
        **aec_figures,
        **small,
        "targets": {
            "listening": TARGET_LISTENING,
            "full_duplex": TARGET_FULL_DUPLEX,
            **({"aec_full_duplex": TARGET_AEC} if aec else {}),
        },
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-s", type=float, default=LISTEN_S, help="seconds listening")
    parser.add_argument("--turns", type=int, default=TURNS, help="replies in full duplex")
    parser.add_argument(
        "--aec", action="store_true", help="run again with echo cancellation on: its cost"
    )
    parser.add_argument(
        "--block-ms", type=int, help="run again with this audio.block_ms: its console cost"
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"repeats, figures their median ({ROUNDS})"
    )
    parser.add_argument("--quick", action="store_true", help="2 s listening, one reply, 1 round")
    options = parser.parse_args()
    listen_s, turns = (2.0, 1) if options.quick else (options.listen_s, options.turns)
    rounds = 1 if options.quick else options.rounds
    result = asyncio.run(main(listen_s, turns, options.aec, options.block_ms, rounds))
    print(json.dumps(result, indent=1))
