from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from realtime_console.eventlog import read_log
from realtime_console.protocol import pcm
from realtime_console.replay.summary import SummaryBuilder
from realtime_console.replay.summary_table import render_json, render_table
from tests.replay.conftest import ev, user_item, write_log
from tests.replay.recording import BARGE_IN_MS, VoiceRecording

USAGE = {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}


def test_voice_session_turns(voice_log: VoiceRecording) -> None:
    records = list(read_log(voice_log.path))
    summary = SummaryBuilder().feed_all(records).summary()
    # What the log says, computed independently of the builder.
    audio: dict[str, int] = defaultdict(int)
    for r in records:
        if r.event["type"] == "response.output_audio.delta":
            audio[r.event["response_id"]] += len(pcm.decode_b64(r.event["delta"]))
    started = [r for r in records if r.event["type"] == "input_audio_buffer.speech_started"]
    stopped = [r for r in records if r.event["type"] == "input_audio_buffer.speech_stopped"]
    created = [r for r in records if r.event["type"] == "response.created"]

    assert [t.input for t in summary.turns] == ["speech"] * 3
    for turn, a, b, c in zip(summary.turns, started, stopped, created, strict=True):
        assert turn.user_speech_ms == b.event["audio_end_ms"] - a.event["audio_start_ms"]
        assert turn.input_end_t == b.t
        assert turn.response_id == c.event["response"]["id"]
        assert c.t is not None and b.t is not None and turn.response_id is not None
        assert turn.response_created_ms == pytest.approx((c.t - b.t) * 1000, abs=0.06)
        assert turn.audio_generated_s == pcm.bytes_to_ms(audio[turn.response_id]) / 1000
        created_ms, first, done = (
            turn.response_created_ms,
            turn.first_audio_ms,
            turn.response_done_ms,
        )
        assert created_ms is not None and first is not None and done is not None
        assert created_ms <= first <= done
        assert turn.input_tokens and turn.output_tokens
        assert turn.total_tokens == turn.input_tokens + turn.output_tokens
    cut = summary.turns[1]
    assert (cut.status, cut.truncated_at_ms, cut.audio_heard_s) == (
        "cancelled",
        BARGE_IN_MS,
        BARGE_IN_MS / 1000,
    )
    assert [t.status for t in summary.turns[::2]] == ["completed", "completed"]
    totals = summary.totals
    assert totals.turns == 3 and totals.truncated_turns == 1 and totals.errors == 0
    assert totals.audio_heard_s == pytest.approx(
        totals.audio_generated_s - cut.audio_generated_s + 0.2
    )
    assert totals.total_tokens == sum(t.total_tokens or 0 for t in summary.turns)
    assert totals.events == len(records)


def test_push_to_talk_text_and_unprompted_turns(tmp_path: Path) -> None:
    audio = pcm.encode_b64(bytes(pcm.ms_to_bytes(500)))
    log = write_log(
        tmp_path / "ptt.jsonl",
        [
            ev(0.1, "server", "error", error={"code": "early"}),
            ev(0.2, "client", "input_audio_buffer.append", audio=audio),
            ev(0.3, "client", "input_audio_buffer.append", audio_bytes=4800),
            ev(0.4, "client", "input_audio_buffer.commit"),
            ev(0.5, "server", "input_audio_buffer.committed"),
            ev(0.6, "client", "response.create"),
            ev(0.7, "server", "response.created", response={"id": "r1"}),
            ev(0.9, "server", "response.audio.delta", response_id="r1", item_id="i", delta=audio),
            ev(1.0, "meta", "audio_stats", final=False, playback_underruns=2),
            ev(
                1.1,
                "server",
                "response.done",
                response={"id": "r1", "status": "completed", "usage": USAGE},
            ),
            ev(2.0, "client", "conversation.item.create", item=user_item("hi")),
            ev(2.1, "client", "response.create"),
            ev(2.3, "server", "response.created", response={"id": "r2"}),
            ev(2.4, "server", "error", error={"type": "server_error", "message": "x"}),
            ev(2.5, "server", "response.done", response={"id": "r2", "status": "failed"}),
            ev(3.0, "client", "response.create"),
            ev(3.2, "server", "response.created", response={"id": "r3"}),
            ev(3.5, "meta", "reconnect", attempt=1),
            ev(3.5, "meta", "audio_stats", final=True, playback_underruns=3),  # running total
        ],
    )
    summary = SummaryBuilder().feed_all(read_log(log)).summary()
    ptt, text, unprompted = summary.turns
    assert (ptt.input, ptt.user_speech_ms, ptt.input_end_t) == ("audio", 600.0, 0.5)
    assert (ptt.response_created_ms, ptt.first_audio_ms, ptt.response_done_ms) == (
        200.0,
        400.0,
        600.0,
    )  # fmt: skip  (beta delta name mapped)
    assert (ptt.audio_generated_s, ptt.total_tokens) == (0.5, 12)
    assert (text.input, text.user_text, text.response_created_ms) == ("text", "hi", 300.0)
    assert (text.status, len(text.errors)) == ("failed", 1)
    assert (unprompted.input, unprompted.input_end_t, unprompted.response_created_ms) == (
        "none",
        3.0,
        200.0,
    )
    assert unprompted.status is None and unprompted.response_done_ms is None
    assert summary.session_errors == ["early: "]
    totals = summary.totals
    assert (totals.errors, totals.underruns, totals.reconnects) == (2, 3, 1)
    assert (totals.first_audio_ms_median, totals.duration_s) == (400.0, 3.4)


def test_rate_limits_of_a_recorded_session_are_in_the_totals(voice_log: VoiceRecording) -> None:
    records = list(read_log(voice_log.path))
    summary = SummaryBuilder().feed_all(records).summary()
    # What the log says, computed independently of the builder.
    seen: dict[str, list[int]] = defaultdict(list)
    limit_of: dict[str, int] = {}
    for r in records:
        if r.dir == "server" and r.event["type"] == "rate_limits.updated":
            for entry in r.event["rate_limits"]:
                seen[entry["name"]].append(entry["remaining"])
                limit_of[entry["name"]] = entry["limit"]
    assert set(seen) == {"requests", "tokens"}  # the local server reports both
    totals = summary.totals.rate_limits
    assert list(totals) == list(seen)
    for name, remaining in seen.items():
        got = totals[name]
        assert (got.limit, got.last_remaining, got.lowest_remaining) == (
            limit_of[name],
            remaining[-1],
            min(remaining),
        )


def test_rate_limits_keep_the_last_and_the_lowest_per_name(tmp_path: Path) -> None:
    def limits(tokens: int) -> dict[str, object]:
        entries = [{"name": "tokens", "limit": 40000, "remaining": tokens, "reset_seconds": 3.0}]
        return ev(1.0, "server", "rate_limits.updated", rate_limits=entries)

    log = write_log(tmp_path / "limits.jsonl", [limits(30_000), limits(2_000), limits(39_000)])
    summary = SummaryBuilder().feed_all(read_log(log)).summary()
    tokens = summary.totals.rate_limits["tokens"]
    assert (tokens.limit, tokens.last_remaining, tokens.lowest_remaining) == (40000, 39000, 2000)
    assert SummaryBuilder().summary().totals.rate_limits == {}  # no updates, no entries


def test_counts_no_float_holds_or_bools_are_not_counted(tmp_path: Path) -> None:
    """Token counts of 4,300 digits (the longest integer json reads) summed to one that neither
    ``str()`` nor ``json.dumps`` writes (ValueError); ``true`` was counted as 1 token and written
    as ``true``. Only integers a float holds count, in the realtime and chat-completions totals."""
    longest = int("9" * 4300)
    done = [
        ev(1.0 + i, "server", "response.done", response={"id": f"r{i}", "usage": usage})
        for i, usage in enumerate(
            [{"total_tokens": longest}, {"total_tokens": longest}, {"input_tokens": True}, USAGE]
        )
    ]
    created = [
        ev(0.5 + i, "server", "response.created", response={"id": f"r{i}"}) for i in range(4)
    ]
    http = [
        ev(5.0, "http", "chat.completions.response", request_id="q1",
           body={"usage": {"total_tokens": longest}}),
        ev(6.0, "http", "chat.completions.response", request_id="q2",
           body={"usage": {"total_tokens": longest, "prompt_tokens": True}}),
        ev(7.0, "meta", "completion", request_id="q2", retries=True),
    ]  # fmt: skip
    lines = [line for pair in zip(created, done, strict=True) for line in pair] + http
    log = write_log(tmp_path / "counts.jsonl", lines)
    summary = SummaryBuilder().feed_all(read_log(log)).summary()
    assert [turn.total_tokens for turn in summary.turns] == [None, None, None, 12]
    assert summary.turns[2].input_tokens is None and summary.totals.input_tokens == 5
    completions = summary.completions
    assert completions is not None and completions.totals.total_tokens == 0
    assert completions.totals.prompt_tokens == 0 and completions.totals.retries == 0
    document = json.loads(render_json(summary))
    assert document["totals"]["total_tokens"] == 12
    assert "tokens 5 in" in render_table(summary)


def _stats(t: float, final: bool, underruns: int, **playback: float) -> dict[str, object]:
    return ev(t, "meta", "audio_stats", final=final, playback_underruns=underruns, **playback)


def test_the_playback_buffer_at_the_end_its_max_and_the_worst_lateness(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "buffer.jsonl",
        [
            _stats(10.0, False, 0, playback_target_ms=40.0, playback_jitter_ms=12.5),
            _stats(20.0, False, 2, playback_target_ms=130.0, playback_jitter_ms=95.0),
            _stats(30.0, False, 2, playback_target_ms=90.0, playback_jitter_ms=30.0),
            _stats(31.0, True, 2, playback_target_ms=81.0, playback_jitter_ms=20.0),
        ],
    )
    summary = SummaryBuilder().feed_all(read_log(log)).summary()
    totals = summary.totals
    assert (totals.underruns, totals.playback_target_ms_end) == (2, 81.0)
    assert (totals.playback_target_ms_max, totals.playback_jitter_ms_max) == (130.0, 95.0)
    line = render_table(summary).splitlines()[-1]
    assert (
        "2 underruns, playback buffer 81 ms at the end (max 130 ms), audio up to 95 ms late;"
        in line
    )
    document = json.loads(render_json(summary))["totals"]
    assert (document["playback_target_ms_end"], document["playback_target_ms_max"]) == (81, 130)
    assert document["playback_jitter_ms_max"] == 95.0


def test_a_log_without_the_buffer_fields_shows_none_of_them(tmp_path: Path) -> None:
    # An earlier version's notes: underruns only; a corrupt figure counts as absent too.
    log = write_log(
        tmp_path / "old.jsonl",
        [_stats(10.0, False, 1), _stats(11.0, True, 1, playback_target_ms=float("nan"))],
    )
    summary = SummaryBuilder().feed_all(read_log(log)).summary()
    line = render_table(summary).splitlines()[-1]
    assert "1 underruns;" in line and "buffer" not in line and "late" not in line
    document = json.loads(render_json(summary))["totals"]
    assert document["underruns"] == 1
    for key in ("playback_target_ms_end", "playback_target_ms_max", "playback_jitter_ms_max"):
        assert document[key] is None  # unknown, not 0


def _barge_in_log(tmp_path: Path, **note_fields: object) -> Path:
    """A reply cut by a barge-in; the note's timing fields as given (none: an earlier log)."""
    audio = pcm.encode_b64(bytes(pcm.ms_to_bytes(400)))
    return write_log(
        tmp_path / "barge.jsonl",
        [
            ev(0.1, "server", "input_audio_buffer.speech_started", audio_start_ms=0),
            ev(0.9, "server", "input_audio_buffer.speech_stopped", audio_end_ms=800),
            ev(1.0, "server", "response.created", response={"id": "r1"}),
            ev(
                1.1,
                "server",
                "response.output_audio.delta",
                response_id="r1",
                item_id="a1",
                delta=audio,
            ),
            ev(1.3, "server", "input_audio_buffer.speech_started", audio_start_ms=1900),
            ev(
                1.3,
                "meta",
                "barge_in",
                response_id="r1",
                item_id="a1",
                audio_end_ms=150,
                **note_fields,
            ),
            ev(1.4, "server", "response.done", response={"id": "r1", "status": "cancelled"}),
        ],
    )


def test_a_barge_ins_timing_is_shown_with_the_cut_turn(tmp_path: Path) -> None:
    log = _barge_in_log(tmp_path, onset_to_silence_ms=187.4, detection_ms=162.9)
    summary = SummaryBuilder().feed_all(read_log(log)).summary()
    turn = summary.turns[0]  # the cut reply's turn (the speech over it is the next one)
    assert turn.truncated_at_ms == 150
    assert turn.barge_in_onset_to_silence_ms == 187.4 and turn.barge_in_detection_ms == 162.9
    (line,) = [line for line in render_table(summary).splitlines() if "barge-in" in line]
    assert line == (
        "  turn 1 barge-in: silence 187 ms after the user began speaking (163 ms to speech_started)"
    )
    shown = json.loads(render_json(summary))["turns"][0]
    assert shown["barge_in_onset_to_silence_ms"] == 187.4
    assert shown["barge_in_detection_ms"] == 162.9


@pytest.mark.parametrize(
    "fields",
    [
        {},  # a log of an earlier version
        {"onset_to_silence_ms": None, "detection_ms": None},  # unknown: a manual interrupt
        {"onset_to_silence_ms": "fast", "detection_ms": float("nan")},  # corrupt
    ],
)
def test_a_barge_in_without_timing_summarises_as_before(
    tmp_path: Path, fields: dict[str, object]
) -> None:
    before = SummaryBuilder().feed_all(read_log(_barge_in_log(tmp_path))).summary()
    summary = SummaryBuilder().feed_all(read_log(_barge_in_log(tmp_path, **fields))).summary()
    assert render_table(summary) == render_table(before)
    assert "barge-in" not in render_table(summary)
    document = json.loads(render_json(summary))
    assert document == json.loads(render_json(before))
    assert "barge_in_onset_to_silence_ms" not in document["turns"][0]
    assert document["turns"][0]["truncated_at_ms"] == 150
