"""Hard-wrapped plain text (e-mail at 72 columns, text files) joined back into paragraphs (ingest/unwrap.py)."""

from __future__ import annotations

from ingest.unwrap import unwrap

WRAPPED = """Hi all,

The Packaging Guidelines require that all binary programs and libraries be
built from source code. GTKada is an Ada binding to GTK+. In the latest
version, some of the Ada files are generated from GIR files by a code
generator that is part of the package.

Steps to reproduce:
- download the tarball from the project's release page and unpack it into
  a fresh directory
- run the generator

    $ make generate
    $ make install

| package | popcon |
| --- | --- |
| mc | 54 |

Thanks,
Jane
"""


def test_a_wrapped_paragraph_becomes_one_line_and_lists_code_tables_and_signatures_keep_theirs() -> None:
    lines = unwrap(WRAPPED).split("\n")
    assert (
        "The Packaging Guidelines require that all binary programs and libraries be built from source code. GTKada is"
        " an Ada binding to GTK+. In the latest version, some of the Ada files are generated from GIR files by a code"
        " generator that is part of the package."
    ) in lines
    assert "- download the tarball from the project's release page and unpack it into a fresh directory" in lines
    assert "- run the generator" in lines
    assert "    $ make generate" in lines and "    $ make install" in lines
    assert "| mc | 54 |" in lines and "| package | popcon |" in lines
    assert lines[:2] == ["Hi all,", ""] and "Thanks," in lines and "Jane" in lines


def test_text_whose_lines_are_paragraphs_is_left_alone() -> None:
    pasted = "\n".join(
        ["Headline of the story"]
        + [f"Paragraph {i} " + "of a pasted article, a whole paragraph a line. " * 8 for i in range(5)]
    )
    assert unwrap(pasted) == pasted


def test_fenced_code_keeps_its_lines() -> None:
    text = "```\n" + "\n".join(["x = compute_the_value_of_something(a, b, c) + other_value_here(d)"] * 4) + "\n```\n"
    assert unwrap(text * 2) == text * 2


def test_short_paragraphs_a_line_of_varied_lengths_are_not_wrapped_text() -> None:
    text = "\n".join(
        [
            "Port strike ends",
            "Dock workers ended a two-week strike on Friday after the union accepted a new pay offer from the port.",
            "Hundreds of containers had piled up.",
            "The union said members voted 412 to 96 in favour of the deal, which raises pay by six per cent this year"
            " and four per cent next year.",
            "Shipping lines expect the backlog to clear within ten days.",
            "Exporters welcomed the end of the dispute.",
        ]
    )
    assert unwrap(text) == text
