"""``python -m benchmarks``: the quick mode of two cheap benchmarks through the real command, the
envelope it saves, the page and README table it generates; and what happens to a missing module.

Figures are the benchmarks' business: this checks shapes and wiring, never timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest

from benchmarks import report
from benchmarks.__main__ import SKIPPED, _child
from benchmarks.registry import BENCHMARKS, Benchmark, bound

ROOT = Path(__file__).resolve().parents[2]
CHEAP = ("talk_playback_latency", "dispatcher_throughput")
README = """# Project

Intro stays.

<!-- benchmarks:start -->
| stale | table |
<!-- benchmarks:end -->

Outro stays.
"""


def _command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args]
        + ["--out", str(tmp_path / "results"), "--docs", str(tmp_path / "benchmarks.md")]
        + ["--readme", str(tmp_path / "README.md")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_quick_run_saves_envelopes_and_generates_the_page_and_the_readme_table(
    tmp_path: Path,
) -> None:
    (tmp_path / "README.md").write_text(README, encoding="utf-8")

    done = _command(tmp_path, "--quick", "--only", *CHEAP)

    assert done.returncode == 0, done.stderr
    for name in CHEAP:
        env = json.loads((tmp_path / "results" / f"{name}.quick.json").read_text())
        assert env["name"] == name and env["mode"] == "quick" and env["error"] is None
        assert datetime.fromisoformat(env["date"]).tzinfo is not None
        assert set(env["machine"]) == {"cpu_model", "cores", "python", "os", "load_average"}
        assert env["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
        assert env["metrics"], name
        for metric in env["metrics"]:
            assert set(metric) == {"name", "value", "unit", "target", "limit", "passed"}
            assert metric["limit"].strip()  # every figure says what bounds it
            if metric["target"] != "informational":
                assert isinstance(metric["passed"], bool)
        checked = [m["passed"] for m in env["metrics"] if m["passed"] is not None]
        assert env["passed"] == all(checked)
        assert env["raw"]["benchmark"] == name  # the module's own JSON, as it printed it
    grid = json.loads((tmp_path / "results" / "talk_playback_latency.quick.json").read_text())
    names = {m["name"] for m in grid["metrics"]}
    for pace in ("1", "1.5", "4"):  # the whole pace x jitter grid is reported
        for jitter in ("0", "40", "80"):
            assert f"clean_replies_percent (pace {pace}, jitter {jitter} ms)" in names

    page = (tmp_path / "benchmarks.md").read_text()
    assert "## talk_playback_latency" in page and "## dispatcher_throughput" in page
    assert "**What bounds it.**" in page and "quick run" in page
    assert "Not measured yet:" in page and "`talk_cpu`" in page
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# Project\n\nIntro stays.\n") and readme.endswith("Outro stays.\n")
    assert "| stale | table |" not in readme
    table = readme.split("<!-- benchmarks:start -->")[1].split("<!-- benchmarks:end -->")[0]
    assert "`talk_playback_latency`" in table and "`dispatcher_throughput`" in table
    assert "events_per_s" in table and "(quick run)" in table


def test_a_full_result_is_shown_before_a_newer_quick_one(tmp_path: Path) -> None:
    out = tmp_path / "results"
    bench = next(b for b in BENCHMARKS if b.name == "dispatcher_throughput")
    metric = bound("events_per_s", 12_345.0, "events/s", ">=", 10_000.0, "a limit")
    for mode, value in (("full", 12_345.0), ("quick", 1.0)):
        env = report.envelope(
            bench,
            mode=mode,
            started=datetime.now(timezone.utc),
            seconds=1.0,
            facts=report.machine(),
            metrics=[metric if mode == "full" else bound("x", value, "", ">=", 2.0, "l")],
            raw={},
        )
        report.save(out, env)
    (shown,) = report.latest(out)
    assert shown["mode"] == "full" and shown["passed"] is True
    assert "12,345 events/s" in report.readme_table([shown])


def test_unknown_names_are_refused_and_readme_without_markers_is_left_alone(
    tmp_path: Path,
) -> None:
    (tmp_path / "README.md").write_text("no markers here\n", encoding="utf-8")
    refused = _command(tmp_path, "--only", "no_such_benchmark")
    assert refused.returncode == 2 and "unknown benchmark no_such_benchmark" in refused.stderr

    done = _command(tmp_path, "--quick", "--only", "dispatcher_throughput")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "README.md").read_text() == "no markers here\n"
    assert "markers; table not written" in done.stderr


def test_a_missing_module_is_skipped_and_a_failed_run_is_recorded(tmp_path: Path) -> None:
    def run(module: ModuleType, quick: bool) -> dict[str, object]:
        raise RuntimeError("the benchmark broke")

    missing = Benchmark("no_such_module_here", "nothing", "nothing", run, lambda raw: [])
    assert _child(missing, True, tmp_path / "raw.json") == SKIPPED
    broken = Benchmark("talk_playback_latency", "x", "x", run, lambda raw: [])
    with pytest.raises(RuntimeError, match="the benchmark broke"):  # the child exits 1 with it
        _child(broken, True, tmp_path / "raw.json")

    env = report.envelope(
        broken,
        mode="full",
        started=datetime.now(timezone.utc),
        seconds=1.0,
        facts=report.machine(),
        metrics=[],
        raw=None,
        error="did not finish within 1800 s",
    )
    assert env["passed"] is False
    page = report.docs_markdown([env], "results")
    assert "**The run failed:** did not finish within 1800 s" in page
    assert "| error |" in report.readme_table([env])


@pytest.mark.parametrize("name", [b.name for b in BENCHMARKS])
def test_every_registered_benchmark_reads_an_empty_result_without_crashing(name: str) -> None:
    bench = next(b for b in BENCHMARKS if b.name == name)
    for metric in bench.metrics({}):  # a benchmark whose JSON lacks a figure fails, not crashes
        assert metric.passed in (False, None)
