"""The reply text rule and the usage estimate (pure)."""

from __future__ import annotations

import pytest

from realtime_console.server.completions.reply import reply_text, shorten
from realtime_console.server.completions.rules import AudioPart, Turn
from realtime_console.server.completions.usage import audio_tokens, usage

CLIP = (AudioPart("", "wav", "p"),)


@pytest.mark.parametrize(
    ("turns", "reply"),
    [
        ([Turn(0, "user", "  Hello\n  there ")], '(local server) You said: "Hello there".'),
        ([Turn(0, "system", "Be brief."), Turn(1, "user", "x " * 40)],
         f'(local server) You said: "{("x " * 40).strip()}".'),
        ([Turn(0, "user", "")], '(local server) You said: "(nothing)".'),
        ([Turn(0, "system", "Only this")], '(local server) You said: "(nothing)".'),
        ([Turn(0, "user", "first"), Turn(1, "user", "", CLIP, 2.44)],
         "(local server) I received 2.4 seconds of audio."),
        ([Turn(0, "user", "what", CLIP, 0.96)],
         '(local server) I received 1.0 seconds of audio and the text: "what".'),
        ([Turn(0, "user", "a"), Turn(1, "assistant", "I said a thing."), Turn(2, "user", "b")],
         '(local server) You said: "b". Earlier I said: "I said a thing.".'),
        ([Turn(0, "assistant", "one"), Turn(1, "assistant", ""), Turn(2, "user", "b")],
         '(local server) You said: "b". Earlier I said: "(nothing)".'),
    ],
)  # fmt: skip
def test_the_reply_rule(turns: list[Turn], reply: str) -> None:
    assert reply_text(turns) == reply


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("short", "short"),
        ("a" * 60, "a" * 60),
        ("word " * 20, "word word word word word word word word word word word word..."),
        ("x" * 70, "x" * 60 + "..."),
        (
            "twelve chars " * 5 + "end",
            "twelve chars twelve chars twelve chars twelve chars twelve...",
        ),
    ],
)
def test_earlier_replies_are_shortened_at_a_word_boundary(text: str, short: str) -> None:
    assert shorten(text) == short
    assert len(short) <= 63


def test_usage_counts_words_and_audio_seconds() -> None:
    turns = [
        Turn(0, "system", "Be brief please"),
        Turn(1, "user", "hi", CLIP, 1.25),
        Turn(2, "assistant", "a long earlier transcript", audio_s=0.3, audio_ref="audio_1"),
    ]
    spent = usage(turns, "four words right here", 2.01)
    assert spent["prompt_tokens_details"] == {
        "audio_tokens": 13 + 3,  # 1.25 s → 13, 0.3 s → 3 (not 4: no float noise)
        "cached_tokens": 0,
        "text_tokens": 4,  # the referenced reply is audio, not text
        "image_tokens": 0,
    }
    assert spent["completion_tokens_details"]["audio_tokens"] == 21
    assert spent["completion_tokens"] == 4 + 21
    assert spent["total_tokens"] == 20 + 25
    assert usage(turns, "two words", None)["completion_tokens"] == 2
    assert [audio_tokens(s) for s in (0.0, 0.01, 0.1, 0.3, 2.4)] == [0, 1, 1, 3, 24]
