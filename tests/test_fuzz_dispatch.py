"""Fuzz: random and malformed server events through the real ``Dispatcher`` and handler tables.

Events of every type the SDK's ``RealtimeServerEvent`` union knows (plus the beta names and
made-up types) arrive with random, missing and wrongly typed fields, hostile strings (lone
surrogates, terminal controls), huge numbers and deep nesting, in random order, interleaved
with what the ``talk`` loop does between events (playing audio, the clock moving, the
watchdog, a manual interrupt). What must hold:

* nothing escapes ``Dispatcher.dispatch``, nor the mode's own calls between events;
* every handler failure is reported through ``on_handler_error`` and counted;
* a handler does not fail on a malformed event at all (docs/architecture.md: "A handler must
  not raise on a malformed event"), except for the failures listed in ``KNOWN_BUGS``, each of
  which also has a strict xfail test at the end with its minimal example;
* the views and audio sinks get arguments of their declared types, and every client event the
  handlers send validates against the SDK's client event models;
* the session-wide ``ANY`` handlers (conversation mirror, waiters) survive the same input and
  the mirror's restore plan is valid client events.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import tempfile
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
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
from realtime_console.ui.view import TalkView
from realtime_console.waiters import EventWaiters, any_of, error_for, is_type, unattributed_error
from tests.audio.helpers import speaker_rig
from tests.fixtures.fuzz import events_of, union_members

SERVER_MODELS = union_members(RealtimeServerEvent)
server_events = events_of(SERVER_MODELS, [*BETA_TO_GA, "future.event", "*", ""])

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------- recording collaborators


def _conforms(value: Any, hint: Any) -> bool:
    """``value`` is of the (simple) annotated type ``hint``: what a view or sink may rely on."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _signature_errors(
    protocol: type, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[str]:
    method = getattr(protocol, name, None)
    if method is None:
        return [f"{protocol.__name__} has no method {name}"]
    hints = typing.get_type_hints(method)
    try:
        bound = inspect.signature(method).bind(None, *args, **kwargs)
    except TypeError as exc:
        return [f"{name}: {exc}"]
    return [
        f"{name}({param}={value!r:.80}): not {hints[param]}"
        for param, value in bound.arguments.items()
        if param != "self" and param in hints and not _conforms(value, hints[param])
    ]


@dataclass
class RecordingView:
    """A ``TalkView`` (hence a ``ConsoleView``) that records calls and checks argument types."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("__"):
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, (*args, *kwargs.values())))
            self.wrong.extend(_signature_errors(TalkView, name, args, kwargs))

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


@dataclass(frozen=True)
class Failure:
    handler: str
    event: Mapping[str, Any]
    exc: BaseException

    def __str__(self) -> str:
        return f"{self.handler} raised {self.exc!r:.200} on {dict(self.event)!r:.300}"


def _name(handler: Any) -> str:
    owner = getattr(handler, "__self__", handler)
    method = getattr(handler, "__name__", "__call__")
    return f"{type(owner).__name__}.{method}"


def attributed(table: Mapping[str, Handler], failures: list[Failure]) -> dict[str, Handler]:
    """The same handlers, each noting its own failure (then raising it to the dispatcher)."""

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
        await self.dispatcher.dispatch(event)  # must never raise

    def check_reported(self) -> None:
        """Every failure went to on_handler_error, once, with the exception the handler raised."""
        assert self.dispatcher.stats.handler_errors == len(self.failures) == len(self.reports)
        assert [exc for _, exc in self.reports] == [f.exc for f in self.failures]

    def unexpected_failures(self) -> list[str]:
        return [str(f) for f in self.failures if not is_known_bug(f)]


# ---------------------------------------------------------------- known bugs (reported)

KnownBug = Callable[[Failure], bool]


def _int_over_float(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1.7e308


def _audio_delta_not_pcm(f: Failure) -> bool:
    """ConsoleHandlers.audio_delta: a delta that is not base64 PCM16 raises PcmError."""
    return f.handler == "ConsoleHandlers.audio_delta" and type(f.exc).__name__ == "PcmError"


def _idle_timeout_huge_ms(f: Failure) -> bool:
    """TalkHandlers.idle_timeout: audio_end_ms - audio_start_ms beyond a float overflows."""
    start, end = f.event.get("audio_start_ms"), f.event.get("audio_end_ms")
    return (
        f.handler == "TalkHandlers.idle_timeout"
        and isinstance(f.exc, OverflowError)
        and isinstance(start, int)
        and isinstance(end, int)
        and _int_over_float((end - start) // 1000)
    )


KNOWN_BUGS: dict[str, KnownBug] = {
    "audio_delta_not_pcm": _audio_delta_not_pcm,
    "idle_timeout_huge_ms": _idle_timeout_huge_ms,
}


def is_known_bug(failure: Failure) -> bool:
    return any(bug(failure) for bug in KNOWN_BUGS.values())


# ---------------------------------------------------------------- the console's table


@FUZZ
@given(events=st.lists(server_events, max_size=25))
def test_console_handlers_report_every_failure_and_fail_on_nothing_new(
    events: list[dict[str, Any]],
) -> None:
    async def scenario() -> None:
        wiring = Wiring.new()
        view, sinks = RecordingView(), [RecordingSink(), RecordingSink()]
        console = ConsoleHandlers(view, sinks)
        wiring.register(console.table())
        console.expect_error("evt_1")
        for event in events:
            await wiring.dispatch(event)
        wiring.check_reported()
        assert wiring.unexpected_failures() == []
        assert view.wrong == []
        assert [w for sink in sinks for w in sink.wrong] == []
        assert sinks[0].audio_bytes == sinks[1].audio_bytes

    asyncio.run(scenario())


# ---------------------------------------------------------------- the talk tables

Action = tuple[str, Any]

actions: st.SearchStrategy[Action] = st.one_of(
    server_events.map(lambda event: ("event", event)),
    server_events.map(lambda event: ("event", event)),
    server_events.map(lambda event: ("event", event)),
    st.tuples(st.just("advance"), st.integers(1, 30)),
    st.tuples(st.just("clock"), st.floats(0.0, 40.0)),
    st.tuples(st.sampled_from(["tick", "check_replies", "interrupt", "ready", "turn_ended"]), st.none()),
)


def _check_sent(sent: list[dict[str, Any]]) -> list[str]:
    """Every client event sent validates against its SDK model, strictly."""
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


async def _talk_scenario(steps: list[Action], interrupt_response: bool, log_dir: Path) -> None:
    wiring = Wiring.new()
    rig = speaker_rig(0.04, prebuffer_ms=40)
    view = RecordingView()
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    clock = [100.0]
    path = log_dir / "talk.jsonl"
    log = EventLogWriter(
        path, provider="local", model="m", session={}, program_version="t", redactor=Redactor()
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
    # As talk wires them: the console's table, the talk table, the event pane.
    pane = types.SimpleNamespace(view=view)
    wiring.register(console.table())
    wiring.register(talk.table())
    wiring.register({ANY: lambda event: _Talk._show_server_event(pane, event)})  # type: ignore[arg-type]
    talk.ready()
    try:
        for kind, arg in steps:
            if kind == "event":
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
        log.close()
    wiring.check_reported()
    assert wiring.unexpected_failures() == []
    assert view.wrong == []
    assert _check_sent(sent) == []
    # what the handlers wrote to the log (barge-in, timeout notes) reads back whole
    report = ReadReport()
    records = list(read_log(path, report))
    assert report.bad_line_count == 0, report.bad_lines
    assert len(records) == log.lines - 1


@FUZZ
@given(steps=st.lists(actions, max_size=30), interrupt_response=st.booleans())
def test_talk_handlers_report_every_failure_and_fail_on_nothing_new(
    steps: list[Action], interrupt_response: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_talk_scenario(steps, interrupt_response, Path(tmp)))


# ---------------------------------------------------------------- the session's ANY handlers


@FUZZ
@given(events=st.lists(server_events, max_size=25))
def test_session_wide_handlers_survive_malformed_events(events: list[dict[str, Any]]) -> None:
    async def scenario() -> None:
        wiring = Wiring.new()
        history = ConversationHistory(max_items=8)
        waiters = EventWaiters()
        wiring.register({ANY: history})
        wiring.register({ANY: waiters})
        futures = [
            waiters.expect(is_type("session.created")),
            waiters.expect(error_for({"evt_1", "evt_2"})),
            waiters.expect(unattributed_error()),
            waiters.expect(any_of(is_type("response.done"), error_for({"evt_1"}))),
        ]
        for event in events:
            await wiring.dispatch(event)
        wiring.check_reported()
        assert wiring.unexpected_failures() == []
        for future in futures:
            future.cancel()
        plan = history.restore_plan()
        assert plan.skipped >= history.evicted
        assert _check_sent(list(plan.events)) == []  # type: ignore[arg-type]

    asyncio.run(scenario())


def test_summarize_survives_any_event() -> None:
    """The event pane's one-line summary (talk) of junk is a string."""

    @FUZZ
    @given(event=server_events)
    def check(event: dict[str, Any]) -> None:
        assert isinstance(summarize(event), str)

    check()

