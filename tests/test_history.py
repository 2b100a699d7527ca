"""The question log: named append-only migrations, turns and conversations, `newsrag log`, NEWSRAG_LOG=off."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli.main import app
from rag.core.types import Answer, Citation
from rag.service.history import EVERYONE, MIGRATIONS, HistoryLog, Rating, new_visitor_id, scope_for


def _answer(question: str, text: str = "Mr Putin wants neutrality. [1]", refused: bool = False) -> Answer:
    citation = Citation(
        chunk_id="c1", article_id="a1", title="Putin's terms", text="Mr Putin wants neutrality.", number=1
    )
    return Answer(
        question=question,
        text=text,
        engine="extractive",
        citations=[] if refused else [citation],
        refused=refused,
        flags=["unsupported: x"] if not refused else [],
        timings={"total_ms": 12.5},
    )


@pytest.fixture
def log(tmp_path: Path) -> HistoryLog:
    return HistoryLog(tmp_path / "history.sqlite")


def test_migrations_apply_once_and_are_recorded_by_name(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    log = HistoryLog(path)
    assert log.applied() == [name for name, _ in MIGRATIONS]
    assert HistoryLog(path).migrate() == []  # a second open applies nothing


def test_an_appended_migration_applies_alone(log: HistoryLog) -> None:
    log.record(_answer("q"), conversation_id="c", channel="ui")
    later = [*MIGRATIONS, ("999_add_rating", "ALTER TABLE turns ADD COLUMN rating INTEGER")]
    assert log.migrate(later) == ["999_add_rating"]
    assert log.applied()[-1] == "999_add_rating"
    assert log.recent()[0].question == "q"  # existing rows survive


def test_a_failing_migration_leaves_no_trace(log: HistoryLog) -> None:
    with pytest.raises(sqlite3.OperationalError):
        log.migrate([*MIGRATIONS, ("998_broken", "ALTER TABLE nowhere ADD COLUMN x")])
    assert "998_broken" not in log.applied()


def test_record_and_read_back_a_turn(log: HistoryLog) -> None:
    row = log.record(_answer("What are Putin's terms?"), conversation_id="c1", channel="ui", scope="user:alice",
                     user="alice", extra_timings={"served_ms": 20.0})  # fmt: skip
    assert row == 1
    (turn,) = log.turns("c1", scope="user:alice")
    assert (turn.user, turn.scope, turn.channel, turn.engine, turn.question) == (
        "alice",
        "user:alice",
        "ui",
        "extractive",
        "What are Putin's terms?",
    )
    assert turn.citations[0]["title"] == "Putin's terms"
    assert turn.timings == {"total_ms": 12.5, "served_ms": 20.0}
    assert turn.flags == ["unsupported: x"]
    again = turn.to_answer()
    assert again.citations[0].number == 1 and again.text == "Mr Putin wants neutrality. [1]"


def test_conversations_newest_first_with_their_first_question(log: HistoryLog) -> None:
    log.record(_answer("first"), conversation_id="old", channel="ui", scope="s")
    log.record(_answer("second"), conversation_id="new", channel="ui", scope="s")
    log.record(_answer("follow-up"), conversation_id="old", channel="ui", scope="s")
    listed = log.conversations(scope="s")
    assert [c.conversation_id for c in listed] == ["old", "new"]
    assert (listed[0].first_question, listed[0].turns) == ("first", 2)
    assert "first (2 questions)" in listed[0].label()


def test_conversations_are_per_scope(log: HistoryLog) -> None:
    alice, bob = scope_for("alice", None, "ui"), scope_for("bob", None, "ui")
    log.record(_answer("mine"), conversation_id="a", channel="ui", scope=alice, user="alice")
    log.record(_answer("theirs"), conversation_id="b", channel="ui", scope=bob, user="bob")
    log.record(_answer("anonymous"), conversation_id="c", channel="ui", scope=None)
    assert [c.first_question for c in log.conversations(scope=alice)] == ["mine"]
    assert len(log.conversations(scope=EVERYONE)) == 3  # the owner's view
    assert log.conversations() == [] and log.conversations(scope=None) == []  # no identity: nothing, not everything


def test_a_conversation_opens_only_in_its_scope(log: HistoryLog) -> None:
    a, b = scope_for(None, new_visitor_id(), "ui"), scope_for(None, new_visitor_id(), "ui")
    log.record(_answer("private medical question"), conversation_id="conv", channel="ui", scope=a)
    log.record(_answer("injected"), conversation_id="conv", channel="ui", scope=b)  # b reuses a's conversation id
    assert [t.question for t in log.turns("conv", scope=a)] == ["private medical question"]
    assert [t.question for t in log.turns("conv", scope=b)] == ["injected"]
    assert log.turns("conv") == [] and log.turns("conv", scope=scope_for("alice", None, "ui")) == []
    (listed,) = log.conversations(scope=b)
    assert (listed.first_question, listed.turns) == ("injected", 1)  # nothing of a's shows through
    assert len(log.turns("conv", scope=EVERYONE)) == 2


def test_a_resent_history_continues_its_conversation(log: HistoryLog) -> None:
    answer = _answer("What are Putin's terms?")  # questions are logged as cleaned: one space between words
    log.record(answer, conversation_id="conv", channel="openai", scope="channel:openai")
    history = [("user", " What are  Putin's terms?"), ("assistant", answer.text)]
    assert log.continued(history, scope="channel:openai") == "conv"
    assert log.continued([("user", "something else"), ("assistant", answer.text)], scope="channel:openai") is None
    assert log.continued([], scope="channel:openai") is None


def test_a_resent_history_joins_only_the_callers_own_conversation(log: HistoryLog) -> None:
    answer = _answer("What are Putin's terms?")
    history = [("user", answer.question), ("assistant", answer.text)]
    log.record(answer, conversation_id="visitors", channel="ui", scope=scope_for(None, new_visitor_id(), "ui"))
    log.record(answer, conversation_id="alices", channel="openai", scope="user:alice")
    assert log.continued(history, scope=scope_for(None, None, "openai")) is None  # an anonymous /v1 caller
    assert log.continued(history, scope="user:bob") is None
    assert log.continued(history, scope="user:alice") == "alices"
    assert log.continued(history) is None


def test_scopes_keep_users_visitors_and_api_callers_apart() -> None:
    visitor = new_visitor_id()
    assert len(visitor) == 32 and visitor != new_visitor_id()
    assert scope_for("alice", visitor, "ui") == "user:alice"  # a login wins: the same history on every device
    scope = scope_for(None, visitor, "ui")
    assert scope is not None and scope.startswith("visitor:") and visitor not in scope  # the log never holds the key
    assert scope == scope_for(None, visitor, "openai")
    for bad in (None, "", "not-an-id", visitor.upper(), visitor + "0", "%"):
        assert scope_for(None, bad, "ui") is None  # no identity: the browser turn is no one's
    assert scope_for(None, None, "openai") == "channel:openai" and scope_for(None, None, "api") == "channel:api"


def test_earlier_turns_get_scopes_from_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    HistoryLog(path, enabled=False).migrate(MIGRATIONS[:2])  # a log as the version before scopes left it
    columns = "conversation_id, created_at, user, channel, question, answer, engine, refused, citations, flags," \
              " notices, timings"  # fmt: skip
    with sqlite3.connect(path) as db:
        for conversation, user, channel in (("a", "alice", "ui"), ("b", None, "ui"), ("c", None, "openai")):
            db.execute(f"INSERT INTO turns ({columns}) VALUES (?, 0, ?, ?, 'q', 'a', 'extractive', 0, '[]', '[]',"
                       " '[]', '{}')", (conversation, user, channel))  # fmt: skip
    db.close()
    log = HistoryLog(path)
    assert log.applied()[-4:-1] == ["003_add_turns_scope", "004_scope_earlier_turns", "005_index_turns_by_scope"]
    assert {t.conversation_id: t.scope for t in log.recent()} == {"a": "user:alice", "b": None, "c": "channel:openai"}


def test_the_log_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "index" / "history.sqlite"
    HistoryLog(path).record(_answer("q"), conversation_id="c", channel="ui")
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)  # as an earlier version left it
    assert HistoryLog(path).recent()[0].question == "q"
    assert path.stat().st_mode & 0o777 == 0o600


def test_logging_off_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    log = HistoryLog(path, enabled=False)
    assert log.record(_answer("q"), conversation_id="c", channel="ui") is None
    assert log.recent() == [] and log.conversations() == []
    assert not path.exists()


def test_newsrag_log_lists_and_exports(tmp_path: Path) -> None:
    index = tmp_path / "index"
    log = HistoryLog(index / "history.sqlite")
    visitor = scope_for(None, new_visitor_id(), "ui")
    log.record(_answer("What are Putin's terms?"), conversation_id="c1", channel="ui", scope=visitor)
    log.record(_answer("Who won the cup?", text="The indexed articles don't say.", refused=True),
               conversation_id="c2", channel="openai", scope="user:bob", user="bob")  # fmt: skip
    runner = CliRunner()
    listed = runner.invoke(app, ["log", "--index-dir", str(index)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "What are Putin's terms?" in listed.output and "(refused)" in listed.output  # every scope's, for the owner
    assert "visitor:" in listed.output and "bob" in listed.output
    exported = runner.invoke(app, ["log", "--json", "--limit", "1", "--index-dir", str(index)])
    data = json.loads(exported.stdout)
    assert [t["question"] for t in data] == ["Who won the cup?"]
    assert data[0]["refused"] is True and data[0]["channel"] == "openai"
    one = runner.invoke(app, ["log", "--json", "--conversation", "c1", "--index-dir", str(index)])
    assert [t["conversation_id"] for t in json.loads(one.stdout)] == ["c1"]


def test_newsrag_log_with_nothing_logged(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["log", "--json", "--index-dir", str(tmp_path / "empty")])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_log_setting_reads_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.core.settings import load_settings

    monkeypatch.setenv("NEWSRAG_LOG", "off")
    assert load_settings().log is False


# ----- search, delete, ratings, exports (issue #20)
def test_conversations_are_searched_within_the_scope_only(log: HistoryLog) -> None:
    mine, theirs = scope_for(None, new_visitor_id(), "ui"), scope_for(None, new_visitor_id(), "ui")
    log.record(_answer("What did the Cuba envoy say?"), conversation_id="m1", channel="ui", scope=mine)
    log.record(_answer("Anything about ferries?", text="The ferry resumes. [1]"), conversation_id="m2",
               channel="ui", scope=mine)  # fmt: skip
    log.record(_answer("What did the Cuba envoy say?"), conversation_id="t1", channel="ui", scope=theirs)
    assert [c.conversation_id for c in log.conversations(scope=mine, text="cuba")] == ["m1"]
    assert [c.conversation_id for c in log.conversations(scope=mine, text="ferry resumes")] == ["m2"]  # answers too
    assert [c.conversation_id for c in log.conversations(scope=theirs, text="envoy")] == ["t1"]
    assert log.conversations(scope=mine, text="100%") == [] and log.conversations(scope=None, text="Cuba") == []


def test_a_conversation_is_deleted_only_by_its_own_scope(log: HistoryLog) -> None:
    mine, theirs = scope_for(None, new_visitor_id(), "ui"), scope_for(None, new_visitor_id(), "ui")
    first = log.record(_answer("q1"), conversation_id="c1", channel="ui", scope=mine)
    log.record(_answer("q2"), conversation_id="c1", channel="ui", scope=mine)
    assert first is not None and log.rate(first, "up", scope=mine)
    assert log.delete_conversation("c1", scope=theirs) == 0 and log.delete_conversation("c1", scope=None) == 0
    assert len(log.turns("c1", scope=mine)) == 2
    assert log.delete_conversation("c1", scope=mine) == 2
    assert log.turns("c1", scope=EVERYONE) == [] and log.rated() == []  # its ratings went with it


def test_ratings_are_kept_per_answer_and_only_in_the_answers_scope(log: HistoryLog) -> None:
    mine, theirs = scope_for(None, new_visitor_id(), "ui"), scope_for(None, new_visitor_id(), "ui")
    turn = log.record(_answer("q"), conversation_id="c", channel="ui", scope=mine)
    assert turn is not None
    assert not log.rate(turn, "up", scope=theirs) and not log.rate(turn, "up", scope=None)
    assert not log.rate(turn + 1000, "up", scope=mine)
    assert log.rate(turn, "👎", scope=mine) and log.rate(turn, "down", "  should have said\nCuba ", scope=mine)
    (rated,) = log.rated()
    assert (rated.rating, rated.note) == (Rating.down, "should have said Cuba")  # the latest kept, one per answer
    with pytest.raises(ValueError, match="'up'"):
        log.rate(turn, "meh", scope=mine)


def test_markdown_exports_carry_numbered_sources(log: HistoryLog) -> None:
    from rag.service.exports import answer_markdown, conversation_markdown

    answer = _answer("What are Putin's terms?")
    assert answer_markdown(answer) == "Mr Putin wants neutrality. [1]\n\nSources:\n[1] Putin's terms"
    log.record(answer, conversation_id="c", channel="ui", scope="user:a")
    log.record(_answer("And then?"), conversation_id="c", channel="ui", scope="user:a")
    text = conversation_markdown(log.turns("c", scope="user:a"))
    assert text.startswith("# What are Putin's terms?") and "## And then?" in text and text.count("[1] Putin") == 2


def test_newsrag_log_as_suite_writes_rated_answers_as_eval_cases(tmp_path: Path) -> None:
    from evals.suite import load_suite

    index = tmp_path / "index"
    log = HistoryLog(index / "history.sqlite")
    cited = Citation(chunk_id="c1", article_id="a1", title="Havana talks", text="The envoy met officials in Cuba.",
                     quote="The envoy met officials in Cuba.", number=1)  # fmt: skip
    good = Answer(question="Where did the envoy go?", text="The envoy went to Cuba. [1] It rained.",
                  engine="extractive", citations=[cited])  # fmt: skip
    bad = Answer(question="Where did the envoy go next?", text="To Mexico. [1]", engine="extractive",
                 citations=[cited])  # fmt: skip
    up = log.record(good, conversation_id="c", channel="ui", scope="user:a")
    down = log.record(bad, conversation_id="c", channel="ui", scope="user:a")
    log.record(_answer("unrated"), conversation_id="c", channel="ui", scope="user:a")
    assert up and down and log.rate(up, "up", scope="user:a") and log.rate(down, "down", "Cuba", scope="user:a")
    target = tmp_path / "review" / "from-feedback.jsonl"
    target.parent.mkdir()
    result = CliRunner().invoke(app, ["log", "--as-suite", str(target), "--index-dir", str(index)])
    assert result.exit_code == 0, result.output
    assert "2 rated answers" in result.output
    good_case, bad_case = load_suite(target)
    assert good_case.question == "Where did the envoy go?" and good_case.key_facts == [["The envoy went to Cuba."]]
    assert good_case.evidence == ["The envoy met officials in Cuba."] and not good_case.review
    assert bad_case.answer == "Cuba" and bad_case.review and bad_case.key_facts == []
    assert bad_case.evidence == ["The envoy met officials in Cuba."]
    assert not any(p.name == target.name for p in (Path(__file__).parents[1] / "evals" / "suites").glob("*"))
