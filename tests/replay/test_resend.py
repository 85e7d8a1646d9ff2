from __future__ import annotations

import io
from pathlib import Path

from realtime_console.config import Settings, load_settings
from realtime_console.eventlog import read_log
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor
from realtime_console.replay.resend import recorded_session, resend
from realtime_console.replay.resend_command import default_new_log, target_settings
from realtime_console.replay.summary import SummaryBuilder
from realtime_console.replay.window import Bound, Window
from realtime_console.ui.plain import PlainView
from tests.conftest import clean_env
from tests.replay.recording import BARGE_IN_MS, VoiceRecording


def _local() -> Settings:
    return load_settings(env=clean_env(), overrides={"connection.provider": "local"})


async def test_voice_session_reproduced_on_the_local_server(
    voice_log: VoiceRecording, tmp_path: Path
) -> None:
    new_log = tmp_path / "again.jsonl"
    out = io.StringIO()
    result = await resend(
        voice_log.path,
        settings=_local(),
        new_log=new_log,
        session=recorded_session(voice_log.path),
        window=Window(),
        view=PlainView(out=out, err=io.StringIO()),
        env=clean_env(),
        redactor=Redactor(),
    )
    records = list(read_log(new_log))
    sent = [r.event for r in records if r.dir == "client"]
    original = [r.event for r in read_log(voice_log.path) if r.dir == "client"]
    assert result.sent == len(original) - 1  # all but the session.update, which went first
    assert [e["type"] for e in sent] == [e["type"] for e in original]
    assert sent[0]["session"] == recorded_session(voice_log.path)
    mic = b"".join(pcm.decode_b64(e["audio"]) for e in sent if "audio" in e)
    assert mic == voice_log.mic
    # The truncate names the new run's item (ids are the server's), and the server accepted it.
    truncate = next(e for e in sent if e["type"] == "conversation.item.truncate")
    new_items = {
        r.event["item"]["id"] for r in records if r.event["type"] == "response.output_item.added"
    }
    assert truncate["item_id"] in new_items and truncate["audio_end_ms"] == BARGE_IN_MS
    assert not [r for r in records if r.event["type"] == "error"]
    summary = SummaryBuilder().feed_all(records).summary()
    assert [t.input for t in summary.turns] == ["speech"] * 3
    assert summary.turns[1].truncated_at_ms == BARGE_IN_MS
    assert out.getvalue().count("assistant> ") == 3


async def test_text_turns_wait_for_replies_and_window_limits(tmp_path: Path) -> None:
    from tests.replay.conftest import ev, user_item, write_log

    log = write_log(
        tmp_path / "text.jsonl",
        [
            ev(
                0.0,
                "client",
                "session.update",
                session={"type": "realtime", "output_modalities": ["text"]},
            ),
            ev(0.1, "client", "conversation.item.create", item=user_item("one")),
            ev(0.1, "client", "response.create"),
            ev(0.2, "server", "response.done", response={"id": "x"}),
            ev(0.2, "client", "conversation.item.create", item=user_item("two")),
            ev(0.2, "client", "response.create"),
            ev(0.3, "server", "response.done", response={"id": "y"}),
            ev(9.0, "client", "response.create"),
        ],
    )
    new_log = tmp_path / "new.jsonl"
    out = io.StringIO()
    result = await resend(
        log,
        settings=_local(),
        new_log=new_log,
        session=recorded_session(log),
        window=Window(end=Bound(seconds=1.0)),
        view=PlainView(out=out, err=io.StringIO()),
        env=clean_env(),
        redactor=Redactor(),
    )
    assert result.sent == 4  # the response.create at 9 s is outside the window
    summary = SummaryBuilder().feed_all(read_log(new_log)).summary()
    assert [(t.input, t.user_text, t.status) for t in summary.turns] == [
        ("text", "one", "completed"),
        ("text", "two", "completed"),
    ]
    assert not [r for r in read_log(new_log) if r.event["type"] == "error"]
    assert out.getvalue().startswith(
        'you> one\nassistant> (local server) You said: "one".\nyou> two\n'
    )


def test_target_settings_and_default_log_name(tmp_path: Path) -> None:
    local = target_settings(load_settings(env=clean_env()), None, log_events=None, log_audio=None)
    assert local.connection.provider == "local"
    profile = tmp_path / "p.toml"
    profile.write_text('[connection]\nprovider = "local"\ndeployment = "other"\n')
    chosen = target_settings(
        load_settings(env=clean_env()), str(profile), log_events="x.jsonl", log_audio="none"
    )
    assert (chosen.connection.deployment, chosen.log.events, chosen.log.audio) == (
        "other",
        "x.jsonl",
        "none",
    )
    import datetime as dt

    when = dt.datetime(2026, 11, 22, 5, 1, 2)
    assert default_new_log(Path("/l/talk.jsonl.gz"), when) == Path(
        "/l/talk-resent-20261122-050102.jsonl.gz"
    )
    assert default_new_log(Path("a.jsonl"), when).name == "a-resent-20261122-050102.jsonl"
