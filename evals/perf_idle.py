"""Benchmark: what an idle ``newsrag serve`` costs (issue #30).

A server over the bundled sample, started as users start it, is left alone for ``SETTLE`` seconds (start-up work
ends), then its CPU time (user + system, all threads, from /proc) is read across ``--seconds`` of idleness.
Target: at most 0.3% of one core. Then one question is asked, to show the server still answers at once after
resting. ``python -m evals.perf_idle --out bench`` writes bench/results-idle.json and bench/results-idle.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from evals.app_process import serving

TARGET_PERCENT = 0.3
SETTLE = 15.0  # seconds after the server first answers, before measuring
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)


def measure(work: Path, seconds: float) -> dict[str, Any]:
    with serving("idle-bench", work / "serve") as server:
        time.sleep(SETTLE)
        pid = server.process.pid
        before, started = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_seconds(pid) - before, time.monotonic() - started
        asked = time.perf_counter()
        reply = httpx.post(
            server.url + "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "What are Putin's peace conditions?"}]},
            timeout=120,
        )
        reply.raise_for_status()
        return {
            "idle_seconds": round(elapsed, 1),
            "cpu_seconds": round(used, 3),
            "idle_percent_of_a_core": round(100 * used / elapsed, 3),
            "first_answer_after_idle_s": round(time.perf_counter() - asked, 3),
            "target_percent": TARGET_PERCENT,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        }


def markdown(f: dict[str, Any]) -> str:
    verdict = "met" if f["idle_percent_of_a_core"] <= f["target_percent"] else "NOT met"
    return "\n".join(
        [
            "# newsrag benchmarks: an idle server",
            "",
            f"`newsrag serve` over the bundled sample, left alone for {f['idle_seconds']:g} s after start-up:"
            f" **{f['idle_percent_of_a_core']:.3f}% of a core** ({f['cpu_seconds']:.3f} CPU-seconds; target"
            f" ≤ {f['target_percent']:g}%: {verdict}). The first answer after that rest took"
            f" {f['first_answer_after_idle_s']:.2f} s. Machine: {f['machine']}, 1-min load average"
            f" {f['load_average_1min']:g} at the end (other work on the machine adds to the figure).",
            "",
            "Reproduce: `make bench` (or `.venv/bin/python -m evals.perf_idle --out bench`).",
            "",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsrag-idle-bench-") as tmp:
        figures = measure(Path(tmp), args.seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results-idle.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    (args.out / "results-idle.md").write_text(markdown(figures), encoding="utf-8")
    print(markdown(figures))
