"""Each visitor sees only their own history: real `newsrag serve` processes, a real browser, real API clients.

Without a login a browser is known by a random visitor id kept in its localStorage; with several
logins (NEWSRAG_AUTH=alice:…,bob:…) by its user. The owner's `newsrag log` still exports everyone's.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.app_process import BIN, Server, environment, free_port, serving
from rag.core.settings import load_settings
from rag.service.services import Services, parse_auth
from tests.served.test_app_browser import SLOW, App
from tests.support.browser import chromium

PRIVATE_QUESTION = "How long did Witkoff and Putin meet? I ask for my cardiologist."  # visitor A's
OTHER_QUESTION = "What additional tariff did Trump impose on India on Aug 6?"  # visitor B's
LOGINS = {"alice": "alice:pw with a colon", "bob": "bob-pw"}  # a password may hold ':'
ALICE_QUESTION = "What are Putin's peace conditions? (alice)"
BOB_QUESTION = "How long did Witkoff and Putin meet? (bob)"


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving("history-visitors", tmp_path_factory.mktemp("history-visitors")) as started:
        yield started


@pytest.fixture(scope="module")
def logins_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    auth = ",".join(f"{user}:{password}" for user, password in LOGINS.items())
    with serving("history-logins", tmp_path_factory.mktemp("history-logins"), NEWSRAG_AUTH=auth) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _fresh_app(browser: Any, server: Server) -> App:
    """A new browser context: no cookies or storage shared with any other (another person's browser)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    return App(context.new_page(), server.url)


def _history(app: App, waiting_for: str) -> list[str]:
    """The History tab's conversations (its rows' text), read once ``waiting_for`` is listed (or the wait runs out)."""
    return app.history(waiting_for).splitlines()


def _log(server: Server) -> list[dict[str, Any]]:
    """`newsrag log --json`, run as the owner does."""
    result = subprocess.run(
        [BIN / "newsrag", "log", "--json", "--limit", "100", "--index-dir", str(server.index_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def _login(page: Any, user: str) -> None:
    page.get_by_role("button", name="Login").wait_for(timeout=SLOW)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(LOGINS[user])
    page.get_by_role("button", name="Login").click()
    page.locator("#nr-question textarea").wait_for(timeout=SLOW)
    page.get_by_text("chunks").first.wait_for(timeout=SLOW)


# ----- without a login: one history per browser
@pytest.mark.browser
@pytest.mark.server
def test_a_fresh_browser_does_not_see_another_visitors_history(browser: Any, open_server: Server) -> None:
    a, b = _fresh_app(browser, open_server), _fresh_app(browser, open_server)
    try:
        a.open()
        a.ask(PRIVATE_QUESTION)
        assert any(PRIVATE_QUESTION in o for o in _history(a, PRIVATE_QUESTION))

        b.open()
        b.ask(OTHER_QUESTION)
        listed_b = _history(b, OTHER_QUESTION)
        assert any(OTHER_QUESTION in o for o in listed_b), listed_b  # B's own is there…
        assert not any(PRIVATE_QUESTION in o for o in listed_b), listed_b  # …and A's is not

        a.page.reload()  # the visitor id outlives a reload: A still has their history, and only theirs
        a.open()
        listed_a = _history(a, PRIVATE_QUESTION)
        assert any(PRIVATE_QUESTION in o for o in listed_a), listed_a
        assert not any(OTHER_QUESTION in o for o in listed_a), listed_a
        a.pick_conversation(PRIVATE_QUESTION)
        a.page.get_by_role("button", name="Open in chat").click()
        a.page.get_by_label(f"user's message: {PRIVATE_QUESTION}").wait_for(timeout=SLOW)
        assert "three hours" in a.page.locator("[data-testid='bot']").first.inner_text()
    finally:
        a.page.context.close()
        b.page.context.close()
    assert a.outside == [] and b.outside == []


@pytest.mark.browser
@pytest.mark.server
def test_the_question_log_is_private_to_the_owner(browser: Any, open_server: Server) -> None:
    if not any(t["question"] == PRIVATE_QUESTION for t in _log(open_server)):
        app = _fresh_app(browser, open_server)
        app.open()
        app.ask(PRIVATE_QUESTION)
        app.page.context.close()
    assert (open_server.index_dir / "history.sqlite").stat().st_mode & 0o777 == 0o600


def _queue_call(server: Server, session: str, fn_index: int, data: list[Any]) -> dict[str, Any]:
    """One event through Gradio's queue, as the page's own script sends it (what any script could send)."""
    joined = httpx.post(
        server.url + "/gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None},
        timeout=30,
    )
    joined.raise_for_status()
    with httpx.stream("GET", server.url + "/gradio_api/queue/data", params={"session_hash": session}, timeout=120) as r:
        for line in r.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message
    raise AssertionError("the queue never completed the event")


@pytest.mark.browser
@pytest.mark.server
def test_another_visitors_conversation_cannot_be_opened_through_the_api(browser: Any, open_server: Server) -> None:
    ids = {t["conversation_id"] for t in _log(open_server) if t["question"] == PRIVATE_QUESTION}
    if not ids:
        app = _fresh_app(browser, open_server)
        app.open()
        app.ask(PRIVATE_QUESTION)
        app.page.context.close()
        ids = {t["conversation_id"] for t in _log(open_server) if t["question"] == PRIVATE_QUESTION}
    config = httpx.get(open_server.url + "/config", timeout=30).json()
    by_elem = {c["props"].get("elem_id"): c["id"] for c in config["components"]}
    kinds = {c["id"]: c["type"] for c in config["components"]}
    events = list(enumerate(config["dependencies"]))
    listing = next(i for i, d in events if [by_elem["nr-history-search"], "submit"] in d["targets"])
    actions = [next(i for i, d in events if [by_elem[e], "click"] in d["targets"])
               for e in ("nr-open", "nr-export", "nr-history-delete")]  # fmt: skip
    attacker_visitor = uuid.uuid4().hex  # a well-formed id of the attacker's own

    def data(fn: int, conversation: str) -> list[Any]:
        # The chosen conversation is server-side state: whatever a client sends for it is not read, but send the id.
        given = {"textbox": PRIVATE_QUESTION, "state": conversation, "browserstate": attacker_visitor}
        return [given.get(kinds[i]) for i in config["dependencies"][fn]["inputs"]]

    for conversation in ids:
        session = uuid.uuid4().hex
        listed = _queue_call(open_server, session, listing, data(listing, conversation))  # a search for its text
        assert listed["success"] and PRIVATE_QUESTION not in json.dumps(listed)
        for action in actions:
            done = _queue_call(open_server, session, action, data(action, conversation))
            assert PRIVATE_QUESTION not in json.dumps(done), done
    assert ids <= {t["conversation_id"] for t in _log(open_server)}  # the delete did not reach them


@pytest.mark.browser
@pytest.mark.server
def test_v1_cannot_continue_a_visitors_conversation(browser: Any, open_server: Server) -> None:
    """An anonymous /v1 caller resending a visitor's turns starts its own conversation, in a scope no browser has."""
    import openai

    turns = [t for t in _log(open_server) if t["question"] == PRIVATE_QUESTION and t["channel"] == "ui"]
    if not turns:
        app = _fresh_app(browser, open_server)
        app.open()
        app.ask(PRIVATE_QUESTION)
        app.page.context.close()
        turns = [t for t in _log(open_server) if t["question"] == PRIVATE_QUESTION and t["channel"] == "ui"]
    visitors = turns[0]
    follow_up = f"And what did they agree? {uuid.uuid4().hex[:6]}"
    client = openai.OpenAI(base_url=open_server.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    messages = [
        {"role": "user", "content": visitors["question"]},
        {"role": "assistant", "content": visitors["answer"]},
        {"role": "user", "content": follow_up},
    ]
    client.chat.completions.create(model="newsrag", messages=messages)
    (logged,) = [t for t in _log(open_server) if t["question"] == follow_up]
    assert logged["conversation_id"] != visitors["conversation_id"]
    assert logged["scope"] == "channel:openai" and visitors["scope"].startswith("visitor:")


# ----- several logins: one history per user
@pytest.mark.browser
@pytest.mark.server
def test_each_user_logs_in_and_sees_only_their_own_history(browser: Any, logins_server: Server) -> None:
    import openai
    from gradio_client import Client

    alice = Client(logins_server.url, auth=("alice", LOGINS["alice"]), verbose=False)
    assert "Nato" in alice.predict(ALICE_QUESTION, api_name="/ask")["text"]
    bob = Client(logins_server.url, auth=("bob", LOGINS["bob"]), verbose=False)
    assert "Nato" in bob.predict("What are Putin's peace conditions?", api_name="/ask")["text"]

    def v1(key: str) -> Any:
        return openai.OpenAI(base_url=logins_server.url + "/v1", api_key=key, max_retries=0, timeout=120)

    v1(LOGINS["bob"]).chat.completions.create(model="newsrag", messages=[{"role": "user", "content": BOB_QUESTION}])
    with pytest.raises(openai.AuthenticationError):
        v1("bob-pw,alice").models.list()
    assert httpx.get(logins_server.url + "/v1/models", auth=("alice", LOGINS["alice"])).status_code == 200
    assert httpx.get(logins_server.url + "/v1/models", auth=("bob", LOGINS["alice"])).status_code == 401

    by_question = {t["question"]: t for t in _log(logins_server)}  # the owner's export holds both users'
    assert by_question[ALICE_QUESTION]["user"] == "alice" and by_question[BOB_QUESTION]["user"] == "bob"

    for user, own, others in (("bob", BOB_QUESTION, ALICE_QUESTION), ("alice", ALICE_QUESTION, BOB_QUESTION)):
        app = _fresh_app(browser, logins_server)
        try:
            app.page.goto(logins_server.url + "/", wait_until="load")
            _login(app.page, user)
            listed = _history(app, own)
            assert any(own in o for o in listed), (user, listed)
            assert not any(others in o for o in listed), (user, listed)
        finally:
            app.page.context.close()


@pytest.mark.server
def test_a_malformed_auth_setting_stops_serve_with_a_clear_message(tmp_path: Path) -> None:
    env = environment(tmp_path, NEWSRAG_AUTH="alice:topsecret,bob")  # bob has no password
    result = subprocess.run(
        [BIN / "newsrag", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "NEWSRAG_AUTH must be user:password" in result.stderr and "entry 2 of 2" in result.stderr
    assert "topsecret" not in result.stderr + result.stdout  # never echoes a password


# ----- parsing NEWSRAG_AUTH (no server needed)
def test_auth_takes_several_users_and_passwords_with_colons() -> None:
    assert parse_auth(load_settings()) is None and parse_auth(load_settings(auth=" ")) is None
    logins = parse_auth(load_settings(auth="alice:pw:with:colons, bob:pw2"))
    assert logins == {"alice": "pw:with:colons", "bob": "pw2"}
    services = Services(newsrag=None, auth=logins)  # type: ignore[arg-type] - only the logins are used
    assert services.login("alice", "pw:with:colons") and services.login("bob", "pw2")
    assert not services.login("alice", "pw2") and not services.login("mallory", "pw2") and not services.login("", "")
    assert services.user_with_password("pw2") == "bob" and services.user_with_password("pw:with:colons") == "alice"
    assert services.user_with_password("nope") is None and services.user_with_password("") is None
    assert not Services(newsrag=None, auth=None).login("alice", "pw2")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("alice", "entry 1 of 1 is not"),
        ("alice:", "entry 1 of 1 is not"),
        (":s3cret", "entry 1 of 1 is not"),
        ("alice:s3cret,", "entry 2 of 2 is not"),
        ("alice:s3cret,bob", "entry 2 of 2 is not"),
        ("alice:s3cret,alice:other", "names the user 'alice' twice"),
        ("alice:s3cret,bob:s3cret", "the password of another user"),
    ],
)
def test_a_malformed_auth_is_a_clear_error_that_hides_passwords(value: str, says: str) -> None:
    with pytest.raises(ValueError, match="NEWSRAG_AUTH") as caught:
        parse_auth(load_settings(auth=value))
    assert says in str(caught.value) and "s3cret" not in str(caught.value)
