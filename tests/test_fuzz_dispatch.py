"""Fuzz: random and malformed server events through the real ``Dispatcher`` and handler tables.

Events of every type the SDK's ``RealtimeServerEvent`` union knows (plus the beta names and
made-up types) arrive with random, missing and wrongly typed fields, hostile strings (lone
surrogates, terminal controls), huge numbers and deep nesting, in random order, interleaved
with what the ``talk`` loop does between events (playing audio, the clock moving, the
watchdog, a manual interrupt). What must hold:

* nothing escapes ``Dispatcher.dispatch``, nor the mode's own calls between events;
* every handler failure is reported through ``on_handler_error``, once, and counted;
* no handler fails on a malformed event at all (docs/architecture.md: "A handler must not
  raise on a malformed event"); each bug the sweep found has a test at the end with its
  minimal example;
* views and audio sinks get arguments of their declared types, the real plain renderer
  writes all of it to a strict UTF-8 stream, and every client event the handlers send (or
  the conversation mirror would send on a reconnect) validates against the SDK's models.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
import io
import tempfile
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openai.types.realtime import RealtimeServerEvent

from realtime_console.audio.playback import Playback
from realtime_console.dispatcher import ANY, Dispatcher, Event, Handler
from realtime_console.eventlog import EventLogWriter, ReadReport, read_log
from realtime_console.handlers import ConsoleHandlers
from realtime_console.modes.talk import _Talk, summarize
from realtime_console.modes.talk_handlers import TalkHandlers
from realtime_console.protocol.aliases import BETA_TO_GA
from realtime_console.protocol.history import ConversationHistory
from realtime_console.redact import Redactor
from realtime_console.server.core import ROUTES
from realtime_console.server.service_errors import ServiceError
from realtime_console.server.validation import validate_event
from realtime_console.ui.plain import PlainView
from realtime_console.ui.view import TalkView
from realtime_console.waiters import EventWaiters, any_of, error_for, is_type, unattributed_error
from tests.audio.helpers import speaker_rig
from tests.fixtures.fuzz import (
    events_of,
    mutated,
    plausible_server_events,
    single_mutations,
    union_members,
)

SERVER_MODELS = union_members(RealtimeServerEvent)
server_events = st.one_of(
    events_of(SERVER_MODELS, [*BETA_TO_GA, "future.event", "*", ""]),
    mutated(plausible_server_events),
)

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE = settings(deadline=None, database=None, derandomize=True, max_examples=10)


# ---------------------------------------------------------------- recording collaborators


def _conforms(value: Any, hint: Any) -> bool:
    """``value`` is of the (simple) annotated type ``hint``: what a view may rely on."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(hint))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence):
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, Sequence) and all(_conforms(v, item) for v in value)
    if hint is type(None) or hint is None:
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


@functools.cache
def _view_method(name: str) -> tuple[inspect.Signature, dict[str, Any]] | None:
    method = getattr(TalkView, name, None)  # TalkView is ConsoleView + ServerUpdatesView + more
    if method is None:
        return None
    return inspect.signature(method), typing.get_type_hints(method)


def _signature_errors(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str]:
    found = _view_method(name)
    if found is None:
        return [f"views have no method {name}"]
    signature, hints = found
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as exc:
        return [f"{name}: {exc}"]
    return [
        f"{name}({param}={value!r:.80}): not {hints[param]}"
        for param, value in bound.arguments.items()
        if param != "self" and param in hints and not _conforms(value, hints[param])
    ]


@dataclass
class RecordingView:
    """A ``TalkView`` that records each call, checks its argument types, and hands it on to
    ``real`` (a renderer) when that has the method."""

    real: object | None = None
    calls: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    shows_events: bool = True

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("__"):
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append(name)
            self.wrong.extend(_signature_errors(name, args, kwargs))
            method = getattr(self.real, name, None)
            if method is not None:
                method(*args, **kwargs)

        return record


@dataclass
class RecordingSink:
    """An ``AudioSink`` that checks what it is handed."""

    audio_bytes: int = 0
    wrong: list[str] = field(default_factory=list)

    def audio(self, response_id: str, item_id: str, pcm16: bytes) -> None:
        if not (isinstance(response_id, str) and isinstance(item_id, str)):
            self.wrong.append(f"audio ids {response_id!r:.40} {item_id!r:.40}")
        if not isinstance(pcm16, bytes) or len(pcm16) % 2:
            self.wrong.append(f"audio payload {type(pcm16).__name__} of {len(pcm16)} bytes")
        self.audio_bytes += len(pcm16)

    def response_done(self, response_id: str) -> None:
        if not isinstance(response_id, str):
            self.wrong.append(f"response_done({response_id!r:.40})")


def strict_plain_view() -> tuple[PlainView, io.BytesIO]:
    """The real plain renderer on stdout/stderr that encode strictly, as a terminal's do."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    return PlainView(out, err, redactor=Redactor(["sk-fuzz-0123456789abcdef"])), raw


@dataclass(frozen=True)
class Failure:
    handler: str
    event: Mapping[str, Any]
    exc: BaseException

    def __str__(self) -> str:
        return f"{self.handler} raised {self.exc!r:.200} on {dict(self.event)!r:.400}"


def _name(handler: Any) -> str:
    owner = getattr(handler, "__self__", handler)
    method = getattr(handler, "__name__", "__call__")
    return f"{type(owner).__name__}.{method}"


def attributed(table: Mapping[str, Handler], failures: list[Failure]) -> dict[str, Handler]:
    """The same handlers, each noting its own failure, then raising it on to the dispatcher."""

    def wrap(handler: Handler) -> Handler:
        async def call(event: Event) -> None:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                failures.append(Failure(_name(handler), event, exc))
                raise

        return call

    return {event_type: wrap(handler) for event_type, handler in table.items()}


@dataclass
class Wiring:
    dispatcher: Dispatcher
    reports: list[tuple[str, BaseException]]
    failures: list[Failure]

    @classmethod
    def new(cls) -> Wiring:
        reports: list[tuple[str, BaseException]] = []
        dispatcher = Dispatcher(on_handler_error=lambda kind, exc: reports.append((kind, exc)))
        return cls(dispatcher, reports, [])

    def register(self, table: Mapping[str, Handler]) -> None:
        self.dispatcher.register(attributed(table, self.failures))

    async def dispatch(self, event: Event) -> None:
        await self.dispatcher.dispatch(event)  # must never raise: nothing catches it here

    def check(self) -> None:
        """Every failure went to on_handler_error, once, with the exception raised; and there
        is none."""
        assert self.dispatcher.stats.handler_errors == len(self.failures) == len(self.reports)
        assert [exc for _, exc in self.reports] == [f.exc for f in self.failures]
        assert [str(f) for f in self.failures] == []


# ---------------------------------------------------------------- the console's table


@settings(FUZZ, max_examples=70)
@given(events=st.lists(server_events, min_size=5, max_size=30))
def test_console_handlers_report_every_failure_and_fail_on_nothing_new(
    events: list[dict[str, Any]],
) -> None:
    async def scenario() -> None:
        wiring = Wiring.new()
        plain, stdout = strict_plain_view()
        view, sinks = RecordingView(plain), [RecordingSink(), RecordingSink()]
        console = ConsoleHandlers(view, sinks)
        wiring.register(console.table())
        console.expect_error("evt_1")
        for event in events:
            await wiring.dispatch(event)
        wiring.check()
        assert view.wrong == []
        assert [w for sink in sinks for w in sink.wrong] == []
        assert sinks[0].audio_bytes == sinks[1].audio_bytes
        stdout.getvalue().decode("utf-8")  # what the renderer wrote is text

    asyncio.run(scenario())


# ---------------------------------------------------------------- the talk tables

Action = tuple[str, Any]
_plausible = mutated(plausible_server_events).map(lambda event: ("event", event))
actions: st.SearchStrategy[Action] = st.one_of(
    server_events.map(lambda event: ("event", event)),
    _plausible,
    _plausible,
    st.tuples(st.just("advance"), st.integers(1, 30)),
    st.tuples(st.just("clock"), st.floats(0.0, 40.0)),
    st.tuples(
        st.sampled_from(["tick", "check_replies", "interrupt", "ready", "turn_ended"]), st.none()
    ),
)


def sent_event_errors(sent: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why each client event is not valid for the SDK's model of its type, strictly."""
    wrong = []
    for event in sent:
        route = ROUTES.get(str(event.get("type")))
        if route is None:
            wrong.append(f"unknown client event {event!r:.200}")
            continue
        try:
            validate_event(route.model, event)
        except ServiceError as exc:
            wrong.append(f"{event!r:.200}: {exc}")
    return wrong


async def _talk(steps: list[Action], interrupt_response: bool, log_path: Path | None) -> None:
    """``steps`` through everything a live ``talk`` session registers on its dispatcher: the
    session's mirror and waiters, the console's table, the talk table and the event pane."""
    wiring = Wiring.new()
    rig = speaker_rig(0.04, prebuffer_ms=40)
    view = RecordingView()
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    clock = [100.0]
    log = None
    if log_path is not None:
        log = EventLogWriter(
            log_path,
            provider="local",
            model="m",
            session={},
            program_version="t",
            redactor=Redactor(),
        )
    console = ConsoleHandlers(view, [Playback(rig.speaker)])
    talk = TalkHandlers(
        view=view,
        speaker=rig.speaker,
        console=console,
        send=send,
        interrupt_response=interrupt_response,
        event_log=log,
        clock=lambda: clock[0],
        response_timeout_s=30.0,
    )
    history, waiters = ConversationHistory(max_items=8), EventWaiters()
    wiring.register({ANY: history})  # as open_session() and talk.py wire them
    wiring.register({ANY: waiters})
    waiting = [
        waiters.expect(is_type("session.created")),
        waiters.expect(any_of(talk.watch.is_turn_done, error_for({"evt_1"}))),
    ]
    pane = types.SimpleNamespace(view=view)
    wiring.register(console.table())
    wiring.register(talk.table())
    wiring.register({ANY: lambda event: _Talk._show_server_event(pane, event)})  # type: ignore[arg-type]
    talk.ready()
    try:
        for kind, arg in steps:  # the mode's own calls must not raise either
            if kind == "event":
                if log is not None:
                    log.write("server", arg)
                await wiring.dispatch(arg)
            elif kind == "advance":
                rig.stream.advance(arg)
            elif kind == "clock":
                clock[0] += arg
            elif kind == "tick":
                talk.tick()
            elif kind == "check_replies":
                await talk.check_replies()
            elif kind == "interrupt":
                await talk.interrupt()
            elif kind == "ready":
                talk.ready()
            elif kind == "turn_ended":
                talk.user_turn_ended()
    finally:
        rig.speaker.close(discard=True)
        if log is not None:
            log.close()
        for future in waiting:
            future.cancel()
    wiring.check()
    assert view.wrong == []
    assert sent_event_errors(sent) == []
    assert sent_event_errors(history.restore_plan().events) == []
    if log is not None and log_path is not None:
        # the log the handlers wrote to (barge-in and timeout notes) reads back whole
        report = ReadReport()
        assert len(list(read_log(log_path, report))) == log.lines - 1
        assert report.bad_line_count == 0, report.bad_lines


@settings(FUZZ, max_examples=40)
@given(steps=st.lists(actions, min_size=15, max_size=50), interrupt_response=st.booleans())
def test_talk_handlers_report_every_failure_and_fail_on_nothing_new(
    steps: list[Action], interrupt_response: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_talk(steps, interrupt_response, Path(tmp) / "talk.jsonl"))


# ---------------------------------------------------------------- every field, every wrong type

_AUDIO = base64.b64encode(bytes(4800)).decode()  # 100 ms
CONVERSATION: list[Action] = [
    ("event", {"type": "session.created", "session": {"id": "sess_1", "model": "m"}}),
    ("event", {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": "u1"}),
    ("clock", 1.0),
    ("event", {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": "u1"}),
    (
        "event",
        {
            "type": "conversation.item.added",
            "item": {
                "id": "u1",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "transcript": None}],
            },
        },
    ),
    (
        "event",
        {
            "type": "response.created",
            "response": {
                "id": "r1",
                "object": "realtime.response",
                "status": "in_progress",
                "conversation_id": "conv_1",
                "metadata": None,
            },
        },
    ),
    (
        "event",
        {
            "type": "response.output_item.added",
            "response_id": "r1",
            "output_index": 0,
            "item": {"id": "a1", "type": "message", "role": "assistant", "content": []},
        },
    ),
    (
        "event",
        {
            "type": "response.output_audio_transcript.delta",
            "response_id": "r1",
            "item_id": "a1",
            "output_index": 0,
            "content_index": 0,
            "delta": "one two",
        },
    ),
    (
        "event",
        {
            "type": "response.output_text.delta",
            "response_id": "r1",
            "item_id": "a1",
            "output_index": 0,
            "content_index": 1,
            "delta": "three",
        },
    ),
    (
        "event",
        {
            "type": "response.output_audio.delta",
            "response_id": "r1",
            "item_id": "a1",
            "output_index": 0,
            "content_index": 0,
            "delta": _AUDIO,
        },
    ),
    (
        "event",
        {
            "type": "response.output_audio.delta",
            "response_id": "r1",
            "item_id": "a1",
            "output_index": 0,
            "content_index": 0,
            "delta": _AUDIO,
        },
    ),
    ("advance", 4),
    (
        "event",
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": "u1",
            "content_index": 0,
            "delta": "hel",
        },
    ),
    (
        "event",
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "u1",
            "content_index": 0,
            "transcript": "hello",
        },
    ),
    (
        "event",
        {
            "type": "response.output_audio_transcript.done",
            "response_id": "r1",
            "item_id": "a1",
            "output_index": 0,
            "content_index": 0,
            "transcript": "one two three",
        },
    ),
    (
        "event",
        {
            "type": "response.output_text.done",
            "response_id": "r1",
            "item_id": "a1",
            "output_index": 0,
            "content_index": 1,
            "text": "three",
        },
    ),
    (
        "event",
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 2000, "item_id": "u2"},
    ),
    (
        "event",
        {
            "type": "response.done",
            "response": {
                "id": "r1",
                "status": "cancelled",
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
                "output": [{"id": "a1", "type": "message"}],
            },
        },
    ),
    (
        "event",
        {
            "type": "rate_limits.updated",
            "rate_limits": [{"name": "tokens", "limit": 100, "remaining": 5, "reset_seconds": 1.5}],
        },
    ),
    (
        "event",
        {
            "type": "conversation.item.done",
            "item": {
                "id": "a1",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_audio", "transcript": "one two three"}],
            },
        },
    ),
    (
        "event",
        {
            "type": "conversation.item.truncated",
            "item_id": "a1",
            "content_index": 0,
            "audio_end_ms": 100,
        },
    ),
    (
        "event",
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "u2",
            "content_index": 0,
            "error": {"type": "t", "message": "no"},
        },
    ),
    (
        "event",
        {
            "type": "input_audio_buffer.timeout_triggered",
            "audio_start_ms": 100,
            "audio_end_ms": 4100,
            "item_id": "u3",
        },
    ),
    ("clock", 40.0),
    ("check_replies", None),
    (
        "event",
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": "c",
                "message": "m",
                "event_id": "evt_1",
                "param": None,
            },
        },
    ),
    ("event", {"type": "conversation.item.deleted", "item_id": "u1"}),
    ("tick", None),
]
"""A talk session touching every handler: speech, a reply (audio, transcript, text), a
barge-in, the final texts, rate limits, a truncation, a failed transcription, an idle timeout,
the watchdog, an error, a deletion."""


def _conversation_mutants() -> Iterator[tuple[str, list[Action]]]:
    for index, (kind, arg) in enumerate(CONVERSATION):
        if kind != "event":
            continue
        for path, value, mutant in single_mutations(arg):
            label = f"{arg['type']} {'.'.join(map(str, path))} = {value!r:.40}"
            yield label, [*CONVERSATION[:index], ("event", mutant), *CONVERSATION[index + 1 :]]


def test_every_field_of_a_conversation_confused_one_at_a_time() -> None:
    """The exhaustive complement of the random tests: each field of each event of a whole
    talk session, at any depth, replaced by each wrong value in turn (or removed)."""

    async def sweep() -> list[str]:
        await _talk(CONVERSATION, interrupt_response=False, log_path=None)  # the base runs
        wrong = []
        for label, steps in _conversation_mutants():
            try:
                await _talk(steps, interrupt_response=False, log_path=None)
            except AssertionError as exc:
                wrong.append(f"{label}: {str(exc)[:300]}")
        return wrong

    assert asyncio.run(sweep()) == []


# ---------------------------------------------------------------- the session's ANY handlers


@settings(FUZZ, max_examples=70)
@given(events=st.lists(server_events, min_size=5, max_size=30))
def test_session_wide_handlers_survive_malformed_events(events: list[dict[str, Any]]) -> None:
    async def scenario() -> None:
        wiring = Wiring.new()
        history = ConversationHistory(max_items=8)
        waiters = EventWaiters()
        wiring.register({ANY: history})  # as open_session() registers them
        wiring.register({ANY: waiters})
        futures = [
            waiters.expect(is_type("session.created")),
            waiters.expect(error_for({"evt_1", "r1"})),
            waiters.expect(unattributed_error()),
            waiters.expect(any_of(is_type("response.done"), error_for({"evt_1"}))),
        ]
        for event in events:
            await wiring.dispatch(event)
        wiring.check()
        for future in futures:
            future.cancel()
        plan = history.restore_plan()
        assert plan.skipped >= history.evicted
        assert sent_event_errors(plan.events) == []  # what a reconnect would send

    asyncio.run(scenario())


@settings(FUZZ, max_examples=200)
@given(event=server_events)
def test_the_event_pane_summary_of_any_event_is_a_line(event: dict[str, Any]) -> None:
    assert isinstance(summarize(event), str)


# ---------------------------------------------------------------- each bug found, minimal


async def _failures_of(table: Mapping[str, Handler], event: Event) -> list[Failure]:
    wiring = Wiring.new()
    wiring.register(table)
    await wiring.dispatch(event)
    assert wiring.dispatcher.stats.handler_errors == len(wiring.reports) == len(wiring.failures)
    return wiring.failures


@EXAMPLE
@given(delta=st.sampled_from(["@@", "AA==", "\ud800", "A"]))  # "AA==": one byte, odd
@example(delta="@@")
def test_an_audio_delta_that_is_not_pcm_is_skipped_with_one_notice(delta: str) -> None:
    """Was audio_delta_not_pcm: ConsoleHandlers.audio_delta raised PcmError."""

    async def scenario() -> tuple[list[Failure], RecordingView, RecordingSink, TalkHandlers]:
        rig = speaker_rig()
        view, sink = RecordingView(), RecordingSink()
        console = ConsoleHandlers(view, [sink])

        async def send(event: dict[str, Any]) -> None:
            return None

        talk = TalkHandlers(
            view=view, speaker=rig.speaker, console=console, send=send, interrupt_response=True
        )
        event = {
            "type": "response.output_audio.delta",
            "response_id": "r1",
            "item_id": "i1",
            "output_index": 0,
            "content_index": 0,
            "delta": delta,
        }
        wiring = Wiring.new()
        wiring.register(console.table())  # in this order, as talk registers them
        wiring.register(talk.table())
        try:
            for _ in range(3):  # the same response's deltas: told once
                await wiring.dispatch(event)
        finally:
            rig.speaker.close(discard=True)
        wiring.check()
        return wiring.failures, view, sink, talk

    failures, view, sink, talk = asyncio.run(scenario())
    assert failures == []
    assert view.calls == ["notice"]  # once for the response, however many deltas
    assert sink.audio_bytes == 0
    assert talk.turns.last_latency_ms is None  # nothing was heard: no latency, no state


def test_bad_audio_can_be_counted_instead_of_told() -> None:
    bad: list[str] = []
    view = RecordingView()
    console = ConsoleHandlers(view, on_bad_audio=lambda event, exc: bad.append(str(exc)))
    event = {"type": "response.output_audio.delta", "response_id": "r1", "delta": "@@"}
    assert asyncio.run(_failures_of(console.table(), event)) == []
    assert len(bad) == 1 and "base64" in bad[0]
    assert view.calls == []


@EXAMPLE
@given(limit=st.sampled_from([float("nan"), float("inf"), float("-inf"), 10**309]))
@example(limit=float("nan"))
def test_a_rate_limit_that_is_not_finite_is_skipped(limit: float) -> None:
    """Was rate_limit_not_finite: rate_limits.parse raised ValueError/OverflowError."""
    view = RecordingView()
    console = ConsoleHandlers(view, [])
    event = {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": "tokens", "limit": limit, "remaining": 5},
            {"name": "requests", "limit": 10, "remaining": limit},
            {"name": "ok", "limit": 10, "remaining": 5, "reset_seconds": limit},
            {"name": "good", "limit": 10, "remaining": 5},
        ],
    }
    assert asyncio.run(_failures_of(console.table(), event)) == []
    assert [(limit.name, limit.reset_seconds) for limit in console.rate_limits] == [
        ("ok", None),
        ("good", None),
    ]


@EXAMPLE
@given(end=st.sampled_from([10**312, int("9" * 4300), -5]))
@example(end=10**312)
def test_an_idle_timeout_with_a_huge_end_still_says_so(end: int) -> None:
    """Was idle_timeout_huge_ms: TalkHandlers.idle_timeout overflowed dividing audio_end_ms."""

    async def scenario() -> tuple[list[Failure], RecordingView]:
        rig = speaker_rig()
        view = RecordingView()

        async def send(event: dict[str, Any]) -> None:
            return None

        console = ConsoleHandlers(view, [])
        talk = TalkHandlers(
            view=view, speaker=rig.speaker, console=console, send=send, interrupt_response=True
        )
        event = {
            "type": "input_audio_buffer.timeout_triggered",
            "audio_start_ms": 0,
            "audio_end_ms": end,
            "item_id": "i1",
        }
        try:
            return await _failures_of(talk.table(), event), view
        finally:
            rig.speaker.close(discard=True)

    failures, view = asyncio.run(scenario())
    assert failures == []
    assert view.calls == ["notice"]  # the idle timeout, without a duration it cannot show


@EXAMPLE
@given(event_id=st.sampled_from([[], {}, ["evt_1"]]))
@example(event_id=[])
def test_an_error_with_an_unhashable_event_id_reaches_every_waiter(event_id: object) -> None:
    async def scenario() -> None:
        waiters = EventWaiters()
        first = waiters.expect(error_for({"evt_1"}))
        second = waiters.expect(is_type("error"))
        event = {"type": "error", "error": {"type": "x", "message": "m", "event_id": event_id}}
        failures = await _failures_of({ANY: waiters}, event)
        assert second.done(), "a waiter after the failing predicate never saw the event"
        assert failures == []
        first.cancel()

    asyncio.run(scenario())


@EXAMPLE
@given(index=st.sampled_from([10**6]))
@example(index=10**6)
def test_history_content_index_is_bounded(index: int) -> None:
    history = ConversationHistory()
    history(
        {
            "type": "conversation.item.added",
            "item": {"id": "i1", "type": "message", "role": "user", "content": []},
        }
    )
    history(
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "i1",
            "content_index": index,
            "transcript": "hello",
        }
    )
    (item,) = history.items
    assert len(item.texts) <= 64
