from __future__ import annotations

from realtime_console.protocol.aliases import BETA_TO_GA, ga_event_type, to_ga
from realtime_console.protocol.schema import known_types


def test_every_alias_targets_a_ga_server_event() -> None:
    server_types = known_types("server")
    for beta, ga in BETA_TO_GA.items():
        assert ga in server_types, ga
        assert beta not in server_types, beta


def test_ga_and_unknown_names_pass_through() -> None:
    assert ga_event_type("response.output_audio.delta") == "response.output_audio.delta"
    assert ga_event_type("brand.new.event") == "brand.new.event"


def test_to_ga_copies_and_renames() -> None:
    beta = {"type": "response.audio_transcript.delta", "delta": "hi"}
    ga = to_ga(beta)
    assert ga == {"type": "response.output_audio_transcript.delta", "delta": "hi"}
    assert beta["type"] == "response.audio_transcript.delta"
