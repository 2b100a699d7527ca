"""The server against hostile web visitors, on real `newsrag serve` processes on 127.0.0.1 and their real clients.

* DNS rebinding: a request whose ``Host`` is not one of the server's names is refused before any route runs
  (``rag/server/host_check.py``).
* Password guessing: failed logins on Gradio's form and on ``/v1`` get 429 for a growing window
  (``rag/server/login_throttle.py``). Each test speaks from addresses of its own, given in ``X-Forwarded-For``
  (the login server names 127.0.0.1 in NEWSRAG_TRUSTED_PROXIES, as for a local reverse proxy), so the tests
  never lock each other out.
* ``/v1`` errors: bounded filters and model names, OpenAI's error shape, and no server paths or store errors.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from evals.app_process import BIN, Server, serving
from rag.index.filters import MAX_FILTER_CHARS, MAX_FILTER_VALUES, Filters
from rag.index.store import StoreError
from rag.server import host_check
from rag.server.errors import MAX_MESSAGE_CHARS, error_body
from rag.server.host_check import HostPolicy
from rag.server.login_throttle import FORGET_AFTER, FREE_FAILURES, MAX_LOCK, Outcome, Throttle, address_key
from rag.server.openai_routes import MAX_MODEL_CHARS, _Reply

USER, PASSWORD = "alice", "s3cret-pass"
PUTIN = "What are Putin's peace conditions?"
QUESTION = [{"role": "user", "content": PUTIN}]
ALLOWED = "news.example,*.intranet.example"
server_test = pytest.mark.server


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No login, over the bundled sample, answering to two extra names (NEWSRAG_ALLOWED_HOSTS)."""
    with serving("security-open", tmp_path_factory.mktemp("security-open"), NEWSRAG_ALLOWED_HOSTS=ALLOWED) as started:
        yield started


@pytest.fixture(scope="module")
def login_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Behind NEWSRAG_AUTH and a (pretend) local reverse proxy; its own process, so that its locks stay here."""
    root = tmp_path_factory.mktemp("security-login")
    proxy = {"NEWSRAG_TRUSTED_PROXIES": "127.0.0.1"}
    with serving("security-login", root, ingest=False, NEWSRAG_AUTH=f"{USER}:{PASSWORD}", **proxy) as started:
        yield started


def openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error of a response in OpenAI's shape (nothing else in the body), checked."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


# ----- DNS rebinding: only the server's own names
@server_test
def test_forged_host_names_are_refused_before_any_route(open_server: Server) -> None:
    port = port_of(open_server)
    forged = ["evil.example", f"evil.example:{port}", "localhost.evil.example", f"127.0.0.1.nip.io:{port}", "[::1"]
    for path in ("/", "/config", "/gradio_api/info", "/v1/models"):
        for host in forged:
            response = httpx.get(open_server.url + path, headers={"Host": host}, timeout=30)
            assert response.status_code == 400 and "host not allowed" in response.text, (path, host, response.text)
    error = openai_error(httpx.get(open_server.url + "/v1/models", headers={"Host": "evil.example"}), 400)
    assert error["code"] == "host_not_allowed"

    # Nothing a rebound page sends is acted on: no question answered or logged, no upload stored.
    evil = {"Host": f"evil.example:{port}"}
    probe, control = f"rebinding probe {uuid.uuid4().hex}", f"control question {uuid.uuid4().hex}"
    asked = httpx.post(
        open_server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": probe}]}, headers=evil
    )
    assert asked.status_code == 400
    assert httpx.post(open_server.url + "/gradio_api/call/ask", json={"data": [probe]}, headers=evil).status_code == 400
    upload = httpx.post(
        open_server.url + "/gradio_api/upload", files={"files": (f"{probe}.txt", b"sneaky")}, headers=evil
    )
    assert upload.status_code == 400
    ok = httpx.post(
        open_server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": control}]}, timeout=120
    )
    assert ok.status_code == 200, ok.text[:300]
    logged = subprocess.run(
        [BIN / "newsrag", "log", "--json", "--index-dir", str(open_server.index_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert control in logged and probe not in logged
    assert not [p for p in (open_server.root / "gradio").rglob("*") if probe in p.name]


@server_test
def test_the_servers_own_names_are_accepted(open_server: Server) -> None:
    import openai
    from gradio_client import Client

    port = port_of(open_server)
    own = [f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "[::1]"]
    allowed = ["news.example", f"news.example:{port}", "feeds.intranet.example:8443", "intranet.example"]
    for host in own + allowed:
        for path in ("/", "/v1/models"):
            response = httpx.get(open_server.url + path, headers={"Host": host}, timeout=30)
            assert response.status_code == 200, (host, path, response.text[:200])
    # The real clients, which name the server by its address, work as before.
    assert [m.id for m in openai.OpenAI(base_url=open_server.url + "/v1", api_key="unused").models.list()] == [
        "newsrag"
    ]
    assert (
        "/ask"
        in Client(open_server.url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
    )


def test_host_policy_for_each_kind_of_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_check, "machine_names", lambda: {"newsbox", "newsbox.lan", "newsbox.local"})
    for everywhere in ("0.0.0.0", "::"):
        policy = HostPolicy(everywhere, [""])
        # Bound to every interface: any address (a rebinding page can only send its own name) and our names.
        for host in ("192.168.1.20:7860", "[fe80::1]:7860", "newsbox:7860", "newsbox.local", "localhost", "[::1]"):
            assert policy.allows(host), (everywhere, host)
        for host in ("evil.example", "newsbox.evil.example", "192.168.1.20.nip.io"):
            assert not policy.allows(host), (everywhere, host)
    one = HostPolicy("192.168.1.20", ["news.example", "*.intranet.example"])
    for host in ("192.168.1.20:7860", "localhost:7860", "127.0.0.1", "news.example.", "a.b.intranet.example"):
        assert one.allows(host), host
    for host in ("192.168.1.21", "newsbox", "xintranet.example", "news.example.evil.example"):
        assert not one.allows(host), host
    assert HostPolicy("127.0.0.1", [" * "]).allows("anything.example")
    for malformed in ("", "[::1", "[::1]junk", "a:b:c", "localhost:http", "::1:7860"):
        assert not HostPolicy("127.0.0.1", []).allows(malformed), malformed


# ----- failed logins: 429 for a growing window, on /v1 and on Gradio's form
def as_client(address: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **headers}


@server_test
def test_failed_v1_logins_get_429_for_a_growing_window(login_server: Server) -> None:
    import openai

    address = "198.51.100.10"
    models, chat = login_server.url + "/v1/models", login_server.url + "/v1/chat/completions"
    wrong = as_client(address, Authorization="Bearer wrong")
    right = as_client(address, Authorization=f"Bearer {PASSWORD}")
    for attempt in range(FREE_FAILURES):  # both routes, Bearer and basic: one count per address
        if attempt % 2:
            assert (
                httpx.post(chat, json={"messages": QUESTION}, headers=as_client(address), auth=(USER, "no")).status_code
                == 401
            )
        else:
            assert httpx.get(models, headers=wrong).status_code == 401
    refused = httpx.get(models, headers=wrong)
    error = openai_error(refused, 429)
    first = int(refused.headers["retry-after"])
    assert first >= 1 and error["code"] == "rate_limit_exceeded" and f"{first} s" in error["message"]
    # During the window the password is not even checked: a refusal tells a guesser nothing.
    assert httpx.get(models, headers=right).status_code == 429
    locked_out = openai.OpenAI(base_url=login_server.url + "/v1", api_key=PASSWORD, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        locked_out.with_options(default_headers=as_client(address)).models.list()
    assert httpx.get(models, headers=as_client("198.51.100.11", Authorization=f"Bearer {PASSWORD}")).status_code == 200

    time.sleep(first + 0.3)
    assert httpx.get(models, headers=wrong).status_code == 401  # one more guess after the window...
    again = httpx.get(models, headers=wrong)
    assert again.status_code == 429 and int(again.headers["retry-after"]) > first  # ...earns a longer one
    time.sleep(int(again.headers["retry-after"]) + 0.3)
    assert httpx.get(models, headers=right).status_code == 200
    assert httpx.get(models, headers=wrong).status_code == 401  # the success cleared the count: a typo is a typo


@server_test
def test_failed_form_logins_get_429_per_address(login_server: Server) -> None:
    login = login_server.url + "/login"
    address = "198.51.100.20"
    for attempt in range(FREE_FAILURES):  # a different user name each time: the address alone is counted here
        response = httpx.post(login, data={"username": f"guess{attempt}", "password": "x"}, headers=as_client(address))
        assert response.status_code in (400, 401), response.text
    refused = httpx.post(login, data={"username": USER, "password": PASSWORD}, headers=as_client(address))
    assert refused.status_code == 429 and "too many failed logins" in refused.json()["detail"], refused.text
    elsewhere = httpx.post(login, data={"username": USER, "password": PASSWORD}, headers=as_client("198.51.100.21"))
    assert elsewhere.status_code == 200
    time.sleep(int(refused.headers["retry-after"]) + 0.3)
    after = httpx.post(login, data={"username": USER, "password": PASSWORD}, headers=as_client(address))
    assert after.status_code == 200 and after.json() == {"success": True} and after.cookies


@server_test
def test_form_logins_are_throttled_by_user_name_across_addresses(login_server: Server) -> None:
    from gradio_client import Client

    login = login_server.url + "/login"
    for attempt in range(FREE_FAILURES):  # one guess from each of many addresses, as a browser (multipart) or not
        headers = as_client(f"203.0.113.{attempt + 1}")
        name = f" {USER} " if attempt == 3 else USER  # Gradio strips the name, and so does the count
        if attempt % 2:
            response = httpx.post(login, files={"username": (None, name), "password": (None, "x")}, headers=headers)
        else:
            response = httpx.post(login, data={"username": name, "password": "x"}, headers=headers)
        assert response.status_code in (400, 401), response.text
    refused = httpx.post(login, data={"username": USER, "password": "y"}, headers=as_client("203.0.113.200"))
    assert refused.status_code == 429, refused.text
    other = httpx.post(login, data={"username": "mallory", "password": "x"}, headers=as_client("203.0.113.201"))
    assert other.status_code in (400, 401)  # other user names are not held back
    time.sleep(int(refused.headers["retry-after"]) + 0.3)
    client = Client(login_server.url, auth=(USER, PASSWORD), verbose=False)  # logs in through the same form
    assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


@server_test
def test_successful_logins_are_never_held_back(login_server: Server) -> None:
    """A guard rather than a regression test: the throttle must not cost a client with the right key anything."""
    models = login_server.url + "/v1/models"
    address = "198.51.100.30"
    right = as_client(address, Authorization=f"Bearer {PASSWORD}")
    for _ in range(3):  # typos now and then, each run of them ended by a success
        for _ in range(FREE_FAILURES - 1):
            assert httpx.get(models, headers=as_client(address, Authorization="Bearer typo")).status_code == 401
        assert httpx.get(models, headers=right).status_code == 200
    with ThreadPoolExecutor(8) as pool:  # a busy client, in parallel
        statuses = set(pool.map(lambda _: httpx.get(models, headers=right, timeout=60).status_code, range(48)))
    assert statuses == {200}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: Throttle, keys: list[tuple[str, str]], form: bool = False) -> None:
    throttle.end(throttle.begin(keys, form), keys, Outcome.FAILED)


def test_throttle_windows_double_up_to_a_cap_and_are_then_forgotten() -> None:
    clock = Clock()
    throttle, key = Throttle(clock=clock), [("address", "192.0.2.1")]
    for _ in range(FREE_FAILURES):
        assert throttle.wait(key, False) == 0
        fail(throttle, key)
    windows = []
    for _ in range(12):
        windows.append(throttle.wait(key, False))
        clock.now += windows[-1]
        fail(throttle, key)
    assert windows == [1, 2, 4, 8, 16, 32, 64, 128, 256, MAX_LOCK, MAX_LOCK, MAX_LOCK]
    clock.now += MAX_LOCK + FORGET_AFTER + 1
    assert throttle.wait(key, False) == 0 and not throttle.records


def test_throttle_holds_back_parallel_guesses_but_never_a_busy_client() -> None:
    throttle = Throttle(clock=Clock())
    form = [("address", "192.0.2.2"), ("user", USER)]
    for _ in range(FREE_FAILURES):  # form posts in flight at once: each is a guess
        assert throttle.wait(form, True) == 0
        throttle.begin(form, True)
    assert throttle.wait(form, True) > 0
    busy = [("address", "192.0.2.3")]
    for _ in range(10 * FREE_FAILURES):  # /v1 requests in flight, no failure seen: a busy client, never held back
        assert throttle.wait(busy, False) == 0
        throttle.begin(busy, False)
    guesser = [("address", "192.0.2.4")]
    fail(throttle, guesser)
    for _ in range(FREE_FAILURES - 1):  # after one failure, requests in flight count against what is left
        assert throttle.wait(guesser, False) == 0
        throttle.begin(guesser, False)
    assert throttle.wait(guesser, False) > 0


def test_throttle_memory_is_bounded_and_ipv6_counts_per_network() -> None:
    throttle = Throttle(clock=Clock(), max_records=100)
    for n in range(1000):
        fail(throttle, [("address", f"10.0.{n // 256}.{n % 256}")])
    assert len(throttle.records) == 100
    same = {address_key({"client": (f"2001:db8:1:2::{n:x}", 1)}) for n in range(50)}
    assert same == {("address", "2001:db8:1:2::/64")}
    assert address_key({"client": ("::ffff:192.0.2.7", 1)}) == ("address", "192.0.2.7")


# ----- /v1 errors: bounded, in OpenAI's shape, and never showing the server's insides
@server_test
def test_v1_filter_lists_are_bounded_with_a_clear_400(open_server: Server) -> None:
    chat = open_server.url + "/v1/chat/completions"
    too_much = [
        ("sources", ["Reuters"] * 40_000),
        ("sources", [f"source {n}" for n in range(MAX_FILTER_VALUES + 1)]),
        ("sources", ["s" * (MAX_FILTER_CHARS + 1)]),
        ("since", "2025-" + "9" * 900_000),
    ]
    for field, value in too_much:
        response = httpx.post(chat, json={"messages": QUESTION, field: value}, timeout=120)
        error = openai_error(response, 400)
        assert (error["param"] or "").startswith(field) and len(response.content) < 2_000, error
        assert str(open_server.root) not in response.text and "sql" not in response.text.lower()
    at_the_limit = [f"{n}".rjust(MAX_FILTER_CHARS, "s") for n in range(MAX_FILTER_VALUES)]
    assert httpx.post(chat, json={"messages": QUESTION, "sources": at_the_limit}, timeout=120).status_code == 200
    # The Python API refuses the same, with a ValueError that says why.
    with pytest.raises(ValueError, match=f"at most {MAX_FILTER_VALUES} values"):
        Filters(sources=",".join(f"s{n}" for n in range(MAX_FILTER_VALUES + 1)))
    with pytest.raises(ValueError, match=f"longer than {MAX_FILTER_CHARS}"):
        Filters(article_ids=["a" * (MAX_FILTER_CHARS + 1)])


@server_test
def test_v1_bodies_that_cannot_be_read_get_openai_errors(open_server: Server) -> None:
    import openai

    chat = open_server.url + "/v1/chat/completions"
    unreadable = {
        "not UTF-8": b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}',
        "nested too deep": b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "not JSON": b'{"messages": [',
    }
    for why, body in unreadable.items():
        response = httpx.post(chat, content=body, headers={"content-type": "application/json"}, timeout=60)
        assert openai_error(response, 400)["type"] == "invalid_request_error", why
    assert openai_error(httpx.put(chat, json={"messages": QUESTION}), 405)["code"] == "method_not_allowed"
    assert openai_error(httpx.get(open_server.url + "/v1/embeddings"), 404)["code"] == "unknown_url"
    with pytest.raises(openai.NotFoundError):
        openai.OpenAI(base_url=open_server.url + "/v1", api_key="unused").embeddings.create(model="x", input="y")


@server_test
def test_v1_model_name_is_bounded_and_never_echoed(open_server: Server) -> None:
    import openai

    chat = open_server.url + "/v1/chat/completions"
    for stream in (False, True):
        response = httpx.post(chat, json={"model": "m" * 900_000, "messages": QUESTION, "stream": stream}, timeout=120)
        assert openai_error(response, 400)["param"] == "model" and len(response.content) < 2_000
    client = openai.OpenAI(base_url=open_server.url + "/v1", api_key="unused")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m" * (MAX_MODEL_CHARS + 1), messages=QUESTION)  # type: ignore[arg-type]
    named = "n" * MAX_MODEL_CHARS  # a name within the bound is echoed back, as OpenAI does
    assert client.chat.completions.create(model=named, messages=QUESTION).model == named  # type: ignore[arg-type]


@server_test
def test_index_failures_never_show_server_paths(tmp_path_factory: pytest.TempPathFactory) -> None:
    with serving("security-broken-index", tmp_path_factory.mktemp("security-broken"), ingest=False) as server:
        _check_index_failures_never_show_server_paths(server)


def _check_index_failures_never_show_server_paths(server: Server) -> None:
    chat = server.url + "/v1/chat/completions"
    assert httpx.post(chat, json={"messages": QUESTION}, timeout=120).status_code == 200
    with open(server.index_dir / "chroma" / "chroma.sqlite3", "r+b") as db:  # the database breaks under the server
        db.write(b"\0" * 16_384)
    for stream in (False, True):
        response = httpx.post(chat, json={"messages": QUESTION, "stream": stream}, timeout=120)
        error = openai_error(response, 503)
        assert error == {
            "message": "the index is unavailable",
            "type": "server_error",
            "param": None,
            "code": "index_unavailable",
        }
    assert str(server.index_dir) in server.log()  # the detail is for the server's owner, in its log


def test_a_stream_that_fails_midway_reports_no_detail(caplog: pytest.LogCaptureFixture) -> None:
    """Once a stream has begun, an error is sent in-band; its detail goes to the log only."""

    def deltas(exc: Exception) -> Any:
        yield "The answer"
        raise exc

    failures = {
        "the index is unavailable": StoreError("the index in /srv/news/index/chroma failed: too many SQL variables"),
        "the answer failed": RuntimeError("unexpected token in /srv/news/app/secret.py"),
    }
    for said, exc in failures.items():
        events = list(_Reply("newsrag", sign=str).sse("", deltas(exc), response=None, log=None))  # type: ignore[arg-type]
        errors = [json.loads(e[len("data: ") :]) for e in events if '"error"' in e]
        assert errors == [{"error": {"message": said, "type": "server_error", "param": None, "code": None}}]
        assert "/srv/news" not in "".join(events) and events[-1] == "data: [DONE]\n\n"
    assert "/srv/news/index" in caplog.text


def test_error_messages_are_bounded() -> None:
    assert len(error_body("x" * 1_000_000)["error"]["message"]) == MAX_MESSAGE_CHARS
