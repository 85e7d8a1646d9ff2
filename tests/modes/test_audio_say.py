"""``audio say --play`` in-process: the reply is heard while it is still streaming, and the file
holds exactly what was played. Sound goes to a real-time FakeOutputStream."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.playback import Playback
from realtime_console.audio.speaker import Speaker
from realtime_console.completions.output import Lines, OutputFile
from realtime_console.config import load_settings
from realtime_console.eventlog import read_log
from realtime_console.modes.audio_say import SayOptions, run_say
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY

QUESTION = "Is a golden retriever a good family dog?"


def chunk_lines(log: Path) -> int:
    """Stream chunks written to the (line-flushed) event log so far."""
    count = 0
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the line being written right now
            continue
        count += record.get("dir") == "http" and record.get("type") == "chat.completions.chunk"
    return count


async def test_play_starts_before_the_stream_ends_and_the_file_holds_what_was_played(
    tmp_path: Path,
) -> None:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(FakeOutputStream(realtime=True, record=True, **kwargs))
        return streams[-1]

    speaker = Speaker(block_ms=20, prebuffer_ms=40, stream_factory=factory)
    speaker.start()
    playback = Playback(speaker)
    log, out_file = tmp_path / "log.jsonl", tmp_path / "dog.wav"
    # Generated twice as fast as it plays: a few seconds of speech stream for over a second.
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=2.0)
    async with LocalServer(options) as server:
        settings = load_settings(
            env={"AZURE_OPENAI_ENDPOINT": server.http_url()},
            overrides={"log.events": str(log)},
        )
        out, err = io.StringIO(), io.StringIO()
        say = asyncio.create_task(
            run_say(
                settings,
                SayOptions(text=QUESTION, output=OutputFile(out_file, "wav")),
                env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
                redactor=Redactor(),
                lines=Lines(out, err),
                playback=playback,
            )
        )
        chunks_at_first_sound: int | None = None
        transcript_at_first_sound = ""
        while not say.done():
            if chunks_at_first_sound is None and any(b.any() for b in list(streams[0].blocks)):
                chunks_at_first_sound = chunk_lines(log)
                transcript_at_first_sound = out.getvalue()
            await asyncio.sleep(0.005)
        code = await say
    playback.close()
    assert code == 0, err.getvalue()

    audio_chunks = [
        r.event["chunk"]
        for r in read_log(log)
        if r.dir == "http" and r.event["type"] == "chat.completions.chunk"
    ]
    assert chunks_at_first_sound is not None
    assert chunks_at_first_sound < len(audio_chunks) // 2, "sound only after most of the stream"
    assert transcript_at_first_sound == ""  # printed once the stream has ended
    assert out.getvalue() == f'(local server) You said: "{QUESTION}".\n'

    with wave.open(str(out_file), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        saved = wav.readframes(wav.getnframes())
    played = streams[0].recorded_bytes()
    start = played.find(saved[:4800])
    assert start >= 0 and played[start : start + len(saved)] == saved  # all of it, in order
    assert not np.frombuffer(played[start + len(saved) :], dtype="<i2").any()
    seconds = len(saved) / 48000
    assert seconds > 1.0
    assert err.getvalue().splitlines()[-1] == f"-- saved {out_file} ({seconds:.1f} s, wav)"
    assert speaker.stats.underruns == 0
