"""Outliving the service's session limit: the real chat loop, the real SDK and a local server
whose sessions end after a second or two (close 1001, as the service does at 60 minutes)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from realtime_console._compat import TaskGroup
from realtime_console.eventlog import read_log
from realtime_console.modes.recycle import RecyclePolicy, limit_words
from realtime_console.modes.session import Session, configure, open_session, pump_events
from realtime_console.modes.talk import VOICED_DBFS, run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.protocol.client_events import input_audio_append, input_audio_commit
from realtime_console.protocol.pcm import rms_dbfs
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from realtime_console.ui.plain import PlainView
from realtime_console.ui.view import TalkState
from tests.conftest import SERVER_KEY
from tests.modes.test_chat import expected_reply
from tests.modes.test_reconnect import azure_settings, chat, chat_settings, log_events
from tests.modes.test_talk import Devices, until
from tests.modes.test_talk_handlers import RecordingView
from tests.server.test_vad import tone


async def chat_with_limit(
    log: Path,
    lines: list[str],
    *,
    server_limit_s: float,
    realtime_factor: float,
    policy: RecyclePolicy | None,
    max_sessions: int = 100,
) -> tuple[int, str, str]:
    """``policy`` None: the console's own, from ``connection.session_limit_s`` =
    ``server_limit_s``."""
    options = ServerOptions(
        api_key=SERVER_KEY,
        realtime_factor=realtime_factor,
        max_session_s=server_limit_s,
        max_sessions=max_sessions,
    )
    async with LocalServer(options) as server:
        settings = chat_settings(server, log)
        if policy is None:
            settings = replace(
                settings, connection=replace(settings.connection, session_limit_s=server_limit_s)
            )
        return await asyncio.wait_for(chat(settings, *lines, recycle=policy), 60)


def test_the_limit_is_named_as_the_service_names_it() -> None:
    assert limit_words(3600) == "60-minute"
    assert limit_words(1.5) == "1.5-second"
    assert RecyclePolicy().renew_after_s == 3300


def test_the_policy_follows_the_session_limit_setting() -> None:
    assert RecyclePolicy.for_limit(3600) == RecyclePolicy(limit_s=3600, margin_s=300)
    assert RecyclePolicy.for_limit(90) == RecyclePolicy(limit_s=90, margin_s=22.5)
    assert RecyclePolicy.for_limit(0) is None  # off: the limit's close is a reconnect


async def test_a_chat_spanning_several_limits_is_renewed_before_each_and_loses_nothing(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.jsonl"
    lines = [f"question {n}" for n in range(1, 25)]
    started = time.monotonic()
    code, out, err = await chat_with_limit(
        log,
        lines,
        server_limit_s=2.0,
        realtime_factor=20.0,
        policy=None,  # from connection.session_limit_s: renewed in the last 0.5 s
    )
    took = time.monotonic() - started
    assert code == 0, err
    # Every turn answered, each reply quoting the turn before it: the history went along.
    assert out == "".join(f"assistant> {expected_reply(*lines[: n + 1])}\n" for n in range(24))
    _, server_events, meta = log_events(log)
    recycled = [e for e in meta if e["type"] == "session_recycled"]
    assert took > 2 * 2.0, took  # the chat outlived several session limits …
    assert len(recycled) >= 2, (took, meta)
    assert not [e for e in meta if e["type"] in ("reconnect", "connection_lost")]  # … never cut
    assert all(1.5 <= e["age_s"] < 2.0 for e in recycled), recycled
    assert recycled[-1]["restored"] > recycled[0]["restored"] > 0
    assert all(e["skipped"] == 0 for e in recycled)
    assert sum(e["type"] == "session.created" for e in server_events) == len(recycled) + 1
    assert not [e for e in server_events if e["type"] == "error"]
    renewed = [line for line in err.splitlines() if "session renewed" in line]
    assert len(renewed) == len(recycled)
    assert renewed[0].endswith(
        f"session renewed before the service's 2-second limit; "
        f"{recycled[0]['restored']} items carried over"
    )


async def test_a_limit_that_comes_mid_reply_is_reconnected_and_the_turn_asked_again(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.jsonl"
    # Replies of 3.1 s then 5.0 s of audio, streamed at 2.5x (1.25 s, 2 s), against a 3 s limit
    # renewed from 2.5 s: the second reply is streaming all through the renewal window, so no
    # quiet moment comes and the 1001 cuts it; asked again, it fits in the new session.
    first, second = "tell me about the sea", "ok"
    code, out, err = await chat_with_limit(
        log,
        [first, second],
        server_limit_s=3.0,
        realtime_factor=2.5,
        policy=RecyclePolicy(limit_s=3.0, margin_s=0.5),
    )
    assert code == 0, err
    reply = expected_reply(first, second)
    assert out.startswith(f"assistant> {expected_reply(first)}\nassistant> ")
    assert out.endswith(f" [incomplete]\nassistant> {reply}\n")
    assert (
        "the service ended the session at its maximum duration (1001); "
        "reconnecting (attempt 1/5) in 0.5 s…" in err
    )
    client, _, meta = log_events(log)
    reason = "Your session hit the maximum duration of 3 seconds."
    assert [e for e in meta if e["type"] == "reconnect"] == [
        {"type": "reconnect", "attempt": 1, "of": 5, "code": 1001, "delay_s": 0.5, "reason": reason}
    ]
    assert [e["restored"] for e in meta if e["type"] == "reconnected"] == [3]
    assert not [e for e in meta if e["type"] == "session_recycled"]
    assert [e["type"] for e in client].count("response.create") == 3  # the cut turn re-asked


async def test_a_renewal_the_server_refuses_keeps_the_old_session_until_the_limit(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.jsonl"
    lines = [f"question {n}" for n in range(1, 13)]
    # One session at a time: the second connection a renewal opens is refused (503).
    code, out, err = await chat_with_limit(
        log,
        lines,
        server_limit_s=1.5,
        realtime_factor=20.0,
        policy=RecyclePolicy(limit_s=1.5, margin_s=0.75),
        max_sessions=1,
    )
    assert code == 0, err
    replies = [line for line in out.splitlines() if not line.endswith("[incomplete]")]
    assert replies == [f"assistant> {expected_reply(*lines[: n + 1])}" for n in range(12)]
    _, _, meta = log_events(log)
    kinds = [e["type"] for e in meta]
    assert "session_recycle_failed" in kinds
    # The service's limit then ends the old session and the reconnect carries on from it (or,
    # when the old session's slot frees just as a renewal connects, that renewal gets it).
    assert {e["code"] for e in meta if e["type"] == "reconnect"} <= {1001}
    assert "reconnect" in kinds or "session_recycled" in kinds
    assert "could not renew the session ahead of the service's limit; will retry" in err


async def test_talk_is_renewed_while_listening_and_the_microphone_streams_on(
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, max_session_s=1.5)
    async with LocalServer(options) as server:
        talk = asyncio.ensure_future(
            run_talk(
                azure_settings(server, log),
                controls=controls,
                view=view,
                env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
                redactor=Redactor(),
                backend=devices.backend(),
                recycle=RecyclePolicy(limit_s=1.5, margin_s=0.75),
            )
        )
        try:

            def renewals() -> int:
                return sum("session renewed" in args[0] for args in view.named("notice"))

            await until(lambda: renewals() >= 3)
            await asyncio.sleep(0.3)  # the microphone streams on the new connection
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
    assert view.states[-1] is TalkState.LISTENING
    assert TalkState.RECONNECTING not in view.states
    records = list(read_log(log))
    kinds = [(r.dir, r.event["type"]) for r in records]
    assert ("meta", "reconnect") not in kinds
    last = len(kinds) - 1 - kinds[::-1].index(("meta", "session_recycled"))
    assert ("client", "input_audio_buffer.append") in kinds[last:]
    # Audio sent while listening and the server's silence: nothing was ever refused.
    assert ("server", "error") not in kinds


def _voiced_and_renewed(log: Path) -> tuple[list[float], list[float]]:
    """From the event log as written so far: when voiced audio was sent, when renewals ended.
    The last line may be half written: only whole lines count."""
    voiced: list[float] = []
    renewed: list[float] = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        event, t = record.get("event") or {}, record.get("t")
        if not isinstance(t, float):
            continue
        if record.get("dir") == "meta" and event.get("type") == "session_recycled":
            renewed.append(t)
        elif record.get("dir") == "client" and event.get("type") == "input_audio_buffer.append":
            if rms_dbfs(base64.b64decode(event["audio"])) > VOICED_DBFS:
                voiced.append(t)
    return voiced, renewed


async def test_talk_is_not_renewed_while_sent_speech_awaits_the_servers_answer(
    tmp_path: Path,
) -> None:
    """Voiced audio the server has not yet answered with ``speech_started`` may be the start
    of a turn: renewing then would leave its start on the old session and its end on the new
    one, and the turn would never be answered. Here the session is due for renewal all along
    and the server's VAD is set too deaf to ever answer: renewals go on back to back, stop
    while the voice is sent and for the hold after it, then resume."""
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, max_session_s=60.0)
    async with LocalServer(options) as server:
        settings = azure_settings(server, log)
        deaf = replace(settings.session.turn_detection, threshold=0.99)  # needs -10.6 dBFS
        settings = replace(settings, session=replace(settings.session, turn_detection=deaf))
        talk = asyncio.ensure_future(
            run_talk(
                settings,
                controls=controls,
                view=view,
                env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
                redactor=Redactor(),
                backend=devices.backend(),
                recycle=RecyclePolicy(limit_s=60.0, margin_s=59.9),  # due from the start
            )
        )
        try:
            await until(lambda: bool(devices.inputs) and bool(_voiced_and_renewed(log)[1]))
            devices.inputs[0].feed(tone(3000, dbfs=-30.0))  # voiced, yet never "speech"

            def renewed_after_the_hold() -> bool:
                voiced, renewed = _voiced_and_renewed(log)
                return bool(voiced) and any(t >= voiced[-1] + 1.5 for t in renewed)

            await until(renewed_after_the_hold, timeout=30.0)
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
    voiced, renewed = _voiced_and_renewed(log)
    # Three seconds of voice went out in about 30 appends, none answered by the server.
    assert len(voiced) >= 20
    # No renewal while the voice streamed nor in the hold after it (1.5 s + 0.2 s of silence).
    # A renewal already under way when the first voiced block left may end just after it.
    assert not [t for t in renewed if voiced[0] + 0.5 <= t < voiced[-1] + 1.5], (voiced, renewed)
    kinds = [(r.dir, r.event["type"]) for r in read_log(log)]
    assert ("server", "input_audio_buffer.speech_started") not in kinds


@asynccontextmanager
async def configured_session(log: Path) -> AsyncIterator[Session]:
    """A chat session on a local server, configured, its reader running for the body."""
    view = PlainView(io.StringIO(), io.StringIO())
    async with LocalServer(ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0)) as server:
        async with open_session(
            chat_settings(server, log),
            env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
            view=view,
            redactor=Redactor(),
        ) as session:
            async with TaskGroup() as tasks:
                reader = tasks.create_task(pump_events(session))
                await configure(session, view, 10)
                yield session
                reader.cancel()


async def test_audio_sent_during_a_renewal_reaches_the_new_session_in_order(
    tmp_path: Path,
) -> None:
    """Speech may start while the link is swapped: its first blocks are held, not dropped, and
    other sends wait until the new session is ready."""
    log = tmp_path / "log.jsonl"
    blocks = [bytes([n]) * 960 for n in range(1, 6)]
    async with configured_session(log) as session:
        assert session.reconnector is not None
        session.begin_renewal()
        renewal = asyncio.ensure_future(session.reconnector.renew(session))
        for block in blocks:
            assert await session.send(input_audio_append(block))
        commit = asyncio.ensure_future(session.send(input_audio_commit()))
        assert await renewal == (0, 0)
        await asyncio.sleep(0.05)
        assert not commit.done()  # waits for the held audio to go first
        await session.end_renewal()
        assert await commit
        await asyncio.sleep(0.2)  # the server's answer to the commit
    records = list(read_log(log))
    created = [n for n, r in enumerate(records) if r.event["type"] == "session.created"]
    assert len(created) == 2
    sent = [(n, r.event) for n, r in enumerate(records) if r.dir == "client"]
    appends = [(n, e) for n, e in sent if e["type"] == "input_audio_buffer.append"]
    assert [base64.b64decode(e["audio"]) for _, e in appends] == blocks
    assert all(n > created[1] for n, _ in appends)  # none went to the retired session
    assert [e["type"] for _, e in sent][-1] == "input_audio_buffer.commit"
    committed = [r.event for r in records if r.event["type"] == "input_audio_buffer.committed"]
    assert len(committed) == 1  # the new session holds all five blocks: 100 ms, enough to commit


async def test_held_audio_past_the_bound_is_counted_and_the_renewals_end_is_announced(
    tmp_path: Path,
) -> None:
    """A renewal so slow that the held audio outgrows its bound: the oldest appends go, and
    the session says how many samples it dropped (the new server session never counts them);
    when the renewal ends, ``on_renewed`` runs once, after ``renewing`` is cleared."""
    from realtime_console.modes.session import MAX_HELD_AUDIO_CHARS

    block = bytes(48_000)  # 1 s of audio: 64,000 base64 characters
    over = MAX_HELD_AUDIO_CHARS // 64_000 + 3  # three more than the bound holds
    seen: list[bool] = []
    async with configured_session(tmp_path / "log.jsonl") as session:
        session.on_renewed.append(lambda: seen.append(session.renewing is None))
        session.begin_renewal()
        for _ in range(over):
            assert await session.send(input_audio_append(block))
        assert session.held_dropped_samples == 3 * 24_000
        assert seen == []
        await session.end_renewal()
        assert seen == [True]
        session.begin_renewal()  # a new renewal counts from nothing
        assert session.held_dropped_samples == 0
        await session.end_renewal()
