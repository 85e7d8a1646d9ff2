from __future__ import annotations

import wave
from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

from realtime_console.eventlog import EventLogWriter, read_log, scan_log
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor
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
