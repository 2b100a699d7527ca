"""The README is the user's manual: its configuration table and its examples must match the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from rag.cli.main import settings_markdown
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_configuration_table_matches_settings() -> None:
    block = re.search(r"<!-- config:start -->\n(.*?)\n<!-- config:end -->", README, re.DOTALL)
    assert block, "README lost its generated configuration block"
    assert block.group(1).strip() == settings_markdown().strip(), "run: newsrag config --markdown"


def test_two_setup_commands_are_documented() -> None:
    assert "make run" in README and "make test" in README


def test_notebook_example_runs_as_written(tmp_path: Path) -> None:
    example = re.search(r"## Use it from Python.*?```python\n(.*?)```", README, re.DOTALL)
    assert example
    code = example.group(1).replace('"/tmp/newsrag-demo"', repr(str(tmp_path / "demo")))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Nato" in result.stdout and "Trump says progress made" in result.stdout


def test_async_and_batch_example_runs_as_written(tmp_path: Path) -> None:
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.DOTALL) if "aask(" in b]
    code = example.replace('"/tmp/newsrag-demo"', repr(str(tmp_path / "demo")))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[1, 1]" in result.stdout and "three hours" in result.stdout and "Trump says progress made" in result.stdout
    assert "latency_ms" in result.stdout
