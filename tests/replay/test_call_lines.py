"""``replay LOG`` shows each function call and MCP line where and as the live console printed
it, from the log alone: logs recorded by the real CLI against the local server (and a real MCP
server), replayed by the real CLI. Nothing is run again."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from realtime_console.eventlog import read_log
from realtime_console.replay.run import ReplayOptions, run_replay
from realtime_console.server.app import LocalServer
from realtime_console.ui.plain import PlainView
from tests.conftest import Run, assert_no_traceback, azure_env, run_console
from tests.replay.conftest import ev, write_log

REPO = Path(__file__).resolve().parents[2]
WEATHER = str(REPO / "examples" / "tools" / "weather.py")
CLOCK = str(REPO / "tests" / "fixtures" / "tools" / "clock_tools.py")
SLOW = str(REPO / "tests" / "fixtures" / "tools" / "slow.toml")
PARIS = (
    '{"city": "Paris", "temperature": 18.0, "unit": "celsius", "conditions": "partly cloudy", '
    '"humidity_percent": 62}'
)
CITY = '{"city": "Paris"}'
NOON = '{"city": "Paris", "time": "12:34"}'
TOOK = re.compile(r" \(\d+ ms\)$")


async def chat(
    server: LocalServer, tmp_path: Path, stdin: str, *flags: str, **env: str
) -> tuple[Run, Path]:
    """A live ``chat`` recorded to a log: its run (what the console printed) and the log."""
    log = tmp_path / "chat.jsonl"
    run = await run_console(
        "--log-events",
        str(log),
        "chat",
        "--no-playback",
        *flags,
        stdin=stdin,
        env=azure_env(server.http_url(), tmp_path, **env),
        cwd=tmp_path,
        timeout=60,
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    return run, log


async def replay(log: Path, *flags: str) -> list[str]:
    run = await run_console("replay", str(log), "--no-audio", "--speed", "max", *flags)
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    return run.stdout.splitlines()


def notes(log: Path) -> list[Mapping[str, Any]]:
    return [r.event for r in read_log(log) if r.dir == "meta" and r.event["type"] == "tool_call"]


def took(note: Mapping[str, Any]) -> str:
    return f" ({note['duration_ms']:.0f} ms)"


def untimed(lines: list[str]) -> list[str]:
    """Lines without their ``(N ms)``: live measured to the microsecond, the meta line keeps
    0.1 ms, so a time may round to the next millisecond."""
    return [TOOK.sub(" (N ms)", line) for line in lines]


def without_lines(log: Path, out: Path, drop: set[tuple[str, str]]) -> Path:
    """The log less the records whose (dir, type) (or, for an item, (dir, item type)) is in
    ``drop``: what an older console, or a session cut off, left behind."""
    kept = []
    for raw in log.read_text().splitlines():
        line = json.loads(raw)
        event = line.get("event", {})
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        if (line.get("dir"), event.get("type")) in drop or (
            line.get("dir"),
            item.get("type"),
        ) in drop:
            continue
        kept.append(raw)
    out.write_text("\n".join(kept) + "\n")
    return out


async def test_a_function_call_shows_its_tool_line_where_it_showed_live(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, log = await chat(
        local_server, tmp_path, "What is get_weather city=Paris like?\n", "--tools", WEATHER
    )
    (note,) = notes(log)
    lines = await replay(log)
    assert lines == [
        "you> What is get_weather city=Paris like?",
        "assistant> (local server) Calling get_weather.",
        f'tool> get_weather {{"city": "Paris"}} -> {PARIS}{took(note)}',
        f"assistant> (local server) get_weather returned {PARIS}.",
    ]
    assert untimed(lines) == untimed(run.stdout.splitlines())


async def test_parallel_calls_show_in_the_order_they_ended_with_their_own_times(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, log = await chat(
        local_server,
        tmp_path,
        "get_weather city=Paris and then local_time\n",
        "--tools",
        WEATHER,
        "--tools",
        CLOCK,
    )
    weather, clock = notes(log)
    assert (weather["name"], clock["name"]) == ("get_weather", "local_time")
    assert clock["duration_ms"] >= 400  # local_time sleeps 0.4 s: it ends second
    lines = await replay(log)
    assert lines == [
        "you> get_weather city=Paris and then local_time",
        "assistant> (local server) Calling get_weather and local_time.",
        f'tool> get_weather {{"city": "Paris"}} -> {PARIS}{took(weather)}',
        f"tool> local_time {CITY} -> {NOON}{took(clock)}",
        f"assistant> (local server) get_weather returned {PARIS}. local_time returned {NOON}.",
    ]
    assert untimed(lines) == untimed(run.stdout.splitlines())


async def test_a_timed_out_call_says_so_without_a_time(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, log = await chat(local_server, tmp_path, "I am so tired, nap please\n", "--tools", SLOW)
    assert [n["status"] for n in notes(log)] == ["timeout"]
    lines = await replay(log)
    assert lines == [
        "you> I am so tired, nap please",
        "assistant> (local server) Calling nap.",
        "tool> nap {} timed out after 0.5 s",
        'assistant> (local server) nap returned {"error": "nap timed out after 0.5 s"}.',
    ]
    assert lines == run.stdout.splitlines()


async def test_a_log_without_meta_lines_shows_calls_from_the_events(
    tmp_path: Path, local_server: LocalServer
) -> None:
    """An older log: no ``tool_call`` lines. An output sent is a call that went well (no time:
    the log has none); a call never answered says so when its response is done."""
    _, log = await chat(
        local_server, tmp_path, "get_weather city=Paris and then local_time\n",
        "--tools", WEATHER, "--tools", CLOCK,
    )  # fmt: skip
    old = without_lines(log, tmp_path / "old.jsonl", {("meta", "tool_call")})
    assert not notes(old)
    lines = await replay(old)
    assert lines[2:4] == [
        f'tool> get_weather {{"city": "Paris"}} -> {PARIS}',
        'tool> local_time {"city": "Paris"} -> {"city": "Paris", "time": "12:34"}',
    ]
    unanswered = without_lines(
        log, tmp_path / "cut.jsonl", {("meta", "tool_call"), ("client", "function_call_output")}
    )
    lines = await replay(unanswered)
    assert lines[1:4] == [
        "assistant> (local server) Calling get_weather and local_time.",
        'tool> get_weather {"city": "Paris"} unanswered',
        'tool> local_time {"city": "Paris"} unanswered',
    ]


async def test_replay_never_runs_a_tool(tmp_path: Path, local_server: LocalServer) -> None:
    runs = tmp_path / "runs.txt"
    tool = tmp_path / "counted.py"
    tool.write_text(
        "from pathlib import Path\n\n\n"
        "def counted() -> str:\n"
        '    """Counts its runs."""\n'
        f"    with Path({str(runs)!r}).open('a') as f:\n"
        "        f.write('run\\n')\n"
        "    return 'counted'\n"
    )
    _, log = await chat(local_server, tmp_path, "counted please\n", "--tools", str(tool))
    assert runs.read_text() == "run\n"
    lines = await replay(log)
    assert [line for line in lines if line.startswith("tool>")] == [
        f"tool> counted {{}} -> counted{took(notes(log)[0])}"
    ]
    assert runs.read_text() == "run\n"  # the replay did not run it again


async def test_the_summary_keeps_the_reply_to_tool_outputs_in_its_turn(
    tmp_path: Path, local_server: LocalServer
) -> None:
    _, log = await chat(
        local_server, tmp_path, "get_weather city=Paris\nthanks\n", "--tools", WEATHER
    )
    run = await run_console("replay", str(log), "--json")
    turns = json.loads(run.stdout)["turns"]
    assert [(t["input"], t["user_text"], t["responses"]) for t in turns] == [
        ("text", "get_weather city=Paris", 2),
        ("text", "thanks", 1),
    ]
    assert [c["name"] for c in turns[0]["tool_calls"]] == ["get_weather"]


# ---------------------------------------------------------------------- cancelled calls


async def replay_here(log: Path) -> list[str]:
    out = io.StringIO()
    await run_replay(
        log, ReplayOptions(speed=None), view=PlainView(out=out, err=io.StringIO()), out=out
    )
    return out.getvalue().splitlines()


def call_item(call_id: str) -> dict[str, object]:
    return {"type": "function_call", "call_id": call_id, "name": "lookup", "arguments": "{}"}


@pytest.mark.parametrize(
    ("before", "why"),
    [
        (
            ev(0.4, "server", "input_audio_buffer.speech_started", audio_start_ms=900),
            "the user spoke",
        ),
        (
            ev(0.4, "server", "response.done", response={"id": "r2", "status": "cancelled"}),
            "its response was cancelled",
        ),
        (ev(0.4, "meta", "connection_lost", code=1006), "the connection dropped"),
    ],
)
async def test_a_cancelled_call_says_why_as_live(
    tmp_path: Path, before: dict[str, object], why: str
) -> None:
    """The meta line says ``cancelled``; why comes from what was recorded just before it."""
    log = write_log(
        tmp_path / "talk.jsonl",
        [
            ev(0.1, "server", "response.created", response={"id": "r1"}),
            ev(0.2, "server", "response.output_item.done", response_id="r1", item=call_item("c1")),
            ev(0.3, "server", "response.done", response={"id": "r1", "status": "completed"}),
            before,
            ev(0.41, "meta", "tool_call", call_id="c1", name="lookup", status="cancelled",
               duration_ms=120.0),
        ],
    )  # fmt: skip
    assert await replay_here(log) == [f"tool> lookup {{}} cancelled ({why})"]


# ---------------------------------------------------------------------- MCP

MCP_SECRET = "mcp-token-replay-5c2d"


@pytest.fixture(scope="module")
def mcp_url() -> Any:
    pytest.importorskip("mcp", reason="the MCP tests need the mcp package (the 'mcp' extra)")
    from tests.fixtures.mcp_server import mcp_server

    with mcp_server() as running:
        yield running.url


async def mcp_chat(
    server: LocalServer, tmp_path: Path, url: str, stdin: str, mode: str
) -> tuple[Run, Path]:
    return await chat(
        server, tmp_path, stdin, "--mcp", f"notes={url}", "--tool-mode", mode,
        NOTES_MCP_TOKEN=MCP_SECRET,
    )  # fmt: skip


def asked(line: str) -> bool:
    return line.startswith("mcp call ") and " approve? [y/N] " in line


async def test_an_approved_mcp_call_shows_its_listing_and_call_lines(
    tmp_path: Path, local_server: LocalServer, mcp_url: str
) -> None:
    run, log = await mcp_chat(
        local_server, tmp_path, mcp_url, 'delete_note title="Old list"\ny\n', "confirm"
    )
    (note,) = notes(log)
    lines = await replay(log)
    assert lines == [
        'you> delete_note title="Old list"',
        "mcp> notes: 3 tools (get_forecast, delete_note, broken)",
        f'mcp> notes.delete_note {{"title": "Old list"}} -> Deleted Old list.{took(note)}',
        "assistant> (local server) delete_note returned Deleted Old list.",
    ]
    # As live, but for the question: the log does not say whether one was asked.
    live = [line for line in run.stdout.splitlines() if not asked(line)]
    assert untimed(lines) == untimed(live)
    # --summary: the reply after the approval is in the turn that asked, not a turn of its own.
    document = json.loads((await run_console("replay", str(log), "--json")).stdout)
    assert [(t["input"], t["responses"]) for t in document["turns"]] == [("text", 2)]
    assert [c["name"] for c in document["turns"][0]["tool_calls"]] == ["notes.delete_note"]


async def test_a_refused_and_a_failed_mcp_call_show_as_live(
    tmp_path: Path, local_server: LocalServer, mcp_url: str
) -> None:
    run, log = await mcp_chat(
        local_server, tmp_path, mcp_url, "delete_note please\nn\nand broken\ny\n", "confirm"
    )
    declined, failed = notes(log)
    assert (declined["status"], failed["status"]) == ("declined", "error")
    lines = await replay(log)
    assert 'mcp> notes.delete_note {"title": "example"} declined' in lines
    assert f"mcp> notes.broken {{}} failed: Error executing tool broken{took(failed)}" in lines
    live = [line for line in run.stdout.splitlines() if not asked(line)]
    assert untimed(lines) == untimed(live)
    document = json.loads((await run_console("replay", str(log), "--json")).stdout)
    assert [(t["input"], t["responses"]) for t in document["turns"]] == [("text", 2), ("text", 2)]


async def test_malformed_call_records_are_shown_screened_or_not_at_all(tmp_path: Path) -> None:
    """A hand-edited or hostile log: odd types never stop the replay, control characters in
    the model's words never reach the screen."""
    log = write_log(
        tmp_path / "odd.jsonl",
        [
            ev(0.1, "server", "response.output_item.done", response_id=None, item=[1]),
            ev(0.2, "server", "response.output_item.done", response_id="r1",
               item={"type": "function_call", "call_id": "c1", "name": "a\x1b[2Jb",
                     "arguments": "[[[["}),
            ev(0.3, "meta", "tool_call", call_id="c1", name=None, status=["ok"],
               duration_ms="soon"),
            ev(0.4, "meta", "tool_call", call_id=7, status="ok"),
            ev(0.5, "server", "response.output_item.done", response_id="r1",
               item={"type": "mcp_call", "id": {}, "error": {"message": None}}),
            ev(0.6, "meta", "tool_call", server_label="x", call_id=None, status="declined"),
            ev(0.7, "server", "mcp_list_tools.completed", item_id=None),
        ],
    )  # fmt: skip
    lines = await replay_here(log)
    assert lines == [
        "tool> ab [[[[ failed: ",
        "mcp> ?.? {} failed: {'message': None}",
        "mcp> x.? {} declined",
    ]
