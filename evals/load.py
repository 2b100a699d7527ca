"""Load test: concurrent clients on the OpenAI-compatible API and the Gradio API while an ingest runs.

Every client owns a story: an invented article (a bridge, its city, river, opening date and architect)
whose names appear in no other article. OpenAI clients (``/v1/chat/completions``, half of them streaming)
hold two-turn conversations: "When did the X Bridge in Y open?", then "Who was its architect?", which only
the earlier turn makes answerable. Gradio clients call ``/ask``, which is single-turn (it takes no history),
so they ask both questions standalone. An answer must state its own story's fact and lead with its own
story's passage; one leading with another client's story is a mix-up. Meanwhile an ingest thread uploads
more stories (or the given files) through the app's ``/ingest`` endpoint: the app process holds the
index, and a second process writing into its embedded Chroma would not be seen by it. With ``index_dir``
the question log is checked too: each logged conversation holds one client's turns only.

    python -m evals.load --url http://127.0.0.1:7860 --clients 20 --seconds 60 --out load.json
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from evals.load_stories import FOLLOW_UP, Story, check_log, judge, stories, strays, write

APIS = ("openai", "openai-stream", "gradio")
# Embedding is the slow part of ingest: on a small, busy machine a few chunks a second.
UPLOAD_TIMEOUT = 600.0


@dataclass
class Request:
    api: str
    client: int
    turn: int
    started: float  # seconds since the load started
    seconds: float = 0.0
    first_token: float | None = None  # streaming only
    error: str = ""  # a failed request: transport, status or in-band error
    verdict: str = ""  # answered requests: ok, wrong or mixed
    stray: bool = False  # also quotes another article
    text: str = ""


@dataclass
class Load:
    """Shared by the client threads: the clock, the request budget and what happened."""

    url: str
    stories: list[Story]  # one per client
    seconds: float
    max_requests: int
    timeout: float
    started: float = field(default_factory=time.monotonic)
    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> Request | None:
        """A ticket for one more request, or None once the time or the request budget is spent."""
        with self._lock:
            now = time.monotonic() - self.started
            if now >= self.seconds or len(self.requests) >= self.max_requests:
                return None
            self.requests.append(Request(api="", client=-1, turn=-1, started=now))
            return self.requests[-1]

    def finish(self, r: Request, text: str, titles: list[str], t0: float) -> None:
        r.seconds, r.text = time.perf_counter() - t0, text[:300]
        r.verdict = judge(self.stories[r.client], r.turn, text, titles, self.stories)
        r.stray = strays(self.stories[r.client], titles)


# ----- the clients
def openai_client(load: Load, k: int, http: httpx.Client, stream: bool) -> None:
    """Two-turn conversations about story k, over and over; the history travels in ``messages``."""
    api, story = ("openai-stream" if stream else "openai"), load.stories[k]
    messages: list[dict[str, str]] = []
    with http:
        while (r := load.take()) is not None:
            r.api, r.client, r.turn = api, k, 1 if messages else 0
            question = FOLLOW_UP if messages else story.question(0)
            turns = [*messages, {"role": "user", "content": question}]
            body = {"model": "newsrag", "stream": stream, "messages": turns}
            t0 = time.perf_counter()
            try:
                text, titles = _stream(http, body, r, t0) if stream else _complete(http, body)
            except Exception as exc:  # every failure is data here
                r.seconds, r.error, messages = time.perf_counter() - t0, _reason(exc), []
                continue
            load.finish(r, text, titles, t0)
            ok_first_turn = r.turn == 0 and r.verdict == "ok"
            messages = [*body["messages"], {"role": "assistant", "content": text}] if ok_first_turn else []


def _complete(http: httpx.Client, body: dict[str, Any]) -> tuple[str, list[str]]:
    response = http.post("/v1/chat/completions", json=body)
    response.raise_for_status()
    choice = response.json()["choices"][0]
    return choice["message"]["content"], [c["title"] for c in choice["citations"]]


def _stream(http: httpx.Client, body: dict[str, Any], r: Request, t0: float) -> tuple[str, list[str]]:
    text, titles, done = "", None, False
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            event = json.loads(line[6:])
            if "error" in event:
                raise RuntimeError(f"in-band error: {event['error']['message']}")
            choice = event["choices"][0]
            if choice["delta"].get("content"):
                r.first_token = r.first_token or time.perf_counter() - t0
                text += choice["delta"]["content"]
            if choice["finish_reason"]:
                titles = [c["title"] for c in choice["citations"]]
    if not done or titles is None:
        raise RuntimeError("the stream ended without a final chunk and [DONE]")
    checked = text.split("\n\nChecked answer: ", 1)  # the server re-sends the text when checking changed it
    return checked[-1], titles


def gradio_client(load: Load, k: int, client: Any) -> None:
    """``/ask`` is single-turn: both questions about story k, each standalone."""
    turn = 0
    while (r := load.take()) is not None:
        r.api, r.client, r.turn = "gradio", k, turn
        t0 = time.perf_counter()
        try:
            result = client.submit(load.stories[k].question(turn), api_name="/ask").result(timeout=load.timeout)
        except Exception as exc:
            r.seconds, r.error = time.perf_counter() - t0, _reason(exc)
            continue
        load.finish(r, result["text"], [c["title"] for c in result["citations"]], t0)
        turn = 1 - turn


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return f"{type(exc).__name__}: {str(exc)[:160]}".rstrip(": ")


def connect(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def upload(client: Any, paths: list[Path], timeout: float = UPLOAD_TIMEOUT) -> list[list[Any]]:
    """Index files through the app's ``/ingest`` endpoint; its result rows (file, status, title, chunks, reason)."""
    from gradio_client import handle_file

    job = client.submit([handle_file(str(p)) for p in paths], "", api_name="/ingest")
    return job.result(timeout=timeout)["data"]


def ingest_loop(load: Load, client: Any, batches: list[list[Path]], report: dict[str, Any]) -> None:
    """Upload batch after batch, starting none after the load ends."""
    for batch in batches:
        if time.monotonic() - load.started >= load.seconds:
            break
        t0 = time.monotonic()
        try:
            rows = upload(client, batch)
        except Exception as exc:
            report["failures"].append(_reason(exc))
            continue
        report["batches"].append([round(t0 - load.started, 2), round(time.monotonic() - t0, 2)])  # start, seconds
        report["files"] += len(batch)
        report["statuses"].update(row[1] for row in rows)
        report["titles"] += [row[2] for row in rows if row[1] in ("added", "unchanged")]
        report["failures"] += [f"{row[0]}: {row[4]}" for row in rows if row[1] == "failed"]
    report["ended_at"] = round(time.monotonic() - load.started, 2)


# ----- one run
def run(
    url: str,
    clients: int = 20,
    seconds: float = 60.0,
    max_requests: int | None = None,
    ingest: list[Path] | None = None,
    ingest_stories: int = 12,
    batch: int = 3,
    index_dir: Path | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Drive ``url`` with ``clients`` clients for ``seconds`` (or ``max_requests``) while ingesting.

    ``ingest``: files to upload during the load (default: ``ingest_stories`` more invented stories), in
    uploads of ``batch`` files. ``index_dir``: the server's index, to check its question log as well.
    """
    url = url.rstrip("/")
    everyone = stories(clients + (0 if ingest else ingest_stories))
    own, late = everyone[:clients], everyone[clients:]
    with tempfile.TemporaryDirectory(prefix="newsrag-load-") as tmp:
        setup, warmup = prepare(url, own, Path(tmp) / "clients", timeout)
        files = ingest if ingest else write(late, Path(tmp) / "late")
        batches = [files[i : i + batch] for i in range(0, len(files), batch)]
        n_openai = (clients + 1) // 2
        gradio = [connect(url) for _ in range(clients - n_openai)]
        http = [httpx.Client(base_url=url, timeout=timeout) for _ in range(n_openai)]
        load = Load(url, own, seconds, max_requests or clients * int(seconds) * 4, timeout)
        ingested: dict[str, Any] = {"files": 0, "statuses": Counter(), "failures": [], "batches": [], "titles": []}
        threads = [threading.Thread(target=openai_client, args=(load, k, h, k % 2 == 0)) for k, h in enumerate(http)]
        threads += [threading.Thread(target=gradio_client, args=(load, n_openai + i, c)) for i, c in enumerate(gradio)]
        threads.append(threading.Thread(target=ingest_loop, args=(load, setup, batches, ingested)))
        since, load.started = time.time(), time.monotonic()
        for t in threads:
            t.daemon = True
            t.start()
        for t in threads:  # every request has its timeout; an upload has UPLOAD_TIMEOUT
            end = timeout if t is not threads[-1] else UPLOAD_TIMEOUT
            t.join(max(0.0, load.started + seconds + end + 10 - time.monotonic()))
        wall = time.monotonic() - load.started
        hung = sum(t.is_alive() for t in threads)
        for c in [setup, *gradio]:
            c.close()
    report = summarise(load, wall, hung) | {"warmup_seconds": warmup}
    ingested["statuses"] = dict(ingested["statuses"])
    titles = ingested.pop("titles")
    if not ingest:  # the stories ingested during the load must be answerable now
        ingested["answerable_after"] = answerable(url, [s for s in late if s.title in titles], own, timeout)
    report["ingest"] = ingested
    if index_dir is not None:
        report["log"] = check_log(Path(index_dir), own + late, since)
    return report


def prepare(url: str, own: list[Story], folder: Path, timeout: float) -> tuple[Any, float]:
    """Index the clients' stories and ask each once (a warm-up: the figures are not a cold start's)."""
    client = connect(url)
    rows = upload(client, write(own, folder))
    if any(row[1] not in ("added", "unchanged") for row in rows):
        raise RuntimeError(f"could not index the clients' stories: {rows}")
    t0 = time.monotonic()
    if (warm := answerable(url, own, own, timeout)) != f"{len(own)}/{len(own)}":
        raise RuntimeError(f"only {warm} of the clients' stories are answered correctly before the load")
    return client, round(time.monotonic() - t0, 1)


def answerable(url: str, asked: list[Story], clients: list[Story], timeout: float) -> str:
    ok = 0
    with httpx.Client(base_url=url, timeout=timeout) as http:
        for story in asked:
            text, titles = _complete(http, {"messages": [{"role": "user", "content": story.question(0)}]})
            ok += judge(story, 0, text, titles, clients) == "ok"
    return f"{ok}/{len(asked)}"


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    p50, p95 = np.percentile(values, [50, 95])
    return {"p50_ms": round(p50 * 1000, 1), "p95_ms": round(p95 * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def summarise(load: Load, wall: float, hung: int) -> dict[str, Any]:
    done = [r for r in load.requests if r.api]
    failed = [r for r in done if r.error]
    answered = [r for r in done if not r.error]
    apis = {}
    for api in APIS:
        mine = [r for r in done if r.api == api]
        apis[api] = {
            "requests": len(mine),
            "failures": sum(bool(r.error) for r in mine),
            "throughput_rps": round(len(mine) / wall, 2),
            **_percentiles([r.seconds for r in mine if not r.error]),
        }
        if api == "openai-stream":
            apis[api]["first_token_p50_ms"] = _percentiles([r.first_token for r in mine if r.first_token])["p50_ms"]
    verdicts = Counter(r.verdict for r in answered)
    return {
        "url": load.url,
        "clients": len(load.stories),
        "seconds": load.seconds,
        "max_requests": load.max_requests,
        "wall_seconds": round(wall, 1),
        "requests": len(done),
        "failures": len(failed) + hung,
        "failure_reasons": dict(Counter(r.error for r in failed) + Counter({"still running at the end": hung})),
        "throughput_rps": round(len(done) / wall, 2),
        "clients_answered": len({r.client for r in answered}),
        "follow_ups": sum(r.turn == 1 and r.api != "gradio" for r in answered),
        **_percentiles([r.seconds for r in answered]),
        "apis": apis,
        "answers": {
            "ok": verdicts["ok"],
            "wrong": verdicts["wrong"],
            "mixed": verdicts["mixed"],
            "also_quoting_other_stories": sum(r.stray for r in answered),
        },
        "bad_answers": [asdict(r) for r in answered if r.verdict != "ok"][:10],
        "timeline": [[r.api, round(r.started, 2), round(r.seconds, 3), r.error or r.verdict] for r in done],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


# ----- reports, `make bench`, the command line
def markdown(r: dict[str, Any]) -> list[str]:
    """The load run as Markdown lines (for bench/results.md)."""
    lines = ["", f"## Load: {r['clients']} clients for {r['seconds']:g} s while ingesting", ""]
    reasons = f" {r['failure_reasons']}" if r["failures"] else ""
    lines += [
        f"- requests {r['requests']}, failures {r['failures']}{reasons},"
        f" {r['throughput_rps']} req/s; answers {r['answers']}; load average {r['load_average']} on {r['cpus']} CPUs",
        f"- ingest during the load: {r.get('ingest')}",
    ]
    if "log" in r:
        lines.append(f"- question log: {r['log']}")
    lines += ["", "| api | requests | failures | p50 ms | p95 ms | max ms | req/s |", "|---|---|---|---|---|---|---|"]
    for api, s in r["apis"].items():
        cells = [s["requests"], s["failures"], s["p50_ms"], s["p95_ms"], s["max_ms"], s["throughput_rps"]]
        lines.append(f"| {api} | " + " | ".join(str(c) for c in cells) + " |")
    return lines


BENCH_CLIENTS, BENCH_SECONDS, BENCH_ARTICLES_PER_UPLOAD = 20, 60.0, 2


def bench_part(corpus_file: Path, work: Path) -> dict[str, Any]:
    """`make bench`'s load part: a fresh server, 20 clients for 60 s while real articles are uploaded."""
    from evals.app_process import start_server, stop_process

    records = corpus_file.read_text(encoding="utf-8").splitlines()
    uploads = work / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(0, len(records), BENCH_ARTICLES_PER_UPLOAD):
        files.append(uploads / f"articles-{i:05d}.jsonl")
        files[-1].write_text("\n".join(records[i : i + BENCH_ARTICLES_PER_UPLOAD]), encoding="utf-8")
    server = start_server("bench-load", work / "server", ingest=False)
    try:
        report = run(server.url, BENCH_CLIENTS, BENCH_SECONDS, ingest=files, batch=1, index_dir=server.index_dir)
    finally:
        stop_process(server.process)
    report.pop("timeline")
    return report | {"seconds_to_ready": round(server.seconds_to_ready, 1)}


def _files(paths: list[Path]) -> list[Path]:
    from ingest.files import expand

    return [f for p in paths for f in expand(p)]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the running newsrag serve, e.g. http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=None, help="default: 4 per client-second")
    parser.add_argument("--ingest", type=Path, nargs="*", default=[], help="files or folders to upload meanwhile")
    parser.add_argument("--ingest-stories", type=int, default=12, help="without --ingest: stories to upload")
    parser.add_argument("--batch", type=int, default=3, help="files per upload")
    parser.add_argument("--index-dir", type=Path, default=None, help="the server's index: check its question log")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed for one request")
    parser.add_argument("--out", type=Path, default=None, help="write the report here as JSON")
    a = parser.parse_args(argv)
    report = run(
        a.url, a.clients, a.seconds, a.max_requests, _files(a.ingest), a.ingest_stories, a.batch, a.index_dir, a.timeout
    )
    if a.out:
        a.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("\n".join(markdown(report)))
    return report


if __name__ == "__main__":
    main()
