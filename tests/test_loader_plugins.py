"""The one table of kinds of file, and the kinds plugins add to it through the ``newsrag.loaders`` entry point.

The unit tests hand ``register_plugins`` entry points that name functions of this module; the last test installs
the example plugin (examples/newsrag-csv) for real, with pip and offline, and ingests a .csv file through the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from ingest import kinds as kinds_module
from ingest import loader_plugins
from ingest.filekind import FileKind, KindClash, Kinds, Limits
from ingest.files import load_file
from ingest.kinds import BUILT_IN, holds_many_articles, kinds, registry
from ingest.records import Loaded, finish
from ingest.uploads import save_upload, upload_types
from ingest.walk import walk
from tests.conftest import ROOT
from tests.support.plugins import install_example

NEWSRAG = Path(sys.executable).with_name("newsrag")
EXAMPLE = ROOT / "examples" / "newsrag-csv"
STORY = "The harbour bridge reopened on Monday after six months of repairs, the city council said."


def load_note(path: Path, origin: str, limits: Limits) -> Iterator[Loaded]:
    yield origin, finish(path.read_text(encoding="utf-8"), origin=origin)


def register_notes(add: Callable[[FileKind], None]) -> None:
    add(FileKind(name="note", extensions=(".note", ".note.txt"), load=f"{__name__}:load_note", many=True))


def register_a_clash(add: Callable[[FileKind], None]) -> None:
    add(FileKind(name="rst", extensions=(".rst",), load=load_note))
    add(FileKind(name="mine", extensions=(".json",), load=load_note))  # .json is a kind built in


def register_a_stray(add: Callable[[object], None]) -> None:
    add({"name": "csv", "extensions": [".csv"]})


def register_a_failure(add: Callable[[FileKind], None]) -> None:
    raise RuntimeError("the plugin's own bug")


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Install entry points naming ``register_*`` functions (or any "module:function"), for this test only."""

    def install(*values: str) -> None:
        entries = [
            EntryPoint(v.rpartition(":")[2].removeprefix("register_"), v, loader_plugins.GROUP)
            for v in (v if ":" in v else f"{__name__}:{v}" for v in values)
        ]
        monkeypatch.setattr(loader_plugins, "entry_points", lambda group: entries)
        kinds.cache_clear()  # the table is built once a process: build it again, with these

    yield install
    kinds.cache_clear()


def test_every_kind_built_in_has_its_own_extensions() -> None:
    table = Kinds(BUILT_IN)  # a clash would raise
    assert [k.name for k in table] == ["text", "html", "json", "jsonl", "pdf", "docx", "eml", "mbox", "warc"]
    assert table.of("crawl.WARC.GZ").name == table.of("crawl.warc").name == "warc"  # type: ignore[union-attr]
    assert table.file_type("crawl.warc.gz") == ".warc.gz" and table.file_type("archive.tar.gz") == ".gz"
    assert table.file_type(".warc.gz") == ".gz" and table.file_type("README") == ""
    assert table.of("budget.xlsx") is None and table.of("README") is None
    assert all(k.article and k.metadata and k.notes for k in BUILT_IN), "each kind says what it makes (for the docs)"


def test_the_limits_and_many_articles_come_from_the_table() -> None:
    assert kinds_module.size_limit(".json", 1000) == 20_000 and kinds_module.size_limit(".warc.gz", 1) == 200
    assert kinds_module.size_limit(".txt", 1000) == 1000 and kinds_module.size_limit(".xlsx", 1000) == 1000
    assert holds_many_articles("/data/feed.jsonl") and holds_many_articles("https://x.example/a.json?page=2")
    assert not holds_many_articles("/data/report.pdf") and not holds_many_articles("https://x.example/story")


def test_a_plugins_kind_is_read_everywhere_a_built_in_one_is(tmp_path: Path, installed: Callable[..., None]) -> None:
    installed("register_notes")
    note = kinds().of("minutes.note.txt")  # the double extension is told before .txt
    assert note is not None and note.name == "note" and note.plugin == "notes" and note.origin == "plugin 'notes'"
    assert kinds().of("minutes.txt").name == "text"  # type: ignore[union-attr]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "minutes.note.txt").write_text(f"Bridge reopens\n\n{STORY}", encoding="utf-8")
    (folder / "plain.note").write_text("", encoding="utf-8")
    found = walk(folder)
    assert [p.name for p in found.files] == ["minutes.note.txt", "plain.note"] and not found.unread
    [(origin, article)] = load_file(folder / "minutes.note.txt", 1_000_000)
    assert article.title == "Bridge reopens"  # type: ignore[union-attr]
    assert [str(r) for _, r in load_file(folder / "plain.note", 1_000_000)] == ["empty file"]
    assert upload_types()[-2:] == (".note", ".note.txt") and holds_many_articles(origin)
    saved, problem = save_upload(folder / "minutes.note.txt", tmp_path / "uploads", 1_000_000)
    assert saved is not None and saved.name.endswith(".note.txt") and not problem


def test_a_plugin_that_fails_is_named_and_the_kinds_built_in_still_read(
    installed: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    installed("no_such_module_here:register", "register_a_failure", "register_a_stray", "register_notes")
    assert [k.name for k in kinds()] == [*(k.name for k in BUILT_IN), "note"]  # the good plugin still joins
    warnings = [r.getMessage() for r in caplog.records if r.name == "ingest.loader_plugins"]
    assert len(warnings) == 3
    assert "left out the 'register' loader plugin (no_such_module_here:register)" in warnings[0]
    assert "ModuleNotFoundError" in warnings[0]
    assert (
        "left out the 'a_failure' loader plugin" in warnings[1] and "RuntimeError: the plugin's own bug" in warnings[1]
    )
    assert "left out the 'a_stray' loader plugin" in warnings[2] and "not a FileKind" in warnings[2]


def test_a_plugin_claiming_an_extension_taken_is_left_out_whole(
    installed: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    installed("register_a_clash")
    assert kinds().of("data.json").plugin == ""  # type: ignore[union-attr]  # the plugins load here, on first use
    [warning] = [r.getMessage() for r in caplog.records if r.name == "ingest.loader_plugins"]
    assert "left out the 'a_clash' loader plugin" in warning
    assert ".json files are read as 'json' already (built in)" in warning
    assert kinds().of("notes.rst") is None  # its other kind is left out too: all of a plugin, or none of it


def test_a_kind_is_checked_when_it_is_made() -> None:
    with pytest.raises(ValueError, match="lower case and start with a dot"):
        FileKind(name="csv", extensions=("csv",), load=load_note)
    with pytest.raises(ValueError, match="'module:function'"):
        FileKind(name="csv", extensions=(".csv",), load="load_note")
    table = registry(plugins=False)
    with pytest.raises(KindClash, match="a kind named 'pdf' is registered already"):
        table.add(FileKind(name="pdf", extensions=(".pdfa",), load=load_note))
    with pytest.raises(KindClash, match=r"\.csv files are read as 'csv' already"):  # within one batch, too
        table.add(FileKind(name="csv", extensions=(".csv",), load=load_note), FileKind("tsv", (".csv",), load_note))
    assert table.of("a.csv") is None and table.of("a.pdfa") is None


@pytest.mark.slow
def test_the_example_plugin_installs_and_its_kind_is_ingested(tmp_path: Path) -> None:
    """pip installs examples/newsrag-csv (offline, into a folder of its own); `newsrag ingest` then reads a .csv."""
    env = install_example("newsrag-csv", tmp_path)
    news = tmp_path / "news.csv"
    rows = [["headline", "body", "source", "date"], ["Harbour bridge reopens", STORY, "City Herald", "2025-03-03"]]
    news.write_text("\n".join(",".join(f'"{cell}"' for cell in row) for row in rows) + "\n", encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(NEWSRAG), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)

    ingested = cli("ingest", str(news), "--index-dir", str(tmp_path / "index"), "--json")
    assert ingested.returncode == 0, ingested.stderr[-2000:]
    [outcome] = json.loads(ingested.stdout)["outcomes"]
    assert (outcome["status"], outcome["origin"]) == ("added", f"{news.resolve()}#row1")
    listed = cli("articles", "--index-dir", str(tmp_path / "index"), "--json")
    [article] = json.loads(listed.stdout)
    assert (article["title"], article["source"], article["published_at"][:10]) == (
        "Harbour bridge reopens",
        "City Herald",
        "2025-03-03",
    )
    assert "plugin 'csv'" in cli("formats").stdout
