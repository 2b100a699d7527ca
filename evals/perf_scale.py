"""`make bench-scale`: the archive at 1M chunks (issue #17), apart from `make bench` because building takes hours.

Builds an index of ``--size`` chunks from a source index's real chunks (repeated, each copy's vectors slightly
varied: ``evals/perf.py``'s build part), then measures on it, each part in its own process: retrieval and
extractive-answer latency over RealTimeQA questions, and ``newsrag serve``: its time to the first answer and its
peak RSS. Results go to ``bench/results-scale-<size>.json`` and ``.md`` with the wall time of every part.

    python -m evals.perf_scale --source /path/to/built/index --size 1000000 --out bench
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.perf import DEFAULT_DATA, questions, run_part_process

TARGETS = {
    "retrieval_p95_ms": "<= 100",
    "extractive_p95_ms": "<= 300",
    "serve_peak_rss_mb": "<= 3072",
    "serve_startup_first_answer_s": "<= 15",
}


def run(source: Path, size: int, out: Path, data: Path, n_questions: int, work_dir: Path | None) -> dict[str, Any]:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsrag-scale-", dir=work_dir) as tmp:
        work = Path(tmp)
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions(data, n_questions)))
        target = work / "index"
        copy = work / "source"  # Chroma may write to an index it opens: the source is left as it was
        shutil.copytree(source, copy)
        figures: dict[str, Any] = {}
        for name, args in (
            ("build", (str(copy), str(target), str(size))),
            ("query", (str(target), str(qfile))),
            ("serve", (str(target), str(work / "serve"), str(qfile))),
        ):
            t = time.perf_counter()
            got = run_part_process(name, *args)
            seconds[name] = round(time.perf_counter() - t, 1)
            figures |= {f"serve_{k}": v for k, v in got.items()} if name == "serve" else got
            print(name, seconds[name], "s", flush=True)
        shutil.rmtree(target, ignore_errors=True)
    results = {
        "size": size,
        "figures": figures,
        "targets": TARGETS,
        "part_seconds": seconds,
        "seconds": round(time.perf_counter() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"results-scale-{size}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / f"results-scale-{size}.md").write_text(markdown(results), encoding="utf-8")
    return results


def markdown(results: dict[str, Any]) -> str:
    f = results["figures"]
    lines = [f"# Scale: {f.get('chunks', results['size']):,} chunks (issue #17)", "", "| figure | value | target |"]
    lines += ["| --- | ---: | --- |"]
    for key, value in f.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} | {TARGETS.get(key, '')} |")
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in results["part_seconds"].items())
    lines += ["", f"Wall time: {results['seconds']:.0f} s ({parts}).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, required=True, help="A built index whose chunks are repeated.")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--work", type=Path, default=None, help="Where the index is built (needs ~19 GB per 1M).")
    a = parser.parse_args()
    print(markdown(run(a.source, a.size, a.out, a.data, a.questions, a.work)))
