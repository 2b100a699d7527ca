"""The README's "Scale out" block, run as written: a real `chroma run`, embeddings from an OpenAI-compatible server on
127.0.0.1 (serving MiniLM), one process ingesting and another, with its own index folder, answering."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.chroma_server import CHROMA, ChromaServer
from tests.support.embeddings_server import EmbeddingsServer

ROOT = Path(__file__).resolve().parents[1]
NEWSRAG = CHROMA.with_name("newsrag")


def scale_out_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Scale out\n.*?```bash\n(.*?)```", readme, re.DOTALL)
    assert block, "README lost its Scale out example"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.server
def test_the_scale_out_example_runs_as_written(tmp_path: Path) -> None:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} is missing")
    lines = scale_out_block()
    assert lines[0].startswith("chroma run ")
    env = dict(os.environ)
    for line in (x for x in lines if x.startswith("export ")):
        env |= dict(pair.split("=", 1) for pair in shlex.split(line)[1:])
    commands = [shlex.split(x) for x in lines if x.startswith("newsrag ")]
    assert [c[1] for c in commands] == ["ingest", "ask"]
    chroma, embeddings = ChromaServer(tmp_path / "chroma"), EmbeddingsServer()
    try:
        # The README's hosts are examples: here both servers are local.
        env |= {
            "NEWSRAG_CHROMA_HOST": "127.0.0.1",
            "NEWSRAG_CHROMA_PORT": str(chroma.port),
            "NEWSRAG_EMBED_BASE_URL": embeddings.base_url,
        }
        assert env["NEWSRAG_EMBEDDER"] == "openai" and env["NEWSRAG_EMBED_MODEL"] == "all-MiniLM-L6-v2"
        outputs = []
        for n, command in enumerate(commands):
            own = env | {"NEWSRAG_INDEX_DIR": str(tmp_path / f"instance-{n}")}  # two app instances
            run = subprocess.run(
                [str(NEWSRAG), *command[1:]], cwd=ROOT, env=own, capture_output=True, text=True, timeout=300
            )
            assert run.returncode == 0, run.stderr[-2000:]
            outputs.append(run.stdout)
        assert "Nato" in outputs[1] and "Trump says progress made" in outputs[1]
        assert embeddings.texts > 1  # the passages and the question were embedded by the server
        assert not (tmp_path / "instance-0" / "chroma").exists()  # the chunks live on the server
    finally:
        chroma.stop()
        embeddings.close()
