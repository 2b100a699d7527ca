"""`make bench-scale`: the archive at 1M chunks (issue #17), apart from `make bench` because building takes hours.

Builds an index of ``--size`` chunks from a source index's real chunks (repeated, each copy's vectors slightly
varied: ``evals/perf.py``'s build part), then measures on it, each part in its own process: retrieval and
extractive-answer latency over RealTimeQA questions, and ``newsrag serve``: its time to the first answer and its
peak RSS. Results go to ``bench/results-scale-<size>.json`` and ``.md`` with the wall time of every part.

    python -m evals.perf_scale --source /path/to/built/index --size 1000000 --out bench
    python -m evals.perf_scale --source ... --keep --work DIR     # leaves DIR/newsrag-scale-index-<size>
    python -m evals.perf_scale --built DIR/newsrag-scale-index-1000000 --size 1000000   # measure it again

At 1M chunks the build takes over an hour here: ``--keep`` and ``--built`` spare a second one.
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


def run(
    source: Path | None,
    size: int,
    out: Path,
    data: Path,
    n_questions: int,
    work_dir: Path | None,
    built: Path | None = None,
    keep: bool = False,
) -> dict[str, Any]:
    """Build (unless ``built`` names an index built before) and measure; ``keep`` leaves the built index behind."""
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsrag-scale-", dir=work_dir) as tmp:
        work = Path(tmp)
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions(data, n_questions)))
        target = built or (work_dir or Path(tempfile.gettempdir())) / f"newsrag-scale-index-{size}"
        parts: list[tuple[str, tuple[str, ...]]] = []
        if built is None:
            assert source is not None
            shutil.rmtree(target, ignore_errors=True)
            copy = work / "source"  # Chroma may write to an index it opens: the source is left as it was
            shutil.copytree(source, copy)
            parts.append(("build", (str(copy), str(target), str(size))))
        parts += [("query", (str(target), str(qfile))), ("serve", (str(target), str(work / "serve"), str(qfile)))]
        figures: dict[str, Any] = {}
        try:
            for name, args in parts:
                t = time.perf_counter()
                got = run_part_process(name, *args)
                seconds[name] = round(time.perf_counter() - t, 1)
                figures |= {f"serve_{k}": v for k, v in got.items()} if name == "serve" else got
                print(name, seconds[name], "s", flush=True)
        finally:
            if built is None and not keep:
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
    parser.add_argument("--source", type=Path, help="A built index whose chunks are repeated.")
    parser.add_argument("--built", type=Path, help="Measure this index, built by an earlier --keep run, instead.")
    parser.add_argument("--keep", action="store_true", help="Leave the built index in --work for a --built run.")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--work", type=Path, default=None, help="Where the index is built (needs ~19 GB per 1M).")
    a = parser.parse_args()
    if (a.source is None) == (a.built is None):
        parser.error("give either --source (build, then measure) or --built (measure only)")
    print(markdown(run(a.source, a.size, a.out, a.data, a.questions, a.work, a.built, a.keep)))
