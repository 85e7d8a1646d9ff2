"""Results of ``python -m benchmarks``: the JSON envelope each benchmark is saved in, and the
documents generated from the saved results (``docs/benchmarks.md`` and the README's table).

Envelope (``RESULTS/NAME.json`` for a full run, ``NAME.quick.json`` for ``--quick``)::

    {"name", "module", "measures", "mode": "full"|"quick", "date" (UTC, ISO 8601),
     "seconds" (wall time of the run), "machine": {cpu_model, cores, python, os, load_average},
     "metrics": [{name, value, unit, target, limit, passed}], "passed" (every target met),
     "error" (null, or why the run failed), "raw" (the benchmark's own JSON)}

The documents are rebuilt from the newest envelope of each benchmark, a full run's before a
quick one's (a quick run is marked as such), so ``--quick`` never hides full figures.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.registry import BENCHMARKS, Benchmark, Metric

Envelope = dict[str, Any]

README_START = "<!-- benchmarks:start -->"
README_END = "<!-- benchmarks:end -->"


def machine() -> dict[str, Any]:
    """The facts a figure depends on: CPU, cores, Python, OS and the load when the run began."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def envelope(
    bench: Benchmark,
    *,
    mode: str,
    started: datetime,
    seconds: float,
    facts: Mapping[str, Any],
    metrics: list[Metric],
    raw: Mapping[str, Any] | None,
    error: str | None = None,
) -> Envelope:
    checked = [m.passed for m in metrics if m.passed is not None]
    return {
        "name": bench.name,
        "module": bench.module,
        "measures": bench.measures,
        "mode": mode,
        "date": started.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": dict(facts),
        "metrics": [m.as_json() for m in metrics],
        "headline": [m.name for m in metrics if m.headline],
        "passed": error is None and all(checked),
        "error": error,
        "raw": raw,
    }


def result_path(out: Path, name: str, mode: str) -> Path:
    return out / (f"{name}.json" if mode == "full" else f"{name}.{mode}.json")


def save(out: Path, env: Envelope) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = result_path(out, env["name"], env["mode"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(env, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)  # a run killed half-way never leaves half a file
    return path


def latest(out: Path) -> list[Envelope]:
    """The newest envelope of each registered benchmark (full preferred), in registry order."""
    found: list[Envelope] = []
    for bench in BENCHMARKS:
        for mode in ("full", "quick"):
            path = result_path(out, bench.name, mode)
            if path.is_file():
                try:
                    found.append(json.loads(path.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    continue
                break
    return found


# ---------------------------------------------------------------------------- rendering


def fmt_value(metric: Mapping[str, Any]) -> str:
    value, unit = metric.get("value"), metric.get("unit") or ""
    if value is None:
        text = "—"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def _mark(metric: Mapping[str, Any]) -> str:
    return {True: "✓", False: "✗", None: ""}[metric.get("passed")]


def _verdict(env: Mapping[str, Any]) -> str:
    """✓, or ✗ with the metrics that missed their targets (the first two), or the error."""
    if env.get("error"):
        return "error"
    missed = [m["name"] for m in env.get("metrics", []) if m.get("passed") is False]
    if not missed:
        return "✓"
    more = f" and {len(missed) - 2} more" if len(missed) > 2 else ""
    return "✗ " + ", ".join(missed[:2]) + more


def _when(env: Mapping[str, Any]) -> str:
    facts = env.get("machine") or {}
    load = facts.get("load_average") or ["?"]
    mode = "" if env.get("mode") == "full" else f", {env.get('mode')} run"
    return (
        f"{str(env.get('date', '?'))[:10]}{mode}; {facts.get('cores', '?')} cores "
        f"({facts.get('cpu_model', '?')}), load {load[0]} at start, Python {facts.get('python')}"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def docs_markdown(envelopes: Iterable[Envelope], out_dir: str) -> str:
    envs = list(envelopes)
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m benchmarks` from the results in "
        f"`{out_dir}`; edit benchmarks/registry.py, not this file. -->",
        "",
        "Speed, latency and resource targets live here, never in timed unit tests. Each "
        "benchmark is a module of `benchmarks/` (`python -m benchmarks.NAME` prints its own "
        "JSON); `python -m benchmarks` runs them all, saves each result in a common envelope "
        f"(`{out_dir}/NAME.json`) and rebuilds this page and the README's table.",
        "",
        "```bash",
        "python -m benchmarks                       # everything, full sizes (several minutes)",
        "python -m benchmarks --quick               # small sizes, < 2 min: checks they run",
        "python -m benchmarks --only talk_bargein dispatcher_throughput",
        "python -m benchmarks --list               # names and what each measures",
        "```",
        "",
        "`--quick` leaves out what is slow even when small (`aec_vad`); `--only NAME --quick` "
        "runs it anyway. "
        "Each figure is listed with its target and the *limit*: the physical or protocol bound "
        "the figure cannot beat, which is why the target sits where it does. Figures that move "
        "with machine load say so; compare them on an idle machine.",
        "",
        "| benchmark | measures | met | last run |",
        "|---|---|---|---|",
    ]
    for env in envs:
        met = _verdict(env)
        lines.append(
            f"| [{env['name']}](#{env['name']}) | {_cell(env.get('measures', ''))} | {met} | "
            f"{str(env.get('date', ''))[:10]} {env.get('mode', '')} |"
        )
    registered = {env["name"] for env in envs}
    missing = [b.name for b in BENCHMARKS if b.name not in registered]
    if missing:
        lines += ["", "Not measured yet: " + ", ".join(f"`{name}`" for name in missing) + "."]
    by_name = {b.name: b for b in BENCHMARKS}
    for env in envs:
        bench = by_name.get(env["name"])
        lines += [
            "",
            f"## {env['name']}",
            "",
            f"{env.get('measures', '')}. `python -m {env.get('module')}`.",
            "",
        ]
        if bench is not None:
            lines += [f"**What bounds it.** {bench.why}", ""]
        lines += [f"Last run: {_when(env)}; {env.get('seconds')} s.", ""]
        if env.get("error"):
            lines += [f"**The run failed:** {_cell(str(env['error']))}", ""]
        if env.get("metrics"):
            lines += ["| metric | latest | target | | limit |", "|---|---|---|---|---|"]
            previous = None
            for m in env["metrics"]:
                limit = "same as above" if m["limit"] == previous else _cell(m["limit"])
                previous = m["limit"]
                lines.append(
                    f"| {_cell(m['name'])} | {_cell(fmt_value(m))} | {_cell(m['target'])} | "
                    f"{_mark(m)} | {limit} |"
                )
    return "\n".join(lines) + "\n"


def readme_table(envelopes: Iterable[Envelope]) -> str:
    lines = [
        "| benchmark | measures | latest | target | met |",
        "|---|---|---|---|---|",
    ]
    for env in envelopes:
        headline = set(env.get("headline") or [])
        shown = [m for m in env.get("metrics", []) if m["name"] in headline] or env.get(
            "metrics", []
        )[:2]
        latest_text = "; ".join(f"{m['name']} {fmt_value(m)}" for m in shown)
        targets = "; ".join(m["target"] for m in shown)
        met = _verdict(env)
        mode = "" if env.get("mode") == "full" else f" ({env.get('mode')} run)"
        lines.append(
            f"| `{env['name']}` | {_cell(env.get('measures', ''))} | {_cell(latest_text)}{mode} "
            f"| {_cell(targets)} | {met} |"
        )
    return "\n".join(lines)


def rewrite_readme(path: Path, table: str) -> bool:
    """Replace what lies between the markers; False (file untouched) when they are missing."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        return False
    updated = pattern.sub(lambda _: f"{README_START}\n{table}\n{README_END}", text, count=1)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return True
