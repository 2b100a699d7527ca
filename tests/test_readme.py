"""The README is the user's manual, docs/ the rest of it: the generated tables and the examples must match the code.

The commands, targets, routes and links they show are checked in tests/test_docs.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.kinds import registry
from rag.cli.formats import formats_markdown
from rag.cli.main import settings_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
MAX_README_LINES = 350


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def _section_block(text: str, heading: str, lang: str) -> str:
    section = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    assert section, f"lost its section {heading!r}"
    blocks = _blocks(section.group(1), lang)
    assert blocks, f"the section {heading!r} lost its {lang} example"
    return blocks[0]


def test_configuration_table_matches_settings() -> None:
    block = re.search(r"<!-- config:start -->\n(.*?)\n<!-- config:end -->", _doc("configuration.md"), re.DOTALL)
    assert block, "docs/configuration.md lost its generated configuration block"
    assert block.group(1).strip() == settings_markdown().strip(), "run: newsrag config --markdown"


def test_formats_table_matches_the_kinds() -> None:
    """docs/formats.md's table is the kinds built in (a plugin installed here must not change what it expects)."""
    block = re.search(r"<!-- formats:start -->\n(.*?)\n<!-- formats:end -->", _doc("formats.md"), re.DOTALL)
    assert block, "docs/formats.md lost its generated table of kinds"
    expected = formats_markdown(registry(plugins=False))
    assert block.group(1).strip() == expected.strip(), "run: newsrag formats --markdown"


def test_the_plugin_examples_are_the_example_plugins_code() -> None:
    """docs/plugins.md shows parts of the example plugins and of pyproject.toml, line for line."""
    examples = [ROOT / "examples" / "newsrag-csv", ROOT / "examples" / "newsrag-leads"]
    code = [next(example.glob("*.py")).read_text(encoding="utf-8") for example in examples]
    projects = [(p / "pyproject.toml").read_text(encoding="utf-8") for p in (ROOT, *examples)]
    page = _doc("plugins.md")
    assert _blocks(page, "python") and _blocks(page, "toml")
    for block in _blocks(page, "python"):
        assert any(block in c for c in code), f"docs/plugins.md shows code no example plugin has:\n{block}"
    for block in _blocks(page, "toml"):
        assert any(block in project for project in projects), f"no pyproject.toml has:\n{block}"


def test_the_readme_is_short() -> None:
    lines = len(README.splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move the detail into docs/"


def test_two_setup_commands_are_documented() -> None:
    block = _section_block(README, "Two commands", "bash")
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_the_readme_scale_out_block_is_the_docs_block() -> None:
    """tests/test_scale_out.py runs the README's block; docs/scale-out.md must show the same one."""
    assert _section_block(README, "Scale out", "bash") == _blocks(_doc("scale-out.md"), "bash")[0]


def _python_tour() -> str:
    """docs/python.md's tour, which starts with the README's example line for line (so running it runs both)."""
    short = _section_block(README, "Use it from Python", "python")
    tour = _section_block(_doc("python.md"), "A tour", "python")
    compile(short, "README.md", "exec")  # the README's example is whole statements on its own
    assert tour.startswith(short), "the README's Python example must be the start of docs/python.md's tour"
    return tour


@pytest.mark.slow
def test_python_examples_run_as_written(tmp_path: Path) -> None:
    code = _python_tour().replace('"/tmp/newsrag-demo"', repr(str(tmp_path / "demo")))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Nato" in result.stdout and "Trump says progress made" in result.stdout
    assert "three hours" in result.stdout


@pytest.mark.slow
def test_async_and_batch_example_runs_as_written(tmp_path: Path) -> None:
    pages = [README, *(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))]
    (example,) = [b for page in pages for b in _blocks(page, "python") if "aask(" in b]
    code = example.replace('"/tmp/newsrag-demo"', repr(str(tmp_path / "demo")))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[1, 1]" in result.stdout and "three hours" in result.stdout and "Trump says progress made" in result.stdout
    assert "latency_ms" in result.stdout
