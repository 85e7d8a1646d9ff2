"""Fuzz: the event-log reader over hostile files, and the replay summary over random records.

The reader (docs/event-log.md, "Reading") must never raise on what a file holds except
``LogFormatError`` (a header of another version): random bytes, random JSON values, a gzip cut
short or damaged, lines longer than the limit, records whose ``t``/``dir``/``event`` are wrong.
It yields exactly the lines that are events, in order, and counts every other non-blank line.
The summary (``SummaryBuilder`` → ``summary()`` → ``--json`` / the table) must never raise on
records the reader yields: valid-shaped server, client, meta and HTTP events with random
values; its JSON output is strict JSON.

Two shapes are left out of the broad tests because they are reported bugs, each with a strict
xfail test (with its minimal example) at the end: an integer ``t`` past float range (the reader
raises OverflowError) and, for the summary, numbers past float range in its ms/bytes fields.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import io
import json
import math
import tempfile
import traceback
import zlib
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
from realtime_console.replay.summary_table import render_json, render_table
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


@contextmanager
def log_file(data: bytes, suffix: str = ".jsonl") -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log{suffix}"
        path.write_bytes(data)
        yield path


def _beyond_float(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1.7e308


def _t_beyond_float(obj: Any) -> bool:
    """The reported bug ``eventlog_t_beyond_float``: a record whose ``t`` is an integer no
    float holds makes ``_record``'s ``math.isfinite(t)`` raise OverflowError."""
    return (
        isinstance(obj, dict)
        and "dir" in obj
        and isinstance(obj.get("event"), dict)
        and obj.get("dir") in DIRECTIONS
        and _beyond_float(obj.get("t"))
    )


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


@settings(FUZZ, max_examples=150)
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


@settings(FUZZ, max_examples=100)
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
        return (float(t), direction, to_ga(obj["event"])) if math.isfinite(t) else None
    if isinstance(obj.get("type"), str):
        return None, "server", to_ga(obj)
    return None


@settings(FUZZ, max_examples=120)
@given(objs=st.lists(records(), max_size=15))
def test_records_with_wrong_t_dir_or_event_are_skipped_and_counted(
    objs: list[dict[str, Any]],
) -> None:
    objs = [obj for obj in objs if not _t_beyond_float(obj)]  # bug eventlog_t_beyond_float
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


@settings(FUZZ, max_examples=60)
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
        assert len(whole) == len(events)
        data = bytearray(path.read_bytes())
        data = data[: int(len(data) * cut)]
        if flip is not None and data:
            data[flip % len(data)] ^= 0x5A
        path.write_bytes(bytes(data))
        try:
            records_read, report, refused = read_all(path)
        except zlib.error:
            assert flip is not None  # bug eventlog_damaged_gzip (test_bug_… below)
            return
    assert refused is None or flip is not None
    check_records(records_read, report)
    if flip is None:  # cut only: what was read is what was written, up to the cut
        assert json.dumps([r.event for r in records_read]) == json.dumps(
            [r.event for r in whole[: len(records_read)]]
        )
        if data and cut < 1.0:  # (an empty .gz reads as an empty log)
            assert report.bad_line_count >= 1 or len(records_read) == len(whole)


# ---------------------------------------------------------------- the summary


SAFE_INT_LIMIT = 2**63  # past float range: bug summary_numbers_beyond_float
SAFE_FLOAT_LIMIT = 1e300  # NaN, ±inf, and what ×1000 makes inf: bug summary_json_not_finite


def _within_float(value: Any, depth: int = 0) -> Any:
    """``value`` with every number clamped to where the summary's arithmetic stays finite:
    the two reported bugs above, each with its own test at the end; nothing else is changed.
    (Below depth 20 only ``fuzz.deep``'s nesting lives, which holds no number.)"""
    if isinstance(value, bool) or depth > 20:
        return value
    if isinstance(value, int):
        return max(-SAFE_INT_LIMIT, min(SAFE_INT_LIMIT, value))
    if isinstance(value, float):
        return 0.0 if math.isnan(value) else max(-SAFE_FLOAT_LIMIT, min(SAFE_FLOAT_LIMIT, value))
    if isinstance(value, dict):
        return {k: _within_float(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_within_float(v, depth + 1) for v in value]
    return value


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
).map(_within_float)
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
    "client": client_side.map(_within_float),
    "meta": meta_events.map(_within_float),
    "http": st.one_of(mutated(http_events), http_events).map(_within_float),
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
        record = LogRecord(index, index + 2, None if bare else t, direction, to_ga(event))
        out.append(record)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@settings(FUZZ, max_examples=60)
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


# ---------------------------------------------------------------- each known bug, minimal


@pytest.mark.xfail(
    strict=True,
    reason="bug eventlog_t_beyond_float: eventlog._record calls "
    "math.isfinite on an integer t past float range: OverflowError escapes read_log",
)
@EXAMPLE
@given(t=st.sampled_from([10**309, -(10**309), int("9" * 4300)]))
@example(t=10**309)
def test_bug_a_huge_integer_t_is_a_bad_line(t: int) -> None:
    line = f'{{"t":{t},"dir":"server","event":{{"type":"error"}}}}\n'
    with log_file(line.encode()) as path:
        records_read, report, _ = read_all(path)
    assert records_read == [] and report.bad_line_count == 1


def _record(event: dict[str, Any], direction: Direction = "server", t: float = 1.0) -> LogRecord:
    return LogRecord(0, 2, t, direction, event)


@pytest.mark.xfail(
    strict=True,
    reason="bug summary_numbers_beyond_float: SummaryBuilder "
    "float()s audio_start_ms/audio_end_ms/audio_bytes/rate limits: OverflowError",
)
@EXAMPLE
@given(
    event=st.sampled_from(
        [
            {"type": "input_audio_buffer.speech_started", "audio_start_ms": 10**309},
            {
                "type": "rate_limits.updated",
                "rate_limits": [{"name": "tokens", "limit": 10**309, "remaining": 1}],
            },
            {
                "type": "rate_limits.updated",
                "rate_limits": [{"name": "tokens", "limit": float("nan"), "remaining": 1}],
            },
        ]
    )
)
@example(event={"type": "input_audio_buffer.speech_started", "audio_start_ms": 10**309})
def test_bug_summary_of_huge_numbers(event: dict[str, Any]) -> None:
    summary = SummaryBuilder().feed_all([_record(event)]).summary()
    render_json(summary)


@pytest.mark.xfail(
    strict=True,
    reason="bug summary_audio_bytes_beyond_float: a huge "
    "audio_bytes (--log-audio none) overflows Turn.audio_generated_s",
)
@EXAMPLE
@given(n=st.sampled_from([10**309]))
@example(n=10**309)
def test_bug_summary_of_huge_audio_bytes(n: int) -> None:
    records_in = [
        _record({"type": "response.created", "response": {"id": "r1"}}),
        _record({"type": "response.output_audio.delta", "response_id": "r1", "audio_bytes": n}),
    ]
    render_json(SummaryBuilder().feed_all(records_in).summary())


@pytest.mark.xfail(
    strict=True,
    reason="bug eventlog_damaged_gzip: eventlog._stream catches "
    "BadGzipFile/OSError/EOFError but not zlib.error: a damaged deflate stream escapes",
)
@EXAMPLE
@given(position=st.sampled_from([10, 11, 12]))
@example(position=10)
def test_bug_a_damaged_gzip_is_reported_not_raised(position: int) -> None:
    lines = b"".join(b'{"t":%d,"dir":"server","event":{"type":"error"}}\n' % n for n in range(20))
    data = bytearray(gzip.compress(lines))
    data[position] ^= 0x5A  # the first bytes of the deflate stream, after the 10-byte header
    with log_file(bytes(data), ".gz") as path:
        records_read, report, _ = read_all(path)
    assert report.bad_line_count >= 1


@pytest.mark.xfail(
    strict=True,
    reason="bug summary_json_not_finite: replay --json writes "
    "Infinity/NaN (not JSON) when a record holds a non-finite or huge number",
)
@EXAMPLE
@given(seconds=st.sampled_from([float("inf"), float("nan"), 1e308]))
@example(seconds=float("inf"))
def test_bug_summary_json_is_strict_json(seconds: float) -> None:
    records_in = [
        _record({"type": "completion", "request_id": "q1", "first_audio_s": seconds}, "meta")
    ]
    text = render_json(SummaryBuilder().feed_all(records_in).summary())
    json.loads(text, parse_constant=_no_constant)


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

_BEYOND_FLOAT = {
    "nan",
    "inf",
    repr(10**309),
}  # bugs summary_numbers_beyond_float, …_json_not_finite


async def _play(records_in: list[LogRecord]) -> None:
    """The player, as ``replay`` runs it, into the real plain renderer."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    player = ReplayPlayer(PlainView(out, err, redactor=Redactor()), write_line=lambda _: None)
    for record in records_in:
        await player.feed(record)


def _summarize(records_in: list[LogRecord]) -> None:
    """The summary, ``--json`` (strict JSON) and the table."""
    summary = SummaryBuilder().feed_all(records_in).summary()
    json.loads(render_json(summary, log="x", bad_lines=0), parse_constant=_no_constant)
    render_table(summary)


def _types(records_in: list[LogRecord]) -> None:
    """``--types *``: a line per record."""
    for record in records_in:
        format_line(record)


KNOWN_LOG_BUGS = {
    # bug content_not_iterable: ``item.get("content") or ()`` iterated: True, 1, 1.5 raise
    "summary: summary.user_text_of TypeError",
    "player: summary.user_text_of TypeError",
    "types: event_lines._item TypeError",
    # bug replay_numbers_beyond_float: --types lines and the HTTP player's retry line float()
    # an integer past float range
    "player: http_shapes.error_line OverflowError",
    "types: pcm.samples_to_ms OverflowError",
    "types: event_lines._http_error OverflowError",
    "types: event_lines.seconds OverflowError",
}
"""(what ran: the product function the exception left, its type) of each reported bug."""


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
                if name == "summary" and repr(value) in _BEYOND_FLOAT:
                    continue
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
    unknown = {key: where for key, where in failures.items() if key not in KNOWN_LOG_BUGS}
    assert unknown == {}, "\n".join(f"{k}: {v}" for k, v in unknown.items())


def _innermost(exc: BaseException) -> str:
    """The product function the exception came out of."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if "realtime_console" in f.filename
    ]
    return f"{Path(frames[-1].filename).stem}.{frames[-1].name}" if frames else "?"


@pytest.mark.xfail(
    strict=True,
    reason="bug content_not_iterable: summary.user_text_of and event_lines._item iterate "
    "item.content or (): content true/1/1.5 raises TypeError (summary, player, --types)",
)
@EXAMPLE
@given(content=st.sampled_from([True, 1, 1.5]))
@example(content=True)
def test_bug_an_item_whose_content_is_not_a_list_has_no_text(content: object) -> None:
    item = {"type": "message", "role": "user", "content": content}
    records_in = [
        _record({"type": "conversation.item.create", "item": item}, "client"),
        _record({"type": "conversation.item.added", "item": {"id": "i1", **item}}),
    ]
    _summarize(records_in)
    _types(records_in)
    asyncio.run(_play(records_in))


@pytest.mark.xfail(
    strict=True,
    reason="bug replay_numbers_beyond_float: --types lines (audio_bytes, completion seconds) "
    "and the HTTP player's retry line raise OverflowError on an integer past float range",
)
@EXAMPLE
@given(
    record=st.sampled_from(
        [
            ("server", {"type": "response.output_audio.delta", "audio_bytes": 10**309}),
            ("meta", {"type": "completion", "request_id": "q1", "first_audio_s": 10**309}),
            ("http", {"type": "chat.completions.error", "request_id": "q1", "retry_in_s": 10**309}),
        ]
    )
)
@example(
    record=("http", {"type": "chat.completions.error", "request_id": "q1", "retry_in_s": 10**309})
)
def test_bug_replay_lines_of_huge_numbers(record: tuple[Direction, dict[str, Any]]) -> None:
    records_in = [_record(record[1], record[0])]
    _types(records_in)
    asyncio.run(_play(records_in))
