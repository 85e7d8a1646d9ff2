from __future__ import annotations

import io
from pathlib import Path

from realtime_console.audio.playback import Playback
from realtime_console.eventlog import read_log
from realtime_console.protocol import pcm
from realtime_console.replay.event_lines import TypeFilter
from realtime_console.replay.player import ReplayPlayer, SilentView, collect_cut_marks
from realtime_console.ui.plain import PlainView
from realtime_console.ui.plain_talk import PlainTalkView
from tests.audio.helpers import samples, speaker_rig
from tests.replay.conftest import ev, user_item, write_log
from tests.replay.recording import VoiceRecording


async def test_barge_in_stops_playback_and_drops_late_deltas(voice_log: VoiceRecording) -> None:
    rig = speaker_rig()
    out = io.StringIO()
    view = PlainTalkView(out=out, err=io.StringIO(), transcripts=False)
    records = list(read_log(voice_log.path))
    marks = collect_cut_marks(records)
    player = ReplayPlayer(view, playback=Playback(rig.speaker), cuts=marks)
    cut = next(r for r in records if r.event["type"] in ("barge_in", "conversation.item.truncate"))
    cut_response = next(
        r.event["response_id"] for r in records if r.event.get("item_id") == cut.event["item_id"]
    )
    for record in records:
        if record is cut:
            rig.stream.advance(50)  # play some of what is queued, so there is something to cut
            queued_before = rig.speaker.is_playing
        await player.feed(record)
        if record is cut:
            assert queued_before and player.handlers.dropped_responses == {cut_response}
    rig.stream.advance(2000)
    rig.speaker.close()
    played = samples(rig.stream.recorded_bytes())
    received = sum(
        len(samples(pcm.decode_b64(r.event["delta"])))
        for r in records
        if r.event["type"] == "response.output_audio.delta"
    )
    assert 0 < len(played[played != 0]) < received  # the cut reply's rest was never played
    text = out.getvalue()
    # Shown as live showed it: the cut point and what was heard, not a bare [cancelled].
    assert text.count("assistant> ") == 3 and "[cancelled]" not in text
    (cut_line,) = [line for line in text.splitlines() if "[cut at " in line]
    assert cut_line.startswith(("assistant> ", "assistant (cut)> "))
    heard_ms = cut.event["audio_end_ms"]
    assert f"[cut at {heard_ms / 1000:.1f} s; heard " in cut_line


async def test_typed_user_turns_and_event_lines(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "l.jsonl",
        [
            ev(0.1, "client", "conversation.item.create", item=user_item("hi")),
            ev(0.2, "server", "response.text.delta", response_id="r", delta="hello"),
            ev(0.3, "server", "response.done", response={"id": "r", "status": "completed"}),
            ev(0.4, "server", "brand.new.event"),
        ],
    )
    out, lines = io.StringIO(), list[str]()
    player = ReplayPlayer(PlainView(out=out, err=io.StringIO()))
    for record in read_log(log):
        await player.feed(record)
    assert out.getvalue() == "you> hi\nassistant> hello\n"
    assert player.dispatcher.stats.unknown["brand.new.event"] == 1
    notices: list[str] = []
    quiet = ReplayPlayer(
        SilentView(notices.append), type_filter=TypeFilter("response.*"), write_line=lines.append
    )
    for record in read_log(log):
        await quiet.feed(record)
    assert [line.split()[3] for line in lines] == [
        "response.output_text.delta",
        "response.done",
    ]


async def test_chat_completions_reply_audio_plays(tmp_path: Path) -> None:
    from tests.replay.completions_log import STDOUT, write_completions_log

    log = write_completions_log(tmp_path / "chat.jsonl")
    rig = speaker_rig()
    out = io.StringIO()
    view = PlainTalkView(out=out, err=io.StringIO(), transcripts=False)
    player = ReplayPlayer(view, playback=Playback(rig.speaker))
    for record in read_log(log.path):
        await player.feed(record)
        rig.stream.advance(100)
    rig.stream.advance(5000)
    rig.speaker.close()
    played = samples(rig.stream.recorded_bytes())
    heard = played[played != 0].tobytes()
    expected = b"".join(audio for _, audio in [*log.pieces, log.wav_reply])
    # The stream's pieces and the whole wav reply, in order (the mp3 reply is not decodable).
    assert heard == samples(expected)[samples(expected) != 0].tobytes()
    assert out.getvalue().splitlines() == STDOUT and player.bad_audio.count == 0


async def test_a_replayed_cut_says_how_long_the_reply_went_on_over_the_user(
    tmp_path: Path,
) -> None:
    """The barge_in note's onset_to_silence_ms (talk's device-clock timing) shows on the cut as
    it did live; the client's truncate still says where the cut is."""
    audio = pcm.encode_b64(bytes(pcm.ms_to_bytes(1000)))
    a1 = {"response_id": "r1", "item_id": "a1"}
    cut = {"audio_end_ms": 480, "received_ms": 1000.0, "onset_to_silence_ms": 71.6}
    log = write_log(
        tmp_path / "cut.jsonl",
        [
            ev(0.1, "server", "response.created", response={"id": "r1"}),
            ev(
                0.2,
                "server",
                "response.output_audio_transcript.delta",
                **a1,
                delta="one two three four",
            ),
            ev(0.2, "server", "response.output_audio.delta", **a1, delta=audio),
            ev(0.6, "meta", "barge_in", **a1, **cut, detection_ms=40.2),
            ev(0.6, "client", "conversation.item.truncate", item_id="a1", audio_end_ms=500),
        ],
    )
    records = list(read_log(log))
    marks = collect_cut_marks(records)
    assert marks["a1"].audio_end_ms == 500 and marks["a1"].talked_over_ms == 71.6
    out = io.StringIO()
    player = ReplayPlayer(PlainTalkView(out=out, err=io.StringIO()), cuts=marks)
    for record in records:
        await player.feed(record)
    assert "[cut at 0.5 s, 72 ms after you spoke; heard “one two”]" in out.getvalue()
