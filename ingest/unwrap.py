"""Hard-wrapped plain text joined back into its paragraphs: e-mail written at 72 columns, text files, Markdown.

Sentences are found a line at a time (``rag.core.text.split_sentences``), as a news page's lines are its
paragraphs. Text wrapped at a fixed width breaks its sentences at every line end ("In the latest version, some of
the Ada files" / "are generated from GIR"), so a question matches half a sentence and an answer quotes one. A
line of such text runs on into the next when it reaches near the text's width; a shorter line ends its paragraph
(a paragraph's last line, a heading, a signature), and so does a blank line. Lists, table rows, indented code and
fenced code keep their lines. Text whose lines are paragraphs already (a pasted article: lines of hundreds of
characters) is left as it is.
"""

from __future__ import annotations

import re

from rag.core.text import is_table_row

WRAP_WIDTHS = (40, 100)  # the widths text is wrapped at (e-mail 72-78, RFC text 72, Markdown 80)
RUNS_ON = 0.75  # a line this share of the text's width, or longer, runs on into the next
# Wrapped text has next to no line longer than its width (a long URL, a table row): at most this share past this.
OVERLONG, OVERLONG_SHARE = 1.15, 0.03
_KEEPS_ITS_LINE = re.compile(r"^\s*(?:[-*+•–]\s|\d{1,3}[.)]\s|[A-Za-z][.)]\s|>|#{1,6}\s|\s{4}|\t)")
_FENCE = re.compile(r"^\s*(?:```|~~~)")


def text_width(lines: list[str]) -> int:
    """The length 9 lines in 10 do not pass, among the lines with text: the width the text was wrapped at, or a PDF
    page's column. Not the longest line: a full-width footer over two columns is twice a column's width."""
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.9))] if lengths else 0


def _wrapped(lines: list[str], width: int) -> bool:
    """Whether the text was wrapped at ``width``: a width text is wrapped at, and next to no line past it. Text of a
    paragraph a line has lines of every length, many far past its 90th percentile."""
    filled = [len(line.rstrip()) for line in lines if line.strip()]
    if not WRAP_WIDTHS[0] <= width <= WRAP_WIDTHS[1] or len(filled) < 3:
        return False
    return sum(1 for n in filled if n > width * OVERLONG) <= max(1, OVERLONG_SHARE * len(filled))


def unwrap(text: str) -> str:
    """``text`` with each wrapped paragraph on one line (see the module's docstring); other text unchanged."""
    lines = text.split("\n")
    width = text_width(lines)
    if not _wrapped(lines, width):
        return text
    out: list[str] = []
    runs_on = fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced, runs_on = not fenced, False
            out.append(line)
            continue
        keeps = fenced or not line.strip() or bool(_KEEPS_ITS_LINE.match(line)) or is_table_row(line)
        if runs_on and not keeps:
            previous = out[-1].rstrip()
            # A word broken at the line's end keeps its hyphen: in typed text it is nearly always a compound's.
            out[-1] = previous + line.strip() if previous.endswith("-") else f"{previous} {line.strip()}"
        else:
            out.append(line)
        runs_on = not fenced and bool(line.strip()) and not is_table_row(line) and len(line.rstrip()) >= RUNS_ON * width
    return "\n".join(out)
