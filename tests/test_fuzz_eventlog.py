"""Fuzz: the event-log reader over hostile files, and the replay summary over random records.

The reader (docs/event-log.md, "Reading") must never raise on what a file holds except
``LogFormatError`` (a header of another version): random bytes, random JSON values, a gzip cut
short or damaged, lines longer than the limit, records whose ``t``/``dir``/``event`` are wrong.
It yields exactly the lines that are events, in order, and counts every other non-blank line.
The summary (``SummaryBuilder`` → ``summary()`` → ``--json`` / the table) must never raise on
records the reader yields: valid-shaped server, client, meta and HTTP events with random
values, numbers past float range and NaN included; its JSON output is strict JSON.

The bugs these tests found each have a test with its minimal example at the end. For a longer
run: ``FUZZ_EXAMPLES_SCALE=20 pytest tests/test_fuzz_eventlog.py`` (every example count × 20).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import io
import json
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openai.types.realtime import RealtimeServerEvent

from realtime_console.errors import LogFormatError
from realtime_console.eventlog import (
    DIRECTIONS,
    FORMAT,
    MAX_AUDIO_BYTES,
    Direction,
    EventLogWriter,
    LogRecord,
    ReadReport,
    probe_log,
    read_log,
    scan_log,
)
from realtime_console.protocol.aliases import to_ga
from realtime_console.redact import Redactor
from realtime_console.replay.event_lines import format_line
from realtime_console.replay.player import ReplayPlayer
from realtime_console.replay.summary import SummaryBuilder
from realtime_console.replay.summary_table import render_json, render_table, strict_json
from realtime_console.server.core import ROUTES
from realtime_console.ui.plain import PlainView
from tests.fixtures import fuzz
from tests.fixtures.fuzz import (
    events_of,
    ids,
    json_values,
    junk,
    mutated,
    pcm_b64,
    plausible_server_events,
    single_mutations,
    strings,
    union_members,
    user_items,
)

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE = settings(deadline=None, database=None, derandomize=True, max_examples=5)
_SCALE = float(os.environ.get("FUZZ_EXAMPLES_SCALE", "1"))


def examples(n: int) -> int:
    """``n`` examples, times ``FUZZ_EXAMPLES_SCALE`` (a longer local hunt for bugs)."""
    return max(1, round(n * _SCALE))


@contextmanager
def log_file(data: bytes, suffix: str = ".jsonl") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log{suffix}"
        path.write_bytes(data)
        yield path


def read_all(
    path: Path, max_line_bytes: int | None = None
) -> tuple[list[LogRecord], ReadReport, LogFormatError | None]:
    """Every record and the report; a ``LogFormatError`` (the one exception allowed) ends it."""
    report = ReadReport()
    records: list[LogRecord] = []
    kwargs = {} if max_line_bytes is None else {"max_line_bytes": max_line_bytes}
    try:
        for record in read_log(path, report, **kwargs):
            records.append(record)
    except LogFormatError as exc:
        return records, report, exc
    return records, report, None


def check_records(records: list[LogRecord], report: ReadReport) -> None:
    """What any reader output must look like, whatever the file held."""
    assert [r.index for r in records] == list(range(len(records)))
    lines = [r.line for r in records]
    assert lines == sorted(set(lines)) and all(n >= 1 for n in lines)
    for record in records:
        assert record.dir in DIRECTIONS
        assert isinstance(record.event, dict)
        assert record.t is None or (isinstance(record.t, float) and math.isfinite(record.t))
        if record.t is None:
            assert record.dir == "server" and isinstance(record.event.get("type"), str)
    assert report.events == len(records)
    assert report.bad_line_count >= len(report.bad_lines)
    assert len(report.bad_lines) <= 100
    warning = report.warning("x.jsonl")
    assert (warning is None) == (report.bad_line_count == 0)
    try:
        report.check_event_log("x.jsonl")
    except LogFormatError as exc:
        assert not records and report.header is None and str(exc)


# ---------------------------------------------------------------- random bytes


hostile_bytes = st.one_of(
    st.binary(max_size=600),
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(
                [
                    b"\n",
                    b"\r\n",
                    b"{",
                    b"}",
                    b'{"type":"error"}\n',
                    b'{"t":1,"dir":"server","event":{}}\n',
                    b'{"format":"realtime-console-log","version":1}\n',
                    b'{"t":NaN,"dir":"meta","event":{}}\n',
                    b"\xff\xfe\x00",
                    b"\x1f\x8b",  # a gzip magic in a plain file
                    b"[" * 2000,
                ]
            ),
        ),
        max_size=12,
    ).map(b"".join),
)


@settings(FUZZ, max_examples=examples(150))
@given(
    data=hostile_bytes, suffix=st.sampled_from([".jsonl", ".gz"]), limit=st.sampled_from([None, 16])
)
def test_random_bytes_are_read_without_raising(data: bytes, suffix: str, limit: int | None) -> None:
    with log_file(data, suffix) as path:
        records_read, report, _refused = read_all(path, limit)
        check_records(records_read, report)
        try:
            probed = probe_log(path)  # up to the first event
        except LogFormatError:
            assert _refused is not None
        else:
            assert probed.events <= 1
        try:
            scanned = list(scan_log(path, ("error",)))
        except LogFormatError:
            assert _refused is not None
        else:
            assert len(scanned) <= len(records_read) + 1


# ---------------------------------------------------------------- random JSON values


json_line = st.one_of(
    json_values().map(lambda v: json.dumps(v)),  # NaN and Infinity too: json.dumps writes them
    json_values().map(lambda v: json.dumps(v)[:-1]),  # cut short
    st.dictionaries(strings, junk, max_size=4).map(json.dumps),
    st.builds(
        lambda version, rest: json.dumps({**rest, "format": FORMAT, "version": version}),
        st.one_of(st.just(1), junk),
        st.dictionaries(strings, junk, max_size=2),
    ),
    st.just(""),
    st.just("   "),
)


@settings(FUZZ, max_examples=examples(100))
@given(lines=st.lists(json_line, max_size=12), gz=st.booleans())
def test_random_json_lines_are_read_or_reported(lines: list[str], gz: bool) -> None:
    text = "\n".join(lines).encode("utf-8", "surrogatepass")
    data = gzip.compress(text) if gz else text
    with log_file(data, ".gz" if gz else ".jsonl") as path:
        records, report, refused = read_all(path)
        check_records(records, report)
        nonblank = [line for line in lines if line.strip()]
        if refused is None:  # every non-blank line is a record, a header, or a bad line
            headers = sum(1 for line in nonblank if f'"format": "{FORMAT}"' in line)
            assert report.events + report.bad_line_count + headers >= len(nonblank)
            assert report.events + report.bad_line_count <= len(nonblank)
        else:
            assert "unsupported event log version" in str(refused)


# ---------------------------------------------------------------- wrong t / dir / event

wrong_t = st.one_of(
    st.floats(),  # NaN, ±inf included
    st.integers(-(2**63), 2**63),
    st.booleans(),
    st.none(),
    strings,
    st.lists(st.integers(), max_size=2),
    st.sampled_from([1e308, -0.0, 5e-324]),
)
wrong_dir = st.one_of(st.sampled_from(DIRECTIONS), strings, junk)
wrong_event = st.one_of(
    mutated(plausible_server_events), st.dictionaries(strings, junk, max_size=3), junk
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in (("t", wrong_t), ("dir", wrong_dir), ("event", wrong_event)):
        if draw(st.integers(0, 5)):
            obj[key] = draw(value)
    if draw(st.integers(0, 6)) == 0:
        obj["type"] = draw(st.one_of(strings, junk))  # a bare server event, or not
    if draw(st.integers(0, 6)) == 0:
        obj.update(draw(st.dictionaries(strings, junk, max_size=2)))
    return obj


def expected_record(obj: dict[str, Any]) -> tuple[float | None, str, dict[str, Any]] | None:
    """docs/event-log.md: which line is an event, and what the reader makes of it."""
    if "dir" in obj and isinstance(obj.get("event"), dict):
        t, direction = obj.get("t"), obj["dir"]
        if isinstance(t, bool) or not isinstance(t, int | float) or direction not in DIRECTIONS:
            return None
        if isinstance(t, int) and abs(t) > sys.float_info.max:
            return None  # not a finite number either: no float holds it
        return (float(t), direction, to_ga(obj["event"])) if math.isfinite(t) else None
    if isinstance(obj.get("type"), str):
        return None, "server", to_ga(obj)
    return None


@settings(FUZZ, max_examples=examples(120))
@given(objs=st.lists(records(), max_size=15))
def test_records_with_wrong_t_dir_or_event_are_skipped_and_counted(
    objs: list[dict[str, Any]],
) -> None:
    body = "\n".join(json.dumps(obj) for obj in objs) + "\n"
    with log_file(body.encode("utf-8", "surrogatepass")) as path:
        records_read, report, refused = read_all(path)
    assert refused is None
    check_records(records_read, report)
    wanted = [(n, e) for n, e in enumerate(map(expected_record, objs), 1) if e is not None]
    got = [(r.line, (r.t, r.dir, r.event)) for r in records_read]
    # JSON round trip: compare as JSON text (NaN != NaN inside events)
    assert json.dumps(got) == json.dumps(wanted)
    assert report.bad_line_count == len(objs) - len(wanted)


# ---------------------------------------------------------------- gzip cut short or damaged


@settings(FUZZ, max_examples=examples(60))
@given(
    events=st.lists(mutated(plausible_server_events), min_size=1, max_size=12),
    cut=st.floats(0.0, 1.0),
    flip=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_a_gzip_cut_short_or_damaged_reads_up_to_the_damage(
    events: list[dict[str, Any]], cut: float, flip: int | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "whole.jsonl.gz"
        ticks = iter(range(1000))
        with EventLogWriter(
            path,
            provider="local",
            model="m",
            session={},
            program_version="t",
            redactor=Redactor(),
            clock=lambda: float(next(ticks)),
        ) as writer:
            for event in events:
                writer.write("server", event)
        whole = list(read_log(path))
        assert len(whole) == len(events) - writer.left_out  # nested too deep to record
        data = bytearray(path.read_bytes())
        data = data[: int(len(data) * cut)]
        if flip is not None and data:
            data[flip % len(data)] ^= 0x5A
        path.write_bytes(bytes(data))
        records_read, report, refused = read_all(path)
    assert refused is None or flip is not None
    check_records(records_read, report)
    if flip is None:  # cut only: what was read is what was written, up to the cut
        assert json.dumps([r.event for r in records_read]) == json.dumps(
            [r.event for r in whole[: len(records_read)]]
        )
        if data and cut < 1.0:  # (an empty .gz reads as an empty log)
            assert report.bad_line_count >= 1 or len(records_read) == len(whole)


# ---------------------------------------------------------------- the summary


client_models = [route.model for route in ROUTES.values()]
client_events = events_of(client_models, ["conversation.item.create", "response.create"])
_wav_b64 = st.binary(max_size=64).map(
    lambda b: base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt " + b).decode()
)
_audio = st.fixed_dictionaries(
    {},
    optional={
        "data": st.one_of(pcm_b64, _wav_b64, strings),
        "transcript": strings,
        "format": st.sampled_from(["wav", "pcm16", "mp3"]),
        "audio_bytes": fuzz.integers,
    },
)
_usage = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": fuzz.integers,
        "completion_tokens": fuzz.integers,
        "total_tokens": fuzz.integers,
        "prompt_tokens_details": st.fixed_dictionaries({"audio_tokens": fuzz.integers}),
    },
)
_choice = st.fixed_dictionaries(
    {},
    optional={
        "message": st.fixed_dictionaries({}, optional={"audio": _audio, "content": strings}),
        "delta": st.fixed_dictionaries({}, optional={"audio": _audio, "content": strings}),
        "finish_reason": st.one_of(st.none(), st.just("stop")),
    },
)
_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"])},
    optional={
        "content": st.one_of(
            strings,
            st.lists(
                st.one_of(
                    st.fixed_dictionaries({"type": st.just("text"), "text": strings}),
                    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": _audio}),
                    junk,
                ),
                max_size=3,
            ),
        )
    },
)
http_events = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("chat.completions.request"), "request_id": ids},
        optional={
            "attempt": fuzz.integers,
            "model": strings,
            "stream": st.booleans(),
            "body": st.fixed_dictionaries(
                {},
                optional={
                    "audio": st.fixed_dictionaries(
                        {}, optional={"format": st.sampled_from(["wav", "pcm16", "mp3"])}
                    ),
                    "messages": st.lists(_message, max_size=3),
                },
            ),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.just("chat.completions.response"), "request_id": ids},
        optional={
            "status": fuzz.integers,
            "body": st.fixed_dictionaries(
                {}, optional={"choices": st.lists(_choice, max_size=2), "usage": _usage}
            ),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.just("chat.completions.chunk"), "request_id": ids},
        optional={
            "chunk": st.fixed_dictionaries(
                {}, optional={"choices": st.lists(_choice, max_size=2), "usage": _usage}
            )
        },
    ),
    st.fixed_dictionaries(
        {"type": st.just("chat.completions.error"), "request_id": ids},
        optional={
            "status": fuzz.integers,
            "code": strings,
            "message": strings,
            "retry_in_s": st.one_of(st.none(), fuzz.floats),
            "attempt": fuzz.integers,
        },
    ),
)
meta_events = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["barge_in", "response_timeout"])},
        optional={
            "response_id": ids,
            "item_id": ids,
            "audio_end_ms": fuzz.integers,
            "received_ms": fuzz.floats,
            "timeout_s": fuzz.floats,
        },
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["reconnect", "reconnected", "connection_lost"])},
        optional={"attempt": fuzz.integers, "code": fuzz.integers},
    ),
    st.fixed_dictionaries(
        {"type": st.just("audio_stats")},
        optional={"playback_underruns": fuzz.integers, "final": st.booleans()},
    ),
    st.fixed_dictionaries(
        {"type": st.just("completion"), "request_id": ids},
        optional={
            "status": strings,
            "retries": fuzz.integers,
            "transcript": strings,
            "first_audio_s": fuzz.floats,
            "elapsed_s": fuzz.floats,
            "audio_s": fuzz.floats,
            "input_audio_s": fuzz.floats,
            "model": strings,
        },
    ),
    st.dictionaries(strings, junk, max_size=3).map(lambda d: {**d, "type": "future_note"}),
)
server_events = st.one_of(
    mutated(plausible_server_events),
    mutated(plausible_server_events),
    mutated(plausible_server_events),
    events_of(union_members(RealtimeServerEvent), ["response.audio.delta"]),
)
client_side = st.one_of(
    mutated(
        st.fixed_dictionaries({"type": st.just("input_audio_buffer.append"), "audio": pcm_b64})
    ),
    mutated(
        st.fixed_dictionaries(
            {
                "type": st.just("conversation.item.truncate"),
                "item_id": ids,
                "content_index": st.just(0),
                "audio_end_ms": fuzz.integers,
            }
        )
    ),
    mutated(
        st.fixed_dictionaries({"type": st.just("conversation.item.create"), "item": user_items})
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["input_audio_buffer.commit", "input_audio_buffer.clear", "response.create"]
            )
        }
    ),
    client_events,
)
by_direction: dict[Direction, st.SearchStrategy[dict[str, Any]]] = {
    "server": server_events,
    "client": client_side,
    "meta": meta_events,
    "http": st.one_of(mutated(http_events), http_events),
}


def _tag(direction: Direction) -> Callable[[dict[str, Any]], tuple[Direction, dict[str, Any]]]:
    return lambda event: (direction, event)


tagged = st.one_of(*(events.map(_tag(d)) for d, events in by_direction.items()))


@st.composite
def log_records(draw: st.DrawFn) -> list[LogRecord]:
    """What the reader can yield: times that mostly move forward, any of the four directions."""
    out: list[LogRecord] = []
    t = 0.0
    for index, (direction, event) in enumerate(draw(st.lists(tagged, min_size=8, max_size=40))):
        bare = direction == "server" and draw(st.integers(0, 9)) == 0
        t += draw(st.one_of(st.floats(0.0, 2.0), st.floats(-5.0, 5.0), st.just(0.0)))
        if draw(st.integers(0, 19)) == 0:  # any time the reader accepts (1e308, -1e308 …)
            t = draw(st.floats(allow_nan=False, allow_infinity=False))
        record = LogRecord(index, index + 2, None if bare else t, direction, to_ga(event))
        out.append(record)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@settings(FUZZ, max_examples=examples(60))
@given(records_in=log_records())
def test_the_summary_of_any_records_renders(records_in: list[LogRecord]) -> None:
    summary = SummaryBuilder().feed_all(records_in).summary()
    assert summary.totals.turns == len(summary.turns)
    assert summary.totals.events == len(records_in)
    document = json.loads(render_json(summary, log="x", bad_lines=0), parse_constant=_no_constant)
    assert document["totals"]["turns"] == len(summary.turns)
    assert isinstance(render_table(summary), str)
    for record in records_in:  # replay --types
        assert isinstance(format_line(record), str)


# ---------------------------------------------------------------- each bug found, minimal


@EXAMPLE
@given(t=st.sampled_from([10**309, -(10**309), int("9" * 4300)]))
@example(t=10**309)
def test_bug_a_huge_integer_t_is_a_bad_line(t: int) -> None:
    """eventlog_t_beyond_float: ``math.isfinite`` on an integer ``t`` past float range raised
    OverflowError out of ``read_log``; such a ``t`` is not a finite number: a bad line."""
    line = f'{{"t":{t},"dir":"server","event":{{"type":"error"}}}}\n'
    good = '{"t":1,"dir":"server","event":{"type":"error"}}\n'
    with log_file((line + good).encode()) as path:
        records_read, report, _ = read_all(path)
    assert [r.line for r in records_read] == [2] and report.bad_line_count == 1
    assert report.bad_lines == [(1, "t is past float range")]


def _record(event: dict[str, Any], direction: Direction = "server", t: float = 1.0) -> LogRecord:
    return LogRecord(0, 2, t, direction, event)


@EXAMPLE
@given(huge=st.sampled_from([10**309, -(10**309), float("nan"), float("inf")]))
@example(huge=10**309)
def test_bug_summary_of_huge_numbers(huge: float) -> None:
    """summary_numbers_beyond_float: ``float()`` of audio_start_ms/audio_end_ms and the rate
    limits' ``int(float())`` raised on numbers no float holds; they count as absent now."""
    records_in = [
        _record({"type": "input_audio_buffer.speech_started", "audio_start_ms": huge}),
        _record({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900}, t=2.0),
        _record({"type": "input_audio_buffer.speech_started", "audio_start_ms": 100}, t=3.0),
        _record({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": huge}, t=4.0),
        _record(
            {
                "type": "rate_limits.updated",
                "rate_limits": [
                    {"name": "tokens", "limit": huge, "remaining": 1},
                    {"name": "requests", "limit": 100, "remaining": huge},
                    {"name": "audio", "limit": 10, "remaining": 1, "reset_seconds": huge},
                    {"name": "kept", "limit": 100, "remaining": 5},
                ],
            }
        ),
    ]
    summary = SummaryBuilder().feed_all(records_in).summary()
    assert [turn.user_speech_ms for turn in summary.turns] == [None, None]
    assert list(summary.totals.rate_limits) == ["kept"]  # the others' entries only are skipped
    document = json.loads(render_json(summary), parse_constant=_no_constant)
    assert document["totals"]["user_speech_s"] == 0.0
    assert "speech" in render_table(summary)


@EXAMPLE
@given(n=st.sampled_from([10**309, int("9" * 4300), MAX_AUDIO_BYTES + 2, True]))
@example(n=10**309)
def test_bug_summary_of_huge_audio_bytes(n: int) -> None:
    """summary_audio_bytes_beyond_float: a huge ``audio_bytes`` (``--log-audio none``)
    overflowed ``Turn.audio_generated_s``. A size larger than one line's payload could have
    been is corrupt: no audio, like a missing size."""
    records_in = [
        _record({"type": "response.created", "response": {"id": "r1"}}),
        _record({"type": "response.output_audio.delta", "response_id": "r1", "audio_bytes": n}),
        _record({"type": "response.output_audio.delta", "response_id": "r1", "audio_bytes": 960}),
    ]
    summary = SummaryBuilder().feed_all(records_in).summary()
    assert summary.turns[0].audio_generated_s == pytest.approx(0.02)
    json.loads(render_json(summary), parse_constant=_no_constant)
    assert format_line(records_in[1]).endswith(" 0 B (0 ms)")


@EXAMPLE
@given(position=st.sampled_from([10, 11, 12, 20, 30]))
@example(position=10)
def test_bug_a_damaged_gzip_is_reported_not_raised(position: int) -> None:
    """eventlog_damaged_gzip: a damaged deflate stream raised zlib.error out of ``read_log``;
    like a cut, what was read is kept and the damage is one bad line at the end."""
    lines = b"".join(b'{"t":%d,"dir":"server","event":{"type":"error"}}\n' % n for n in range(20))
    data = bytearray(gzip.compress(lines))
    data[position] ^= 0x5A  # the first bytes of the deflate stream, after the 10-byte header
    with log_file(bytes(data), ".gz") as path:
        records_read, report, refused = read_all(path)
        scanned = list(scan_log(path, ("error",)))
        probed = probe_log(path)
    assert refused is None and len(scanned) == len(records_read) <= 20
    assert [r.t for r in records_read] == [float(n) for n in range(len(records_read))]
    assert report.bad_lines[-1][0] == -1 and probed.bad_line_count >= 0
    warning = report.warning("log.gz")
    assert warning is not None and "compressed stream is damaged" in warning


@EXAMPLE
@given(seconds=st.sampled_from([float("inf"), float("nan"), 1e308, 10**309]))
@example(seconds=float("inf"))
def test_bug_summary_json_is_strict_json(seconds: float) -> None:
    """summary_json_not_finite: ``replay --json`` wrote Infinity/NaN (not JSON) for a
    non-finite or huge number; such a figure is unknown: null."""
    records_in = [
        _record(
            {
                "type": "completion",
                "request_id": "q1",
                "first_audio_s": seconds,
                "elapsed_s": seconds,
                "audio_s": seconds,
                "input_audio_s": seconds,
            },
            "meta",
        )
    ]
    summary = SummaryBuilder().feed_all(records_in).summary()
    document = json.loads(render_json(summary), parse_constant=_no_constant)
    (turn,) = document["completions"]["turns"]
    assert turn["first_audio_ms"] is turn["elapsed_ms"] is None
    assert turn["audio_s"] is None or turn["audio_s"] == 1e308
    assert " - " in render_table(summary)  # unknown, in the table too


def test_times_too_far_apart_for_a_float_are_unknown_figures() -> None:
    """The same bug through ``t``: the reader accepts ±1e308 (finite), but the ms between them
    overflows: the latency and the duration are unknown (null), not ``Infinity``."""
    records_in = [
        _record({"type": "response.create"}, "client", t=-1e308),
        _record({"type": "response.created", "response": {"id": "r1"}}, t=1e308),
        _record(
            {"type": "response.output_audio.delta", "response_id": "r1", "delta": _PCM}, t=1e308
        ),
    ]
    summary = SummaryBuilder().feed_all(records_in).summary()
    document = json.loads(render_json(summary), parse_constant=_no_constant)
    assert document["totals"]["duration_s"] is None
    assert document["turns"][0]["response_created_ms"] is None
    assert document["totals"]["first_audio_ms_max"] is None
    assert "turns in - s" in render_table(summary)


def test_strict_json_writes_null_for_any_float_that_is_not_finite() -> None:
    """The net under every figure: whatever a future field computes, --json stays JSON."""
    text = strict_json({"a": [1.5, float("nan")], "b": {"c": float("-inf")}, "d": 10**400})
    assert json.loads(text, parse_constant=_no_constant) == {
        "a": [1.5, None],
        "b": {"c": None},
        "d": 10**400,
    }


# ---------------------------------------------------------------- every field, every wrong type

_PCM = base64.b64encode(bytes(960)).decode()
_WAV = base64.b64encode(
    b"RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\xc0\x5d\x00\x00\x80\xbb"
    b"\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
).decode()
BASE_LOG: list[tuple[Direction, dict[str, Any]]] = [
    ("server", {"type": "session.created", "session": {"id": "sess_1", "model": "m"}}),
    ("client", {"type": "input_audio_buffer.append", "audio": _PCM}),
    (
        "server",
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 10, "item_id": "u1"},
    ),
    ("server", {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": "u1"}),
    ("server", {"type": "input_audio_buffer.committed", "item_id": "u1"}),
    (
        "client",
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            },
        },
    ),
    ("client", {"type": "response.create", "response": {}}),
    ("server", {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}}),
    (
        "server",
        {
            "type": "response.output_item.added",
            "response_id": "r1",
            "item": {"id": "a1", "type": "message", "role": "assistant"},
        },
    ),
    (
        "server",
        {
            "type": "response.output_audio.delta",
            "response_id": "r1",
            "item_id": "a1",
            "delta": _PCM,
        },
    ),
    (
        "server",
        {
            "type": "response.output_audio.delta",
            "response_id": "r1",
            "item_id": "a1",
            "audio_bytes": 960,
        },
    ),
    (
        "server",
        {
            "type": "response.output_audio_transcript.delta",
            "response_id": "r1",
            "item_id": "a1",
            "delta": "hello",
        },
    ),
    (
        "client",
        {
            "type": "conversation.item.truncate",
            "item_id": "a1",
            "content_index": 0,
            "audio_end_ms": 5,
        },
    ),
    ("meta", {"type": "barge_in", "response_id": "r1", "item_id": "a1", "audio_end_ms": 5}),
    (
        "server",
        {
            "type": "response.done",
            "response": {
                "id": "r1",
                "status": "cancelled",
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
            },
        },
    ),
    (
        "server",
        {
            "type": "rate_limits.updated",
            "rate_limits": [{"name": "tokens", "limit": 100, "remaining": 5}],
        },
    ),
    ("server", {"type": "error", "error": {"type": "t", "code": "c", "message": "m"}}),
    ("meta", {"type": "reconnect", "attempt": 1}),
    ("meta", {"type": "audio_stats", "playback_underruns": 2, "final": True}),
    (
        "http",
        {
            "type": "chat.completions.request",
            "request_id": "q1",
            "attempt": 1,
            "model": "m",
            "stream": True,
            "body": {
                "audio": {"format": "pcm16"},
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "hi"},
                            {"type": "input_audio", "input_audio": {"data": _WAV, "format": "wav"}},
                        ],
                    }
                ],
            },
        },
    ),
    (
        "http",
        {
            "type": "chat.completions.chunk",
            "request_id": "q1",
            "chunk": {
                "choices": [
                    {
                        "delta": {"audio": {"data": _PCM, "transcript": "ok"}},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": 1,
                    "total_tokens": 2,
                    "prompt_tokens_details": {"audio_tokens": 1},
                },
            },
        },
    ),
    (
        "http",
        {
            "type": "chat.completions.error",
            "request_id": "q2",
            "attempt": 1,
            "status": 429,
            "code": "rate",
            "message": "slow",
            "retry_in_s": 1.5,
        },
    ),
    (
        "http",
        {
            "type": "chat.completions.response",
            "request_id": "q2",
            "status": 200,
            "body": {
                "choices": [{"message": {"audio": {"data": _WAV, "transcript": "ok"}}}],
                "usage": {"completion_tokens": 3},
            },
        },
    ),
    (
        "meta",
        {
            "type": "completion",
            "request_id": "q1",
            "status": "completed",
            "retries": 0,
            "first_audio_s": 0.5,
            "elapsed_s": 1.0,
            "audio_s": 0.02,
            "input_audio_s": 0.0,
            "transcript": "ok",
            "model": "m",
        },
    ),
]
"""A log touching every summary handler, the player's client and meta reactions, and an HTTP
exchange (request, chunk, a retried error, a response, its completion line)."""


async def _play(records_in: list[LogRecord]) -> tuple[str, str]:
    """The player, as ``replay`` runs it, into the real plain renderer: (stdout, stderr)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    player = ReplayPlayer(PlainView(out, err, redactor=Redactor()), write_line=lambda _: None)
    for record in records_in:
        await player.feed(record)
    return _text(out), _text(err)


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", "replace")


def _summarize(records_in: list[LogRecord]) -> None:
    """The summary, ``--json`` (strict JSON) and the table."""
    summary = SummaryBuilder().feed_all(records_in).summary()
    json.loads(render_json(summary, log="x", bad_lines=0), parse_constant=_no_constant)
    render_table(summary)


def _types(records_in: list[LogRecord]) -> list[str]:
    """``--types *``: a line per record."""
    return [format_line(record) for record in records_in]


def _failures_of_log_mutants() -> dict[str, str]:
    base = [LogRecord(i, i + 2, float(i), d, e) for i, (d, e) in enumerate(BASE_LOG)]
    loop = asyncio.new_event_loop()  # one for every run of the player

    def run(name: str, records_in: list[LogRecord], mutant: LogRecord) -> None:
        if name == "summary":
            _summarize(records_in)
        elif name == "types":
            _types([mutant])  # a line per record: only this one changed
        else:
            loop.run_until_complete(_play(records_in))

    for name in ("summary", "types", "player"):
        run(name, base, base[0])  # the base log is fine
    _types(base)
    failures: dict[str, str] = {}
    for index, record in enumerate(base):
        for path, value, event in single_mutations(record.event):
            mutant = dataclasses.replace(record, event=event)
            records_in = [*base[:index], mutant, *base[index + 1 :]]
            label = f"{record.dir} {record.event['type']} {'.'.join(map(str, path))}={value!r:.30}"
            for name in ("summary", "types", "player"):
                try:
                    run(name, records_in, mutant)
                except Exception as exc:
                    key = f"{name}: {_innermost(exc)} {type(exc).__name__}"
                    failures.setdefault(key, f"{label}: {exc!r:.100}")
    loop.close()
    return failures


def test_every_field_of_a_log_confused_one_at_a_time() -> None:
    """Each field of each record of a whole log, at any depth, replaced by each wrong value in
    turn (or removed), through the summary and its renderings, ``--types`` and the player."""
    failures = _failures_of_log_mutants()
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in failures.items())


def _innermost(exc: BaseException) -> str:
    """The product function the exception came out of."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if "realtime_console" in f.filename
    ]
    return f"{Path(frames[-1].filename).stem}.{frames[-1].name}" if frames else "?"


@EXAMPLE
@given(content=st.sampled_from([True, 1, 1.5, "hi", {"text": "hi"}, None]))
@example(content=True)
def test_bug_an_item_whose_content_is_not_a_list_has_no_text(content: object) -> None:
    """content_not_iterable: ``item.get("content") or ()`` was iterated, so a content of
    true/1/1.5 raised TypeError (summary, player, --types): it is an item without text."""
    item = {"type": "message", "role": "user", "content": content}
    records_in = [
        _record({"type": "conversation.item.create", "item": item}, "client"),
        _record({"type": "conversation.item.added", "item": {"id": "i1", **item}}),
    ]
    summary = SummaryBuilder().feed_all(records_in).summary()
    assert [turn.user_text for turn in summary.turns] == [None]
    _summarize(records_in)
    assert _types(records_in)[1].endswith("conversation.item.added  i1 user")
    out, _err = asyncio.run(_play(records_in))
    assert "you>" not in out


def test_content_parts_that_are_not_objects_are_skipped() -> None:
    parts: list[object] = [1, None, "x", [], {"type": "input_text", "text": "hello"}]
    item = {"type": "message", "role": "user", "content": parts}
    records_in = [_record({"type": "conversation.item.create", "item": item}, "client")]
    assert SummaryBuilder().feed_all(records_in).summary().turns[0].user_text == "hello"
    assert _types(records_in)[0].endswith("user 'hello'")
    out, _err = asyncio.run(_play(records_in))
    assert "hello" in out


@EXAMPLE
@given(huge=st.sampled_from([10**309, float("nan"), float("inf")]))
@example(huge=10**309)
def test_bug_replay_lines_of_huge_numbers(huge: float) -> None:
    """replay_numbers_beyond_float: --types lines (audio_bytes, completion seconds, retry wait,
    speech/truncate positions) and the HTTP player's retry line raised OverflowError on an
    integer past float range; such a number shows as unknown."""
    records_in = [
        _record({"type": "response.output_audio.delta", "audio_bytes": huge}),
        _record({"type": "completion", "request_id": "q1", "first_audio_s": huge}, "meta"),
        _record({"type": "chat.completions.error", "request_id": "q1", "retry_in_s": huge}, "http"),
        _record({"type": "input_audio_buffer.speech_started", "audio_start_ms": huge}),
        _record({"type": "conversation.item.truncate", "item_id": "a1", "audio_end_ms": huge}),
    ]
    lines = _types(records_in)
    assert lines[0].endswith(" 0 B (0 ms)")
    assert "first audio - " in lines[1]
    assert lines[2].endswith("retry in ? s")
    assert lines[3].endswith(" at ? ms") and lines[4].endswith("audio_end_ms=?")
    _out, err = asyncio.run(_play(records_in))
    assert "retrying in ? s" in err


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_bug_an_event_nested_deep_is_left_out_of_the_log_not_raised(kind: str) -> None:
    """Found by this file's longer run (``FUZZ_EXAMPLES_SCALE=60``): the writer redacts and
    serializes recursively, so an event nested about as deep as json.loads allows raised
    RecursionError out of ``EventLogWriter.write`` (the live session's frame loop)."""
    told: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deep.jsonl.gz"
        with EventLogWriter(
            path,
            provider="local",
            model="m",
            session={},
            program_version="t",
            redactor=Redactor(),
            on_error=told.append,
        ) as writer:
            deep = fuzz._nest(sys.getrecursionlimit(), kind)
            writer.write("server", {"type": "error", "error": deep})
            writer.write("server", {"type": "error"})
        assert [r.event for r in read_log(path)] == [{"type": "error"}]
    assert writer.left_out == 1 and len(told) == 1
