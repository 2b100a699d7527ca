"""The public names of `rag` and `evals` resolve, and the CLI starts without loading the heavy libraries."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["rag", "evals"])
def test_every_public_name_resolves_to_its_home(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(module._HOMES)
    for name, home in module._HOMES.items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


def test_the_cli_starts_without_llamaindex_or_chromadb() -> None:
    # A fresh interpreter, since this test process has long imported both.
    probe = "import sys, rag.cli; print(sorted({m.split('.')[0] for m in sys.modules} & {'llama_index', 'chromadb'}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
