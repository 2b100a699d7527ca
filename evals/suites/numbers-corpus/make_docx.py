"""Writes the Word documents of the numbers suite's table corpus (evals/suites/numbers.jsonl, the `table-*` cases).

Each is a short document with one table, built from facts a RealTimeQA dev article reports (its URL is in the
document): the rows share their columns, so a value from another row is a plausible wrong answer. Run it from the
project root after editing a table: ``.venv/bin/python evals/suites/numbers-corpus/make_docx.py``. The folder is
ingested whole by ``newsrag bench typed --suite evals/suites/numbers.jsonl``; this file is not a kind newsrag reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from docx import Document

HERE = Path(__file__).parent

POWERBALL = {
    "file": "powerball-jackpots.docx",
    "title": "The 10 largest Powerball jackpots",
    "date": datetime(2025, 9, 7, tzinfo=UTC),
    "intro": (
        "Two players, one in Missouri and one in Texas, won the $1.787 billion Powerball jackpot drawn on Sept. 6, "
        "2025, the second-largest lottery prize in U.S. history. The table lists the top 10 Powerball jackpots, "
        "with the drawing date and where the winning tickets were sold, as USA TODAY listed them the next day."
    ),
    "source": "https://www.usatoday.com/story/money/lottery/2025/09/07/who-won-the-powerball-drawing-on-sept-6-1-8-billion-jackpot/85994348007/",
    "header": ("Jackpot", "Drawing date", "Where the winning ticket was sold"),
    "rows": (
        ("$2.04 billion", "Nov. 7, 2022", "California"),
        ("$1.787 billion", "Sept. 6, 2025", "Texas and Missouri"),
        ("$1.765 billion", "Oct. 11, 2023", "California"),
        ("$1.586 billion", "Jan. 13, 2016", "California, Florida, Tennessee"),
        ("$1.326 billion", "April 6, 2024", "Oregon"),
        ("$1.08 billion", "July 19, 2023", "California"),
        ("$842.4 million", "Jan. 1, 2024", "Michigan"),
        ("$768.4 million", "March 27, 2019", "Wisconsin"),
        ("$758.7 million", "Aug. 23, 2017", "Massachusetts"),
        ("$754.6 million", "Feb. 6, 2023", "Washington"),
    ),
}

TRUMP_EFFECT = {
    "file": "trump-effect-projects.docx",
    "title": "Trump Effect projects already in the pipeline before Trump took office",
    "date": datetime(2025, 7, 8, tzinfo=UTC),
    "intro": (
        "The White House's \"Trump Effect\" website lists more than 70 projects it says Trump's economic policies "
        "spurred. A Reuters review found some had been announced or were already in the pipeline before his "
        "presidency. The table lists those projects with the investment each company announced."
    ),
    "source": "https://www.usatoday.com/story/news/politics/2025/07/08/trump-effect-website-credit-investment-biden/84502193007/",
    "header": ("Company", "Project", "State", "Investment"),
    "rows": (
        ("Hyundai", "new steel plant", "Louisiana", "$5.8 billion"),
        ("Corning", "investment in a plant", "Michigan", "$1.5 billion"),
        ("LEGO", "new distribution center", "Virginia", "$366 million"),
        ("Clasen Quality Chocolate", "new production facility", "Virginia", "$230 million"),
        ("Chobani", "production plant", "New York", "$1.2 billion"),
        ("Merck", "projects already underway", "North Carolina and Delaware", "$2 billion"),
        ("Johnson & Johnson", "project under construction", "North Carolina", "$2 billion"),
        ("Diageo", "new plant", "Alabama", "$415 million"),
    ),
}


def write(spec: dict) -> Path:
    document = Document()
    props = document.core_properties
    props.title, props.author = spec["title"], "newsrag evals"
    props.created = props.modified = spec["date"]
    document.add_heading(spec["title"], level=1)
    document.add_paragraph(spec["intro"])
    document.add_paragraph(f"Source: {spec['source']}")
    table = document.add_table(rows=1, cols=len(spec["header"]))
    for cell, text in zip(table.rows[0].cells, spec["header"], strict=True):
        cell.text = text
    for row in spec["rows"]:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    path = HERE / spec["file"]
    document.save(str(path))
    return path


if __name__ == "__main__":
    for spec in (POWERBALL, TRUMP_EFFECT):
        print(write(spec))
