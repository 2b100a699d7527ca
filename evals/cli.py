"""``newsrag eval`` and ``newsrag bench ...``: the eval runner from the command line, a ``newsrag.commands`` plugin."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from rag.cli.engine import EngineOption

console = Console(stderr=True)
# Where a RealTimeQA command keeps each week's index, for the next run to reuse.
IndexCache = Annotated[
    Path | None, typer.Option("--index-cache", help="Keep each week's index here and reuse it on the next run.")
]
bench_app = typer.Typer(help="Benchmarks on public news QA data.", no_args_is_help=True)

GATED = ("retrieval_hit_at_k", "key_fact_recall", "answer_correct_rate", "citation_precision", "refusal_accuracy")


def _selected_weeks(data: Path, weeks: str) -> list[str]:
    """The RealTimeQA weeks in ``data`` a command was given (the first N, or 'all'); exits 2 when there are none."""
    from evals.realtimeqa import weeks as list_weeks

    available = list_weeks(data)
    if not available:
        console.print(f"[red]error:[/red] no RealTimeQA weeks in {data}")
        raise typer.Exit(2)
    return available if weeks == "all" else available[: int(weeks)]


def _print_summary(summary: dict[str, Any]) -> None:
    for key, value in summary.items():
        if key not in ("config", "per_week"):
            shown = f"{value:.3f}" if isinstance(value, float) else value
            console.print(f"  {key:24} {shown}")


def eval_command(
    suite: Annotated[Path | None, typer.Argument(help="Suite file (.jsonl or .yaml).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for results, summary, report and chart.")] = None,
    corpus: Annotated[
        list[Path] | None, typer.Option("--corpus", help="Index these files/folders in a fresh temporary index.")
    ] = None,
    engine: EngineOption = None,
    top_k: Annotated[int | None, typer.Option("--top-k")] = None,
    judge: Annotated[bool, typer.Option("--judge", help="Add LLM-judged faithfulness and correctness.")] = False,
    compare: Annotated[
        tuple[Path, Path] | None, typer.Option("--compare", help="Compare two result folders instead of running.")
    ] = None,
    index_dir: Annotated[Path | None, typer.Option("--index-dir")] = None,
) -> None:
    """Run an eval suite and write DIR/results.jsonl, summary.json, report.md and chart.png."""
    from evals.report import compare as compare_runs
    from evals.report import write_outputs
    from evals.runner import run_suite
    from evals.suite import SuiteError, load_suite
    from rag.core.settings import load_settings
    from rag.service.newsrag import NewsRAG

    if compare:
        print(compare_runs(*compare))
        return
    if suite is None or out is None:
        console.print("[red]error:[/red] give a SUITE and --out DIR (or --compare DIR_A DIR_B)")
        raise typer.Exit(2)
    try:
        cases = load_suite(suite)
    except SuiteError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    with tempfile.TemporaryDirectory(prefix="newsrag-eval-") as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index" if corpus else index_dir)
        newsrag = NewsRAG(settings)
        if corpus:
            report = newsrag.ingest(*corpus)
            console.print(f"corpus: {report.summary()}")
        judge_fn = None
        if judge:
            from evals.judge import llm_judge

            judge_fn = llm_judge(settings)
        result = run_suite(
            newsrag,
            cases,
            engine=engine,
            top_k=top_k,
            judge=judge_fn,
            progress=lambda row: console.print(f"  {row['id']}: {'ok' if _ok(row) else 'FAIL'}"),
        )
    write_outputs(result, out, title=f"newsrag eval: {suite.name}")
    _print_summary(result.summary)
    console.print(f"wrote {out}/results.jsonl, summary.json, report.md, chart.png")


def _ok(row: dict[str, Any]) -> bool:
    metrics = row["metrics"]
    return not row["error"] and all(metrics.get(k) is not False for k in ("correct", "refusal_ok", "forbidden_ok"))


@bench_app.command("realtimeqa")
def realtimeqa_command(
    data: Annotated[Path, typer.Option("--data", help="Folder of YYYYMMDD_qa.jsonl / _gcs.jsonl files.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    weeks: Annotated[str, typer.Option("--weeks", help="How many weeks (the first N), or 'all'.")] = "all",
    with_choices: Annotated[bool, typer.Option("--with-choices", help="Ask with the four options.")] = False,
    engine: EngineOption = None,
    top_k: Annotated[int | None, typer.Option("--top-k")] = None,
    index_cache: IndexCache = None,
) -> None:
    """Index each week's articles in a fresh index, ask its questions, score against the right choice."""
    from evals.realtimeqa import run_realtimeqa
    from evals.report import write_outputs

    selected = _selected_weeks(data, weeks)

    def progress(info: dict[str, Any]) -> None:
        gold = info.get("answer_contains_gold") or 0.0
        console.print(f"  {info['week']}: {info['questions']} questions, {info['chunks']} chunks, gold {gold:.2f}")

    result = run_realtimeqa(
        data,
        selected,
        engine=engine,
        with_choices=with_choices,
        top_k=top_k,
        progress=progress,
        index_cache=index_cache,
    )
    write_outputs(result, out, title=f"RealTimeQA ({len(selected)} weeks{', with choices' if with_choices else ''})")
    (out / "per_week.json").write_text(json.dumps(result.summary["per_week"], indent=2), encoding="utf-8")
    _print_summary(result.summary)


@bench_app.command("typed")
def typed_command(
    data: Annotated[Path, typer.Option("--data", help="RealTimeQA folder the suite's articles come from.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    suite: Annotated[Path, typer.Option("--suite", help="Suite; its articles are listed in <suite>-articles.tsv.")] = (
        Path(__file__).parent / "suites" / "typed.jsonl"
    ),
) -> None:
    """The typed-question suite: short answers (names, places, numbers, dates) checked against the articles.

    A folder ``<suite>-corpus/`` beside the suite (documents of its own, such as tables) joins the same index.
    """
    import tempfile

    from evals.realtimeqa import index_articles, listed_articles
    from evals.report import write_outputs
    from evals.runner import run_suite
    from evals.suite import load_suite
    from rag.core.settings import load_settings

    articles = listed_articles(data, suite.with_name(f"{suite.stem}-articles.tsv"))
    corpus = suite.with_name(f"{suite.stem}-corpus")
    documents = ""
    with tempfile.TemporaryDirectory(prefix="newsrag-typed-") as tmp:
        newsrag, _ = index_articles(articles, load_settings(engine="extractive"), Path(tmp))
        if corpus.is_dir():
            report = newsrag.ingest(corpus)
            if report.failed:
                console.print(f"[red]error:[/red] {corpus}: {report.summary()}")
                raise typer.Exit(1)
            documents = f", {report.count('added')} documents"
        result = run_suite(newsrag, load_suite(suite), engine="extractive")
    write_outputs(result, out, title=f"Typed questions ({len(result.rows)} cases, {len(articles)} articles{documents})")
    _print_summary(result.summary)


@bench_app.command("calibrate")
def calibrate_command(
    data: Annotated[Path, typer.Option("--data", help="RealTimeQA folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for calibration.json and calibration.md (the curve).")],
    weeks: Annotated[str, typer.Option("--weeks", help="How many weeks (spread over the data), or 'all'.")] = "all",
    index_cache: IndexCache = None,
) -> None:
    """Calibrate the refusal threshold (NEWSRAG_MIN_RELEVANCE) on RealTimeQA: answerable vs unanswerable questions."""
    from evals.calibrate import calibrate, curve_markdown
    from evals.realtimeqa import weeks as list_weeks

    available = list_weeks(data)
    count = len(available) if weeks == "all" else int(weeks)
    step = max(1, len(available) // count)
    result = calibrate(data, available[::step][:count], index_cache=index_cache)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "calibration.md").write_text(curve_markdown(result), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=2))


@bench_app.command("short-answers")
def short_answers_command(
    data: Annotated[Path, typer.Option("--data", help="RealTimeQA folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for rows.jsonl, short-answers.json and the model.")],
    weeks: Annotated[str, typer.Option("--weeks", help="How many weeks (the first N), or 'all'.")] = "all",
    index_cache: IndexCache = None,
    rows: Annotated[Path | None, typer.Option("--rows", help="Refit from a rows.jsonl instead of asking.")] = None,
    ship: Annotated[bool, typer.Option("--ship", help="Write the model fitted on all weeks into rag/assets.")] = False,
) -> None:
    """Fit the short answer's confidence on RealTimeQA (each half checked on the other) and choose its threshold."""
    import subprocess

    from evals.short_answers import Row, collect, interleaved, report, write
    from rag.answering.confidence import MODEL_PATH

    if rows is not None:
        asked = [Row(**json.loads(line)) for line in rows.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        selected = _selected_weeks(data, weeks)
        out.mkdir(parents=True, exist_ok=True)
        kept = (out / "rows.jsonl").open("w", encoding="utf-8")

        def progress(week: str, found: list[Row]) -> None:
            kept.write("".join(json.dumps(r.__dict__) + "\n" for r in found))
            kept.flush()
            print(f"  {week}: {len(found)} questions, {sum(r.right for r in found)} winners right", flush=True)

        with kept:
            asked = collect(data, interleaved(selected), index_cache, progress)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    weeks_seen = sorted({r.week for r in asked})
    provenance = f"newsrag bench short-answers, {len(asked)} questions of {len(weeks_seen)} RealTimeQA dev weeks"
    model, figures = report(asked, f"{provenance}, code at {commit or 'unknown'}")
    write(out, asked, model, figures)
    if ship:
        MODEL_PATH.write_text((out / "short-answer-model.json").read_text(encoding="utf-8"), encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k != "weights"}, indent=2))


@bench_app.command("retrieval")
def retrieval_command(
    data: Annotated[Path, typer.Option("--data", help="RealTimeQA folder.")],
    weeks: Annotated[int, typer.Option("--weeks", help="How many weeks (spread over the data).")] = 3,
    top_k: Annotated[int, typer.Option("--top-k")] = 5,
) -> None:
    """Compare dense, BM25 and fused retrieval on the seed suite and RealTimeQA weeks (JSON)."""
    from evals.realtimeqa import weeks as list_weeks
    from evals.retrieval_modes import compare_on_realtimeqa, compare_on_suite

    root = Path(__file__).resolve().parents[1]
    seed = compare_on_suite(
        root / "evals/suites/seed.jsonl", [root / "data/articles", root / "evals/suites/corpus"], top_k
    )
    available = list_weeks(data)
    step = max(1, len(available) // weeks)
    rtqa = compare_on_realtimeqa(data, available[::step][:weeks], top_k)
    print(json.dumps({"seed": seed, "realtimeqa": rtqa}, indent=2))


@bench_app.command("time")
def time_command(
    suite: Annotated[
        Path | None, typer.Option("--suite", help="Time suite (.jsonl); the bundled one by default.")
    ] = None,
) -> None:
    """Read the time in each question of the time suite and print the window accuracy and the misses (JSON)."""
    from evals.time_suite import SUITE, run_time_suite

    print(json.dumps(run_time_suite(suite or SUITE), indent=2, ensure_ascii=False))


def _archive_index(index_cache: Path | None) -> Path:
    """Where the RealTimeQA archive index lives: kept in ``index_cache`` (named by the chunking settings), else a
    temporary folder."""
    from rag.core.settings import load_settings

    if index_cache is None:
        return Path(tempfile.mkdtemp(prefix="newsrag-archive-")) / "index"
    settings = load_settings()
    return index_cache / f"archive-{settings.embedder}-{settings.chunk_size}-{settings.chunk_overlap}" / "index"


@bench_app.command("archive")
def archive_command(
    data: Annotated[Path, typer.Option("--data", help="Folder of YYYYMMDD_qa.jsonl / _gcs.jsonl files.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    weeks: Annotated[str, typer.Option("--weeks", help="How many weeks (the first N), or 'all'.")] = "all",
    engine: EngineOption = None,
    index_cache: IndexCache = None,
) -> None:
    """RealTimeQA over one archive index of all the weeks, each question asked as of its date (with and without
    as_of, and restricted to its week): out/archive.json and out/archive.md."""
    from evals.realtimeqa_archive import run_archive, write_report

    selected = _selected_weeks(data, weeks)
    result = run_archive(data, selected, _archive_index(index_cache), engine=engine, progress=console.print)
    out.mkdir(parents=True, exist_ok=True)
    (out / "archive.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    write_report(result, out / "archive.md")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


@bench_app.command("recency")
def recency_command(
    data: Annotated[Path, typer.Option("--data", help="Folder of YYYYMMDD_qa.jsonl / _gcs.jsonl files.")],
    out: Annotated[Path, typer.Option("--out", help="Markdown report.")] = Path("bench/results-recency.md"),
    index_cache: IndexCache = None,
    write: Annotated[bool, typer.Option("--write", help="Ship the prior fitted on all weeks (rag/assets).")] = False,
) -> None:
    """Fit the recency prior on the RealTimeQA archive (one half of the weeks, checked on the other; then all)."""
    from evals.realtimeqa import weeks as list_weeks
    from evals.realtimeqa_archive import build_archive, dated_cases
    from evals.recency import run_recency, write_report

    selected = list_weeks(data)
    newsrag = build_archive(data, selected, _archive_index(index_cache), time_aware=False)
    report = run_recency(newsrag, dated_cases(data, selected), newsrag.settings.top_k, write=write)
    write_report(report, out)
    print(json.dumps(report, indent=2))


@bench_app.command("article-dates")
def article_dates_command(
    data: Annotated[Path, typer.Option("--data", help="RealTimeQA folder.")],
    weeks: Annotated[str, typer.Option("--weeks", help="How many weeks (the first N), or 'all'.")] = "all",
) -> None:
    """Where RealTimeQA's articles get their dates (record, url, ...) and how often a URL's date agrees (JSON)."""
    from evals.article_dates import article_dates
    from rag.core.settings import load_settings

    selected = _selected_weeks(data, weeks)
    max_bytes = int(load_settings().max_article_mb * 1_000_000)
    print(json.dumps(article_dates(data, selected, max_bytes), indent=2))


@bench_app.command("real-files")
def real_files_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write the figures here (JSON).")] = None,
) -> None:
    """Per loader: questions written from the real files of tests/data/real answered right, words run together,
    ingest seconds (evals/suites/real_*.jsonl; run from the project's folder)."""
    from evals.real_files import main

    raise typer.Exit(main(["--root", "."] + (["--out", str(out)] if out else [])))


@bench_app.command("big-files")
def big_files_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for results-big-files.json and .md.")] = Path("bench"),
    label: Annotated[str, typer.Option("--label", help="Name of this run in the results.")] = "latest",
    cache: Annotated[Path | None, typer.Option("--cache", help="Where the PDF and the mailbox are kept.")] = None,
) -> None:
    """A 261-page PDF and a mailbox of 1,000 messages, each ingested alone: seconds, pages/s, messages/s, peak RSS,
    the time to the first article written (evals/big_files.py)."""
    from evals.big_files import CACHE, MissingInput, run, write

    try:
        result = run(cache or CACHE)
    except MissingInput as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    write(result, out, label)


def register(app: typer.Typer) -> None:
    """The ``newsrag.commands`` entry point (see ``rag/cli/plugins.py``): add ``eval`` and ``bench``."""
    app.command("eval")(eval_command)
    app.add_typer(bench_app, name="bench")
