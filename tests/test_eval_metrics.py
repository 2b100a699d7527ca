"""Eval metrics on hand-made cases whose values are known, edge cases included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import metrics as m
from evals.calibrate import Scored, at, choose, curve
from evals.report import compare, write_outputs
from evals.runner import EvalResult, score_case, summarise
from evals.suite import Case, SuiteError, load_suite
from rag.core.types import Answer, Citation, Passage

EVIDENCE = "conditions for peace include"
GOOD = "Mr Putin's conditions for peace include a pledge that Nato will not expand."
OTHER = "The meeting came two days before a deadline."


def _passage(text: str, n: int = 0) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id="a", title="t", text=text)


def _answer(text: str, passages: list[str], cited: list[int], refused: bool = False) -> Answer:
    ps = [_passage(t, i) for i, t in enumerate(passages)]
    citations = [Citation(**ps[i].model_dump(), number=k + 1) for k, i in enumerate(cited)]
    return Answer(question="q", text=text, engine="extractive", citations=citations, passages=ps, refused=refused)


CASE = Case(id="c1", question="q", key_facts=[["Nato", "NATO"], ["neutrality"]], evidence=[EVIDENCE])


def test_key_fact_recall_counts_groups() -> None:
    assert m.key_fact_recall("Nato and neutrality", CASE.key_facts) == 1.0
    assert m.key_fact_recall("NATO only", CASE.key_facts) == 0.5
    assert m.key_fact_recall("", CASE.key_facts) == 0.0
    assert m.key_fact_recall("anything", []) is None


def test_retrieval_rank_and_citation_precision() -> None:
    row = score_case(CASE, _answer("Nato [1] neutrality [2]", [OTHER, GOOD], cited=[1, 0]), "", None)
    assert row["retrieval_hit"] is True
    assert row["reciprocal_rank"] == 0.5
    assert row["citation_precision"] == 0.5  # one of two cited passages has the evidence
    assert row["correct"] is True


def test_citation_to_a_passage_without_evidence_scores_zero() -> None:
    row = score_case(CASE, _answer("Nato neutrality [1]", [OTHER], cited=[0]), "", None)
    assert row["citation_precision"] == 0.0
    assert row["retrieval_hit"] is False and row["reciprocal_rank"] == 0.0


def test_empty_answer() -> None:
    row = score_case(CASE, _answer("", [GOOD], cited=[]), "", None)
    assert row["key_fact_recall"] == 0.0 and row["correct"] is False
    assert row["citation_precision"] is None  # nothing cited: no precision to speak of
    assert row["answer_words"] == 0


def test_refusal_on_answerable_case_is_a_false_refusal() -> None:
    row = score_case(CASE, _answer("The indexed articles don't say.", [GOOD], cited=[], refused=True), "", None)
    assert row["false_refusal"] is True and row["correct"] is False
    assert row["refusal_ok"] is None


def test_unanswerable_case_needs_refusal_without_citations() -> None:
    unanswerable = Case(id="u", question="q", answerable=False)
    refused = score_case(unanswerable, _answer("don't say", [OTHER], cited=[], refused=True), "", None)
    answered = score_case(unanswerable, _answer("Made up [1]", [OTHER], cited=[0]), "", None)
    assert refused["refusal_ok"] is True and answered["refusal_ok"] is False
    assert refused["key_fact_recall"] is None


def test_summary_over_rows() -> None:
    rows = []
    for case, answer in [
        (CASE, _answer("Nato neutrality [1]", [GOOD], cited=[0])),
        (CASE, _answer("Nato [1]", [OTHER, GOOD], cited=[0])),
        (Case(id="u", question="q", answerable=False), _answer("x", [OTHER], cited=[], refused=True)),
    ]:
        answer.timings = {"total_ms": 100.0 * (len(rows) + 1)}
        rows.append(
            {"id": case.id, "answerable": case.answerable, "metrics": score_case(case, answer, "", None),
             "citations": [c.model_dump() for c in answer.citations], "timings": answer.timings, "error": ""}
        )  # fmt: skip
    s = summarise(rows, {})
    assert s["n"] == 3
    assert s["key_fact_recall"] == pytest.approx(0.75)
    assert s["answer_correct_rate"] == 0.5
    assert s["citation_precision"] == 0.5
    assert s["refusal_accuracy"] == 1.0 and s["false_refusal_rate"] == 0.0
    assert s["retrieval_hit_at_k"] == 1.0 and s["mrr_at_k"] == pytest.approx(0.75)
    assert s["latency_p50_ms"] == 200.0


def test_gold_containment_is_capped_and_normalised() -> None:
    assert m.contains_gold("The winner was Pope Leo XIV. [1]", "Pope Leo XIV")
    assert not m.contains_gold("The winner was Pope Leo XIV.", "Leo XIV II")
    assert m.contains_gold("“Cheese”, researchers said", "cheese")
    long = "word " * 100 + "Cheese"
    assert m.contains_gold(long, "Cheese") and not m.contains_gold(long, "Cheese", max_words=80)
    assert not m.contains_gold("Leonardo", "Leo")  # word boundaries
    assert not m.contains_gold("anything", "")


def test_token_f1() -> None:
    assert m.token_f1("Dalai Lama", "Dalai Lama") == 1.0
    assert m.token_f1("the Dalai Lama said", "Dalai Lama") == pytest.approx(2 * (2 / 4) * 1 / (2 / 4 + 1))
    assert m.token_f1("", "x") == 0.0


def test_named_choice() -> None:
    choices = ["Dalai Lama", "Pope Leo XIV", "Archbishop of Canterbury", "Aga Khan"]
    assert m.named_choice("It was the Dalai Lama [1].", choices) == 0
    assert m.named_choice("Either the Dalai Lama or the Aga Khan.", choices) is None
    assert m.named_choice("B", choices) == 1
    assert m.named_choice("Nobody knows.", choices) is None
    # An opening declaration names its option even when the quote after it mentions another.
    assert m.named_choice("B) Pope Leo XIV: he met the Dalai Lama [1].", choices) == 1
    assert m.named_choice("Answer: (c) because...", choices) == 2
    assert m.named_choice("E) Nobody", choices) is None
    assert m.named_choice("A man said the Aga Khan did.", choices) == 3


def test_suite_loading_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "s.jsonl"
    good.write_text(json.dumps({"id": "a", "question": "q?"}) + "\n\n" + json.dumps({"id": "b", "question": "r?"}))
    assert [c.id for c in load_suite(good)] == ["a", "b"]
    yaml_suite = tmp_path / "s.yaml"
    yaml_suite.write_text("- id: a\n  question: q?\n  answerable: false\n")
    assert load_suite(yaml_suite)[0].answerable is False
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q"}\n{nope\n')
    with pytest.raises(SuiteError, match="bad.jsonl:2"):
        load_suite(bad)
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "question": "q"}\n{"id": "a", "question": "r"}\n')
    with pytest.raises(SuiteError, match="duplicate"):
        load_suite(dup)


def test_outputs_and_compare(tmp_path: Path) -> None:
    row = {"id": "c1", "question": "q", "answerable": True, "gold": "", "answer": "Nato", "engine": "extractive",
           "citations": [], "retrieved": [], "metrics": {"correct": True, "answer_words": 1},
           "timings": {"total_ms": 5.0}, "error": ""}  # fmt: skip
    worse = row | {"metrics": {"correct": False, "answer_words": 1}}
    for name, r in (("a", row), ("b", worse)):
        result = EvalResult(rows=[r], summary=summarise([r], {"engine": "extractive"}))
        write_outputs(result, tmp_path / name)
    for f in ("results.jsonl", "summary.json", "report.md", "chart.png"):
        assert (tmp_path / "a" / f).stat().st_size > 0
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["answer_correct_rate"] == 1.0
    table = compare(tmp_path / "a", tmp_path / "b")
    assert "answer_correct_rate | 1.000 | 0.000 | -1.000" in table
    assert "c1: broke" in table


def test_mc_accuracy_only_when_the_options_were_asked() -> None:
    case = Case(id="q1", question="Where?", gold="Philadelphia", choices=["Boston", "Philadelphia", "Ohio", "Utah"])
    answer = _answer("B) Philadelphia: the parade was in Philadelphia [1]", [GOOD], cited=[0])
    assert score_case(case, answer, "", None, with_choices=True)["mc_correct"] is True
    assert "mc_correct" not in score_case(case, answer, "", None)  # an open question names no option
    row = {"id": "q1", "answerable": True, "metrics": score_case(case, answer, "", None), "citations": [],
           "timings": {"total_ms": 1.0}, "error": ""}  # fmt: skip
    assert "mc_accuracy" not in summarise([row], {})


def test_report_shows_per_week_as_a_table(tmp_path: Path) -> None:
    row = {"id": "c1", "question": "q", "answerable": True, "gold": "", "answer": "Nato", "engine": "extractive",
           "citations": [], "retrieved": [], "metrics": {"correct": True, "answer_words": 1},
           "timings": {"total_ms": 5.0}, "error": ""}  # fmt: skip
    weeks = [
        {"week": "20250704", "questions": 12, "answer_contains_gold": 0.25, "mc_accuracy": None},
        {"week": "20250711", "questions": 9, "mc_accuracy": None},  # options not asked: no column
    ]
    summary = summarise([row], {}) | {"per_week": weeks}
    write_outputs(EvalResult(rows=[row], summary=summary), tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "| week | questions | answer_contains_gold |" in report
    assert "| 20250704 | 12 | 0.250 |" in report and "| 20250711 | 9 | – |" in report
    assert "[{" not in report and "mc_accuracy" not in report  # no Python repr of the list


def test_calibration_chooses_the_lowest_threshold_refusing_nine_in_ten_unanswerable() -> None:
    scored = [Scored("w1", r, True) for r in (0.5, 0.6, 0.7, 0.8)]
    scored += [Scored("w1", r / 100, False) for r in range(20, 40)]  # 0.20 … 0.39
    threshold = choose(scored)
    assert threshold == 0.38  # refuses 18 of 20 (0.20 … 0.37); 0.37 would refuse only 17
    assert at(scored, threshold) == {"answered": 1.0, "refused_unanswerable": 0.9}
    rows = curve(scored)
    assert rows[0] == {"threshold": 0.0, "answered": 1.0, "refused_unanswerable": 0.0}
    # A stricter threshold never answers more.
    assert all(a["answered"] >= b["answered"] for a, b in zip(rows, rows[1:], strict=False))


def test_a_short_answer_is_scored_on_its_own() -> None:
    case = Case(id="q", question="Which country?", gold="Cuba")
    right = Answer(question="q", text="**Cuba** — Cuba went dark. [1]", engine="extractive", short_answer="Cuba")
    wrong = Answer(question="q", text="**Haiti** — Haiti and Cuba met. [1]", engine="extractive", short_answer="Haiti")
    none = Answer(question="q", text="Cuba went dark. [1]", engine="extractive")
    metrics = [score_case(case, a, "", 80) for a in (right, wrong, none)]
    assert [x["short_contains_gold"] for x in metrics] == [True, False, False]
    assert [x["contains_gold"] for x in metrics] == [True, True, True]  # the whole answer names Cuba each time
    rows = [{"metrics": x, "citations": [], "timings": {}, "error": "", "answerable": True} for x in metrics]
    summary = summarise(rows, {})
    assert summary["short_answer_rate"] == pytest.approx(2 / 3)
    assert summary["short_answer_contains_gold"] == pytest.approx(1 / 3)
    assert summary["short_answer_precision"] == pytest.approx(0.5)


def test_the_short_answer_threshold_is_the_lowest_confidence_that_keeps_precision() -> None:
    from evals.short_answers import choose_threshold

    scored = [(0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False), (0.4, False), (0.3, True)]
    # From 0.6 down, 3 of 4 are right (0.75); from 0.5, 3 of 5 (0.60); from 0.4, 3 of 6 (0.50).
    assert choose_threshold(scored, 0.75) == 0.6
    assert choose_threshold(scored, 0.60) == 0.5
    assert choose_threshold(scored, 0.99) == 0.8  # the two most confident are both right
    assert choose_threshold([(0.9, False)], 0.6) == 1.0  # nothing reaches it: nothing is stated


def test_the_confidence_model_learns_which_signals_go_with_right_answers() -> None:
    from evals.short_answers import Row, check, fit

    def row(n: int, margin: float, right: bool) -> Row:
        signals = {"margin": margin, "focused": 1.0, "support": 0.6}
        return Row(f"w{n % 4}", f"q{n}", "gold", "text", signals, right, False, True)

    rows = [row(n, 2.0 + n % 3, True) for n in range(30)] + [row(n, -1.0 - n % 3, False) for n in range(30)]
    model = fit(rows)
    assert model.weights[0] > 0  # a clearer win, a likelier right answer
    checked = check(model, rows)
    # The threshold is the lowest that keeps precision at 0.60: every right answer is stated, and the wrong ones
    # the model is least sure are wrong, as many as that precision allows.
    assert checked["short_answer_right"] == 0.5 and checked["short_answer_precision"] >= 0.6


def test_run_together_counts_glued_latin_words_not_urls_code_or_other_scripts() -> None:
    from evals.real_files import run_together

    glued, words = run_together(
        [
            "Currently,anRSAkeywith4096bitsisagoodidea. A plain sentence of short words.",
            "See https://www.latex-project.org/bugs/ and /usr/share/doc/copyright, or call read_the_configuration.",
            "root のパスワードを使って",
        ]
    )
    assert glued == 1 and words == 12
