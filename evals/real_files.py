"""Real files, per loader: questions written from real documents, asked of an index of just those documents.

Each ``evals/suites/real_<loader>.jsonl`` holds questions a reader would ask of the real files in
``tests/data/real/`` (a case's ``files`` name them, from the project root). For each suite this builds a fresh
index of its files, asks every question with the extractive engine and reports, per loader: the questions answered
right (an answerable one: every key fact in the answer and a cited passage holding the evidence; an unanswerable
one: refused, nothing cited), the ingest seconds, and how many words ran together in the indexed text (a run of
20 or more Latin letters with no space: "Currently,anRSAkeywith4096bits").

Only the public API (``NewsRAG``, ``load_settings``) and the chunk store are used, so the same module, suites and
files measure an older checkout's code: ``PYTHONPATH=/old/checkout python evals/real_files.py --root .``.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SUITES = "evals/suites"
# Letters (and the punctuation that glues words) with no space, long enough that no English word is one.
RUN_TOGETHER = re.compile(r"[A-Za-z][A-Za-z0-9,.;:'’()-]{19,}")
_NOT_WORDS = re.compile(r"\S*(?:://|@|/|\\|_|\w\.\w+\.)\S*")  # URLs, addresses, paths, code, dotted names


def suites(root: Path) -> list[Path]:
    return sorted((root / SUITES).glob("real_*.jsonl"))


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_together(texts: Iterable[str]) -> tuple[int, int]:
    """(words that ran together, words) in ``texts``: Latin-script text only counts."""
    glued = words = 0
    for text in texts:
        for token in _NOT_WORDS.sub(" ", text).split():
            if any("a" <= c.lower() <= "z" for c in token):
                words += 1
                glued += bool(RUN_TOGETHER.fullmatch(token.strip(".,;:()\"'”“")))
    return glued, words


def run_suite_file(path: Path, root: Path) -> dict[str, Any]:
    """One loader's figures: its files indexed fresh, its questions asked."""
    from evals.runner import run_suite
    from evals.suite import Case
    from rag import NewsRAG
    from rag.core.settings import load_settings

    raw = load(path)
    files = list(dict.fromkeys(f for case in raw for f in case.get("files", [])))
    cases = [Case.model_validate({k: v for k, v in case.items() if k != "files"}) for case in raw]
    with tempfile.TemporaryDirectory(prefix="newsrag-real-") as tmp:
        newsrag = NewsRAG(load_settings(index_dir=Path(tmp) / "index", engine="extractive"))
        started = time.perf_counter()
        report = newsrag.ingest(*(root / f for f in files))
        seconds = time.perf_counter() - started
        stored = newsrag.components.store.collection.get(include=["documents"])
        glued, words = run_together(stored["documents"] or [])
        result = run_suite(newsrag, cases, engine="extractive")
    rows = result.rows
    right = [_right(row) for row in rows]
    return {
        "loader": path.stem.removeprefix("real_"),
        "files": len(files),
        "failed_files": sorted({o.origin for o in report.outcomes if o.status == "failed"}),
        "questions": len(rows),
        "answered_right": sum(right),
        "wrong": [row["id"] for row, ok in zip(rows, right, strict=True) if not ok],
        "ingest_seconds": round(seconds, 2),
        "words": words,
        "run_together": glued,
        "run_together_share": round(glued / words, 4) if words else None,
    }


def _right(row: dict[str, Any]) -> bool:
    metrics = row["metrics"]
    if not row["answerable"]:
        return bool(metrics.get("refusal_ok"))
    return bool(metrics.get("correct")) and bool(metrics.get("citation_precision"))


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| loader | files | questions answered right | words run together | ingest seconds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        share = f"{r['run_together']} of {r['words']:,}" if r["words"] else "—"
        lines.append(
            f"| {r['loader']} | {r['files']} | {r['answered_right']} / {r['questions']} | {share} |"
            f" {r['ingest_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """``python evals/real_files.py [--root DIR] [--out FILE.json]``: every real-files suite of DIR."""
    root = Path(argv[argv.index("--root") + 1]) if "--root" in argv else Path.cwd()
    found = [run_suite_file(path, root) for path in suites(root)]
    if "--out" in argv:
        Path(argv[argv.index("--out") + 1]).write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    print(markdown(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
