"""Installing an example plugin for real: pip, offline, into a folder of its own, and the environment that sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def install_example(name: str, tmp_path: Path) -> dict[str, str]:
    """``examples/<name>`` installed under ``tmp_path``; the environment whose Python finds it (and newsrag)."""
    source, target = tmp_path / name, tmp_path / "site"
    shutil.copytree(ROOT / "examples" / name, source)  # pip builds in the folder it is given: not in the repository's
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "--no-cache-dir"]
    built = subprocess.run([*pip, "--target", str(target), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT), os.environ.get("PYTHONPATH", "")])}
