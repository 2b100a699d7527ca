"""The question log: named append-only migrations, turns and conversations, `newsrag log`, NEWSRAG_LOG=off."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli.main import app
from rag.core.types import Answer, Citation
from rag.service.history import MIGRATIONS, HistoryLog


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
    row = log.record(_answer("What are Putin's terms?"), conversation_id="c1", channel="ui", user="alice",
                     extra_timings={"served_ms": 20.0})  # fmt: skip
    assert row == 1
    (turn,) = log.turns("c1")
    assert (turn.user, turn.channel, turn.engine, turn.question) == (
        "alice",
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
    log.record(_answer("first"), conversation_id="old", channel="ui")
    log.record(_answer("second"), conversation_id="new", channel="ui")
    log.record(_answer("follow-up"), conversation_id="old", channel="ui")
    listed = log.conversations()
    assert [c.conversation_id for c in listed] == ["old", "new"]
    assert (listed[0].first_question, listed[0].turns) == ("first", 2)
    assert "first (2 questions)" in listed[0].label()


def test_conversations_are_per_user(log: HistoryLog) -> None:
    log.record(_answer("mine"), conversation_id="a", channel="ui", user="alice")
    log.record(_answer("theirs"), conversation_id="b", channel="ui", user="bob")
    assert [c.first_question for c in log.conversations(user="alice")] == ["mine"]
    assert len(log.conversations()) == 2


def test_a_resent_history_continues_its_conversation(log: HistoryLog) -> None:
    answer = _answer("What are Putin's terms?")  # questions are logged as cleaned: one space between words
    log.record(answer, conversation_id="conv", channel="openai")
    history = [("user", " What are  Putin's terms?"), ("assistant", answer.text)]
    assert log.continued(history) == "conv"
    assert log.continued([("user", "something else"), ("assistant", answer.text)]) is None
    assert log.continued([]) is None


def test_logging_off_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    log = HistoryLog(path, enabled=False)
    assert log.record(_answer("q"), conversation_id="c", channel="ui") is None
    assert log.recent() == [] and log.conversations() == []
    assert not path.exists()


def test_newsrag_log_lists_and_exports(tmp_path: Path) -> None:
    index = tmp_path / "index"
    log = HistoryLog(index / "history.sqlite")
    log.record(_answer("What are Putin's terms?"), conversation_id="c1", channel="ui")
    log.record(_answer("Who won the cup?", text="The indexed articles don't say.", refused=True),
               conversation_id="c2", channel="openai")  # fmt: skip
    runner = CliRunner()
    listed = runner.invoke(app, ["log", "--index-dir", str(index)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "What are Putin's terms?" in listed.output and "(refused)" in listed.output
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
