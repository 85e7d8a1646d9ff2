"""Soak: two hours of simulated ``talk`` conversation on an accelerated clock, with the service's
60-minute session limit and a fault every few minutes.

What runs is the real thing: ``run_talk`` (the code path of ``realtime-console talk --plain``,
with the plain view writing to /dev/null) on the package's clock-driven fake microphone and
speaker, through the real ``openai`` SDK over real WebSockets to a real ``LocalServer``. The
server and a fault-injecting relay in front of it run in a child process, so the figures below
(RSS, descriptors, asyncio tasks) are the console's alone.

**The clock.** Everything is scaled by ``--factor`` F (default 60): one wall second is F
simulated seconds.

* Audio: this process advances the fake streams itself (``advance()``), F times faster than
  real time, so the microphone delivers F seconds of audio per wall second and the speaker plays
  as fast. If the loop falls behind, the audio clock slips instead of bursting (``slip_s``).
* ``talk``'s own clock (its ``clock`` argument: turn latency, the response watchdog, the level
  meter) is ``time.monotonic() * F``, so ``connection.response_timeout_s`` stays 30 simulated s.
* The session limit is wall time on both sides, so it is scaled: the server's ``max_session_s``
  = 3600 / F and the console's ``RecyclePolicy(limit_s=3600 / F, margin_s=300 / F)`` (renewal
  from minute 55 of a session, as in production).
* The server streams replies ``4 × F`` times faster than real time (its default 4×, scaled).
* ``--latency-ms``: server-to-console network latency (simulated, default 0), added by the relay.
* Not scaled (fixed wall-clock constants in the console): the reconnect back-off (0.5 s wall,
  i.e. 30 simulated s at 60×), the recycle's quiet-moment poll (0.25 s wall) and the handshake
  itself. Those moments simply last longer in simulated time; the output lists them.

**The conversation.** A simulated user waits for *listening*, thinks 2-8 s, speaks 0.6-2.5 s (a
tone the server's VAD detects), and waits for the reply to be played; now and then
(``barge_in_p``) it speaks again while the reply plays (a barge-in). A turn is **answered** when
reply text (the transcript of its spoken reply) or reply audio reaches the console for a
response created after the user spoke and before the user's next turn. An unanswered turn is
listed with what the console showed after it (states, notices, server events) to explain it.

**The faults**, one every ``fault_every_s`` simulated seconds (default 4 minutes), injected by
the relay (the server itself is untouched): a reply that stops mid-way and never finishes (the
watchdog must abandon it), a malformed frame mid-reply, a server ``error`` event mid-reply,
delivery jitter on the next replies, and connection drops (mid-reply, and while idle). A drop
restarts the session's 60-minute clock, so drops are placed where recycles can still happen:
one at the first fault slot and one after each recycle (or 1001 close).

**Measured and targets** (``passed`` holds one flag per target, ``meets_targets`` all of them):
no crash (``run_talk`` returns 0 after ``q``), no exception escaped (loop exception handler,
failing handlers, device callbacks, errors logged, server tracebacks: 0), every turn answered,
never stuck (no speaking/thinking state longer than 60 simulated s: the watchdog's 30 s plus a
reply), the session recycled before the limit, every armed fault injected, no asyncio task growth
(start vs end: the lowest count over 30 silent simulated seconds, since a renewal may be under
way at any quiet moment; and none of talk's tasks left after it returns), RSS growth after
warm-up (10 simulated minutes) < 20 MB, descriptors back to where they started.

Run: ``python -m benchmarks.soak`` (2 simulated hours in about 2 wall minutes on 2 cores);
``--quick`` for a 4-minute simulation with a 100-second session limit (CI and tests).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import gc
import json
import logging
import math
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from realtime_console._compat import TaskGroup, wait_for
from realtime_console.audio.fakestream import FakeInputStream, FakeOutputStream
from realtime_console.config import AudioSettings, ConnectionSettings, Settings
from realtime_console.modes.recycle_policy import RecyclePolicy
from realtime_console.modes.talk import AudioBackend, run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.redact import Redactor
from realtime_console.ui.plain_talk import HOLD_S, PlainTalkView
from realtime_console.ui.view import TalkState

# ---------------------------------------------------------------------------------- defaults

FACTOR = 60.0
SIMULATED_S = 2 * 3600.0
SESSION_LIMIT_S = 3600.0  # the service's (simulated seconds)
RENEW_MARGIN_S = 300.0  # the console renews from minute 55, as in production
RESPONSE_TIMEOUT_S = 30.0  # connection.response_timeout_s (simulated seconds)
FAULT_EVERY_S = 240.0
WARMUP_S = 600.0
BARGE_IN_P = 0.15
SERVER_PACING = 4.0  # the local server's default: replies stream 4× faster than they play
THINK_S = (2.0, 8.0)
SPEECH_MS = (600, 2500)
ANSWER_WAIT_S = 120.0  # simulated: a turn not answered by then is counted unanswered
ROOT = Path(__file__).resolve().parents[1]  # the child runs ``-m benchmarks.soak`` from here
QUICK = {"simulated_s": 240.0, "factor": 30.0, "session_limit_s": 100.0, "fault_every_s": 40.0}

TARGET_RSS_GROWTH_MB = 20.0

PACE_WALL_S = 0.004  # how often the fake streams are advanced
# The most audio one advance catches up after the loop was busy; beyond it the audio clock slips.
# The microphone's bound stays under its 25-block queue (2.5 s of 100 ms blocks), so a catch-up
# never drops microphone audio; the speaker may catch up more.
MAX_BURST_SIM_S = {"input": 2.0, "output": 5.0}

DROP_KINDS = ("drop_mid_reply", "drop_idle")
OTHER_KINDS = ("stall_reply", "malformed", "error_event", "jitter")

# ---------------------------------------------------------------------------------- the relay
# Runs in the child process, between the console and the LocalServer: real WebSockets on both
# sides. Faults are armed by the parent (one JSON line on stdin each) and fire at the next
# moment they fit on the newest connection; each firing is reported on stdout.

_TYPE = re.compile(r'"type":"([^"]+)"')
_RESPONSE_ID = re.compile(r'"response_id":"([^"]+)"')
_RESP = re.compile(r'"(resp_[A-Za-z0-9]+)"')
MALFORMED = '{"type": "response.output_audio.delta", "delta": '  # cut short: not JSON
ERROR_EVENT = json.dumps(
    {
        "type": "error",
        "event_id": "event_soak_error",
        "error": {
            "type": "server_error",
            "code": "server_error",
            "message": "The server had an error while processing your request (soak fault).",
            "param": None,
            "event_id": None,
        },
    }
)
FIRE_AT_DELTA = 3  # mid-reply faults fire at this audio delta of a response
JITTER_RESPONSES = 2  # a jitter fault delays the deltas of this many responses


def _peek(frame: str) -> tuple[str, str | None]:
    """The event type and response id of a server frame, read from its head (audio deltas are
    large; their ids come before the audio)."""
    head = frame[:400]
    kind = _TYPE.search(head)
    rid = _RESPONSE_ID.search(head)
    if rid is None and kind is not None and kind.group(1).startswith("response."):
        rid = _RESP.search(head)
    return (kind.group(1) if kind else "?"), (rid.group(1) if rid else None)


class FaultRelay:
    def __init__(
        self,
        upstream_ws: str,
        *,
        jitter_wall_s: float,
        latency_wall_s: float,
        seed: int,
        out: IO[str],
    ) -> None:
        self.upstream_ws = upstream_ws
        self.jitter_wall_s = jitter_wall_s
        self.latency_wall_s = latency_wall_s
        self.rng = random.Random(seed)
        self.out = out
        self.armed: collections.deque[str] = collections.deque()
        self.latest = 0  # the newest connection's number: faults aim at it
        self.closes: collections.Counter[int] = collections.Counter()  # server close codes
        self.fired: collections.Counter[str] = collections.Counter()
        self.connections = 0
        self.withheld = 0
        self._jitter_left = 0
        self._idle_drop: Callable[[], None] | None = None

    def report(self, **fields: Any) -> None:
        self.out.write(json.dumps(fields) + "\n")
        self.out.flush()

    def arm(self, kind: str) -> None:
        if kind == "drop_idle":
            if self._idle_drop is not None:
                self._idle_drop()
                self._fire(kind)
            else:
                self.report(fired=kind, ok=False)
            return
        if kind == "jitter":
            self._jitter_left = JITTER_RESPONSES
            self._fire(kind)
            return
        self.armed.append(kind)

    def _fire(self, kind: str) -> None:
        self.fired[kind] += 1
        self.report(fired=kind, ok=True)

    async def handle(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        self.connections += 1
        number = self.latest = self.connections
        wanted = ("api-key", "authorization")
        headers = {k: v for k, v in request.headers.items() if k.lower() in wanted}
        async with aiohttp.ClientSession() as http:
            try:
                upstream = await http.ws_connect(
                    f"{self.upstream_ws}{request.path_qs}",
                    headers=headers,
                    max_msg_size=32 * 2**20,
                    autoping=True,
                )
            except aiohttp.WSServerHandshakeError as exc:
                return web.json_response({"error": {"message": "refused"}}, status=exc.status)
            client = web.WebSocketResponse(max_msg_size=32 * 2**20)
            await client.prepare(request)

            def cut() -> None:  # a network cut: no close frame
                if request.transport is not None:
                    request.transport.abort()

            if number == self.latest:
                self._idle_drop = cut
            stalled: set[str] = set()
            deltas = 0
            jittered: str | None = None
            # Frames reach the client in order, each no sooner than ``latency_wall_s`` after it
            # left the server (plus jitter): a delivery queue, so latency costs no throughput.
            outbox: asyncio.Queue[tuple[float, str | Callable[[], Awaitable[object]]]]
            outbox = asyncio.Queue()
            due = 0.0

            def later(item: str | Callable[[], Awaitable[object]], extra_s: float = 0.0) -> None:
                nonlocal due
                due = max(due, time.monotonic() + self.latency_wall_s + extra_s)
                outbox.put_nowait((due, item))

            async def cut_now() -> None:
                cut()

            async def deliver() -> None:
                while True:
                    at, item = await outbox.get()
                    wait = at - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if isinstance(item, str):
                        await client.send_str(item)
                    else:
                        await item()
                        return

            async def down() -> None:
                nonlocal deltas, jittered
                while True:
                    message = await upstream.receive()
                    if message.type != aiohttp.WSMsgType.TEXT:
                        code = upstream.close_code
                        reason = message.extra if isinstance(message.extra, str) else ""
                        if code is not None:
                            self.closes[code] += 1
                        later(
                            functools.partial(
                                client.close, code=code or 1000, message=reason.encode()
                            )
                        )
                        return
                    frame: str = message.data
                    kind, rid = _peek(frame)
                    if rid is not None and rid in stalled:
                        self.withheld += 1  # a reply that never finishes: nothing more of it
                        continue
                    extra = 0.0
                    if kind == "response.created":
                        deltas = 0
                        if self._jitter_left and rid is not None:
                            self._jitter_left -= 1
                            jittered = rid
                    if kind == "response.output_audio.delta":
                        if rid is not None and rid == jittered:
                            extra = self.rng.uniform(0.0, self.jitter_wall_s)
                        deltas += 1
                        if deltas == FIRE_AT_DELTA and self.armed and number == self.latest:
                            fault = self.armed.popleft()
                            if fault == "malformed":
                                later(MALFORMED)
                            elif fault == "error_event":
                                later(ERROR_EVENT)
                            later(frame)
                            self._fire(fault)
                            if fault == "drop_mid_reply":
                                later(cut_now)
                                return
                            if fault == "stall_reply" and rid is not None:
                                stalled.add(rid)
                            continue
                    later(frame, extra)

            async def up() -> None:
                """Until the console closes: its frames go to the server while the server side
                is open (after the server closed, its close frame may still be on its way)."""
                async for message in client:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    if not upstream.closed:
                        with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                            await upstream.send_str(message.data)

            async def ending(side: Callable[[], Awaitable[None]]) -> None:
                """A side whose peer went away mid-send has simply ended (the server closes a
                session at its limit while the console is still sending audio)."""
                with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                    await side()

            try:
                async with TaskGroup() as tasks:
                    # ``down`` hands over to ``deliver`` when the server side ends (a close, a
                    # cut), so the connection is over when ``deliver`` or ``up`` ends.
                    reader = tasks.create_task(ending(down))
                    pair = [tasks.create_task(ending(deliver)), tasks.create_task(ending(up))]
                    await asyncio.wait(pair, return_when=asyncio.FIRST_COMPLETED)
                    for task in (reader, *pair):
                        task.cancel()
            finally:
                if self._idle_drop is cut:
                    self._idle_drop = None
                await upstream.close()
            return client


async def _child_main(config: dict[str, Any]) -> None:
    """The child process: LocalServer + FaultRelay; commands on stdin, reports on stdout."""
    from aiohttp import web

    from realtime_console.server import LocalServer, ServerOptions

    options = ServerOptions(
        api_key=config["key"],
        realtime_factor=config["realtime_factor"],
        max_session_s=config["max_session_s"],
        voice_engine="synthetic",
    )
    async with LocalServer(options) as server:
        upstream = server.http_url().replace("http://", "ws://", 1)
        relay = FaultRelay(
            upstream,
            jitter_wall_s=config["jitter_wall_s"],
            latency_wall_s=config["latency_wall_s"],
            seed=config["seed"],
            out=sys.stdout,
        )
        app = web.Application()
        app.router.add_get("/openai/v1/realtime", relay.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        relay.report(port=runner.addresses[0][1])
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)
            if command.get("arm"):
                relay.arm(command["arm"])
            elif command.get("stop"):
                break
        relay.report(
            stats={
                "connections": relay.connections,
                "server_close_codes": {str(k): v for k, v in sorted(relay.closes.items())},
                "fired": dict(relay.fired),
                "armed_not_fired": list(relay.armed),
                "withheld_events": relay.withheld,
            }
        )
        await runner.cleanup()


# ---------------------------------------------------------------------------------- the console


@dataclass
class Turn:
    index: int
    sim_at: float
    speech_ms: int
    barge_in: bool  # spoken over the previous reply
    answered_at: float | None = None
    responses: list[str] = field(default_factory=list)
    audio: bool = False  # the reply's audio started playing (state "assistant speaking")
    trace: list[str] = field(default_factory=list)  # what followed it (shown if unanswered)


NOTICE_KINDS = {  # notice prefix → counter name
    "connection lost": "connection_lost",
    "reconnected;": "reconnected",
    "session renewed before": "recycled",
    "could not renew": "recycle_failed",
    "the service ended the session at its maximum duration": "closed_1001",
    "no reply for": "watchdog_fired",
    "skipped a malformed frame": "malformed_skipped",
    "handler for": "handler_failed",
    "reconnect attempt": "reconnect_attempt_failed",
}


# Busy states last a spoken turn, a reply, or at worst the watchdog's 30 s after a reply went
# silent; one longer than this means the console is stuck. (Reconnecting is not counted: its
# back-off is wall time, not scaled.)
BUSY_STATES = frozenset({TalkState.USER_SPEAKING, TalkState.THINKING, TalkState.ASSISTANT_SPEAKING})
STUCK_S = 60.0
SETTLE_S = 30.0  # simulated: the start and end figures are the lowest over this much silence
SETTLE_SAMPLES = 10
UNTRACED = frozenset({"conversation.item.added", "conversation.item.done"})  # a restore's flood
TRACE_LINES = 40  # events and notices kept per turn, to explain an unanswered one
TIMELINE_KINDS = frozenset({"connection_lost", "reconnected", "recycled", "closed_1001"})


class ErrorLog(logging.Handler):
    """Log records at ERROR and above from any library: a traceback logged is an escaped error."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}"[:300])


class SoakView(PlainTalkView):
    """The plain ``talk`` view (to /dev/null) that also records what the soak measures."""

    def __init__(self, sim_clock: Callable[[], float], hold_s: float) -> None:
        null = open(os.devnull, "w")  # open for the whole run
        super().__init__(null, null, hold_s=hold_s)
        self.shows_events = True  # the per-turn trace is built from the event lines
        self.sim_clock = sim_clock
        self.state: TalkState | None = None
        self.changed = asyncio.Event()
        self.counts: collections.Counter[str] = collections.Counter()
        self.turn: Turn | None = None  # the latest turn spoken
        self.owner: dict[str, Turn] = {}  # response id → the turn it answered
        self.latencies_ms: list[float] = []
        self.server_errors: collections.Counter[str] = collections.Counter()
        self.problems: list[str] = []  # notices that mean a bug (a failing handler)
        self.timeline: list[tuple[float, str]] = []  # (simulated s, drop / reconnect / recycle)
        self.state_since = 0.0
        self.longest: dict[str, float] = {}  # state → its longest uninterrupted period
        self.stuck: list[dict[str, Any]] = []  # busy periods longer than STUCK_S

    def _poke(self) -> None:
        self.changed.set()

    def set_state(self, state: TalkState) -> None:
        super().set_state(state)
        self.close_state_period()
        self.state = state
        self.state_since = self.sim_clock()
        if state is TalkState.ASSISTANT_SPEAKING and self.turn is not None:
            self.turn.audio = True
        self._poke()

    def close_state_period(self) -> None:
        """Account for the time spent in the current state (at each change, and at the end)."""
        if self.state is None:
            return
        spent = self.sim_clock() - self.state_since
        name = self.state.value
        self.longest[name] = max(self.longest.get(name, 0.0), round(spent, 1))
        if self.state in BUSY_STATES and spent > STUCK_S:
            self.stuck.append({"sim_s": round(self.state_since, 1), "state": name, "for_s": spent})

    def _trace(self, line: str) -> None:
        turn = self.turn
        if turn is None:
            return
        line = line.strip()[:150]
        trace = turn.trace
        if trace and trace[-1].split(" ", 1)[1].split(" ×")[0] == line:
            # A run of the same line (a restore's item events): one line with a count.
            head, _, count = trace[-1].partition(" ×")
            trace[-1] = f"{head} ×{int(count or 1) + 1}"
        elif len(trace) < TRACE_LINES:
            trace.append(f"{self.sim_clock():.1f} {line}")

    def event_line(self, direction: str, event_type: str, summary: str) -> None:
        if event_type not in UNTRACED:
            self._trace(f"{direction} {event_type} {summary}")
        super().event_line(direction, event_type, summary)

    def notice(self, text: str) -> None:
        self._trace(f"-- {text}")
        super().notice(text)
        for prefix, name in NOTICE_KINDS.items():
            if text.startswith(prefix):
                self.counts[name] += 1
                if name == "handler_failed":
                    self.problems.append(text[:300])
                if name in TIMELINE_KINDS:
                    self.timeline.append((round(self.sim_clock(), 1), name))
        self._poke()

    def assistant_delta(self, response_id: str, text: str) -> None:
        turn = self.turn
        if response_id not in self.owner and turn is not None:
            self.owner[response_id] = turn
            turn.responses.append(response_id)
            if turn.answered_at is None:
                turn.answered_at = self.sim_clock()
            self._poke()
        super().assistant_delta(response_id, text)

    def assistant_cut(
        self, response_id: str, heard_text: str, heard_ms: int, talked_over_ms: float | None = None
    ) -> None:
        self.counts["barge_in_cut"] += 1
        super().assistant_cut(response_id, heard_text, heard_ms, talked_over_ms)

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None:
        self.server_errors[code or "unknown"] += 1
        super().server_error(code, message, event_id)

    def turn_latency(self, ms: float) -> None:
        self.latencies_ms.append(ms)
        super().turn_latency(ms)

    async def until(self, predicate: Callable[[], bool], timeout_wall_s: float) -> bool:
        """Wait until ``predicate()`` holds (checked at each change); False on timeout."""
        deadline = time.monotonic() + timeout_wall_s
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await wait_for(self.changed.wait(), min(left, 0.05))
        return True


def _speech(ms: int, rng: random.Random) -> bytes:
    """A voiced tone the server's VAD hears (about -14 dBFS), with 5 ms edges."""
    n = 24 * ms
    t = np.arange(n) / 24000
    tone = np.sin(2 * np.pi * rng.uniform(150, 300) * t) * 6500
    edge = min(120, n // 2)
    ramp = np.linspace(0.0, 1.0, edge)
    tone[:edge] *= ramp
    tone[n - edge :] *= ramp[::-1]
    return tone.astype("<i2").tobytes()


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _task_names(tasks: set[asyncio.Task[Any]]) -> collections.Counter[str]:
    names: collections.Counter[str] = collections.Counter()
    for task in tasks:
        coro = task.get_coro()
        names[getattr(coro, "__qualname__", type(coro).__name__)] += 1
    return names


class Pacer:
    """Advances the fake streams F times faster than real time (they never tick by themselves)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.streams: list[FakeInputStream | FakeOutputStream] = []
        self._origin: dict[int, float] = {}  # stream id → simulated time its clock started
        self.slip_s: dict[str, float] = {}  # input / output → audio clock slipped
        self.steps = 0
        self.max_gap_s = 0.0  # longest wall time between two advances
        self._last_step: float | None = None
        self.stalls: list[tuple[float, float, str]] = []  # (simulated s, wall ms, doing what)
        self.note = ""  # what the benchmark itself did since the last step ("gc": a probe's)
        self.callback_errors: list[str] = []
        self.t0 = time.monotonic()

    def sim_now(self) -> float:
        return (time.monotonic() - self.t0) * self.factor

    def step(self) -> None:
        wall = time.monotonic()
        if self._last_step is not None:
            gap = wall - self._last_step
            self.max_gap_s = max(self.max_gap_s, gap)
            if gap * self.factor > MAX_BURST_SIM_S["input"]:
                self.stalls.append((round(self.sim_now(), 1), round(1000 * gap, 1), self.note))
        self.note = ""
        self._last_step = wall
        self.steps += 1
        now = self.sim_now()
        for stream in self.streams:
            if not stream.active:
                continue
            key = id(stream)
            origin = self._origin.setdefault(key, now - stream.time)
            period = stream.blocksize / stream.samplerate
            due = int((now - origin - stream.time) / period)
            kind = "input" if isinstance(stream, FakeInputStream) else "output"
            most = max(1, int(MAX_BURST_SIM_S[kind] / period))
            if due > most:  # fell behind: slip the audio clock rather than burst
                self._origin[key] = origin + (due - most) * period
                self.slip_s[kind] = self.slip_s.get(kind, 0.0) + (due - most) * period
                due = most
            if due > 0:
                try:
                    stream.advance(due)
                except Exception as exc:  # PortAudio would abort the stream: an escaped error
                    self.callback_errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    stream.abort()

    async def run(self) -> None:
        while True:
            self.step()
            await asyncio.sleep(PACE_WALL_S)


def _slope_per_hour(probes: list[Probe], since_s: float) -> float | None:
    """RSS trend after warm-up (least squares, MB per simulated hour): a leak is a steady slope,
    a step (a buffer reaching its working size) is not."""
    points = [(p.sim_s, p.rss_mb) for p in probes if p.sim_s >= since_s]
    if len(points) < 3 or points[-1][0] - points[0][0] < 60:
        return None
    slope = np.polyfit([t for t, _ in points], [m for _, m in points], 1)[0]
    return round(float(slope) * 3600, 2)


@dataclass
class Probe:
    """RSS, descriptors and tasks at one quiet moment."""

    sim_s: float
    rss_mb: float
    fds: int
    tasks: int


class Soak:
    def __init__(
        self,
        *,
        factor: float,
        simulated_s: float,
        session_limit_s: float,
        fault_every_s: float,
        warmup_s: float,
        barge_in_p: float,
        latency_s: float,
        seed: int,
    ) -> None:
        self.factor = factor
        self.latency_s = latency_s
        self.simulated_s = simulated_s
        self.session_limit_s = session_limit_s
        self.fault_every_s = fault_every_s
        self.warmup_s = warmup_s
        self.barge_in_p = barge_in_p
        self.rng = random.Random(seed)
        self.seed = seed
        self.pacer = Pacer(factor)
        self.view = SoakView(self.pacer.sim_now, HOLD_S / factor)
        self.controls = TalkCommands()
        self.inputs: list[FakeInputStream] = []
        self.turns: list[Turn] = []
        self.probes: list[Probe] = []
        self.warm: Probe | None = None
        self.loop_errors: list[str] = []
        self.fault_log: list[dict[str, Any]] = []
        self.armed: collections.Counter[str] = collections.Counter()
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.child_stats: dict[str, Any] = {}
        self.drops_owed = 1  # the first fault slot is a drop; then one after each recycle
        self.renewals_seen = 0
        self.drop_index = 0
        self.other_index = 0
        self.tasks_start: set[asyncio.Task[Any]] = set()
        self.tasks_end: set[asyncio.Task[Any]] = set()
        self.cpu_s = 0.0
        self.fired = 0  # faults the relay reported as injected
        self.stuck: list[dict[str, Any]] = []  # waits for "listening" that timed out
        self.error_log = ErrorLog()
        self.server_stderr = ""

    # ---------------------------------------------------------------- plumbing

    def wall(self, sim_s: float) -> float:
        return sim_s / self.factor

    async def sleep_sim(self, sim_s: float) -> None:
        await asyncio.sleep(self.wall(sim_s))

    def settings(self, port: int) -> Settings:
        return Settings(
            connection=ConnectionSettings(
                provider="azure",
                endpoint=f"http://127.0.0.1:{port}",
                response_timeout_s=RESPONSE_TIMEOUT_S,  # on talk's (simulated) clock
                session_limit_s=self.wall(self.session_limit_s),
            ),
            audio=AudioSettings(),
        )

    def recycle_policy(self) -> RecyclePolicy:
        limit = self.wall(self.session_limit_s)
        margin = self.wall(min(RENEW_MARGIN_S, self.session_limit_s / 4))
        return RecyclePolicy(limit_s=limit, margin_s=margin)

    def backend(self) -> AudioBackend:
        def output(**kwargs: Any) -> FakeOutputStream:
            stream = FakeOutputStream(**kwargs, realtime=False, record=False)
            self.pacer.streams.append(stream)
            return stream

        def input_(**kwargs: Any) -> FakeInputStream:
            stream = FakeInputStream(**kwargs, realtime=False, record=False)
            self.inputs.append(stream)
            self.pacer.streams.append(stream)
            return stream

        return AudioBackend(output_factory=output, input_factory=input_)

    def probe(self, *, collect: bool = False) -> Probe:
        """``collect``: a full garbage collection first (tens of ms: only at the RSS marks, or
        its stall would slip the audio clock)."""
        if collect:
            self.pacer.note = "gc"
            gc.collect()
        found = Probe(
            sim_s=round(self.pacer.sim_now(), 1),
            rss_mb=round(_rss_mb(), 2),
            fds=_fds(),
            tasks=len(asyncio.all_tasks()),
        )
        self.probes.append(found)
        return found

    async def settled(self) -> tuple[Probe, set[asyncio.Task[Any]]]:
        """Tasks and descriptors at their lowest over ``SETTLE_S`` of silence, then RSS after a
        collection: a renewal may be under way at any quiet moment (a second connection, its
        keep-alive task), and it is over within that time; a leak never is."""
        samples: list[tuple[int, int, set[asyncio.Task[Any]]]] = []
        for _ in range(SETTLE_SAMPLES):
            tasks = set(asyncio.all_tasks())
            samples.append((len(tasks), _fds(), tasks))
            await self.sleep_sim(SETTLE_S / SETTLE_SAMPLES)
        count, _, tasks = min(samples, key=lambda sample: sample[0])
        found = self.probe(collect=True)
        found.tasks, found.fds = count, min(sample[1] for sample in samples)
        return found, tasks

    def unfired(self) -> int:
        """Faults armed that have not fired yet (they wait for the next reply)."""
        return sum(self.armed.values()) - self.fired

    def listening(self) -> bool:
        return self.view.state is TalkState.LISTENING

    # ---------------------------------------------------------------- the user

    async def converse(self, send: Callable[[dict[str, Any]], None]) -> None:
        view = self.view
        if not await view.until(self.listening, 30.0):
            raise RuntimeError("talk never reached listening")
        _, self.tasks_start = await self.settled()
        next_fault = self.fault_every_s
        barge = False
        # Past the end, the conversation goes on only until an armed fault has fired.
        while self.pacer.sim_now() < self.simulated_s or (
            self.unfired() and self.pacer.sim_now() < self.simulated_s + 2 * ANSWER_WAIT_S
        ):
            if not barge:
                patient = await self.back_to_listening()
                await self.sleep_sim(self.rng.uniform(*THINK_S))
                if next_fault <= self.pacer.sim_now() < self.simulated_s:
                    next_fault += self.fault_every_s
                    await self.inject(send)
                    continue
                if patient and not self.listening():
                    continue  # e.g. reconnecting: wait for it; a stuck console is spoken to
                if self.warm is None and self.pacer.sim_now() >= self.warmup_s:
                    self.warm = self.probe(collect=True)
                elif self.turns:
                    self.probe()
            barge = await self.turn(barge)
        await self.back_to_listening()
        self.view.close_state_period()
        _, self.tasks_end = await self.settled()

    async def back_to_listening(self) -> bool:
        """Wait for the console to listen again. One that does not within ``ANSWER_WAIT_S`` is
        stuck (recorded: a reply that never ends, a lost reconnect); False then, and the user
        speaks anyway, as a person would."""
        if await self.view.until(self.listening, self.wall(ANSWER_WAIT_S)):
            return True
        state = self.view.state.value if self.view.state else None
        self.stuck.append({"sim_s": round(self.pacer.sim_now(), 1), "state": state})
        return False

    async def turn(self, barge_in: bool) -> bool:
        """Speak one turn and wait for its answer; True if the next turn barges in."""
        view = self.view
        speech_ms = self.rng.randint(*SPEECH_MS)
        turn = Turn(len(self.turns) + 1, self.pacer.sim_now(), speech_ms, barge_in)
        if self.turns and self.turns[-1].answered_at is not None:
            self.turns[-1].trace.clear()  # kept only to explain an unanswered turn: not in RSS
        self.turns.append(turn)
        view.turn = turn
        self.inputs[-1].feed(_speech(speech_ms, self.rng))
        await view.until(lambda: turn.answered_at is not None, self.wall(ANSWER_WAIT_S))
        if turn.answered_at is None:
            return False
        if self.rng.random() < self.barge_in_p:
            speaking = await view.until(
                lambda: view.state is TalkState.ASSISTANT_SPEAKING, self.wall(10.0)
            )
            if speaking:
                await self.sleep_sim(self.rng.uniform(0.4, 2.0))
                if view.state is TalkState.ASSISTANT_SPEAKING:
                    return True
        return False

    async def inject(self, send: Callable[[dict[str, Any]], None]) -> None:
        """The fault due now (the console is listening, the user is silent)."""
        renewed = self.view.counts["recycled"] + self.view.counts["closed_1001"]
        self.drops_owed += renewed - self.renewals_seen  # a fresh session: one drop is owed
        self.renewals_seen = renewed
        if self.drops_owed:
            kind = DROP_KINDS[self.drop_index % len(DROP_KINDS)]
            self.drop_index += 1
            self.drops_owed -= 1
        else:
            kind = OTHER_KINDS[self.other_index % len(OTHER_KINDS)]
            self.other_index += 1
        self.armed[kind] += 1
        self.fault_log.append({"kind": kind, "sim_s": round(self.pacer.sim_now(), 1)})
        send({"arm": kind})
        if kind == "drop_idle":
            ack = await wait_for(self.acks.get(), 10.0)
            if ack.get("ok"):
                lost = self.view.counts["reconnected"]
                await self.view.until(lambda: self.view.counts["reconnected"] > lost, 30.0)

    # ---------------------------------------------------------------- the run

    async def run(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(
            lambda _loop, context: self.loop_errors.append(str(context.get("message"))[:300])
        )
        logging.getLogger().addHandler(self.error_log)
        try:
            return await self._run()
        finally:
            logging.getLogger().removeHandler(self.error_log)

    async def _run(self) -> dict[str, Any]:
        key = secrets.token_urlsafe(16)
        config = {
            "key": key,
            "realtime_factor": SERVER_PACING * self.factor,
            "max_session_s": self.wall(self.session_limit_s),
            "jitter_wall_s": self.wall(0.3),
            "latency_wall_s": self.wall(self.latency_s),
            "seed": self.seed,
        }
        # The first connect imports the SDK (about a second); done here, it stalls no clock.
        import openai.resources.realtime.realtime  # noqa: F401
        import websockets.asyncio.client  # noqa: F401

        async with _child(config, self) as (port, lines, send):
            fds_before = _fds()
            tasks_before = set(asyncio.all_tasks())
            rss_before = _rss_mb()
            wall0 = time.monotonic()
            cpu0 = time.process_time()
            self.pacer.t0 = wall0
            exit_code: int | None = None
            crash: str | None = None
            async with TaskGroup() as tasks:
                pacer = tasks.create_task(self.pacer.run())
                reader = tasks.create_task(self.read_child(lines))
                talk = tasks.create_task(
                    run_talk(
                        self.settings(port),
                        controls=self.controls,
                        view=self.view,
                        env={"AZURE_OPENAI_API_KEY": key},
                        redactor=Redactor(),
                        backend=self.backend(),
                        clock=self.pacer.sim_now,
                        recycle=self.recycle_policy(),
                    )
                )
                try:
                    await self.converse(send)
                except BaseException as exc:
                    crash = f"{type(exc).__name__}: {exc}"[:300]
                    if not isinstance(exc, Exception):
                        raise
                finally:
                    self.controls.quit()
                    try:
                        exit_code = await talk
                    except Exception as exc:
                        crash = crash or f"run_talk raised {type(exc).__name__}: {exc}"[:300]
                    sim_end = self.pacer.sim_now()
                    wall_s = time.monotonic() - wall0
                    self.cpu_s = time.process_time() - cpu0
                    pacer.cancel()
                    await asyncio.sleep(0)
                    send({"stop": True})
                    with contextlib.suppress(asyncio.TimeoutError):
                        await wait_for(reader, 10.0)
                    reader.cancel()
            await asyncio.sleep(0.05)  # closed sockets' callbacks
            gc.collect()
            leftover = set(asyncio.all_tasks()) - tasks_before
            after_quit = {"tasks_left": len(leftover), "fds": _fds()}
        return self.result(
            sim_end, wall_s, exit_code, crash, rss_before, fds_before, after_quit, leftover
        )

    async def read_child(self, lines: AsyncIterator[dict[str, Any]]) -> None:
        async for message in lines:
            if "fired" in message:
                self.fired += bool(message.get("ok"))
                await self.acks.put(message)
            if "stats" in message:
                self.child_stats = message["stats"]
                return

    # ---------------------------------------------------------------- the report

    def result(
        self,
        sim_s: float,
        wall_s: float,
        exit_code: int | None,
        crash: str | None,
        rss_before: float,
        fds_before: int,
        after_quit: dict[str, int],
        leftover: set[asyncio.Task[Any]],
    ) -> dict[str, Any]:
        view, turns = self.view, self.turns
        answered = [t for t in turns if t.answered_at is not None]
        unanswered = [
            {"turn": t.index, "sim_s": round(t.sim_at, 1), "barge_in": t.barge_in, "trace": t.trace}
            for t in turns
            if t.answered_at is None
        ]
        first, last = self.probes[0], self.probes[-1]
        warm = self.warm or first
        fired = self.child_stats.get("fired", {})
        closes = self.child_stats.get("server_close_codes", {})
        escaped = (
            self.loop_errors
            + self.pacer.callback_errors
            + view.problems
            + self.error_log.messages
            + ([crash] if crash else [])
        )
        task_growth = last.tasks - first.tasks
        new_tasks = _task_names(self.tasks_end) - _task_names(self.tasks_start)
        rss_growth = last.rss_mb - warm.rss_mb
        latencies = sorted(view.latencies_ms)
        passed = {
            "no_crash": exit_code == 0 and crash is None,
            "no_exception_escaped": not escaped and "Traceback" not in self.server_stderr,
            "every_turn_answered": bool(turns) and not unanswered,
            "never_stuck": not self.stuck and not view.stuck,
            "recycled_before_limit": view.counts["recycled"] >= 1,
            "faults_injected": sum(fired.values()) == sum(self.armed.values())
            and all(fired.get(kind, 0) for kind in self.armed),
            "no_task_leak": task_growth <= 0 and not leftover,
            "rss_growth_below_20_mb": rss_growth < TARGET_RSS_GROWTH_MB,
            "fds_not_growing": last.fds <= first.fds and after_quit["fds"] <= fds_before,
        }
        return {
            "benchmark": "soak",
            "scale": {
                "factor": self.factor,
                "simulated_s": round(sim_s, 1),
                "wall_s": round(wall_s, 1),
                "achieved_factor": round(sim_s / wall_s, 1),
                "meaning": f"1 wall second = {self.factor:g} simulated seconds",
                "session_limit_s": {
                    "simulated": self.session_limit_s,
                    "wall": round(self.wall(self.session_limit_s), 3),
                },
                "renew_after_s_simulated": self.session_limit_s
                - min(RENEW_MARGIN_S, self.session_limit_s / 4),
                "response_timeout_s_simulated": RESPONSE_TIMEOUT_S,
                "server_realtime_factor": SERVER_PACING * self.factor,
                "server_to_console_latency_ms_simulated": round(1000 * self.latency_s, 1),
                "audio_clock_slip_s": {k: round(v, 2) for k, v in self.pacer.slip_s.items()},
                "longest_loop_stall_ms_wall": round(1000 * self.pacer.max_gap_s, 1),
                "loop_stalls": len(self.pacer.stalls),
                "loop_stalls_worst": sorted(self.pacer.stalls, key=lambda s: -s[1])[:8],
                "console_cpu_percent": round(100 * self.cpu_s / wall_s, 1),
                "not_scaled": {
                    "reconnect_backoff_s_simulated": round(0.5 * self.factor, 1),
                    "recycle_quiet_poll_s_simulated": round(0.25 * self.factor, 1),
                },
            },
            "turns": {
                "attempted": len(turns),
                "answered": len(answered),
                "with_reply_audio": sum(1 for t in turns if t.audio),
                "barge_in_turns": sum(1 for t in turns if t.barge_in),
                "barge_in_cuts": view.counts["barge_in_cut"],
                "unanswered": unanswered[:20],
                "console_stuck": (self.stuck + view.stuck)[:20],
                "longest_state_s_simulated": view.longest,
                "latency_ms_simulated": {
                    "p50": round(statistics.median(latencies), 1) if latencies else None,
                    "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1)
                    if latencies
                    else None,
                },
            },
            "session": {
                "recycles": view.counts["recycled"],
                "recycle_failures": view.counts["recycle_failed"],
                "closes_1001_seen_by_console": view.counts["closed_1001"],
                "server_close_codes": closes,
                "connection_losses": view.counts["connection_lost"],
                "reconnects": view.counts["reconnected"],
                "failed_reconnect_attempts": view.counts["reconnect_attempt_failed"],
                "connections": self.child_stats.get("connections"),
            },
            "faults": {
                "every_s_simulated": self.fault_every_s,
                "armed": dict(self.armed),
                "injected": fired,
                "armed_not_fired": self.child_stats.get("armed_not_fired"),
                "schedule": self.fault_log,
                "events_withheld": self.child_stats.get("withheld_events"),
            },
            "timeline": view.timeline,
            "server_tracebacks": self.server_stderr.count("Traceback"),
            "server_stderr_tail": self.server_stderr[-3000:].splitlines(),
            "watchdog_firings": view.counts["watchdog_fired"],
            "malformed_frames_skipped": view.counts["malformed_skipped"],
            "server_errors_shown": dict(view.server_errors),
            "exceptions_escaped": len(escaped),
            "exception_messages": escaped[:10],
            "exit_code": exit_code,
            "tasks": {
                "start": first.tasks,
                "after_warmup": warm.tasks,
                "end": last.tasks,
                "max": max(p.tasks for p in self.probes),
                "new_at_end": dict(new_tasks),
                "left_after_talk_returned": after_quit["tasks_left"],
                "left_names": dict(_task_names(leftover)),
            },
            "rss_mb": {
                "before_talk": round(rss_before, 1),
                "start": first.rss_mb,
                "after_warmup": warm.rss_mb,
                "end": last.rss_mb,
                "max": max(p.rss_mb for p in self.probes),
                "growth_after_warmup": round(rss_growth, 2),
                "slope_after_warmup_mb_per_hour": _slope_per_hour(self.probes, warm.sim_s),
                "warmup_s_simulated": self.warmup_s,
            },
            "fds": {
                "before_talk": fds_before,
                "start": first.fds,
                "end": last.fds,
                "after_talk_returned": after_quit["fds"],
            },
            "probes": len(self.probes),
            "targets": {
                "rss_growth_after_warmup_mb": TARGET_RSS_GROWTH_MB,
                "exceptions_escaped": 0,
                "unanswered_turns": 0,
                "busy_state_max_s_simulated": STUCK_S,
                "task_growth": 0,
            },
            "passed": passed,
            "meets_targets": all(passed.values()),
            "load_average": os.getloadavg()[0],
        }


@contextlib.asynccontextmanager
async def _child(
    config: dict[str, Any],
    soak: Soak,
) -> AsyncIterator[tuple[int, AsyncIterator[dict[str, Any]], Callable[[dict[str, Any]], None]]]:
    """Start the server + relay process; yield (port, its report lines, send a command)."""
    root = ROOT
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "benchmarks.soak", "--child", json.dumps(config)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
            cwd=root,
            env=env,
        )
        assert process.stdin is not None and process.stdout is not None
        stdin, stdout = process.stdin, process.stdout

        async def lines() -> AsyncIterator[dict[str, Any]]:
            while line := await stdout.readline():
                yield json.loads(line)

        def send(command: dict[str, Any]) -> None:
            if not stdin.is_closing():
                stdin.write((json.dumps(command) + "\n").encode())

        try:
            first = await wait_for(stdout.readline(), 30.0)
            if not first:
                errors.seek(0)
                raise RuntimeError(f"the server process failed: {errors.read().decode()[-2000:]}")
            yield json.loads(first)["port"], lines(), send
        finally:
            if process.returncode is None:
                stdin.close()
                try:
                    await wait_for(process.wait(), 10.0)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
            errors.seek(0)
            soak.server_stderr = errors.read().decode(errors="replace")


def main(
    *,
    simulated_s: float = SIMULATED_S,
    factor: float = FACTOR,
    session_limit_s: float = SESSION_LIMIT_S,
    fault_every_s: float = FAULT_EVERY_S,
    warmup_s: float | None = None,
    barge_in_p: float = BARGE_IN_P,
    latency_s: float = 0.0,
    seed: int = 1,
) -> dict[str, Any]:
    """Run the soak and return its JSON-ready result. Times are simulated seconds."""
    soak = Soak(
        factor=factor,
        simulated_s=simulated_s,
        session_limit_s=session_limit_s,
        fault_every_s=fault_every_s,
        warmup_s=min(WARMUP_S, simulated_s / 4) if warmup_s is None else warmup_s,
        barge_in_p=barge_in_p,
        latency_s=latency_s,
        seed=seed,
    )
    return asyncio.run(soak.run())


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "soak").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 simulated minutes, 100 s limit")
    parser.add_argument("--simulated-s", type=float, help="simulated seconds (default 7200)")
    parser.add_argument("--factor", type=float, help="simulated seconds per wall second (60)")
    parser.add_argument("--session-limit-s", type=float, help="simulated session limit (3600)")
    parser.add_argument("--fault-every-s", type=float, help="simulated seconds between faults")
    parser.add_argument("--barge-in-p", type=float, default=BARGE_IN_P)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="simulated server-to-console network latency (scaled like everything else)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the server process's config
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = _parse()
    if options.child:
        asyncio.run(_child_main(json.loads(options.child)))
        sys.exit(0)
    chosen: dict[str, Any] = dict(QUICK) if options.quick else {}
    for name in ("simulated_s", "factor", "session_limit_s", "fault_every_s"):
        if getattr(options, name) is not None:
            chosen[name] = getattr(options, name)
    outcome = main(
        **chosen,
        barge_in_p=options.barge_in_p,
        latency_s=options.latency_ms / 1000,
        seed=options.seed,
    )
    print(json.dumps(outcome, indent=1))
    sys.exit(0 if outcome["meets_targets"] else 1)
