"""The package's shape: public names resolve, layers go one way (import-linter), and the CLI starts light."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import typer

from evals.app_process import BIN
from rag.cli import plugins
from tests.conftest import ROOT
from tests.support import import_cycles


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
    probe = (
        "import sys, rag.cli.main; print(sorted({m.split('.')[0] for m in sys.modules} & {'llama_index', 'chromadb'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evals_commands_join_the_cli_through_the_entry_point() -> None:
    result = subprocess.run([BIN / "newsrag", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("ask", "ingest", "serve", "eval", "bench"):
        assert command in result.stdout
    assert "evals" in [e.name for e in plugins.entry_points(group=plugins.GROUP)]


def test_a_broken_plugin_is_reported_and_the_others_still_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = EntryPoint("broken", "no_such_module_here:register", plugins.GROUP)
    good = EntryPoint("evals", "evals.cli:register", plugins.GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken, good])
    app = typer.Typer()
    assert plugins.register_plugins(app) == ["evals"]
    assert "could not load the 'broken' commands" in capsys.readouterr().err
    assert [c.name for c in app.registered_commands] == ["eval"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN / "lint-imports"], cwd=root, capture_output=True, text=True, timeout=120)


def test_the_layer_contract_holds_and_catches_an_upward_import(tmp_path: Path) -> None:
    assert lint_imports(ROOT).returncode == 0
    for part in ("rag", "ingest", "evals", "pyproject.toml"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, tmp_path / part)
    types = tmp_path / "rag" / "core" / "types.py"
    types.write_text(types.read_text() + "\n\ndef _late():\n    from rag.service.newsrag import NewsRAG  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Layers go one way BROKEN" in result.stdout and "rag.core.types -> rag.service.newsrag" in result.stdout


def test_no_import_cycles_type_only_ones_included() -> None:
    imports = import_cycles.module_imports()
    assert "evals.runner" in imports["evals"]  # the TYPE_CHECKING imports are in the graph
    assert import_cycles.cycle(imports) == []
    assert import_cycles.cycle(import_cycles.package_imports(imports)) == []


def test_the_cycle_check_catches_a_package_and_its_module_importing_each_other(tmp_path: Path) -> None:
    for part in ("rag", "ingest", "evals"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    runner = tmp_path / "evals" / "runner.py"  # back as it was: evals/__init__.py names evals.runner for types
    runner.write_text(runner.read_text().replace("import evals.metrics as m", "from evals import metrics as m"))
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.import_cycles"],
        cwd=tmp_path,  # the copies come first on sys.path, then this tree for `tests`
        env=os.environ | {"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "a cycle between modules: evals.runner -> evals -> evals.runner" in result.stdout
