"""The server end to end, driven by the real openai SDK over real sockets.

Every event a test receives goes through ``EventRecorder``, which validates it against the SDK's
``RealtimeServerEvent`` union and checks that its ``event_id`` is fresh.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from openai import AsyncAzureOpenAI, AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from openai.types.realtime import InputAudioBufferClearEvent
from websockets.exceptions import ConnectionClosed, InvalidStatus

from realtime_console.errors import ConsoleError
from realtime_console.server import LocalServer, ServerOptions, serve_forever
from realtime_console.server import core as core_module
from realtime_console.server.core import SessionCore
from realtime_console.server.espeak import espeak_available
from realtime_console.server.testing import (
    EventRecorder,
    check_server_event,
    collapse_deltas,
    types_of,
)
from realtime_console.server.voice import SyntheticVoice
from tests.server.test_vad import silence, tone

API_KEY = "test-key-0123456789"  # the key the conftest servers are started with

ClientFactory = Callable[[LocalServer, str], AsyncOpenAI]


def azure_ga(server: LocalServer, key: str) -> AsyncOpenAI:
    """As in seed 003: websocket_base_url → /openai/v1, key sent as a bearer token."""
    return AsyncOpenAI(websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=key)


def openai_style(server: LocalServer, key: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{server.http_url()}/v1", api_key=key)


def azure_api_key(server: LocalServer, key: str) -> AsyncOpenAI:
    """The Azure client: key in an ``api-key`` header, ``?deployment=&api-version=`` query."""
    return AsyncAzureOpenAI(
        azure_endpoint=server.http_url(),
        websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1",
        api_key=key,
        api_version="2025-04-01-preview",
    )


CLIENTS = [azure_ga, openai_style, azure_api_key]


@asynccontextmanager
async def session(
    server: LocalServer, client: ClientFactory = azure_ga, model: str = "gpt-realtime"
) -> AsyncIterator[tuple[AsyncRealtimeConnection, EventRecorder]]:
    async with client(server, API_KEY).realtime.connect(model=model) as connection:
        events = EventRecorder(connection)
        await events.expect("session.created")
        yield connection, events


async def say(connection: AsyncRealtimeConnection, text: str) -> None:
    await connection.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )


def deltas(events: list[dict[str, Any]], event_type: str) -> list[str]:
    return [e["delta"] for e in events if e["type"] == event_type]


@pytest.mark.parametrize("client", CLIENTS)
async def test_sdk_clients_connect_and_get_session_created(
    server: LocalServer, client: ClientFactory
) -> None:
    async with client(server, API_KEY).realtime.connect(model="my-deployment") as connection:
        created = await EventRecorder(connection).expect("session.created")
    assert created["session"]["model"] == "my-deployment"
    assert created["session"]["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}


@pytest.mark.parametrize("client", CLIENTS)
async def test_wrong_key_is_refused_with_401_before_the_upgrade(
    server: LocalServer, client: ClientFactory
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with client(server, "wrong-key").realtime.connect(model="gpt-realtime"):
            pass
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer nope"}, "invalid_api_key"),
        ({"api-key": "nope"}, "invalid_api_key"),
        ({"Authorization": f"Basic {API_KEY}"}, "missing_api_key"),
    ],
)
async def test_refusals_have_a_json_body_that_never_echoes_the_key(
    server: LocalServer, headers: dict[str, str], code: str
) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{server.http_url()}/v1/realtime?model=m", headers=headers)
        assert refused.value.status == 401
        async with http.get(f"{server.http_url()}/openai/v1/realtime", headers=headers) as reply:
            body = await reply.json()
    assert reply.status == 401
    assert body["error"]["code"] == code
    assert body["error"]["type"] == "invalid_request_error"
    assert "nope" not in json.dumps(body)


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/openai/realtime?api-version=2025-04-01-preview&deployment=dep-a", "dep-a"),
        ("/openai/v1/realtime?deployment=dep-b", "dep-b"),
        ("/v1/realtime", "gpt-realtime"),  # no model named: the server's default
    ],
)
async def test_azure_paths_take_the_deployment_as_model(
    server: LocalServer, path: str, model: str
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(server.http_url() + path, headers={"api-key": API_KEY}) as ws:
            created = await ws.receive_json(timeout=5)
    check_server_event(created)
    assert (created["type"], created["session"]["model"]) == ("session.created", model)


async def test_frames_over_max_msg_size_close_the_connection() -> None:
    options = ServerOptions(api_key=API_KEY, max_msg_size=4096)
    async with LocalServer(options) as small, aiohttp.ClientSession() as http:
        url = f"{small.http_url()}/v1/realtime"
        async with http.ws_connect(url, headers={"api-key": API_KEY}) as ws:
            check_server_event(await ws.receive_json(timeout=5))  # session.created
            await ws.send_str(
                json.dumps({"type": "input_audio_buffer.append", "audio": "A" * 8192})
            )
            closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_an_internal_failure_closes_only_that_connection(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: SessionCore, event: dict[str, Any], now: float) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(
        core_module.ROUTES,
        "input_audio_buffer.clear",
        core_module.Route(InputAudioBufferClearEvent, broken),
    )
    async with session(server) as (connection, _):
        await connection.input_audio_buffer.clear()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv_bytes(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    async with session(server) as (_, events):  # the server itself carries on
        assert types_of(events.events) == ["session.created"]


async def test_plain_http_with_the_right_key_is_told_to_upgrade(server: LocalServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{server.http_url()}/v1/realtime", headers={"api-key": API_KEY}
        ) as reply:
            assert reply.status == 400
            assert (await reply.json())["error"]["code"] == "websocket_required"


async def test_chat_turn_as_in_the_seed(server: LocalServer) -> None:
    async with session(server) as (connection, events):
        await connection.session.update(
            session={
                "type": "realtime",
                "instructions": "You are a helpful assistant.",
                "output_modalities": ["audio"],
                "audio": {
                    "input": {
                        "transcription": {"model": "whisper-1"},
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "turn_detection": {
                            "type": "server_vad",
                            "threshold": 0.5,
                            "prefix_padding_ms": 300,
                            "silence_duration_ms": 200,
                            "create_response": True,
                        },
                    },
                    "output": {"voice": "alloy", "format": {"type": "audio/pcm", "rate": 24000}},
                },
            }
        )
        updated = await events.expect("session.updated")
        assert updated["session"]["audio"]["output"]["voice"] == "alloy"
        assert updated["session"]["audio"]["input"]["transcription"] == {"model": "whisper-1"}
        await say(connection, "Hello there")
        assert types_of(await events.until("conversation.item.done")) == [
            "conversation.item.added",
            "conversation.item.done",
        ]
        await connection.response.create()
        turn = await events.until("response.done")
    assert collapse_deltas(types_of(turn)) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "*.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    expected = '(local server) You said: "Hello there".'
    assert "".join(deltas(turn, "response.output_audio_transcript.delta")) == expected
    audio = b"".join(base64.b64decode(d) for d in deltas(turn, "response.output_audio.delta"))
    assert len(audio) == 2 * SyntheticVoice().sample_count(expected)
    assert turn[-1]["response"]["status"] == "completed"
    assert turn[-1]["response"]["usage"]["output_tokens"] > 0


async def test_invalid_session_update_is_an_error_and_the_session_is_unchanged(
    server: LocalServer,
) -> None:
    async with session(server, openai_style) as (connection, events):
        await connection.session.update(
            session={
                "type": "realtime",
                "instructions": "must not stick",
                "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 7.0}}},
            },
            event_id="client_evt_1",
        )
        error = (await events.expect("error"))["error"]
        assert error["code"] == "decimal_above_max_value"
        assert error["param"] == "session.audio.input.turn_detection.threshold"
        assert error["event_id"] == "client_evt_1"
        await connection.session.update(session={"type": "realtime", "max_output_tokens": 100})
        session_now = (await events.expect("session.updated"))["session"]
    assert session_now["instructions"] != "must not stick"
    assert session_now["audio"]["input"]["turn_detection"]["threshold"] == 0.5
    assert session_now["max_output_tokens"] == 100


async def test_text_only_response(server: LocalServer) -> None:
    async with session(server) as (connection, events):
        await say(connection, "type, do not talk")
        await connection.response.create(response={"output_modalities": ["text"]})
        turn = await events.until("response.done")
    kinds = set(types_of(turn))
    assert "response.output_text.done" in kinds
    assert not any("audio" in kind for kind in kinds)
    assert (
        "".join(deltas(turn, "response.output_text.delta"))
        == '(local server) You said: "type, do not talk".'
    )


async def test_second_response_create_while_one_is_active_is_refused(
    paced_server: LocalServer,
) -> None:
    async with session(paced_server) as (connection, events):
        await say(connection, "hi")
        await connection.response.create()
        await connection.response.create(event_id="second")
        received = await events.until("response.done")
        errors = [e["error"] for e in received if e["type"] == "error"]
        assert [(e["code"], e["event_id"]) for e in errors] == [
            ("conversation_already_has_active_response", "second")
        ]
        assert received[-1]["response"]["status"] == "completed"
        assert types_of(received).count("response.created") == 1


async def test_cancel_mid_response(paced_server: LocalServer) -> None:
    async with session(paced_server) as (connection, events):
        await say(connection, "Tell me something that takes a while to say")
        await connection.response.create()
        await events.until("response.output_audio.delta")
        await connection.response.cancel()
        rest = await events.until("response.done")
    done = rest[-1]["response"]
    assert done["status"] == "cancelled"
    assert done["output"][0]["status"] == "incomplete"
    said = "".join(deltas(events.events, "response.output_audio_transcript.delta"))
    assert done["output"][0]["content"][0]["transcript"] == said
    transcript_done = next(e for e in rest if e["type"] == "response.output_audio_transcript.done")
    assert transcript_done["transcript"] == said
    assert len(said) < len(
        '(local server) You said: "Tell me something that takes a while to say".'
    )


async def test_unknown_event_and_non_json_frame_get_errors_and_the_connection_survives(
    server: LocalServer,
) -> None:
    async with session(server) as (connection, events):
        await connection.send_raw(json.dumps({"type": "response.audio.delta", "event_id": "x1"}))
        unknown = (await events.expect("error"))["error"]
        assert (unknown["code"], unknown["param"], unknown["event_id"]) == (
            "invalid_value",
            "type",
            "x1",
        )
        await connection.send_raw("{not json")
        assert (await events.expect("error"))["error"]["code"] == "invalid_json"
        await connection.send_raw(json.dumps({"type": "conversation.item.create"}))
        missing = (await events.expect("error"))["error"]
        assert (missing["code"], missing["param"]) == ("missing_required_parameter", "item")
        await say(connection, "still there?")
        assert (await events.until("conversation.item.done"))[-1]["item"]["role"] == "user"


async def test_audio_streams_faster_than_real_time_but_paced(paced_server: LocalServer) -> None:
    async with session(paced_server) as (connection, events):
        await say(connection, "pace me")
        await connection.response.create()
        await events.until("response.created")
        started = time.monotonic()
        turn = await events.until("response.done")
        elapsed = time.monotonic() - started
    audio_s = SyntheticVoice().sample_count('(local server) You said: "pace me".') / 24000  # 2.28 s
    assert audio_s / 4 * 0.8 <= elapsed <= audio_s / 4 + 0.5
    assert len(deltas(turn, "response.output_audio.delta")) == 11  # 2280 ms in 200 ms chunks


async def test_stopping_the_server_closes_open_connections(server: LocalServer) -> None:
    async with session(server) as (connection, _):
        await server.stop()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv_bytes(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_a_busy_port_is_a_console_error(server: LocalServer) -> None:
    with pytest.raises(ConsoleError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        await LocalServer(ServerOptions(api_key=API_KEY, port=server.port)).start()


async def test_serve_forever_runs_until_cancelled() -> None:
    ready: asyncio.Queue[LocalServer] = asyncio.Queue(maxsize=1)
    task = asyncio.create_task(
        serve_forever(ServerOptions(api_key=API_KEY), ready=ready.put_nowait)
    )
    try:
        running = await asyncio.wait_for(ready.get(), 5)
        async with session(running) as (_, events):
            assert events.events[0]["type"] == "session.created"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"{running.http_url()}/v1/realtime")


# ---- turn detection, transcription and the eSpeak NG voice through the SDK ----------------------


async def append_blocks(
    connection: AsyncRealtimeConnection, pcm: bytes, block_ms: int = 20
) -> None:
    step = 48 * block_ms
    for start in range(0, len(pcm), step):
        await connection.input_audio_buffer.append(
            audio=base64.b64encode(pcm[start : start + step]).decode()
        )


async def test_server_vad_turn_through_the_sdk(server: LocalServer) -> None:
    async with session(server) as (connection, events):
        await append_blocks(connection, silence(600) + tone(700) + silence(400))
        turn = await events.until("rate_limits.updated")
    kinds = types_of(turn)
    assert kinds[:6] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert (turn[0]["audio_start_ms"], turn[1]["audio_end_ms"]) == (300, 1500)
    assert kinds[6] == "response.created"
    assert kinds[-2:] == ["response.done", "rate_limits.updated"]
    assert (
        turn[-2]["response"]["output"][0]["content"][0]["transcript"]
        == '(local server) You said: "(audio)".'
    )


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
async def test_espeak_reply_fed_back_is_detected_as_speech() -> None:
    options = ServerOptions(api_key=API_KEY, realtime_factor=math.inf, voice_engine="espeak")
    async with (
        LocalServer(options) as espeak_server,
        session(espeak_server) as (connection, events),
    ):
        await connection.session.update(
            session={
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "whisper-1"}}},
            }
        )
        await events.expect("session.updated")
        await connection.response.create()
        reply = await events.until("rate_limits.updated")
        speech = b"".join(base64.b64decode(d) for d in deltas(reply, "response.output_audio.delta"))
        await append_blocks(connection, speech + silence(600))
        heard = await events.until("conversation.item.input_audio_transcription.completed")
        await events.until("rate_limits.updated")  # read the answer: closing is then prompt
    kinds = types_of(heard)
    assert kinds.count("input_audio_buffer.speech_started") == 1  # one utterance, pauses and all
    seconds = len(speech) / 48_000
    transcript = heard[-1]["transcript"]
    assert transcript.endswith(" seconds of speech, not recognised)")
    assert abs(float(transcript[1:].split()[0]) - seconds) < 0.5


async def test_speech_during_a_reply_cancels_it_through_the_sdk() -> None:
    options = ServerOptions(api_key=API_KEY, realtime_factor=1.0)  # the reply plays ~1.5 s
    async with LocalServer(options) as slow, session(slow) as (connection, events):
        await append_blocks(connection, tone(500) + silence(300))
        await events.until("response.output_audio.delta")
        await append_blocks(connection, tone(100))
        interrupted = await events.until("response.done")
    kinds = types_of(interrupted)
    assert kinds.index("input_audio_buffer.speech_started") < kinds.index("response.done")
    done = interrupted[-1]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"]["reason"] == "turn_detected"


async def test_large_items_past_the_context_bound_are_errors_and_the_session_goes_on() -> None:
    options = ServerOptions(api_key=API_KEY, realtime_factor=math.inf, max_context_bytes=4 << 20)
    async with LocalServer(options) as bounded, session(bounded) as (connection, events):
        megabyte = "y" * 1_000_000
        outcomes = []
        for n in range(6):
            await connection.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": megabyte}],
                },
                event_id=f"big_{n}",
            )
            answer = await events.until("conversation.item.done", "error")
            outcomes.append(answer[-1]["type"])
        assert outcomes == ["conversation.item.done"] * 4 + ["error"] * 2
        error = events.events[-1]["error"]
        assert (error["code"], error["event_id"]) == ("context_length_exceeded", "big_5")
        await say(connection, "and a short one")  # what still fits is still taken
        assert (await events.until("conversation.item.done", "error"))[-1]["type"] == (
            "conversation.item.done"
        )
        await connection.response.create()
        assert (await events.until("response.done"))[-1]["response"]["status"] == "completed"


async def test_a_truncate_past_the_end_is_an_unattributed_error_then_applied(
    server: LocalServer,
) -> None:
    """As the service does: ``error`` with ``event_id`` null, then the cut at the audio's end."""
    async with session(server) as (connection, events):
        await say(connection, "hi")
        await connection.response.create()
        reply = await events.until("rate_limits.updated")
        audio = b"".join(base64.b64decode(d) for d in deltas(reply, "response.output_audio.delta"))
        end_ms = len(audio) // 48
        item_id = reply[-2]["response"]["output"][0]["id"]
        await connection.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=end_ms + 750, event_id="evt_cut"
        )
        error = await events.expect("error")
        truncated = await events.expect("conversation.item.truncated")
        await connection.conversation.item.retrieve(item_id=item_id)
        retrieved = await events.expect("conversation.item.retrieved")
    assert error["error"] == {
        "type": "invalid_request_error",
        "code": "invalid_value",
        "message": f"Audio content of {end_ms}ms is already shorter than {end_ms + 750}ms",
        "param": None,
        "event_id": None,
    }
    assert (truncated["item_id"], truncated["audio_end_ms"]) == (item_id, end_ms)
    assert retrieved["item"]["content"][0]["transcript"] == ""


async def test_only_model_output_audio_can_be_truncated_through_the_sdk(
    server: LocalServer,
) -> None:
    async with session(server) as (connection, events):
        await say(connection, "hi")
        user_item = (await events.until("conversation.item.done"))[-1]["item"]["id"]
        await connection.conversation.item.truncate(
            item_id=user_item, content_index=0, audio_end_ms=100, event_id="evt_user"
        )
        refused = await events.expect("error")
        await connection.response.create()
        reply = await events.until("rate_limits.updated")
        reply_item = reply[-2]["response"]["output"][0]["id"]
        await connection.conversation.item.truncate(
            item_id=reply_item, content_index=0, audio_end_ms=0, event_id="evt_zero"
        )
        at_zero = await events.expect("error")
    for error, event_id, param in (
        (refused, "evt_user", "item_id"),
        (at_zero, "evt_zero", "audio_end_ms"),
    ):
        assert error["error"] == {
            "type": "invalid_request_error",
            "code": "unsupported_content_type",
            "message": "Only model output audio messages can be truncated",
            "param": param,
            "event_id": event_id,
        }


async def test_the_idle_timeout_through_the_sdk(server: LocalServer) -> None:
    async with session(server) as (connection, events):
        await connection.session.update(
            session={
                "type": "realtime",
                "audio": {
                    "input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 1000}}
                },
            }
        )
        await events.expect("session.updated")
        await say(connection, "hi")
        await connection.response.create(response={"output_modalities": ["text"]})
        await events.until("rate_limits.updated")
        await append_blocks(connection, silence(1200))  # no speech: the timeout answers
        turn = await events.until("rate_limits.updated")
    kinds = types_of(turn)
    assert kinds[:6] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    triggered = turn[0]
    assert (triggered["audio_start_ms"], triggered["audio_end_ms"]) == (0, 1000)
    assert triggered["item_id"] == turn[1]["item_id"]
    assert turn[-2]["response"]["status"] == "completed"
