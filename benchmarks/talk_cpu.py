"""CPU cost of ``talk``: while listening, and during full-duplex speech.

The console runs in this process exactly as ``talk`` does (``run_talk``: microphone pump, speaker,
SDK client, dispatcher, handlers), on the package's fake streams ticking in real time on their
own threads (in ``audio.block_ms`` blocks, the default); the local server runs in a separate
process (``serve``), so its VAD and voice synthesis are not counted.

The console's CPU is this process's ``time.process_time()`` less the fake streams' own
(``FakeOutputStream.rig_cpu_s``: each ticker thread's CPU clock less the CPU spent inside its
callback), over wall time. The rig's own ticking is what PortAudio's thread would cost instead
(~20 % of a core through PulseAudio even with an empty callback). Taking it out per thread, in
the same run, replaced a separate empty-callback baseline run whose figure alone moved by up to
1 % of a core from one run to the next on a 2-core machine. The measurement still runs
``--rounds`` times (3) and reports each figure's median.

* ``listening_cpu_percent``: microphone streaming silence to the server, speaker idle.
  Target: <= 1% of one core.
* ``full_duplex_cpu_percent``: while the assistant's reply plays and the microphone keeps
  streaming (measured over the assistant-speaking periods of several turns). Target: <= 1.5%.
* With ``--aec``: the same run again with echo cancellation on (``audio.aec = "on"``: the
  default engine, ``audio.aec_engine``, on the echo worker thread, the speaker's far-end tap),
  and ``aec_full_duplex_cpu_percent`` / ``aec_listening_cpu_percent``, its cost over the run
  without. Target: <= 3% in full duplex.
  The first run has ``audio.aec = "off"`` either way, so its figures compare with earlier ones.
* With ``--block-ms MS``: the same run again with ``audio.block_ms = MS``: ``block_ms_MS``,
  the console's cost at that block size. ``--append-ms MS`` likewise for ``audio.append_ms``
  (``append_ms_MS``: the microphone's block, one WebSocket send each).
* ``rig_cpu_percent`` (informational): the fakes' own ticking while listening, taken out above.

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
    """Records (state, wall, console cpu) at each state change."""

    def __init__(self, cpu: Callable[[], float] = time.process_time) -> None:
        null = open(os.devnull, "w")  # open for the whole run
        super().__init__(null, null)
        self.cpu = cpu
        self.marks: list[tuple[TalkState, float, float]] = []
        self.changed = asyncio.Event()

    def set_state(self, state: TalkState) -> None:
        super().set_state(state)
        self.marks.append((state, time.monotonic(), self.cpu()))
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


class Rig:
    """The realtime fake streams a run opened, and the CPU that was theirs, not the console's."""

    def __init__(self) -> None:
        self.streams: list[FakeInputStream | FakeOutputStream] = []

    def output(self, **kwargs: Any) -> FakeOutputStream:
        stream = FakeOutputStream(**kwargs, realtime=True, record=False)
        self.streams.append(stream)
        return stream

    def input(self, **kwargs: Any) -> FakeInputStream:
        stream = FakeInputStream(**kwargs, realtime=True, record=False)
        self.streams.append(stream)
        return stream

    def cpu_s(self) -> float:
        return sum(stream.rig_cpu_s() for stream in self.streams)

    def console_cpu_s(self) -> float:
        """This process's CPU less the rig's: the console's (and the SDK's, and Python's)."""
        return time.process_time() - self.cpu_s()


async def _talk(
    port: int,
    key: str,
    listen_s: float,
    turns: int,
    aec: str,
    block_ms: int | None = None,
    append_ms: int | None = None,
) -> dict[str, Any]:
    if block_ms is None:
        block_ms = AudioSettings().block_ms  # the default, as talk runs out of the box
    rig = Rig()

    settings = Settings(
        connection=ConnectionSettings(provider="azure", endpoint=f"http://127.0.0.1:{port}"),
        audio=dataclasses.replace(
            AudioSettings(),
            aec=aec,  # type: ignore[arg-type]
            block_ms=block_ms,
            append_ms=AudioSettings().append_ms if append_ms is None else append_ms,
        ),
    )
    env = {"AZURE_OPENAI_API_KEY": key}
    view, controls = TimedView(rig.console_cpu_s), TalkCommands()
    backend = AudioBackend(output_factory=rig.output, input_factory=rig.input)
    talk = asyncio.ensure_future(
        run_talk(
            settings, controls=controls, view=view, env=env, redactor=Redactor(), backend=backend
        )
    )
    await view.reach(TalkState.LISTENING)
    await asyncio.sleep(1.0)  # settle: imports, first allocations
    wall, cpu, rig_cpu = time.monotonic(), rig.console_cpu_s(), rig.cpu_s()
    await asyncio.sleep(listen_s)
    listen_wall = time.monotonic() - wall
    listening = 100 * (rig.console_cpu_s() - cpu) / listen_wall
    rig_listening = 100 * (rig.cpu_s() - rig_cpu) / listen_wall
    microphone = next(s for s in rig.streams if isinstance(s, FakeInputStream))

    speaking_wall = speaking_cpu = 0.0
    for _ in range(turns):
        start = len(view.marks)
        microphone.feed(_tone(900))
        spoke = await view.reach(TalkState.ASSISTANT_SPEAKING, start)
        done = await view.reach(TalkState.LISTENING, spoke)
        speaking_wall += view.marks[done][1] - view.marks[spoke][1]
        speaking_cpu += view.marks[done][2] - view.marks[spoke][2]
        await asyncio.sleep(0.5)
    controls.quit()
    await talk
    return {
        "listening_cpu_percent": round(listening, 2),
        "full_duplex_cpu_percent": round(100 * speaking_cpu / speaking_wall, 2),
        "full_duplex_seconds": round(speaking_wall, 1),
        "rig_cpu_percent": round(rig_listening, 2),
    }


async def main(
    listen_s: float = LISTEN_S,
    turns: int = TURNS,
    aec: bool = False,
    block_ms: int | None = None,
    rounds: int = ROUNDS,
    append_ms: int | None = None,
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
        # Rounds of (talk, talk with AEC), each figure the median of its rounds.
        measured = []
        for _ in range(max(1, rounds)):
            talk = await _talk(port, key, listen_s, turns, "off")
            with_aec = await _talk(port, key, listen_s, turns, "on") if aec else None
            measured.append((talk, with_aec))
        small: dict[str, Any] = {}
        if block_ms is not None:
            run = await _talk(port, key, listen_s, turns, "off", block_ms)
            small = {
                f"block_ms_{block_ms}": {
                    "listening_cpu_percent": run["listening_cpu_percent"],
                    "full_duplex_cpu_percent": run["full_duplex_cpu_percent"],
                }
            }
        if append_ms is not None:
            run = await _talk(port, key, listen_s, turns, "off", append_ms=append_ms)
            small[f"append_ms_{append_ms}"] = {
                "listening_cpu_percent": run["listening_cpu_percent"],
                "full_duplex_cpu_percent": run["full_duplex_cpu_percent"],
            }
    finally:
        server.terminate()
        await server.wait()

    def median_of(figure: Callable[[dict[str, Any], dict[str, Any] | None], float]) -> float:
        return round(statistics.median(figure(*m) for m in measured), 2)

    aec_figures: dict[str, Any] = {}
    if aec:
        aec_figures = {
            "with_aec": [a for _, a in measured],
            "aec_listening_cpu_percent": median_of(
                lambda t, a: (a or t)["listening_cpu_percent"] - t["listening_cpu_percent"]
            ),
            "aec_full_duplex_cpu_percent": median_of(
                lambda t, a: (a or t)["full_duplex_cpu_percent"] - t["full_duplex_cpu_percent"]
            ),
        }
    return {
        "benchmark": "talk_cpu",
        "rounds": [t for t, _ in measured],
        "listening_cpu_percent": median_of(lambda t, a: t["listening_cpu_percent"]),
        "full_duplex_cpu_percent": median_of(lambda t, a: t["full_duplex_cpu_percent"]),
        "rig_cpu_percent": median_of(lambda t, a: t["rig_cpu_percent"]),
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
        "--append-ms", type=int, help="run again with this audio.append_ms: its console cost"
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"repeats, figures their median ({ROUNDS})"
    )
    parser.add_argument("--quick", action="store_true", help="2 s listening, one reply, 1 round")
    options = parser.parse_args()
    listen_s, turns = (2.0, 1) if options.quick else (options.listen_s, options.turns)
    rounds = 1 if options.quick else options.rounds
    result = asyncio.run(
        main(listen_s, turns, options.aec, options.block_ms, rounds, options.append_ms)
    )
    print(json.dumps(result, indent=1))
