"""The upload route's quota per visitor and hour, and uploads deleted once ingested (#33 item 10), on a real server.

One `newsrag serve` of this module's own, allowed 3 uploads an hour per visitor; the package's two servers may be
alive beside it (3 at most).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evals.app_process import Server, serving

pytestmark = pytest.mark.server

STORY = "Harbour strike ends\nDock workers ended a nine-day strike on Friday after a pay deal with the port.\n"


@pytest.fixture(scope="module")
def quota_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(
        "upload-quota", tmp_path_factory.mktemp("quota-server"), NEWSRAG_VISITOR_UPLOADS_PER_HOUR="3"
    ) as started:
        yield started


def _upload(server: Server, name: str, data: bytes) -> httpx.Response:
    return httpx.post(server.url + "/gradio_api/upload", files={"files": (name, data, "text/plain")}, timeout=60)


def _holding(folder: Path, data: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.read_bytes() == data]


def test_an_ingested_upload_is_deleted_and_the_quota_answers_429(quota_server: Server, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    story = tmp_path / "strike.txt"
    story.write_text(STORY, encoding="utf-8")
    client = Client(quota_server.url, verbose=False)
    [(_name, status, title, _chunks, reason)] = client.predict([handle_file(str(story))], "", api_name="/ingest")[
        "data"
    ]  # the first upload of this visitor's three
    assert (status, title) == ("added", "Harbour strike ends"), reason
    gradio = quota_server.root / "gradio"
    assert _holding(gradio, story.read_bytes()) == []  # Gradio's copy is gone; the index keeps its own
    assert len(_holding(quota_server.index_dir / "uploads", story.read_bytes())) == 1

    assert _upload(quota_server, "two.txt", b"second upload").status_code == 200
    assert _upload(quota_server, "three.txt", b"third upload").status_code == 200
    refused = _upload(quota_server, "four.txt", b"fourth upload")
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) > 3000  # the first upload leaves the rolling hour in an hour
    assert refused.json()["detail"].startswith("upload quota reached (files or megabytes per hour): try again in")
    assert _holding(gradio, b"fourth upload") == []  # refused before anything was stored
    assert quota_server.process.poll() is None
