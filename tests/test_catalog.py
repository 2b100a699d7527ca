"""The article catalog over a real Chroma index: search, sort, pages, bulk selection, and freshness per generation."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.archive import SOURCES, article, write_archive
from rag import NewsRAG
from rag.core.text import rejoin
from rag.index.catalog import MAX_PAGE, ArticleCatalog, Selection
from rag.index.store import ChunkStore

N = 40


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of N synthetic articles (real ingest), copied per test that writes to it."""
    root = tmp_path_factory.mktemp("archive")
    newsrag = NewsRAG(index_dir=root / "index")
    assert newsrag.ingest(write_archive(root / "articles", N)).ok
    return root / "index"


@pytest.fixture
def newsrag(archive: Path, tmp_path: Path) -> NewsRAG:
    import shutil

    shutil.copytree(archive, tmp_path / "index")
    return NewsRAG(index_dir=tmp_path / "index")


def _titles(page: object) -> list[str]:
    return [r.title for r in page.records]  # type: ignore[attr-defined]


def test_pages_hold_a_page_and_count_the_whole_selection(newsrag: NewsRAG) -> None:
    first = newsrag.articles_page(limit=10)
    second = newsrag.articles_page(limit=10, offset=10)
    assert first.total == second.total == N and len(first.records) == len(second.records) == 10
    assert not set(_titles(first)) & set(_titles(second))
    dates = [r.published_at for r in first.records + second.records]
    assert dates == sorted(dates, reverse=True)  # newest first by default
    assert len(newsrag.articles_page(limit=10_000).records) == MAX_PAGE if N > MAX_PAGE else N


def test_search_matches_titles_and_sources_and_takes_wildcards_literally(newsrag: NewsRAG) -> None:
    found = newsrag.articles_page(Selection(text="report 00007"))
    assert found.total == 1 and "report 00007" in found.records[0].title
    by_source = newsrag.articles_page(Selection(text=SOURCES[1].upper()), limit=MAX_PAGE)
    assert by_source.total == N // len(SOURCES) and {r.source for r in by_source.records} == {SOURCES[1]}
    assert newsrag.articles_page(Selection(text="%")).total == 0
    assert newsrag.articles_page(Selection(text="_")).total == 0


@pytest.mark.parametrize("sort", ["title", "source", "chunks", "added", "date"])
def test_every_sort_orders_both_ways(newsrag: NewsRAG, sort: str) -> None:
    key = {"title": lambda r: r.title.lower(), "source": lambda r: r.source.lower(), "chunks": lambda r: r.n_chunks,
           "added": lambda r: r.ingested_at, "date": lambda r: r.published_at}[sort]  # fmt: skip
    up = newsrag.articles_page(sort=sort, descending=False, limit=MAX_PAGE).records
    down = newsrag.articles_page(sort=sort, descending=True, limit=MAX_PAGE).records
    assert [key(r) for r in up] == sorted(key(r) for r in up)
    assert [key(r) for r in down] == sorted((key(r) for r in down), reverse=True)
    with pytest.raises(ValueError):
        newsrag.articles_page(sort="title; DROP TABLE articles")


def test_bulk_delete_by_source_and_date_range(newsrag: NewsRAG) -> None:
    by_source = Selection(source=SOURCES[0])
    assert newsrag.catalog.count(by_source) == N // len(SOURCES)
    removed = newsrag.forget_selected(by_source)
    assert len(removed) == N // len(SOURCES) and newsrag.catalog.count(by_source) == 0
    assert newsrag.store.collection.get(where={"source": SOURCES[0]})["ids"] == []
    january = Selection(since="2025-01-01", until="2025-01-10")
    left = newsrag.catalog.count(january)
    assert left == sum(1 for i in range(10) if i % len(SOURCES) != 0)
    assert len(newsrag.forget_selected(january)) == left and newsrag.catalog.count() == N - N // len(SOURCES) - left
    with pytest.raises(ValueError, match="source or a date range"):
        newsrag.forget_selected(Selection())


def test_an_article_opens_with_its_chunks_and_its_text(newsrag: NewsRAG, sample_path: Path) -> None:
    record = newsrag.articles_page(Selection(text="report 00003")).records[0]
    view = newsrag.article(record.article_id)
    assert view is not None and len(view.chunks) == record.n_chunks == 1
    assert view.text == article(3)[1].splitlines()[-1]  # the body; cleaning took the title line as the title
    assert newsrag.article("no-such-id") is None

    assert newsrag.ingest(sample_path).ok  # several overlapping chunks, with boilerplate to clean
    (sample,) = newsrag.articles_page(Selection(text="Witkoff")).records
    view = newsrag.article(sample.article_id)
    assert view is not None and len(view.chunks) == sample.n_chunks > 1
    positions = [view.text.find(chunk) for chunk in view.chunks]
    assert -1 not in positions and positions == sorted(positions)  # every chunk, in order
    assert view.text.count("legally binding pledge that Nato will not expand eastwards") == 1
    assert "Sign up now" not in view.text


def test_rejoin_drops_the_overlap_between_chunks() -> None:
    text = "One sentence here. Another sentence there. A third sentence follows. And the end."
    assert rejoin([text[:44], text[19:70], text[45:]]) == text
    assert rejoin(["First part.", "Second part."]) == "First part. Second part."


def test_another_instance_sees_what_this_one_writes(newsrag: NewsRAG, tmp_path: Path) -> None:
    """Two app instances on one Chroma, each with its own catalog file: each write moves the generation on."""
    other_store = ChunkStore(newsrag.settings, newsrag.store.embedder_id, client=newsrag.store.client)
    other = ArticleCatalog(other_store, tmp_path / "elsewhere" / "catalog.sqlite")
    assert other.count() == N
    extra = write_archive(tmp_path / "more", 2, start=N)
    assert newsrag.ingest(extra).ok
    assert other.count() == N + 2 and other.page(Selection(text=f"report {N + 1:05d}")).total == 1
    newsrag.forget(other.page(Selection(text=f"report {N:05d}")).records[0].article_id)
    assert other.count() == N + 1


def test_the_catalog_is_a_cache_rebuilt_when_deleted_or_unwritable(newsrag: NewsRAG, tmp_path: Path) -> None:
    assert newsrag.catalog.count() == N
    newsrag.settings.catalog_path.unlink()
    assert newsrag.catalog.count() == N
    not_a_folder = tmp_path / "a-file"  # (a read-only folder would not stop root, who runs CI)
    not_a_folder.write_text("")
    in_memory = ArticleCatalog(newsrag.store, not_a_folder / "catalog.sqlite")
    assert in_memory.count() == N and in_memory.page(Selection(text="report 00001")).total == 1


def test_a_large_archive_without_a_table_yet_builds_it_in_the_background(
    newsrag: NewsRAG, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first start on a large archive (an index built elsewhere) lists nothing yet rather than waiting."""
    import rag.index.catalog

    monkeypatch.setattr(rag.index.catalog, "QUICK_REBUILD", 0)  # every archive counts as large
    fresh = ArticleCatalog(newsrag.store, newsrag.settings.index_dir / "another-catalog.sqlite")
    fresh.warm()  # what `newsrag serve` does at start: for a large archive, nothing yet
    assert fresh._builder is None  # no thread competing with the first answers
    first = fresh.page(Selection())
    assert first.stale and first.total == 0  # at once: nothing listed yet, marked as being built
    fresh.wait(60)
    after = fresh.page(Selection())
    assert not after.stale and after.total == N


def test_a_large_catalog_is_rebuilt_in_the_background_and_own_deletes_show_at_once(
    newsrag: NewsRAG, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.index.catalog

    assert newsrag.catalog.count() == N
    monkeypatch.setattr(rag.index.catalog, "QUICK_REBUILD", 0)  # every archive counts as large
    other = NewsRAG(index_dir=newsrag.settings.index_dir)
    assert other.ingest(write_archive(tmp_path / "more", 2, start=N)).ok  # another writer: a new generation
    during = newsrag.articles_page(limit=1)
    assert during.stale and during.total == N  # the previous table, at once, while the new one is built
    newsrag.catalog.wait(60)
    after = newsrag.articles_page(limit=1)
    assert not after.stale and after.total == N + 2
    gone = newsrag.forget_selected(Selection(source=SOURCES[3]))
    listed = newsrag.articles_page(Selection(source=SOURCES[3]))
    assert gone and listed.total == 0  # already out of the list, while a rebuild may still be running
    newsrag.catalog.wait(60)
    assert newsrag.catalog.count() == N + 2 - len(gone) and not newsrag.articles_page().stale
