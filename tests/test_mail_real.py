"""Mail read as people read it, on real files (tests/data/real/README.md, "Mail") and a few built edge cases.

Issue #34: a digest's messages are articles of their own (not its masthead); pipermail's ``x at y (Name)``
sender is the name; quoted replies, attributions, list footers and pipermail's notes stay out of the indexed text;
titles are told apart where subjects repeat; a pipermail archive (``2012-July.txt``, ``.txt.gz``) is a mailbox.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import re
from email.message import EmailMessage
from pathlib import Path

from ingest.article import Article
from ingest.chunk import chunk_article
from ingest.files import load_file
from ingest.kinds import kinds
from ingest.mail_digest import enclosed
from ingest.mail_text import own_text
from ingest.records import BadInput, Loaded, Skipped
from tests.conftest import ROOT

REAL = ROOT / "tests" / "data" / "real"
MAX_BYTES = 5_000_000
QUOTED = re.compile(r"^\s{0,2}(?:>|[A-Z]{1,3}>)", re.MULTILINE)
FURNITURE = ("mailing list", "listinfo", "next part", "scrubbed", "Today's Topics", "Digest Footer")
SENTENCE = b"The list is testing its digest delivery this week, please ignore it."


def loaded(path: Path) -> list[Loaded]:
    return list(load_file(path, MAX_BYTES))


def articles(path: Path) -> list[Article]:
    return [a for _, a in loaded(path) if isinstance(a, Article)]


def parsed(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# ----- digests
def test_mime_digest_is_split_into_its_messages() -> None:
    path = REAL / "mailman2-mime-digest.eml"
    origin = str(path.resolve())
    inside = enclosed(parsed(path))
    assert inside.digest and len(inside.messages) == 5
    assert [m["from"].addresses[0].addr_spec for m in inside.messages] == ["barry@digicool.com"] * 5
    # Each message is read on its own (each says only "hello": too short to index), the masthead not at all.
    results = loaded(path)
    assert [where for where, _ in results] == [f"{origin}#message{n}" for n in range(1, 6)]
    assert all(isinstance(r, BadInput) and "too short (1 words" in str(r) for _, r in results)


def test_mime_digest_messages_keep_their_own_sender_subject_and_date(tmp_path: Path) -> None:
    """The real digest, its five "hello"s made sentences: each message its own article, titled and sourced."""
    path = tmp_path / "digest.eml"
    path.write_bytes((REAL / "mailman2-mime-digest.eml").read_bytes().replace(b"\nhello\n", b"\n" + SENTENCE + b"\n"))
    found = articles(path)
    assert len(found) == 5
    assert {a.source for a in found} == {"Barry A. Warsaw"}  # From: barry@digicool.com (Barry A. Warsaw)
    # "[Ppp]" starts four of the five subjects: the list's tag, left out; message 2 has no Subject.
    assert [a.title for a in found] == ["testing #1", SENTENCE.decode(), "testing #3", "testing #4", "testing #5"]
    assert [a.published_at for a in found][::4] == ["2001-04-21T00:16:13+00:00", "2001-04-21T00:16:32+00:00"]
    assert not any(word in a.text for a in found for word in ("Send Ppp", "Today's Topics", "Ppp mailing list"))


def test_mailman_text_digest_is_split_and_its_footer_left_out(tmp_path: Path) -> None:
    real = REAL / "mailman3-text-digest.eml"
    origin = str(real.resolve())
    results = loaded(real)
    assert [where for where, _ in results] == [f"{origin}#message{n}" for n in range(1, 5)]  # no footer, no masthead
    assert all(isinstance(r, BadInput) and "too short (4 words" in str(r) for _, r in results)
    path = tmp_path / "digest.eml"
    path.write_bytes(real.read_bytes().replace(b"Here is message", SENTENCE[:-1] + b" Here is message"))
    found = articles(path)
    assert [a.title for a in found] == [f"Test message {n}" for n in range(1, 5)]
    assert {a.source for a in found} == {"example.com"}  # aperson@example.com: no name, the domain
    assert found[2].text.endswith("Here is message 3")
    assert not any(word in a.text for a in found for word in (*FURNITURE, "unsubscribe", "End of Test Digest"))


# ----- pipermail archives
def test_pipermail_archive_is_read_as_a_mailbox() -> None:
    path = REAL / "fedora-lists-2012-July.txt"
    assert kinds().of(path).name == "mbox"  # type: ignore[union-attr]  # sniffed: a .txt that is a mailbox
    assert kinds().of(ROOT / "README.md").name == "text"  # type: ignore[union-attr]
    found = articles(path)
    assert [a.source for a in found] == [  # From: vondruch at redhat.com (=?ISO-8859-2?Q?V=EDt_Ondruch?=)
        "Vít Ondruch",
        "Vít Ondruch",
        "Björn Persson",
        "Marcela Mašláňová",
        "Dan Horák",
        "Björn Persson",
    ]
    assert [a.published_at[:10] for a in found] == [
        "2012-07-10",
        "2012-07-10",
        "2012-07-12",
        "2012-07-18",
        "2012-07-24",
        "2012-07-29",
    ]


def test_gzipped_pipermail_archive(tmp_path: Path) -> None:
    path = tmp_path / "2012-July.txt.gz"
    path.write_bytes(gzip.compress((REAL / "fedora-lists-2012-July.txt").read_bytes()))
    assert [a.text for a in articles(path)] == [a.text for a in articles(REAL / "fedora-lists-2012-July.txt")]
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(path.read_bytes()[:-200])
    results = loaded(cut)
    assert isinstance(results[-1][1], BadInput) and "damaged or cut short" in str(results[-1][1])
    assert sum(isinstance(a, Article) for _, a in results) >= 4  # the messages before the damage are kept


def test_titles_are_told_apart_where_subjects_repeat() -> None:
    fedora = [a.title for a in articles(REAL / "fedora-lists-2012-July.txt")]
    # "[Fedora-packaging]" starts four of the six subjects: the list's tag, left out; the other list's stays.
    assert fedora[:2] == ["RPM macros (10 Jul 2012 11:29)", "RPM macros (10 Jul 2012 12:11)"]
    assert fedora[2:4] == [
        "[Fedora-fr-list] Compte-rendu de la réunion du 1 novembre 2009 (12 Jul 2012)",
        "Re: [Fedora-fr-list] Compte-rendu de la réunion du 1 novembre 2009 (18 Jul 2012)",
    ]
    assert fedora[4] == "Distributing prebuilt bios roms with QEMU"  # a lone subject stays as it is
    notmuch = [a.title for a in articles(REAL / "notmuch-list-2009-11.mbox")]
    assert len(set(notmuch)) == len(notmuch) == 13
    assert "Mac OS X/Darwin compatibility issues (18 Nov 2009 05:45)" in notmuch
    bigbang = [a.title for a in articles(REAL / "bigbang-dev-2014-November.txt")]
    assert bigbang[:2] == ["test (8 Nov 2014 19:39:35)", "test (8 Nov 2014 19:39:53)"]  # one minute: the seconds


# ----- quotes, attributions, footers
def test_quoted_replies_are_not_indexed() -> None:
    found = articles(REAL / "fedora-lists-2012-July.txt") + articles(REAL / "notmuch-list-2009-11.mbox")
    chunks = [node.get_content() for a in found for node in chunk_article(a, 1000, 100)]
    assert not [c for c in chunks if QUOTED.search(c)]
    for attribution in ("wrote:", "napsal(a)", "píše v", "gyre and gimble"):
        assert not [c for c in chunks if attribution in c], attribution
    # The first message of a thread is indexed once, in its own article, not again in every reply.
    first = "decided to take a look at notmuch"
    assert [a.source for a in found if first in a.text] == ["Lars Kellogg-Stedman"]
    rpm = "standardize some best practices"
    assert [a.title for a in found if rpm in a.text] == ["RPM macros (10 Jul 2012 11:29)"]


def test_an_interleaved_reply_keeps_its_own_lines() -> None:
    found = articles(REAL / "notmuch-list-2009-11.mbox")
    [carl] = [a for a in found if a.text.startswith("Welcome, Lars!")]
    assert "It should be fixed now." in carl.text and "likes the best" in carl.text
    assert "40,000 messages" not in carl.text  # what it quoted between its lines
    [alex] = [a for a in found if "strndup from V8" in a.text]
    assert "enabling the GNU version of getline()" in alex.text and "Several errors" not in alex.text


def test_list_footers_and_archive_notes_are_not_indexed() -> None:
    paths = [REAL / f for f in ("notmuch-list-2009-11.mbox", "fedora-lists-2012-July.txt")]
    results = [r for path in paths for r in loaded(path)]
    texts = [a.text for _, a in results if isinstance(a, Article)]
    assert not [t for t in texts if any(word in t for word in FURNITURE)]
    # Mailman's footer part and the PGP signature are nothing to read: no message reports them as attachments.
    assert not [(w, str(r)) for w, r in results if w.endswith("#attachments")]


def test_a_reply_with_nothing_of_its_own_is_skipped_with_a_reason() -> None:
    path = REAL / "bigbang-dev-2014-November.txt"
    results = loaded(path)
    where, thanks = results[-1]
    assert where == f"{path.resolve()}#message6"
    assert isinstance(thanks, Skipped) and str(thanks) == (
        "a reply with 1 word(s) of its own beside what it quotes (the quoted messages are read on their own)"
    )
    kept = [a.text for _, a in results if isinstance(a, Article)]
    assert "This is a third reply to the first thread of this list, 'test'" in kept  # its quote and wrapped
    # attribution ("On Sat, Nov 8, 2014 at 11:39 AM, Sebastian Benthall <sb at ...\n> wrote:") are gone


# ----- built edge cases
def _mime_digest(*parts: bytes) -> bytes:
    body = b"".join(b"--B\nContent-Type: message/rfc822\n\n" + p + b"\n" for p in parts)
    return (
        b"From: list-request@example.org\nSubject: List digest, Vol 1, Issue 1\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/digest; boundary="B"\n\n' + body + b"--B--\n"
    )


def test_an_empty_digest_says_so(tmp_path: Path) -> None:
    mime = tmp_path / "empty.eml"
    mime.write_bytes(_mime_digest())
    text = tmp_path / "empty-text.eml"
    text.write_text(
        "From: list-request@example.org\nSubject: List Digest, Vol 1, Issue 2\n\nToday's Topics:\n\n\n"
        + "-" * 70
        + "\n\nEnd of List Digest, Vol 1, Issue 2\n"
    )
    for path in (mime, text):
        [(where, reason)] = loaded(path)
        assert where == str(path.resolve()) and str(reason) == "a digest with no messages in it"


def test_a_malformed_message_in_a_digest_costs_only_itself(tmp_path: Path) -> None:
    good = b"From: Ann Lee <ann@example.org>\nSubject: Budget vote\nDate: Mon, 4 Mar 2024 10:00:00 +0000\n\n"
    image = (
        b"From: bob@example.org\nSubject: Photo\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBO\n"
    )
    path = tmp_path / "digest.eml"
    path.write_bytes(_mime_digest(good + SENTENCE, image, good.replace(b"Budget", b"School") + SENTENCE))
    results = loaded(path)
    origin = str(path.resolve())
    assert [w for w, _ in results] == [f"{origin}#message{n}" for n in (1, 2, 3)]
    assert [getattr(a, "title", str(a)) for _, a in results] == [
        "Budget vote",
        "no text or HTML part to read",
        "School vote",
    ]
    assert results[0][1].source == "Ann Lee"  # type: ignore[union-attr]


def test_an_unescaped_from_line_in_a_pipermail_archive_does_not_split_its_message(tmp_path: Path) -> None:
    path = tmp_path / "2019-March.txt"
    path.write_text(
        "From jdoe at example.org  Mon Mar  4 10:00:00 2019\nFrom: jdoe at example.org (John Doe)\n"
        "Subject: Ferry timetable\nDate: Mon, 4 Mar 2019 10:00:00 +0000\n\nThe ferry leaves at nine on weekdays.\n"
        "From time to time it leaves later, when the tide is low.\n\n"
        "From ann at example.org  Mon Mar  4 11:00:00 2019\nFrom: ann at example.org\nSubject: Re: Ferry timetable\n"
        "Date: Mon, 4 Mar 2019 11:00:00 +0000\n\nThank you, that helps us plan the trip to the island.\n"
    )
    found = articles(path)
    assert [a.source for a in found] == ["John Doe", "example.org"]  # no name: the address's domain
    assert found[0].text.endswith("From time to time it leaves later, when the tide is low.")
    assert [a.title for a in found] == ["Ferry timetable (4 Mar 2019 10:00)", "Re: Ferry timetable (4 Mar 2019 11:00)"]


def test_outlook_tails_and_html_quotes_are_left_out() -> None:
    outlook = own_text(
        "Yes, the council approved the budget on Tuesday evening.\n\n-----Original Message-----\n"
        "From: Ann Lee\nSent: Monday, March 4, 2024 10:00 AM\nSubject: Budget\n\nDid the council approve it?\n"
    )
    assert outlook.text == "Yes, the council approved the budget on Tuesday evening."
    reformatted = own_text("Agreed, see you there.\n\n________________________________\nFrom: Ann\nSent: today\n")
    assert reformatted.text == "Agreed, see you there."
    from ingest.mail_text import html_without_quotes

    html = html_without_quotes(
        '<div>The ferry runs again from Monday.</div><div class="gmail_quote"><div class="gmail_attr">On Mon, '
        'Ann wrote:</div><blockquote class="gmail_quote">Is the ferry running?</blockquote></div>'
        "<blockquote>A pull quote stays.</blockquote>"
    )
    assert html.quoted and "ferry runs again" in html.text and "A pull quote stays." in html.text
    assert "Is the ferry running?" not in html.text and "Ann wrote" not in html.text
