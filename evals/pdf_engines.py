"""Which PDF text engine keeps words apart: pypdf, PDFium (pypdf2ium2) and pdfminer.six against poppler's pdftotext.

Issue #34: pypdf ran words together in LaTeX-built PDFs ("Currently,anRSAkeywith4096bits"). For each PDF and
engine this measures, on a sample of pages spread over the document:

- glued: the share of pdftotext's word pairs (both words of two letters or more, their join not itself a word of
  the page) that the engine's text holds run together, without a space;
- missing: the share of pdftotext's words the engine's text does not hold at all (garbled or dropped text);
- pages/s: the engine's speed on those pages, its own wall-clock time (reported, never asserted).

poppler is the reference only (``apt-get install -y poppler-utils``), never a dependency of newsrag.

    python -m evals.pdf_engines FILE.pdf [FILE.pdf ...] [--pages 30]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

_WORD = re.compile(r"\w+")


def _pypdf(path: Path, pages: list[int]) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return [reader.pages[i].extract_text() or "" for i in pages]


def _pdfium(path: Path, pages: list[int]) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return [document[i].get_textpage().get_text_bounded() for i in pages]
    finally:
        document.close()


def _pdfminer(path: Path, pages: list[int]) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    texts = []
    for page in extract_pages(path, page_numbers=pages):
        texts.append("".join(item.get_text() for item in page if isinstance(item, LTTextContainer)))
    return texts


ENGINES: dict[str, Callable[[Path, list[int]], list[str]]] = {
    "pypdf": _pypdf,
    "pdfium": _pdfium,
    "pdfminer": _pdfminer,
}


def reference(path: Path, pages: list[int]) -> list[str]:
    """pdftotext's text of each page in ``pages`` (0-based)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    every = out.decode("utf-8", "replace").split("\f")
    return [every[i] if i < len(every) else "" for i in pages]


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def scores(ref_pages: list[str], pages: list[str]) -> tuple[float, float]:
    """(glued, missing): shares of the reference's word pairs run together, and of its words absent."""
    pairs = glued = words = missing = 0
    for ref, text in zip(ref_pages, pages, strict=True):
        ref_words = _words(ref)
        vocabulary = set(ref_words)
        found = _words(text)
        have = set(found)
        joined = " ".join(found)
        words += len(ref_words)
        missing += sum(1 for w in ref_words if w not in have)
        for a, b in zip(ref_words, ref_words[1:], strict=False):
            if len(a) < 2 or len(b) < 2 or not (a + b).isalpha() or a + b in vocabulary:
                continue
            pairs += 1
            glued += a + b in joined
    return glued / max(pairs, 1), missing / max(words, 1)


def sample(count: int, wanted: int) -> list[int]:
    """``wanted`` page indexes spread evenly over ``count`` pages."""
    if count <= wanted:
        return list(range(count))
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)})


def compare(path: Path, wanted: int) -> list[tuple[str, float, float, float]]:
    """(engine, glued, missing, pages per second) for each engine on ``path``."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    pages = sample(len(document), wanted)
    document.close()
    ref = reference(path, pages)
    rows = []
    for name, engine in ENGINES.items():
        started = time.perf_counter()
        texts = engine(path, pages)
        elapsed = time.perf_counter() - started
        glued, missing = scores(ref, texts)
        rows.append((name, glued, missing, len(pages) / elapsed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--pages", type=int, default=30, help="pages sampled per file")
    args = parser.parse_args()
    print("| file | engine | words glued | words missing | pages/s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for path in args.files:
        for name, glued, missing, speed in compare(path, args.pages):
            print(f"| {path.name} | {name} | {glued:.1%} | {missing:.1%} | {speed:.1f} |")


if __name__ == "__main__":
    main()
