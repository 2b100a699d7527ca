"""The code stays in pieces a reader takes in at once: no function over 60 lines, no class over 20 public methods.

Properties are counted as what a reader sees them as, attributes (``newsrag.store``), not as methods.

Benchmarks (`evals/perf*.py`), which script a whole measurement run in one place, and the tests are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

MAX_FUNCTION_LINES = 60
MAX_PUBLIC_MEMBERS = 20


def _modules() -> list[Path]:
    found = [*ROOT.glob("rag/**/*.py"), *ROOT.glob("ingest/**/*.py"), *ROOT.glob("evals/**/*.py"), ROOT / "app.py"]
    return sorted(p for p in found if not p.name.startswith("perf"))


def too_big(source: str) -> list[str]:
    """The functions over MAX_FUNCTION_LINES lines and the classes over MAX_PUBLIC_MEMBERS public methods."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                out.append(f"{node.name} ({lines} lines)")
        elif isinstance(node, ast.ClassDef):
            public = [
                m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_property(m)
            ]
            count = sum(not m.name.startswith("_") for m in public)
            if count > MAX_PUBLIC_MEMBERS:
                out.append(f"class {node.name} ({count} public members)")
    return out


def _is_property(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id in ("property", "cached_property") for d in method.decorator_list)


def test_functions_and_classes_are_small() -> None:
    found = {str(p.relative_to(ROOT)): big for p in _modules() if (big := too_big(p.read_text(encoding="utf-8")))}
    assert not found, f"split these: {found}"


def test_the_check_finds_a_long_function_and_a_wide_class() -> None:
    long = "def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES
    wide = "class C:\n" + "".join(f"    def m{i}(self): ...\n" for i in range(MAX_PUBLIC_MEMBERS + 1))
    assert too_big(long) == [f"f ({MAX_FUNCTION_LINES + 1} lines)"]
    assert too_big(wide) == [f"class C ({MAX_PUBLIC_MEMBERS + 1} public members)"]
    attributes = "class C:\n" + "".join(
        f"    @property\n    def p{i}(self): ...\n" for i in range(MAX_PUBLIC_MEMBERS + 1)
    )
    assert too_big(attributes) == []
    assert too_big(wide.replace("def m0", "def _m0")) == []
