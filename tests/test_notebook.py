"""examples/quickstart.ipynb, run top to bottom in a real Jupyter kernel (nbclient + ipykernel), as a reader would.

A cell that raises fails the test. The outputs that matter are then checked, found by their cells' tags: the seed
answer with its facts and a citation, the eval DataFrame's rows, the citations the HTTP clients got. The executed
notebook goes to tests/artifacts/ as .ipynb and .html, and the rendered answer, screenshotted from that HTML in
headless Chromium, to docs/notebook-answer.png, which the README shows.

The kernel is this test's own Python (the venv with the test extras): its kernelspec is written into a temporary
folder, so neither a user's kernels nor a Jupyter install matter, and nothing reaches the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.served.test_http_api import FACTS

NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
QUICKSTART = ROOT / "examples" / "quickstart.ipynb"
SCREENSHOT = ROOT / "docs" / "notebook-answer.png"
CELL_TIMEOUT = 900  # s: starting `newsrag serve` or running the eval suite on a busy 2-core machine


# ----- outputs stripped in git (as nbstripout would), so that diffs show code and prose only
STRIP = (
    "jupyter nbconvert --clear-output --ClearMetadataPreprocessor.enabled=True"
    " --ClearMetadataPreprocessor.preserve_cell_metadata_mask=tags"
    " --ClearMetadataPreprocessor.preserve_nb_metadata_mask=kernelspec --inplace examples/*.ipynb"
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(notebook["cells"], 1):
        where = f"{path.name} cell {number}"
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{where} has outputs; before committing run: {STRIP}"
            assert cell.get("execution_count") is None, f"{where} has an execution count; run: {STRIP}"
        assert set(cell.get("metadata", {})) <= {"tags"}, f"{where} has metadata beyond its tags; run: {STRIP}"
    assert set(notebook["metadata"]) <= {"kernelspec"}, f"{path.name}: metadata beyond the kernel; run: {STRIP}"


# ----- the quickstart, executed
def _kernel_env(root: Path) -> dict[str, str]:
    """The kernel's environment: no NEWSRAG_* or LLM settings of the developer's, Jupyter's state under root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSRAG_", "JUPYTER_", "MPLBACKEND"))}
    env.pop("OPENAI_API_KEY", None)
    state = {"JUPYTER_RUNTIME_DIR": "runtime", "JUPYTER_DATA_DIR": "data", "IPYTHONDIR": "ipython"}
    return env | {name: str(root / folder) for name, folder in state.items()} | {"HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The quickstart run top to bottom in a fresh ipykernel of this Python; saved to tests/artifacts/."""
    import nbformat
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    root = tmp_path_factory.mktemp("kernel")
    install(prefix=str(root), kernel_name="newsrag-test")  # argv: this sys.executable -m ipykernel_launcher
    specs = KernelSpecManager(kernel_dirs=[str(root / "share" / "jupyter" / "kernels")])
    assert json.loads(specs.get_kernel_spec("newsrag-test").to_json())["argv"][0] == sys.executable
    notebook = nbformat.read(QUICKSTART, as_version=4)
    client = NotebookClient(
        notebook,
        km=KernelManager(kernel_name="newsrag-test", kernel_spec_manager=specs),
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(QUICKSTART.parent)}},  # Jupyter's working folder: the notebook's
    )
    client.execute(env=_kernel_env(root))  # raises CellExecutionError, with the cell and its traceback
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, ARTIFACTS / "quickstart.ipynb")
    return notebook


def _outputs(notebook: Any, tag: str, mime: str = "text/plain") -> str:
    """Everything the cell tagged ``tag`` printed or showed as ``mime``."""
    cells = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"one cell should be tagged {tag!r}"
    texts = []
    for output in cells[0].outputs:
        if output.output_type == "stream" and mime == "text/plain":
            texts.append(output.text)
        elif output.output_type in ("execute_result", "display_data") and mime in output.data:
            texts.append(output.data[mime])
    return "\n".join(texts)


def _rows(frame_html: str) -> int:
    """The rows of a DataFrame shown as HTML (the header row is in <thead>)."""
    return frame_html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>")


@pytest.mark.slow
@pytest.mark.server
def test_quickstart_answers_the_seed_question_with_citations(executed: Any) -> None:
    text = _outputs(executed, "seed-answer")
    for fact in FACTS:
        assert fact in text
    assert "citations=1" in text or re.search(r"citations=[2-9]", text)
    rendered = _outputs(executed, "seed-answer", "text/html")
    assert '<div class="newsrag-answer">' in rendered and "<mark>" in rendered
    assert re.search(r'<a href="#newsrag-\w+-1">\[1\]</a>', rendered) and "Trump says progress made" in rendered


@pytest.mark.slow
@pytest.mark.server
def test_quickstart_streams_chats_and_filters(executed: Any) -> None:
    assert "three hours" in _outputs(executed, "stream")
    assert "Zelensky" in _outputs(executed, "chat")
    filters = _outputs(executed, "filters", "text/html")
    # The strike is found within Example Wire and since August 2025, not before 2025; Putin is not in Example Wire.
    rows = dict(re.findall(r"<td>([^<]*)</td>\s*<td>(True|False)</td>", filters))
    assert rows == {
        "Example Wire only": "False",
        "since 2025-08-01": "False",
        "until 2025-01-01": "True",
        "Putin question, Example Wire only": "True",
    }, filters
    assert "<table" in _outputs(executed, "ingest", "text/html")


@pytest.mark.slow
@pytest.mark.server
def test_quickstart_eval_has_one_row_per_case_and_a_chart(executed: Any) -> None:
    cases = (ROOT / "evals" / "suites" / "seed.jsonl").read_text().strip().splitlines()
    assert _rows(_outputs(executed, "eval-frame", "text/html")) == len(cases) == 20
    summary = _outputs(executed, "eval-summary", "text/html")
    assert "answer_correct_rate" in summary and "data:image/png;base64," in summary
    assert _outputs(executed, "eval-chart", "image/png")


@pytest.mark.slow
@pytest.mark.server
def test_quickstart_http_clients_get_citations(executed: Any) -> None:
    for tag in ("http-gradio", "http-openai"):
        text = _outputs(executed, tag)
        assert all(fact in text for fact in FACTS), text
        count = re.search(r"^citations: (\d+)$", text, re.MULTILINE)
        assert count and int(count.group(1)) >= 1, text
        assert "[1] Trump says progress made" in text
    assert "server stopped: True" in _outputs(executed, "cleanup")


@pytest.mark.slow
@pytest.mark.server
def test_quickstart_asks_in_batches_and_concurrently(executed: Any) -> None:
    assert _rows(_outputs(executed, "ask-many", "text/html")) == 4
    assert "(True, 0)" in _outputs(executed, "aask")  # the World Cup question is refused
    assert "Trump says progress made" in _outputs(executed, "astream")


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.browser
def test_readme_screenshot_of_a_rendered_answer(executed: Any) -> None:
    """The executed notebook as HTML (nbconvert), opened in headless Chromium: the seed answer's cell, shot."""
    from nbconvert import HTMLExporter

    from tests.support.browser import chromium

    page_html, _ = HTMLExporter(template_name="lab").from_notebook_node(executed)
    html_path = ARTIFACTS / "quickstart.html"
    html_path.write_text(page_html, encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 800}, device_scale_factor=1)
        # The page asks CDNs for require.js and MathJax: refuse at once, there is no network (and none is needed).
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        page.goto(html_path.as_uri())
        cell = page.locator(".celltag_seed-answer").first
        assert "Nato" in cell.inner_text()
        shot = ARTIFACTS / "notebook-answer.png"
        cell.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT)
