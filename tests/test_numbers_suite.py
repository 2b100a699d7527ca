"""The numbers suite (evals/suites/numbers.jsonl) is well formed: every case's gold is in its reference answer and
its evidence, each table case's row is in a document of numbers-corpus/ as ingest reads it, and each article case's
evidence is in its source article (when ../shared is beside the project). The suite's gate is in test_eval_gate.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.metrics import contains_gold
from evals.realtimeqa import listed_articles
from evals.suite import load_suite
from ingest.files import load_file
from tests.conftest import ROOT, SHARED

SUITE = ROOT / "evals" / "suites" / "numbers.jsonl"
CORPUS = ROOT / "evals" / "suites" / "numbers-corpus"
LISTING = ROOT / "evals" / "suites" / "numbers-articles.tsv"


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


def _documents() -> list[str]:
    """The text of each document of the corpus folder, as ingest reads it (tables as `cell | cell` rows)."""
    texts = []
    for path in sorted(CORPUS.iterdir()):
        if path.suffix in (".md", ".html", ".docx"):
            texts += [_flat(article.text) for _, article in load_file(path, 10_000_000)]
    return texts


def test_each_case_asks_for_a_number_its_gold_in_its_answer_and_evidence() -> None:
    cases = load_suite(SUITE)
    assert len(cases) >= 32 and {c.answer_type for c in cases} == {"number"}
    assert sum(c.id.startswith("numbers-table-") for c in cases) >= 10
    for case in cases:
        assert case.source_url and case.evidence, case.id
        assert contains_gold(case.answer, case.gold), case.id
        assert any(contains_gold(e, case.gold) for e in case.evidence), case.id


def test_table_rows_are_in_the_corpus_documents() -> None:
    documents = _documents()
    assert len(documents) == 4 and all(" | " in d for d in documents)
    for case in load_suite(SUITE):
        if case.id.startswith("numbers-table-"):
            row = _flat(case.evidence[0])
            assert any(row in d and case.source_url.lower() in d for d in documents), case.id


def test_article_evidence_is_in_the_source_article() -> None:
    data = SHARED / "data" / "realtimeqa" / "dev"
    if not data.exists():
        pytest.skip("../shared/data/realtimeqa/dev is not beside the project")
    texts = {a["url"]: _flat(a["text"]) for a in listed_articles(data, LISTING)}
    assert len(texts) <= 65
    for case in load_suite(SUITE):
        if not case.id.startswith("numbers-table-"):
            assert case.source_url in texts, case.id
            assert all(_flat(e) in texts[case.source_url] for e in case.evidence), case.id


def test_the_corpus_folder_is_only_documents_and_their_script() -> None:
    assert {p.suffix for p in Path(CORPUS).iterdir()} == {".md", ".html", ".docx", ".py"}
