"""The soak benchmark, short: a few simulated minutes of ``talk`` on the accelerated clock with
one session renewal and one fault of each kind, and the invariants it exists to prove.

Figures (RSS, wall time) are the benchmark's business; this asserts only what must always hold.
"""

from __future__ import annotations

from benchmarks.soak import _peek, main


def test_a_short_soak_answers_every_turn_survives_every_fault_and_leaks_nothing() -> None:
    result = main(simulated_s=240.0, factor=30.0, session_limit_s=100.0, fault_every_s=30.0)

    assert result["exit_code"] == 0
    assert result["exceptions_escaped"] == 0, result["exception_messages"]
    turns = result["turns"]
    assert turns["attempted"] >= 5
    assert turns["answered"] == turns["attempted"], turns["unanswered"]
    assert turns["console_stuck"] == []  # back to listening after every reply and fault
    # The session was renewed ahead of its (scaled) limit.
    session = result["session"]
    assert session["recycles"] >= 1, (session, result["timeline"], result["faults"]["schedule"])
    # Every fault the schedule armed was injected, and the console came through each.
    faults = result["faults"]
    assert set(faults["injected"]) == {
        "drop_mid_reply",
        "drop_idle",
        "stall_reply",
        "malformed",
        "error_event",
        "jitter",
    }
    assert faults["injected"] == faults["armed"]
    # Every drop (and a 1001 at the limit, should no quiet moment come) ended in a reconnect.
    assert session["connection_losses"] >= 2
    assert (
        session["reconnects"]
        == session["connection_losses"] + session["closes_1001_seen_by_console"]
    )
    assert result["watchdog_firings"] >= 1  # the reply that never finished was abandoned
    assert result["malformed_frames_skipped"] >= 1
    tasks = result["tasks"]
    assert tasks["end"] <= tasks["start"], tasks["new_at_end"]
    assert tasks["left_after_talk_returned"] == 0, tasks["left_names"]
    assert result["fds"]["after_talk_returned"] <= result["fds"]["before_talk"]


def test_the_relay_reads_type_and_response_id_from_a_frame_head() -> None:
    delta = '{"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_A1",'
    assert _peek(delta + '"delta":"' + "A" * 10_000 + '"}') == (
        "response.output_audio.delta",
        "resp_A1",
    )
    done = (
        '{"type":"response.done","event_id":"e",'
        '"response":{"object":"realtime.response","id":"resp_B2"}}'
    )
    assert _peek(done) == ("response.done", "resp_B2")
    assert _peek('{"type":"session.created","session":{"id":"sess_1"}}') == (
        "session.created",
        None,
    )
