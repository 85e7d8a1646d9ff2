"""``replay`` on logs of the audio chat-completions commands (``dir: http`` exchanges and their
``completion`` meta lines): the transcript, the summary, the event lines and the WAV, through the
real process; the summary's fallback on a log without meta lines through the real reader."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from realtime_console.eventlog import read_log
from realtime_console.protocol import pcm
from realtime_console.replay.event_lines import TypeFilter, format_line
from realtime_console.replay.summary import SummaryBuilder
from tests.conftest import Run, assert_no_traceback, run_console
from tests.replay.completions_log import (
    ERRORS,
    STDOUT,
    CompletionsLog,
    write_completions_log,
)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CompletionsLog]:
    root = tmp_path_factory.mktemp("completions")
    return {
        "full": write_completions_log(root / "chat.jsonl"),
        "none": write_completions_log(root / "chat-noaudio.jsonl.gz", audio="none"),
        "no_meta": write_completions_log(root / "chat-nometa.jsonl", with_meta=False),
    }


async def replay(*args: str) -> Run:
    run = await run_console("replay", *args)
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    return run


def right_channel(path: Path) -> npt.NDArray[np.int16]:
    with wave.open(str(path)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    assert not frames[:, 0].any()  # HTTP exchanges put nothing on the microphone channel
    return frames[:, 1]


async def test_exchanges_replay_as_turns(logs: dict[str, CompletionsLog]) -> None:
    run = await replay(str(logs["full"].path), "--no-audio", "--speed", "max")
    assert run.stdout.splitlines() == STDOUT
    assert run.stderr.splitlines() == ERRORS


async def test_without_audio_payloads_the_input_audio_shows_its_size(
    logs: dict[str, CompletionsLog],
) -> None:
    run = await replay(str(logs["none"].path), "--no-audio", "--speed", "max")
    size = len(logs["none"].input_wav)
    assert run.stdout.splitlines() == [
        f"you> What is this sound? [audio {size / 1000:.1f} kB wav]",
        *STDOUT[1:],
    ]


async def test_summary_table_has_the_chat_completions_turns(
    logs: dict[str, CompletionsLog],
) -> None:
    run = await replay(str(logs["full"].path), "--summary", "--no-audio")
    table = run.stdout.splitlines()[len(STDOUT) :]
    assert table[0].split()[:4] == ["turn", "request", "mode", "1st"]
    rows = [line.split() for line in table[1:5]]
    assert rows[0] == "1 req_0001 stream 302 1100 0.50 120/40 25/30 1 completed 1".split()
    assert rows[3] == "4 req_0004 stream - 1400 - -/- -/- 1 failed 2".split()
    assert table[-1].startswith("chat completions: 4 turns (1 failed) in 8.4 s (21 events)")
    assert "audio 50 in / 80 out); 2 retries; 3 errors" in table[-1]
    assert not any(line.startswith("total:") for line in table)  # no realtime turns: no table


async def test_json_has_the_chat_completions_turns(logs: dict[str, CompletionsLog]) -> None:
    run = await replay(str(logs["full"].path), "--json")
    data = json.loads(run.stdout)
    assert data["turns"] == [] and data["totals"]["events"] == 21
    turns, totals = data["completions"]["turns"], data["completions"]["totals"]
    assert turns[0] == {
        "number": 1,
        "request_id": "req_0001",
        "model": "gpt-audio",
        "stream": True,
        "status": "completed",
        "user_text": "What is this sound? [audio 1.0 s]",
        "input_audio_s": 1.0,
        "first_audio_ms": 302.0,  # the meta line's measure, not the log's t
        "elapsed_ms": 1100.0,
        "audio_s": 0.5,
        "prompt_tokens": 120,
        "completion_tokens": 40,
        "total_tokens": 160,
        "prompt_audio_tokens": 25,
        "completion_audio_tokens": 30,
        "retries": 1,
        "errors": ["429 rate_limit_exceeded: Too many requests"],
        "transcript": "A bell ringing.",
    }
    assert [t["status"] for t in turns] == ["completed", "completed", "completed", "failed"]
    assert turns[3]["errors"] == [
        "500 server_error: The server had an error",
        "503: Service unavailable",
    ]
    assert {k: totals[k] for k in ("turns", "completed", "failed", "retries", "errors")} == {
        "turns": 4, "completed": 3, "failed": 1, "retries": 2, "errors": 3,
    }  # fmt: skip
    assert (totals["audio_s"], totals["total_tokens"], totals["first_audio_ms_median"]) == (
        2.1,
        650,
        500.0,
    )


def test_summary_without_meta_lines_comes_from_the_log_times(
    logs: dict[str, CompletionsLog],
) -> None:
    summary = SummaryBuilder().feed_all(read_log(logs["no_meta"].path)).summary()
    assert summary.completions is not None
    stream, whole, mp3, failed = summary.completions.turns
    # From the first attempt's request: first audio piece at 0.95 s, last chunk at 1.1 s.
    assert (stream.first_audio_ms, stream.elapsed_ms, stream.audio_s) == (950.0, 1100.0, 0.5)
    assert (stream.status, stream.retries, stream.input_audio_s) == ("completed", 1, 1.0)
    assert (stream.total_tokens, stream.completion_audio_tokens) == (160, 30)
    assert (whole.first_audio_ms, whole.audio_s, whole.transcript) == (
        800.0,
        0.4,
        "A bell, ringing.",
    )
    assert mp3.audio_s is None  # not decodable here; the meta line would have said
    assert (failed.status, failed.retries, failed.elapsed_ms, len(failed.errors)) == (
        "failed",
        1,
        1400.0,
        2,
    )


def test_event_lines_for_the_exchange_types(logs: dict[str, CompletionsLog]) -> None:
    records = list(read_log(logs["full"].path))
    lines = [format_line(r).split(None, 4) for r in records]
    request, error = lines[0], lines[1]
    assert request[2:4] == ["http", "chat.completions.request"]
    assert (
        request[4]
        == "req_0001 attempt 1 openai gpt-audio stream 'What is this sound? [audio 1.0 s]'"
    )
    assert (
        error[4] == "req_0001 attempt 1 429 rate_limit_exceeded: Too many requests, retry in 0.5 s"
    )
    piece = next(line for line in lines if "9600 B" in line[-1])
    assert piece[4] == "req_0001 9600 B (200 ms)"
    done = next(line for line in lines if line[3] == "completion")
    assert done[4] == "req_0001 completed first audio 0.302s elapsed 1.100s audio 0.500s retries 1"
    http_only = TypeFilter("http:*")
    assert {r.dir for r in records if http_only.matches(r)} == {"http"}
    assert sum(TypeFilter("chat.completions.error").matches(r) for r in records) == 3


async def test_types_lines_through_the_process(logs: dict[str, CompletionsLog]) -> None:
    run = await replay(str(logs["full"].path), "--types", "http:chat.completions.error,meta:*")
    kinds = [line.split()[2:4] for line in run.stdout.splitlines()]
    assert kinds == [["http", "chat.completions.error"], *[["meta", "completion"]] * 3,
                     ["http", "chat.completions.error"], ["http", "chat.completions.error"],
                     ["meta", "completion"]]  # fmt: skip


async def test_wav_holds_the_streamed_pieces_and_the_wav_reply(
    logs: dict[str, CompletionsLog], tmp_path: Path
) -> None:
    log, out = logs["full"], tmp_path / "heard.wav"
    run = await replay(str(log.path), "--wav", str(out), "--no-audio")
    right = right_channel(out)
    expected = np.zeros(len(right), "<i2")
    end = 0
    for t, audio in [*log.pieces, log.wav_reply]:
        samples = np.frombuffer(audio, "<i2")
        start = max(pcm.ms_to_samples(t * 1000), end)  # the realtime rule: arrival or after
        expected[start : start + len(samples)] = samples
        end = start + len(samples)
    assert np.array_equal(right, expected) and right.any()
    assert len(right) >= pcm.ms_to_samples(8410)  # up to the last line
    assert run.stderr.splitlines()[-1] == (
        f"-- --wav {out}: left out the audio of whole replies in formats it cannot decode "
        "(1 mp3); only wav and pcm16 replies are rendered"
    )


async def test_wav_of_a_log_without_payloads_is_silence_of_the_right_length(
    logs: dict[str, CompletionsLog], tmp_path: Path
) -> None:
    full, silent = tmp_path / "full.wav", tmp_path / "silent.wav"
    await replay(str(logs["full"].path), "--wav", str(full), "--no-audio")
    run = await replay(str(logs["none"].path), "--wav", str(silent), "--no-audio")
    assert len(right_channel(silent)) == len(right_channel(full))
    assert not right_channel(silent).any()
    assert f"-- {silent}: the log has no audio payloads (--log-audio none): silence" in run.stderr


async def test_timeline_ignores_the_exchanges(
    logs: dict[str, CompletionsLog], tmp_path: Path
) -> None:
    out = tmp_path / "t.png"
    await replay(str(logs["full"].path), "--timeline", str(out), "--no-audio")
    assert out.read_bytes()[:4] == b"\x89PNG"


async def test_resend_refuses_a_chat_completions_log(logs: dict[str, CompletionsLog]) -> None:
    run = await run_console("replay", str(logs["full"].path), "--local")
    assert_no_traceback(run)
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "records audio chat completions (HTTP), not a realtime session" in run.stderr
