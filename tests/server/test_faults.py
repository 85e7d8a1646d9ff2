"""Fault injection: the spec syntax, the pure injector, and every fault through the real SDK."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from realtime_console.errors import ConfigError
from realtime_console.server import LocalServer, ServerOptions
from realtime_console.server.faults import (
    MALFORMED_FRAME,
    TRANSCRIPTION_FAILURE,
    UNKNOWN_EVENT_TYPE,
    Abort,
    FaultInjector,
    FaultPlan,
    HttpFault,
    Send,
    Sleep,
    Stall,
    http_fault,
)
from realtime_console.server.testing import EventRecorder, check_server_event

API_KEY = "test-key-0123456789"
USER_TEXT = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}


def test_spec_parses_every_fault() -> None:
    spec = (
        "drop_after=40, delay_ms=50,jitter_ms=30.5,malformed_at=5,unknown_at=3,error_at=7,"
        "refuse=2,stall_after=20,seed=1,drop_at=response.done"
    )
    assert FaultPlan.parse(spec) == FaultPlan(
        drop_after=40,
        drop_at="response.done",
        delay_ms=50.0,
        jitter_ms=30.5,
        malformed_at=5,
        unknown_at=3,
        error_at=7,
        refuse=2,
        stall_after=20,
        seed=1,
    )
    assert FaultPlan.parse("") == FaultPlan()
    assert not FaultPlan.parse("seed=4").active
    assert FaultPlan.parse("refuse=1").active


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode=1", "unknown fault 'explode'"),
        ("drop_after", "expected name=value"),
        ("drop_after=", "expected name=value"),
        ("drop_after=x", "drop_after must be a whole number"),
        ("delay_ms=soon", "delay_ms must be a number"),
        ("refuse=-1", "refuse must be >= 0"),
        ("error_at=0", "counts events from 1"),
        ("seed=1,seed=2", "seed given twice"),
        ("http_status=418", "http_status must be one of 403, 404, 429, 500, 502, 503, got 418"),
        ("http_status=429,http_errors=0", "http_errors counts requests from 1"),
        ("http_errors=3", "http_errors and http_retry_after_s need http_status"),
        ("http_retry_after_s=2", "http_errors and http_retry_after_s need http_status"),
        ("http_status=429,http_retry_after_s=inf", "http_retry_after_s must be finite"),
        ("http_status=429,http_retry_after_s=-1", "http_retry_after_s must be >= 0"),
        ("http_stall_after_chunks=-1", "http_stall_after_chunks must be >= 0"),
    ],
)
def test_bad_specs_are_config_errors_naming_the_option(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FaultPlan.parse(spec)
    assert str(caught.value).startswith("--faults: ")
    assert message in str(caught.value)


def test_spec_parses_the_http_faults() -> None:
    plan = FaultPlan.parse(
        "http_status=429,http_errors=2,http_retry_after_s=0.25,http_stall_after_chunks=0"
    )
    assert plan == FaultPlan(
        http_status=429, http_errors=2, http_retry_after_s=0.25, http_stall_after_chunks=0
    )
    assert plan.active and FaultPlan.parse("http_stall_after_chunks=4").active


def test_http_fault_answers_the_first_n_requests() -> None:
    plan = FaultPlan(http_status=429, http_errors=2, http_retry_after_s=0.25)
    first, second, third = (http_fault(plan, n) for n in (1, 2, 3))
    assert third is None and first == second
    assert isinstance(first, HttpFault) and first.status == 429
    assert dict(first.headers) == {"retry-after": "0.25", "retry-after-ms": "250"}
    assert first.body == {
        "error": {
            "message": "Rate limit reached for requests. Please try again in 0.25s. "
            "(injected fault)",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    whole = http_fault(FaultPlan(http_status=429), 1)
    assert whole is not None and whole.headers["retry-after"] == "1"
    assert http_fault(FaultPlan(), 1) is None


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (403, "PermissionDenied", "invalid_request_error"),
        (404, "DeploymentNotFound", "invalid_request_error"),
        (500, "server_error", "server_error"),
        (502, "bad_gateway", "server_error"),
        (503, "server_overloaded", "server_error"),
    ],
)
def test_every_http_status_has_its_service_error(status: int, code: str, kind: str) -> None:
    fault = http_fault(FaultPlan(http_status=status), 1)
    assert fault is not None and not fault.headers  # retry-after belongs to 429 only
    assert (fault.status, fault.body["error"]["code"], fault.body["error"]["type"]) == (
        status,
        code,
        kind,
    )
    assert fault.body["error"]["message"].endswith("(injected fault)")


def event(kind: str = "response.output_audio.delta") -> dict[str, object]:
    return {"type": kind, "event_id": "event_x"}


def test_injected_frames_come_before_the_numbered_event() -> None:
    injector = FaultInjector(FaultPlan(malformed_at=2, unknown_at=2, error_at=3))
    assert injector.actions(event("session.created")) == [
        Send('{"type":"session.created","event_id":"event_x"}')
    ]
    second = injector.actions(event("x"))
    assert isinstance(second[0], Send) and second[0].frame == MALFORMED_FRAME
    assert isinstance(second[1], Send) and UNKNOWN_EVENT_TYPE in second[1].frame
    third = injector.actions(event("x"))
    assert isinstance(third[0], Send) and json.loads(third[0].frame)["type"] == "error"


def test_drop_and_stall_end_the_stream() -> None:
    dropping = FaultInjector(FaultPlan(drop_after=2))
    assert dropping.actions(event()) == [
        Send('{"type":"response.output_audio.delta","event_id":"event_x"}')
    ]
    assert dropping.actions(event())[-1] == Abort()
    assert dropping.actions(event()) == []
    at_type = FaultInjector(FaultPlan(drop_at="response.done"))
    assert at_type.actions(event("response.done")) == [Abort()]
    stalling = FaultInjector(FaultPlan(stall_after=1))
    assert stalling.actions(event())[-1] == Stall()
    assert stalling.actions(event()) == []


def test_drop_connections_limits_drops_to_the_first_connections() -> None:
    plan = FaultPlan.parse("drop_after=1,drop_at=response.done,drop_connections=1")
    assert FaultInjector(plan, 1).actions(event())[-1] == Abort()
    assert FaultInjector(plan, 1).actions(event("response.done")) == [Abort()]
    healthy = FaultInjector(plan, 2)
    assert [a for _ in range(3) for a in healthy.actions(event())] == [
        Send('{"type":"response.output_audio.delta","event_id":"event_x"}')
    ] * 3
    assert isinstance(healthy.actions(event("response.done"))[-1], Send)


def test_delay_and_jitter_apply_to_deltas_and_are_reproducible() -> None:
    plan = FaultPlan(delay_ms=50, jitter_ms=30, seed=9)

    def sleeps(connection: int) -> list[float]:
        injector = FaultInjector(plan, connection)
        actions = [a for _ in range(20) for a in injector.actions(event())]
        return [a.seconds for a in actions if isinstance(a, Sleep)]

    first = sleeps(1)
    assert len(first) == 20
    assert all(0.050 <= s <= 0.080 for s in first)
    assert sleeps(1) == first  # same seed, same connection: same run
    assert sleeps(2) != first  # connections differ from each other
    quiet = FaultInjector(plan).actions(event("session.created"))
    assert not any(isinstance(a, Sleep) for a in quiet)  # only deltas are delayed


# ---- through the SDK ---------------------------------------------------------------------


@asynccontextmanager
async def faulty(spec: str) -> AsyncIterator[LocalServer]:
    options = ServerOptions(api_key=API_KEY, realtime_factor=50.0, faults=FaultPlan.parse(spec))
    async with LocalServer(options) as server:
        yield server


def client(server: LocalServer) -> AsyncOpenAI:
    return AsyncOpenAI(
        websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=API_KEY
    )


async def frames(connection: AsyncRealtimeConnection, count: int) -> list[bytes]:
    return [await asyncio.wait_for(connection.recv_bytes(), 5) for _ in range(count)]


async def test_drop_after_cuts_the_connection_with_no_close_frame() -> None:
    async with faulty("drop_after=3") as server:
        async with client(server).realtime.connect(model="m") as connection:
            await connection.conversation.item.create(item=USER_TEXT)  # type: ignore[arg-type]
            received = await frames(connection, 3)
            with pytest.raises(ConnectionClosedError) as cut:
                await asyncio.wait_for(connection.recv_bytes(), 5)
    assert [json.loads(f)["type"] for f in received] == [
        "session.created",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert cut.value.rcvd is None  # no close frame: the client's close code is 1006
    assert "1006" in str(cut.value) or "no close frame" in str(cut.value)


async def test_drop_at_an_event_type() -> None:
    async with faulty("drop_at=response.output_audio.delta") as server:
        async with client(server).realtime.connect(model="m") as connection:
            await connection.response.create()
            kinds = []
            with pytest.raises(ConnectionClosedError):
                while True:
                    kinds.append(json.loads((await frames(connection, 1))[0])["type"])
    assert "response.output_audio.delta" not in kinds
    assert kinds[-1] in ("response.content_part.added", "response.output_audio_transcript.delta")


async def test_malformed_unknown_and_error_frames_then_the_session_carries_on() -> None:
    async with faulty("unknown_at=2,malformed_at=3,error_at=4") as server:
        async with client(server).realtime.connect(model="m") as connection:
            await connection.conversation.item.create(item=USER_TEXT)  # type: ignore[arg-type]
            await connection.response.create()
            raw = await frames(connection, 8)
    check_server_event(json.loads(raw[0]))  # session.created
    assert json.loads(raw[1])["type"] == UNKNOWN_EVENT_TYPE
    assert json.loads(raw[2])["type"] == "conversation.item.added"
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw[3])
    assert json.loads(raw[4])["type"] == "conversation.item.done"
    error = json.loads(raw[5])
    check_server_event(error)
    assert error["error"]["type"] == "server_error"
    for frame in raw[6:]:
        check_server_event(json.loads(frame))  # the response carries on
    assert json.loads(raw[6])["type"] == "response.created"


async def test_refuse_turns_away_the_first_handshakes() -> None:
    async with faulty("refuse=2") as server:
        for _ in range(2):
            with pytest.raises(InvalidStatus) as refused:
                async with client(server).realtime.connect(model="m"):
                    pass
            assert refused.value.response.status_code == 503
        async with client(server).realtime.connect(model="m") as connection:
            assert json.loads((await frames(connection, 1))[0])["type"] == "session.created"


async def test_stall_sends_nothing_more_but_keeps_the_socket() -> None:
    async with faulty("stall_after=2") as server:
        async with client(server).realtime.connect(model="m") as connection:
            await connection.conversation.item.create(item=USER_TEXT)  # type: ignore[arg-type]
            assert len(await frames(connection, 2)) == 2
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(connection.recv_bytes(), 0.5)
            await connection.conversation.item.create(item=USER_TEXT)  # type: ignore[arg-type]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(connection.recv_bytes(), 0.3)


async def test_delayed_deltas_still_arrive_complete_and_in_order() -> None:
    async with faulty("delay_ms=2,jitter_ms=3,seed=5") as server:
        async with client(server).realtime.connect(model="m") as connection:
            await connection.response.create()
            kinds: list[str] = []
            while not kinds or kinds[-1] != "response.done":
                parsed = json.loads((await frames(connection, 1))[0])
                check_server_event(parsed)
                kinds.append(parsed["type"])
    assert kinds[0] == "session.created"
    assert kinds.count("response.output_audio.delta") > 3


# ---- replies that never finish, start-up faults, failed transcriptions ------------------


def test_spec_parses_the_silence_and_start_up_faults() -> None:
    plan = FaultPlan.parse(
        "no_done=2,ignore_create=1,no_session_created=1,no_session_updated=true,"
        "reject_update=yes,transcription_failed=3"
    )
    assert plan == FaultPlan(
        no_done=2,
        ignore_create=1,
        no_session_created=True,
        no_session_updated=True,
        reject_update=True,
        transcription_failed=3,
    )
    assert plan.active and not FaultPlan.parse("reject_update=0").active
    with pytest.raises(ConfigError, match="--faults: reject_update must be 1 or 0, got 'maybe'"):
        FaultPlan.parse("reject_update=maybe")
    with pytest.raises(ConfigError, match="no_done must be >= 0"):
        FaultPlan.parse("no_done=-1")


def sent_types(actions: Sequence[object]) -> list[str]:
    return [json.loads(a.frame)["type"] for a in actions if isinstance(a, Send)]


def test_no_done_withholds_the_first_dones_and_still_counts_them() -> None:
    injector = FaultInjector(FaultPlan(no_done=2, unknown_at=4))
    assert injector.actions(event("response.done")) == []
    assert injector.actions(event("response.done")) == []
    assert sent_types(injector.actions(event("rate_limits.updated"))) == ["rate_limits.updated"]
    # The withheld dones were events 1 and 2: the unknown frame goes before event 4.
    assert sent_types(injector.actions(event("response.done"))) == [
        UNKNOWN_EVENT_TYPE,
        "response.done",
    ]


def test_start_up_events_are_withheld() -> None:
    injector = FaultInjector(FaultPlan(no_session_created=True, no_session_updated=True))
    assert injector.actions(event("session.created")) == []
    assert injector.actions(event("session.updated")) == []
    assert sent_types(injector.actions(event("conversation.item.added"))) == [
        "conversation.item.added"
    ]


def test_inbound_faults_swallow_creates_and_reject_the_first_update() -> None:
    injector = FaultInjector(FaultPlan(ignore_create=1, reject_update=True))
    append = json.dumps({"type": "input_audio_buffer.append", "audio": "AAAA"})
    create = json.dumps({"type": "response.create", "event_id": "evt_1"})
    update = json.dumps({"type": "session.update", "session": {"type": "realtime"}})
    assert injector.inbound(append) is None
    assert injector.inbound('{"note": "says response.create but is not one"}') is None
    assert injector.inbound("not json at all: session.update") is None
    assert injector.inbound(create.encode()) == []
    assert injector.inbound(create) is None  # only the first
    (rejection,) = injector.inbound(update) or []
    assert isinstance(rejection, Send)
    error = json.loads(rejection.frame)
    check_server_event(error)
    assert error["error"]["event_id"] is None and error["error"]["type"] == "invalid_request_error"
    assert injector.inbound(update) is None


def test_drop_connections_limits_the_new_faults_to_the_first_connections() -> None:
    plan = FaultPlan(no_done=1, ignore_create=1, no_session_created=True, drop_connections=1)
    create = '{"type":"response.create"}'
    first, second = FaultInjector(plan, 1), FaultInjector(plan, 2)
    assert first.actions(event("session.created")) == [] and first.inbound(create) == []
    assert sent_types(second.actions(event("session.created"))) == ["session.created"]
    assert sent_types(second.actions(event("response.done"))) == ["response.done"]
    assert second.inbound(create) is None


def transcription(kind: str, item_id: str, **fields: object) -> dict[str, object]:
    return {
        "type": f"conversation.item.input_audio_transcription.{kind}",
        "event_id": f"event_{kind}_{item_id}",
        "item_id": item_id,
        "content_index": 0,
        **fields,
    }


def test_the_first_transcriptions_fail_and_later_ones_do_not() -> None:
    injector = FaultInjector(FaultPlan(transcription_failed=1))
    assert injector.actions(transcription("delta", "item_a", delta="[1.2")) == []
    (failed,) = injector.actions(transcription("completed", "item_a", transcript="[1.2 s]"))
    assert isinstance(failed, Send)
    parsed = json.loads(failed.frame)
    check_server_event(parsed)
    assert parsed["type"] == "conversation.item.input_audio_transcription.failed"
    assert parsed["item_id"] == "item_a"
    assert parsed["error"]["message"] == TRANSCRIPTION_FAILURE
    assert sent_types(injector.actions(transcription("delta", "item_b", delta="x"))) == [
        "conversation.item.input_audio_transcription.delta"
    ]


async def test_ignore_create_and_no_done_through_the_sdk() -> None:
    async with faulty("ignore_create=1,no_done=1") as server:
        async with client(server).realtime.connect(model="m") as connection:
            recorder = EventRecorder(connection)
            await recorder.until("session.created")
            await connection.response.create()  # swallowed: no answer at all
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(connection.recv_bytes(), 0.3)
            await connection.response.create()
            kinds = [e["type"] for e in await recorder.until("rate_limits.updated")]
            await connection.response.create()
            later = [e["type"] for e in await recorder.until("response.done")]
    assert kinds[0] == "response.created" and "response.output_audio.delta" in kinds
    assert "response.done" not in kinds  # withheld; the response itself ended
    assert later[0] == "response.created"  # the server is free for the next one


async def test_start_up_faults_through_the_sdk() -> None:
    update = {"type": "realtime", "instructions": "be brief"}
    async with faulty("no_session_created=1,no_session_updated=1") as server:
        async with client(server).realtime.connect(model="m") as connection:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(connection.recv_bytes(), 0.3)
            await connection.session.update(session=update)  # type: ignore[arg-type]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(connection.recv_bytes(), 0.3)
    async with faulty("reject_update=1") as server:
        async with client(server).realtime.connect(model="m") as connection:
            recorder = EventRecorder(connection)
            await recorder.until("session.created")
            await connection.session.update(session=update)  # type: ignore[arg-type]
            (error,) = await recorder.until("error")
            await connection.session.update(session=update)  # type: ignore[arg-type]
            (updated,) = await recorder.until("session.updated")
    assert error["error"]["event_id"] is None
    assert updated["session"]["instructions"] == "be brief"


async def test_transcription_failed_through_the_sdk() -> None:
    session = {
        "type": "realtime",
        "audio": {"input": {"transcription": {"model": "whisper-1"}, "turn_detection": None}},
    }
    speech = base64.b64encode(bytes(24000)).decode()  # 0.5 s
    async with faulty("transcription_failed=1") as server:
        async with client(server).realtime.connect(model="m") as connection:
            recorder = EventRecorder(connection)
            await connection.session.update(session=session)  # type: ignore[arg-type]
            await recorder.until("session.updated")
            for _ in range(2):
                await connection.input_audio_buffer.append(audio=speech)
                await connection.input_audio_buffer.commit()
            first = await recorder.until(
                "conversation.item.input_audio_transcription.failed",
                "conversation.item.input_audio_transcription.completed",
            )
            second = await recorder.until(
                "conversation.item.input_audio_transcription.failed",
                "conversation.item.input_audio_transcription.completed",
            )
    assert first[-1]["type"] == "conversation.item.input_audio_transcription.failed"
    assert not any(e["type"].endswith("transcription.delta") for e in first)
    assert second[-1]["type"] == "conversation.item.input_audio_transcription.completed"
