"""Every benchmark ``python -m benchmarks`` runs: how to run it (full or quick) and how to read its
JSON into metrics with their targets and the limits that bound them.

Each benchmark stays a module of its own (``python -m benchmarks.NAME`` prints its JSON); an entry
here is a small adapter over its ``main``: the sizes for each mode, and which of its figures are
the metrics. Modules are imported only when their benchmark runs, so one that is missing (or
cannot import, e.g. an optional dependency) is skipped with a note instead of failing the rest.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

Raw = dict[str, Any]
Value = float | int | bool | str | None


@dataclass(frozen=True)
class Metric:
    name: str
    value: Value
    unit: str
    target: str  # in words, "<= 20" or "informational"
    limit: str  # the physical or protocol bound that the figure cannot beat, in words
    passed: bool | None  # None: no target, reported for information
    headline: bool = False  # shown in the README's table

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "limit": self.limit,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class Benchmark:
    name: str  # also the module: benchmarks.NAME
    measures: str  # one line
    why: str  # what bounds these figures, and why the targets are where they are
    run: Callable[[ModuleType, bool], Raw]  # (module, quick) -> its JSON
    metrics: Callable[[Raw], list[Metric]]
    in_quick: bool = True  # part of --quick (which must stay under 2 minutes in all)

    @property
    def module(self) -> str:
        return f"benchmarks.{self.name}"

    def load(self) -> ModuleType:
        """Import the module (ModuleNotFoundError if it does not exist)."""
        return importlib.import_module(self.module)


# ---------------------------------------------------------------------------- metric helpers

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda v, b: v <= b,
    "<": lambda v, b: v < b,
    ">=": lambda v, b: v >= b,
    "==": lambda v, b: v == b,
}


def bound(
    name: str,
    value: float | None,
    unit: str,
    op: str,
    target: float,
    limit: str,
    *,
    headline: bool = False,
) -> Metric:
    """A metric with a numeric target; a missing value fails it."""
    passed = None if value is None else _OPS[op](value, target)
    return Metric(name, value, unit, f"{op} {target:g}", limit, passed or False, headline)


def info(name: str, value: Value, unit: str, limit: str, *, headline: bool = False) -> Metric:
    return Metric(name, value, unit, "informational", limit, None, headline)


def _get(raw: Mapping[str, Any], *path: str) -> Any:
    node: Any = raw
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


# ---------------------------------------------------------------------------- adapters

_CPU_LIMIT = (
    "per wakeup cost: 10 microphone appends/s (base64 + one WebSocket send, each waking the "
    "event loop) and 100 speaker callbacks/s (10 ms blocks), tens of µs of Python each; the "
    "fake streams' own ticking is taken out per thread"
)


def _talk_cpu(module: ModuleType, quick: bool) -> Raw:
    if quick:
        result: Raw = asyncio.run(module.main(2.0, 1, rounds=1))
    else:  # with echo cancellation too: its cost is a target of its own
        result = asyncio.run(module.main(module.LISTEN_S, module.TURNS, aec=True))
    return result


def _talk_cpu_metrics(raw: Raw) -> list[Metric]:
    return [
        bound(
            "listening_cpu_percent",
            raw.get("listening_cpu_percent"),
            "% of a core",
            "<=",
            1.0,
            _CPU_LIMIT,
            headline=True,
        ),
        bound(
            "full_duplex_cpu_percent",
            raw.get("full_duplex_cpu_percent"),
            "% of a core",
            "<=",
            1.5,
            _CPU_LIMIT + "; plus decoding and queueing the reply's audio deltas",
            headline=True,
        ),
        *(
            [
                bound(
                    "aec_full_duplex_cpu_percent",
                    raw["aec_full_duplex_cpu_percent"],
                    "% of a core",
                    "<=",
                    3.0,
                    "the echo canceller's work per 10 ms frame (audio.aec_engine: the console's "
                    "Kalman filter by default), on the echo worker thread, over the same run "
                    "without it",
                    headline=True,
                )
            ]
            if "aec_full_duplex_cpu_percent" in raw
            else []
        ),
        info(
            "rig_cpu_percent",
            raw.get("rig_cpu_percent"),
            "% of a core",
            "the fake streams' own ticking while listening (their threads' CPU less their "
            "callbacks'): the test rig, taken out of the figures above",
        ),
    ]


def _talk_bargein(module: ModuleType, quick: bool) -> Raw:
    trials, realtime = (40, 3) if quick else (module.CLOCK_DRIVEN_TRIALS, module.REALTIME_TRIALS)
    result: Raw = asyncio.run(module.main(trials, realtime))
    return result


def _talk_bargein_metrics(raw: Raw) -> list[Metric]:
    error = _get(raw, "truncation_error_ms")
    worst_error = None if not error else max(abs(float(error["min"])), abs(float(error["max"])))
    return [
        bound(
            "silence_latency_ms_max",
            _get(raw, "silence_latency_ms", "max"),
            "ms",
            "<=",
            20.0,
            "one output block (audio.block_ms = 20): the device takes audio a block at a time, "
            "so a cut lands in the next block it asks for; the 5 ms fade is inside that block",
            headline=True,
        ),
        bound(
            "truncation_error_ms_max_abs",
            worst_error,
            "ms",
            "<=",
            10.0,
            "what the listener heard is known only through the output latency the device "
            "reports; the played count itself is exact to the sample",
            headline=True,
        ),
        info(
            "realtime_silence_latency_ms_p95",
            _get(raw, "realtime_silence_latency_ms", "p95"),
            "ms",
            "a real-time device thread: one block plus thread scheduling on a loaded machine",
        ),
    ]


def _talk_bargein_pulse(module: ModuleType, quick: bool) -> Raw:
    count = module.QUICK_BARGE_INS if quick else module.BARGE_INS
    result: Raw = asyncio.run(module.main(count))
    return result


def _talk_bargein_pulse_metrics(raw: Raw) -> list[Metric]:
    if raw.get("skipped"):
        return [info("skipped", str(raw["skipped"]), "", "needs PulseAudio (.ci/pulse-up)")]
    wanted = min(int(raw.get("requested") or 0), 20)
    return [
        bound(
            "silence_ms_median",
            _get(raw, "silence_ms", "median"),
            "ms",
            "<=",
            30.0,
            "the wait for the device's next block plus its buffer: through PulseAudio about two "
            "blocks + 5 ms, so small blocks with audio.output_latency = low (the defaults: 10 ms, "
            "low; 5 ms halves it again)",
            headline=True,
        ),
        bound(
            "truncation_error_ms_max_abs",
            _get(raw, "truncation_error_ms_max_abs"),
            "ms",
            "<=",
            10.0,
            "PortAudio's DAC times are true to the null sink's render-ahead (the monitor's own "
            "5 ms block), which makes the measured heard read up to ~5 ms high",
            headline=True,
        ),
        bound(
            "overshoots",
            _get(raw, "overshoots"),
            "truncates",
            "==",
            0,
            "a truncate past what the sink played tells the model the listener heard words "
            "they did not",
        ),
        bound(
            "barge_ins_measured",
            _get(raw, "measured"),
            "",
            ">=",
            wanted,
            "each is a real spoken interruption of a real reply: about 2 s apiece",
        ),
        info(
            "onset_to_silence_ms_median",
            _get(raw, "onset_to_silence_ms", "median"),
            "ms",
            _ONSET_LIMIT,
        ),
        info(
            "onset_to_silence_ms_p95",
            _get(raw, "onset_to_silence_ms", "p95"),
            "ms",
            _ONSET_LIMIT,
        ),
        info(
            "detection_ms_median",
            _get(raw, "detection_ms", "median"),
            "ms",
            "the user's speech onset at the microphone to speech_started handled: the wait for "
            "the append holding it (audio.append_ms, 100 ms: spread evenly over 0-100 ms), the "
            "server VAD's first voiced frames and the loopback",
        ),
    ]


_ONSET_LIMIT = (
    "from the user's speech onset at the microphone (the barge_in note, on PortAudio's clock) to "
    "silence at the listener: the detection (mostly the 100 ms append: audio.append_ms = 40 "
    "gave a median 62 ms, p95 75 ms, for ~0.75 % of a core) plus the silence above"
)


_JITTER_LIMIT = (
    "a reply that must never run dry has to play as late as its latest chunk can come: J ms of "
    "network jitter costs J ms of delay, and the wait for the device's next 20 ms block comes on "
    "top unless playback starts a block early and stretches (repeats pitch periods) to catch up; "
    "a stream faster than real time builds its own lead"
)


def _playback(module: ModuleType, quick: bool) -> Raw:
    sessions, replies = (2, 10) if quick else (module.SESSIONS, module.REPLIES)
    result: Raw = module.main(sessions, replies)
    return result


def _playback_metrics(raw: Raw) -> list[Metric]:
    out: list[Metric] = []
    for row in raw.get("rows", []):
        pace, jitter = row["pace"], row["jitter_ms"]
        where = f"pace {pace:g}, jitter {jitter:g} ms"
        headline = pace == 1.0 and jitter == 40.0
        median = row["added_latency_ms"]["median"]
        clean = f"clean_replies_percent ({where})"
        latency = f"added_latency_ms_median ({where})"
        if jitter > 40.0:
            out.append(
                bound(
                    f"underrun_replies_percent ({where})",
                    row["underrun_replies_percent"],
                    "% of replies",
                    "<",
                    5.0,
                    _JITTER_LIMIT,
                )
            )
            out.append(info(clean, row["clean_replies_percent"], "% of replies", _JITTER_LIMIT))
            limit = f"at real-time pace the jitter ({jitter:g} ms) less the block started early;"
            limit += " a faster stream's own lead covers part of it"
            out.append(info(latency, median, "ms", limit))
            continue
        out.append(info(clean, row["clean_replies_percent"], "% of replies", _JITTER_LIMIT))
        if pace < 1.5:  # the session's first reply may run dry in its first 500 ms, learning
            dry = ("underrun_replies_after_warmup", row["underrun_replies_after_warmup"], 40.0)
        else:
            dry = ("underrun_replies", row["underrun_replies"], 20.0)
        out.append(
            bound(
                f"{dry[0]} ({where})", dry[1], "replies", "==", 0, _JITTER_LIMIT, headline=headline
            )
        )
        out.append(bound(latency, median, "ms", "<=", dry[2], _JITTER_LIMIT, headline=headline))
        out.append(
            info(
                f"stretched_ms_per_reply_median ({where})",
                row["stretched_ms_per_reply"]["median"],
                "ms",
                "the block a reply starts early, made up by repeating pitch periods",
            )
        )
    return out


def _server_sessions(module: ModuleType, quick: bool) -> Raw:
    argv = ["--sessions", "4", "--seconds", "5"] if quick else []
    result: Raw = asyncio.run(module.main(module.parse_args(argv)))
    return result


def _server_sessions_metrics(raw: Raw) -> list[Metric]:
    lag = "VAD runs per 20 ms append in one server process: 20 sessions are 1,000 frames/s on one"
    lag += " core; lag stays flat while that core keeps up and grows without bound once it does not"
    first, second = (
        _get(raw, "vad_lag_ms", "first_half_p95"),
        _get(raw, "vad_lag_ms", "second_half_p95"),
    )
    growth = None if first is None or second is None else round(second - first, 1)
    start, end = _get(raw, "server_rss_mib", "after_warmup"), _get(raw, "server_rss_mib", "end")
    return [
        bound(
            "vad_lag_ms_p99", _get(raw, "vad_lag_ms", "p99"), "ms", "<", 150.0, lag, headline=True
        ),
        bound("vad_lag_growth_ms (second half p95 - first)", growth, "ms", "<=", 50.0, lag),
        bound(
            "first_audio_ms_p99",
            _get(raw, "first_audio_ms", "p99"),
            "ms",
            "<",
            150.0,
            "speech_stopped to the first audio delta: the synthetic voice renders in ms",
            headline=True,
        ),
        bound(
            "delta_lateness_ms_p95",
            _get(raw, "delta_lateness_ms", "p95"),
            "ms",
            "<",
            100.0,
            "loopback delivery is sub-ms; lateness is the server's event loop being busy",
        ),
        bound("errors", raw.get("errors"), "", "==", 0, "every session must stay up"),
        bound(
            "server_cpu_percent",
            raw.get("server_cpu_percent"),
            "% of a core",
            "<",
            100.0,
            "one asyncio process uses at most one core",
            headline=True,
        ),
        bound(
            "server_rss_growth_mib (3 s in -> end)",
            None if start is None or end is None else round(end - start, 1),
            "MiB",
            "<",
            20.0,
            "per-session state is bounded; growth would be a leak",
        ),
    ]


def _audio_play(module: ModuleType, quick: bool) -> Raw:
    result: Raw = module.main(5 if quick else module.RUNS)
    return result


def _audio_play_metrics(raw: Raw) -> list[Metric]:
    limit = (
        "a reply's first chunk alone cannot show the stream's pace: the jitter buffer holds it "
        "for its starting playout delay (40 ms) unless the next chunk shows the stream ahead, "
        "then up to one 20 ms block and thread hand-offs"
    )
    runs = raw.get("runs")
    return [
        bound("added_ms_p95", _get(raw, "added_ms", "p95"), "ms", "<=", 70.0, limit, headline=True),
        info("added_ms_median", _get(raw, "added_ms", "median"), "ms", limit, headline=True),
        bound(
            "started_before_stream_end",
            raw.get("started_before_stream_end"),
            f"of {runs} runs",
            "==",
            float(runs or 0),
            "streaming's point: playback starts with the first chunk, not the whole reply",
        ),
        bound("underrun_runs", raw.get("underrun_runs"), "runs", "==", 0, _JITTER_LIMIT),
    ]


def _replay_hour(module: ModuleType, quick: bool) -> Raw:
    result: Raw = module.run(2.0 if quick else 60.0)
    return result


def _replay_hour_metrics(raw: Raw) -> list[Metric]:
    minutes = _get(raw, "log", "minutes")
    size = _get(raw, "log", "bytes")
    scope = f"{minutes:g}-minute log, {size / 1e6:.0f} MB" if minutes and size else "the log"
    stream = (
        "one streaming pass over the log: time is reading and parsing its lines, memory is one "
        "line plus the summary, never the file"
    )
    return [
        bound(
            f"summary_seconds ({scope})",
            _get(raw, "summary", "seconds"),
            "s",
            "<=",
            10.0,
            stream,
            headline=True,
        ),
        bound(
            "summary_peak_rss_mb",
            _get(raw, "summary", "peak_rss_mb"),
            "MB",
            "<",
            150.0,
            stream,
            headline=True,
        ),
        bound(
            "wav_seconds",
            _get(raw, "wav", "seconds"),
            "s",
            "<=",
            30.0,
            stream + "; plus decoding and mixing every audio payload",
            headline=True,
        ),
        bound("exit_codes", _exit_sum(raw), "", "==", 0, "both commands must succeed"),
    ]


def _exit_sum(raw: Raw) -> int | None:
    codes = [_get(raw, "summary", "exit"), _get(raw, "wav", "exit")]
    return None if None in codes else sum(abs(int(c)) for c in codes)


_START_LIMIT = (
    "the interpreter start and the imports the command needs come first (to_log_open); the "
    "openai SDK's own import (sdk_import_floor_ms) is most of it and cannot be cut while the "
    "console connects through the SDK (a bare websockets client, no SDK, has session.updated "
    "50 ms after it starts); then the local server, a loopback WebSocket handshake and one "
    "session.update round trip"
)


def _start(module: ModuleType, quick: bool) -> Raw:
    result: Raw = module.main(2 if quick else module.RUNS)
    return result


def _start_metrics(raw: Raw) -> list[Metric]:
    out: list[Metric] = []
    for command in ("chat", "talk"):
        entry = raw.get(command) or {}
        if "skipped" in entry:
            out.append(info(f"{command}: skipped", None, "", str(entry["skipped"])))
            continue
        out.append(
            bound(
                f"{command}_to_session_updated_ms_median",
                _get(entry, "to_session_updated_ms", "median"),
                "ms",
                "<=",
                400.0,
                _START_LIMIT,
                headline=True,
            )
        )
        out.append(
            info(
                f"{command}_to_session_updated_ms_p95",
                _get(entry, "to_session_updated_ms", "p95"),
                "ms",
                _START_LIMIT,
            )
        )
        out.append(
            info(
                f"{command}_to_log_open_ms_median",
                _get(entry, "to_log_open_ms", "median"),
                "ms",
                "interpreter start and imports, before any connection",
            )
        )
    out.append(
        info(
            "sdk_import_floor_ms_median",
            _get(raw, "sdk_import_floor_ms", "median"),
            "ms",
            "a bare interpreter importing the openai SDK and its realtime types, then exiting: "
            "every start-up through the SDK pays it before anything of the console's runs",
        )
    )
    return out


def _dispatcher(module: ModuleType, quick: bool) -> Raw:
    result: Raw = module.main(30 if quick else module.TURNS)
    return result


def _dispatcher_metrics(raw: Raw) -> list[Metric]:
    limit = (
        "a live reply carries 20-100 events per second of audio; replay --speed max runs the "
        "same path, so its speed is this figure"
    )
    return [
        bound(
            "events_per_s",
            raw.get("events_per_s"),
            "events/s",
            ">=",
            10_000.0,
            limit,
            headline=True,
        ),
        info(
            "audio_deltas_per_s",
            raw.get("audio_deltas_per_s"),
            "events/s",
            "each decodes 6.4 kB of base64 and queues it for playback",
        ),
        bound("handler_errors", raw.get("handler_errors"), "", "==", 0, "no handler may fail"),
    ]


def _soak(module: ModuleType, quick: bool) -> Raw:
    kwargs = dict(getattr(module, "QUICK", {})) if quick else {}
    result: Raw = module.main(**kwargs)
    return result


def _soak_metrics(raw: Raw) -> list[Metric]:
    out = [
        Metric(
            name,
            bool(flag),
            "",
            "true",
            "two simulated hours across the service's 60-minute limit and injected faults",
            bool(flag),
        )
        for name, flag in (raw.get("passed") or {}).items()
    ]
    out.append(
        bound(
            "rss_growth_after_warmup_mb",
            _get(raw, "rss_mb", "growth_after_warmup"),
            "MB",
            "<",
            20.0,
            "a long session's state is bounded (recent events, item clocks): growth is a leak",
            headline=True,
        )
    )
    answered, attempted = _get(raw, "turns", "answered"), _get(raw, "turns", "attempted")
    out.append(
        info(
            "turns_answered",
            None if answered is None else f"{answered}/{attempted}",
            "",
            "every turn must get its reply, faults and renewals included",
            headline=True,
        )
    )
    return out


def _aec(module: ModuleType, quick: bool) -> Raw:
    result: Raw = module.main(quick=quick)
    return result


def _aec_metrics(raw: Raw) -> list[Metric]:
    chosen = raw.get("chosen")
    out: list[Metric] = []
    for row in raw.get("results", []):
        if row.get("candidate") != chosen or row.get("rate") != 24_000:
            continue
        where = f"{chosen}, delay {row.get('delay_ms', '?')} ms"
        out.append(
            bound(
                f"erle_db ({where})",
                row.get("erle_db"),
                "dB",
                ">=",
                25.0,
                "the residual echo floor: the canceller's filter length and the room's "
                "non-linear part, against a -70 dBFS noise floor",
                headline=not out,
            )
        )
        out.append(
            bound(
                f"near_end_correlation ({where})",
                row.get("near_end_correlation"),
                "",
                ">=",
                0.9,
                "double talk: the canceller must pass the near end while removing the far end",
                headline=len(out) == 1,
            )
        )
        out.append(info(f"cpu_ms_per_s ({where})", row.get("cpu_ms_per_s"), "ms/s", "10 = 1 %"))
    if not out:
        out.append(
            bound(
                "meets_targets",
                float(bool(raw.get("meets_targets"))),
                "",
                "==",
                1.0,
                f"no result for the chosen canceller {chosen!r}",
            )
        )
    return out


def _aec_vad_metrics(raw: Raw) -> list[Metric]:
    aec = _get(raw, "modes", "aec") or {}
    off = _get(raw, "modes", "off") or {}
    echo = "the speaker leaks into the microphone at -6 dB, 80 ms later: without echo handling "
    echo += "the server's VAD hears the reply as the user"
    out = [
        bound(
            "false_barge_ins (with AEC)",
            aec.get("false_barge_ins"),
            "",
            "==",
            0,
            echo,
            headline=True,
        ),
        bound(
            "barge_in_detection_rate (with AEC, user at playback level)",
            _get(aec, "barge_in_detection_user_+0db", "rate"),
            "",
            ">=",
            0.95,
            "the canceller must pass a real barge-in while removing the echo",
            headline=True,
        ),
        info(
            "barge_in_detection_rate (with AEC, user 6 dB quieter)",
            _get(aec, "barge_in_detection_user_-6db", "rate"),
            "",
            "as loud as the echo itself",
        ),
        info("false_barge_ins (no echo handling)", off.get("false_barge_ins"), "", echo),
    ]
    return out


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "talk_playback_latency",
        "adaptive jitter buffer: underruns and added latency, pace 1.0/1.5/4.0 x jitter 0/40/80 ms",
        "Playback must not stutter, but every ms of delay is latency the listener waits. With "
        "chunks up to J ms late, no playout less than J ms behind the audio's fastest schedule "
        "can be sure never to run dry, so J is the floor; the adaptive buffer learns J per "
        "conversation. Starting at J would add the wait for the device's next 20 ms block on "
        "top (a median 50 ms at 40 ms of jitter), so playback starts a block early and repeats "
        "pitch periods in its first blocks to reach J. With the fixed 40 ms prebuffer the "
        "buffer replaced, 142 of 200 replies at real-time pace with 40 ms of jitter ran dry.",
        _playback,
        _playback_metrics,
    ),
    Benchmark(
        "talk_bargein",
        "barge-in: silence after speech_started, and the truncation point's error",
        "The device pulls audio in blocks, so a cut cannot be heard before the next block: "
        "audio.block_ms (20 ms) is the bound, met exactly on the device clock. The truncation "
        "point can only be as exact as the output latency the device reports.",
        _talk_bargein,
        _talk_bargein_metrics,
    ),
    Benchmark(
        "talk_bargein_pulse",
        "barge-in on PulseAudio devices: silence at the sink, truncation vs what the sink played",
        "The real talk process on PortAudio through a PulseAudio null sink, its monitor "
        "recorded: the cut waits for the next block and then PulseAudio's buffer, about two "
        "blocks + 5 ms, hence the default 10 ms blocks with the low-latency stream. The "
        "truncation follows "
        "PortAudio's DAC times; the latency the stream reports is 5-19 ms short of them.",
        _talk_bargein_pulse,
        _talk_bargein_pulse_metrics,
        in_quick=False,  # a real device session: run it with --only (--quick: 5 barge-ins)
    ),
    Benchmark(
        "talk_cpu",
        "console CPU less the fake streams' own, listening / full duplex",
        "What is left after the test rig's own cost is the per-wakeup Python work; appends of "
        "100 ms keep it to ten sends a second.",
        _talk_cpu,
        _talk_cpu_metrics,
    ),
    Benchmark(
        "start_latency",
        "launch of realtime-console --local chat / talk --plain to session.updated",
        "Interpreter start and imports dominate; the session itself (local server, loopback "
        "handshake, one round trip) takes tens of ms. Moves with machine load.",
        _start,
        _start_metrics,
    ),
    Benchmark(
        "dispatcher_throughput",
        "server events per second through the real talk handler tables",
        "A live session needs ~100 events/s at most; the headroom is what replay --speed max "
        "and a loaded machine use.",
        _dispatcher,
        _dispatcher_metrics,
    ),
    Benchmark(
        "audio_play_latency",
        "audio say --play: first streamed chunk to its first sample at the device",
        "The starting playout delay (audio.prebuffer_ms) is the price of never running dry on "
        "a real-time stream with jitter; a stream ahead of real time shows it with its second "
        "chunk and starts then.",
        _audio_play,
        _audio_play_metrics,
    ),
    Benchmark(
        "server_sessions",
        "local server: 20 concurrent real-time sessions with server VAD",
        "One server process, one core: the load is 1,000 VAD frames a second plus the replies; "
        "the targets check it keeps up and does not drift.",
        _server_sessions,
        _server_sessions_metrics,
    ),
    Benchmark(
        "replay_hour",
        "replay --summary / --wav of a synthetic one-hour log (audio both ways)",
        "Replay streams the log once; its time is parsing lines and its memory is one line, "
        "whatever the file's size.",
        _replay_hour,
        _replay_hour_metrics,
    ),
    Benchmark(
        "soak",
        "two simulated hours of talk across session renewals and injected faults",
        "Long sessions must not leak: tasks, descriptors and memory stay flat, every turn is "
        "answered.",
        _soak,
        _soak_metrics,
    ),
    Benchmark(
        "aec_erle",
        "echo cancellation: ERLE and double-talk quality of the chosen canceller",
        "Echo return loss is bounded by the residual (non-linear) echo and the noise floor.",
        _aec,
        _aec_metrics,
    ),
    Benchmark(
        "aec_vad",
        "false and real barge-ins the server's VAD hears on a simulated laptop, with echo handling",
        "A laptop's speaker reaches its microphone: the echo must stay under the VAD's threshold "
        "while the user's voice, only ~6 dB above it, still crosses it.",
        _aec,
        _aec_vad_metrics,
        in_quick=False,  # its quick size still takes ~100 s on 2 cores: full runs only
    ),
)

BY_NAME: dict[str, Benchmark] = {b.name: b for b in BENCHMARKS}
