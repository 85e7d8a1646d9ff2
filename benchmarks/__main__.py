"""``python -m benchmarks``: run every benchmark (or ``--only`` some), save each result in the
common envelope, and rebuild ``docs/benchmarks.md`` and the README's benchmark table.

Exit status: 0 when every benchmark that ran finished (targets missed are reported, not an
error: figures move with machine load), 1 when one crashed, 2 for a bad name.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import report
from benchmarks.registry import BENCHMARKS, BY_NAME, Benchmark, Metric

ROOT = Path(__file__).resolve().parent.parent


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmarks, save their JSON, rebuild docs/benchmarks.md and the "
        "README's benchmark table.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (< 2 min in all): checks that they run"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results",
        help="where results are saved (default benchmarks/results/)",
    )
    parser.add_argument(
        "--docs", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to rebuild"
    )
    parser.add_argument(
        "--readme", type=Path, default=ROOT / "README.md", help="README whose table to rewrite"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # run one benchmark, in this process
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    unknown = [name for name in options.only or () if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    return options


SKIPPED = 3  # the child's exit status when the benchmark's module does not exist
TIMEOUT_S = {"quick": 180.0, "full": 1800.0}


def _child(bench: Benchmark, quick: bool, out: Path) -> int:
    """Run one benchmark in this (fresh) process and write its JSON to ``out``."""
    try:
        module = bench.load()
    except ModuleNotFoundError as exc:
        if exc.name == bench.module:
            return SKIPPED
        raise
    raw = bench.run(module, quick)
    out.write_text(json.dumps(raw, default=str), encoding="utf-8")
    return 0


def _run(bench: Benchmark, quick: bool, facts: dict[str, object]) -> report.Envelope | None:
    """Run one benchmark in a child process of its own (so one benchmark's CPU, memory and
    threads never bleed into the next one's figures, and a hung one is stopped at
    ``TIMEOUT_S``); its envelope, or None when its module does not exist."""
    mode = "quick" if quick else "full"
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    raw: dict[str, object] | None = None
    metrics: list[Metric] = []
    error: str | None = None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw.json"
        argv = [sys.executable, "-m", "benchmarks", "--child", bench.name, "--child-out", str(out)]
        # Its own session: on a timeout the whole group goes, servers it started included.
        child = subprocess.Popen(
            argv + (["--quick"] if quick else []),
            cwd=ROOT,
            stdout=sys.stderr,
            start_new_session=True,
        )
        try:
            code = child.wait(timeout=TIMEOUT_S[mode])
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            code, error = None, f"did not finish within {TIMEOUT_S[mode]:.0f} s"
        if code == SKIPPED:
            return None
        if code is not None and code != 0:
            error = f"the benchmark failed (exit {code}; its traceback is above)"
        elif code == 0:
            raw = json.loads(out.read_text(encoding="utf-8"))
    if raw is not None:
        try:
            metrics = bench.metrics(raw)
        except Exception as exc:  # the adapter no longer matches the module's JSON
            traceback.print_exc(file=sys.stderr)
            error = f"reading its result failed: {type(exc).__name__}: {exc}"
    return report.envelope(
        bench,
        mode=mode,
        started=started,
        seconds=time.perf_counter() - t0,
        facts=facts,
        metrics=metrics,
        raw=raw,
        error=error,
    )


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    if options.child:
        return _child(BY_NAME[options.child], options.quick, options.child_out)
    if options.list:
        for bench in BENCHMARKS:
            print(f"{bench.name:24} {bench.measures}")
        return 0
    chosen = [BY_NAME[name] for name in options.only] if options.only else list(BENCHMARKS)
    failed = 0
    for bench in chosen:
        if options.quick and not bench.in_quick and not options.only:
            print(f"-- {bench.name}: not part of --quick (run it with --only)", file=sys.stderr)
            continue
        facts = report.machine()  # the load average as this benchmark starts
        print(f"-- {bench.name} ({'quick' if options.quick else 'full'})…", file=sys.stderr)
        env = _run(bench, options.quick, facts)
        if env is None:
            print(f"-- {bench.name}: skipped ({bench.module} does not exist)", file=sys.stderr)
            continue
        path = report.save(options.out, env)
        failed += env["error"] is not None
        verdict = (
            "error: " + env["error"]
            if env["error"]
            else ("targets met" if env["passed"] else "targets missed")
        )
        print(f"-- {bench.name}: {verdict} ({env['seconds']} s) -> {path}", file=sys.stderr)
    envelopes = report.latest(options.out)
    try:
        shown_out = options.out.resolve().relative_to(ROOT)
    except ValueError:
        shown_out = options.out
    options.docs.parent.mkdir(parents=True, exist_ok=True)
    options.docs.write_text(report.docs_markdown(envelopes, str(shown_out)), encoding="utf-8")
    if options.readme.is_file():
        if not report.rewrite_readme(options.readme, report.readme_table(envelopes)):
            print(
                f"-- {options.readme}: no {report.README_START} … {report.README_END} markers; "
                "table not written",
                file=sys.stderr,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
