"""Records real event logs for the replay tests: the real local server, the real SDK client
(``connection.open_link``) and the real ``EventLogWriter``, exactly as a live session writes them.

``record_voice_session`` streams synthetic speech with server VAD on, three utterances; the user
barges in on the second reply (speech while it plays: the server cancels it, then the client
truncates the item to what was "heard" and notes the barge-in), as ``talk`` does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_console._compat import TaskGroup
from realtime_console.auth import Credential
from realtime_console.config import SessionSettings
from realtime_console.connection import Target, azure_websocket_base_url, open_link
from realtime_console.dispatcher import ANY, Dispatcher
from realtime_console.eventlog import EventLogWriter
from realtime_console.protocol import pcm
from realtime_console.protocol.client_events import (
    input_audio_append,
    item_truncate,
    session_update,
)
from realtime_console.protocol.session import build_session
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from realtime_console.server.voice import SyntheticVoice
from realtime_console.waiters import EventWaiters, is_type

KEY = "replay-test-key-0123456789"
CHUNK_MS = 100
BARGE_IN_MS = 200  # audio_end_ms the "listener" heard of the interrupted reply
UTTERANCES = ("hello there", "tell me a long story please", "stop")


@dataclass
class VoiceRecording:
    path: Path
    mic: bytes  # every byte appended, in order
    responses: list[str] = field(default_factory=list)


def speech(text: str) -> bytes:
    return SyntheticVoice().synthesize(text, voice="echo").pcm


async def _stream(link: Any, audio: bytes, pace_s: float) -> None:
    step = pcm.ms_to_bytes(CHUNK_MS)
    for offset in range(0, len(audio), step):
        await link.send(input_audio_append(audio[offset : offset + step]))
        await asyncio.sleep(pace_s)


async def record_voice_session(path: Path, *, log_audio: str = "full") -> VoiceRecording:
    silence = bytes(pcm.ms_to_bytes(600))
    mic = b""
    async with LocalServer(ServerOptions(api_key=KEY, realtime_factor=2.0)) as server:
        target = Target("local", "gpt-realtime", azure_websocket_base_url(server.http_url()))
        session = build_session(SessionSettings())
        with EventLogWriter(
            path,
            provider="local",
            model="gpt-realtime",
            session=session,
            program_version="test",
            redactor=Redactor([KEY]),
            audio=log_audio,  # type: ignore[arg-type]
        ) as writer:
            async with open_link(
                target, Credential(KEY, "test key"), event_log=writer, on_notice=lambda _: None
            ) as link:
                waiters = EventWaiters()
                dispatcher = Dispatcher()
                dispatcher.on(ANY, waiters)
                done = waiters.expect(is_type("session.created"))

                async def pump() -> None:
                    async for event in link.events():
                        await dispatcher.dispatch(event)

                async with TaskGroup() as tasks:
                    reader = tasks.create_task(pump())
                    await asyncio.wait_for(done, 10)
                    updated = waiters.expect(is_type("session.updated"))
                    await link.send(session_update(session))
                    await asyncio.wait_for(updated, 10)
                    # 1: a whole turn.
                    first = speech(UTTERANCES[0]) + silence
                    finished = waiters.expect(is_type("response.done"))
                    await _stream(link, first, 0.01)
                    await asyncio.wait_for(finished, 20)
                    mic += first
                    # 2: a long reply, interrupted by 3 once two chunks have arrived.
                    second = speech(UTTERANCES[1]) + silence
                    audio = waiters.expect(is_type("response.output_audio.delta"))
                    cancelled = waiters.expect(is_type("response.done"))
                    await _stream(link, second, 0.01)
                    mic += second
                    delta = await asyncio.wait_for(audio, 20)
                    await asyncio.sleep(0.25)  # ~2 more 200 ms chunks at realtime_factor 2
                    third = speech(UTTERANCES[2]) + silence
                    started = waiters.expect(is_type("input_audio_buffer.speech_started"))
                    final = waiters.expect(
                        lambda e: (
                            e.get("type") == "response.done"
                            and e["response"]["id"] != delta["response_id"]
                        )
                    )
                    streaming = tasks.create_task(_stream(link, third, 0.01))
                    await asyncio.wait_for(started, 20)
                    await asyncio.wait_for(cancelled, 20)
                    writer.note(
                        "barge_in",
                        item_id=delta["item_id"],
                        response_id=delta["response_id"],
                        audio_end_ms=BARGE_IN_MS,
                    )
                    await link.send(item_truncate(delta["item_id"], BARGE_IN_MS))
                    await streaming
                    mic += third
                    await asyncio.wait_for(final, 20)
                    reader.cancel()
    return VoiceRecording(path, mic)
