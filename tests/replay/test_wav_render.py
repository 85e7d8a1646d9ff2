from __future__ import annotations

import json
import wave
from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from realtime_console.eventlog import EventLogWriter, LogRecord, read_log, scan_log
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor
from realtime_console.replay import wav_render
from realtime_console.replay.wav_render import (
    CUT_NEEDLES,
    StereoWavRenderer,
    collect_cuts,
)
from tests.replay.recording import BARGE_IN_MS, VoiceRecording


def render(log: Path, out: Path, **kwargs: float) -> StereoWavRenderer:
    renderer = StereoWavRenderer(out, collect_cuts(scan_log(log, CUT_NEEDLES)), **kwargs)
    for record in read_log(log):
        renderer.feed(record)
    renderer.close()
    return renderer


def channels(path: Path) -> npt.NDArray[np.int16]:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 24000, 2)
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    return data.reshape(-1, 2)


def test_assistant_channel_is_the_audio_received_cut_at_the_barge_in(
    voice_log: VoiceRecording, tmp_path: Path
) -> None:
    out = tmp_path / "heard.wav"
    stats = render(voice_log.path, out).stats
    right = channels(out)[:, 1]
    # The rule, spelled out: a chunk starts at its arrival or when the previous one ends; the cut
    # item stops at BARGE_IN_MS.
    cut_item = next(
        r.event["item_id"] for r in read_log(voice_log.path) if r.event["type"].endswith("truncate")
    )
    expected = np.zeros(len(right), "<i2")
    received: dict[str, bytearray] = defaultdict(bytearray)
    starts: dict[str, int] = {}
    end = placed = 0
    for r in read_log(voice_log.path):
        if r.event["type"] != "response.output_audio.delta":
            continue
        chunk = np.frombuffer(pcm.decode_b64(r.event["delta"]), "<i2")
        item = r.event["item_id"]
        received[item] += chunk.tobytes()
        if item == cut_item:
            chunk = chunk[
                : max(0, pcm.ms_to_samples(BARGE_IN_MS) - (len(received[item]) // 2 - len(chunk)))
            ]
        start = max(pcm.ms_to_samples((r.t or 0) * 1000), end)
        starts.setdefault(item, start)
        expected[start : start + len(chunk)] = chunk
        end = start + len(chunk)
        placed += len(chunk)
    assert np.array_equal(right, expected)
    assert len(received) == 3
    # Played without a gap, each uncut reply is exactly the audio received, sample for sample.
    for item, audio in received.items():
        n = len(audio) // 2 if item != cut_item else pcm.ms_to_samples(BARGE_IN_MS)
        assert right[starts[item] : starts[item] + n].tobytes() == bytes(audio[: n * 2])
    assert stats.cut_samples == len(received[cut_item]) // 2 - pcm.ms_to_samples(BARGE_IN_MS)
    assert stats.assistant_samples == placed


def test_user_channel_is_the_microphone(voice_log: VoiceRecording, tmp_path: Path) -> None:
    out = tmp_path / "heard.wav"
    stats = render(voice_log.path, out).stats
    left = channels(out)[:, 0]
    mic = np.frombuffer(voice_log.mic, "<i2")
    assert stats.user_samples == len(mic)
    # The whole first utterance was sent faster than real time: one contiguous run.
    first = next(r for r in read_log(voice_log.path) if r.event["type"].endswith("append"))
    n = len(pcm.decode_b64(first.event["audio"])) // 2
    start = max(0, pcm.ms_to_samples((first.t or 0) * 1000) - n)
    run = len(pcm.decode_b64(first.event["audio"])) // 2
    assert left[start : start + run].tobytes() == mic[:run].tobytes()
    assert np.abs(left.astype(np.int64)).sum() == np.abs(mic.astype(np.int64)).sum()


def test_small_window_streams_to_the_same_file(voice_log: VoiceRecording, tmp_path: Path) -> None:
    whole, streamed = tmp_path / "whole.wav", tmp_path / "streamed.wav"
    render(voice_log.path, whole)
    render(voice_log.path, streamed, max_lag_s=0.3, flush_every_s=0.05)
    assert whole.read_bytes() == streamed.read_bytes()
    duration = list(read_log(voice_log.path))[-1].t or 0.0
    assert len(channels(whole)) >= pcm.ms_to_samples(duration * 1000)


def test_log_without_audio_payloads_renders_silence(
    voice_log: VoiceRecording, tmp_path: Path
) -> None:
    stripped = tmp_path / "noaudio.jsonl"
    now = [0.0]
    with EventLogWriter(
        stripped,
        provider="local",
        model="m",
        session={},
        program_version="t",
        redactor=Redactor(),
        audio="none",
        clock=lambda: now[0],
    ) as writer:
        for record in read_log(voice_log.path):
            now[0] = record.t or 0.0  # the original's times
            writer.write(record.dir, record.event)
    full, silent = tmp_path / "full.wav", tmp_path / "silent.wav"
    render(voice_log.path, full)
    stats = render(stripped, silent).stats
    assert stats.missing_audio_bytes > 0
    assert len(channels(silent)) == len(channels(full)) and not channels(silent).any()


def _delta(t: float, item_id: str = "a1", samples: int = 480) -> LogRecord:
    event = {
        "type": "response.output_audio.delta",
        "item_id": item_id,
        "delta": pcm.encode_b64(np.full(samples, 100, "<i2").tobytes()),
    }
    return LogRecord(0, 2, t, "server", event)


def test_a_time_no_wav_reaches_is_ignored_like_a_missing_one(tmp_path: Path) -> None:
    """A corrupt t (1e308, -1e308) made the sample arithmetic overflow (OverflowError); now
    it does not move the file's clock: the audio plays on where it was."""
    out = tmp_path / "heard.wav"
    renderer = StereoWavRenderer(out, {})
    for t in (0.5, 1e308, -1e308, 0.5):
        renderer.feed(_delta(t))
    stats = renderer.close()
    right = channels(out)[:, 1]
    start = pcm.ms_to_samples(500)
    assert stats.assistant_samples == 4 * 480 and len(right) == start + 4 * 480
    assert (right[start:] == 100).all()


def test_a_cut_past_float_range_cuts_nothing(tmp_path: Path) -> None:
    log = tmp_path / "cut.jsonl"
    lines = [
        {"t": 0.0, "dir": "client", "event": {"type": "conversation.item.truncate",
                                               "item_id": "a1", "audio_end_ms": 10**309}},
        {"t": 0.0, "dir": "meta", "event": {"type": "barge_in", "item_id": "a2",
                                             "audio_end_ms": 10**305}},
    ]  # fmt: skip
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    cuts = collect_cuts(scan_log(log, CUT_NEEDLES))
    assert cuts == {"a2": 10**305}  # 10**309: not a number a float holds, so not a cut
    out = tmp_path / "heard.wav"
    renderer = StereoWavRenderer(out, {**cuts, "a3": -(10**305)})
    for item_id in ("a1", "a2", "a3"):
        renderer.feed(_delta(0.0, item_id))
    stats = renderer.close()
    assert stats.assistant_samples == 2 * 480 and stats.cut_samples == 480  # a3: heard nothing


def test_a_long_pause_does_not_grow_the_window(tmp_path: Path) -> None:
    """The window slides before a record's audio is placed: an hour without events costs the
    file an hour of silence, not an hour of samples held in memory."""
    renderer = StereoWavRenderer(tmp_path / "heard.wav", {})
    renderer.feed(_delta(0.0))
    window = len(renderer._buffer)
    renderer.feed(_delta(3600.0))
    assert len(renderer._buffer) == window
    assert renderer.close().frames == pcm.ms_to_samples(3_600_000) + 480


def test_audio_past_what_a_wav_holds_is_dropped_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WAV's sizes are 32-bit (about 12.4 hours): past that ``wave`` failed at close. Shown
    here with the capacity made 1 s, so the test does not write 4 GiB."""
    monkeypatch.setattr(wav_render, "MAX_FRAMES", pcm.SAMPLE_RATE)
    monkeypatch.setattr(wav_render, "_MAX_MS", 1000)
    out = tmp_path / "heard.wav"
    renderer = StereoWavRenderer(out, {})
    renderer.feed(_delta(0.9, samples=4800))  # 0.9 s + 0.2 s: 0.1 s past the end
    renderer.feed(_delta(5.0))  # past the end: ignored, the audio follows on, past the end too
    stats = renderer.close()
    assert stats.past_end_samples == 2400 + 480 and stats.frames == pcm.SAMPLE_RATE
    assert len(channels(out)) == pcm.SAMPLE_RATE
