"""Serve a GGUF over HTTP with llama.cpp's own server (OpenAI-compatible), embedded by the prebuilt ``xllamacpp`` wheel.

``python tests/support/llama_serve.py --model X.gguf --alias NAME [--port 0] [--ctx 4096] [--threads 1] [--seed 0]``
prints ``READY http://127.0.0.1:PORT`` once the model is loaded and the socket listens, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal

import xllamacpp as xlc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)  # 0: the OS picks a free port, printed on the READY line
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    # llama-cpp-python's server defaults (llama.cpp's own: no penalty): without it SmolLM2-135M loops to max_tokens
    ap.add_argument("--repeat-penalty", type=float, default=1.1)
    a = ap.parse_args()
    p = xlc.CommonParams()
    p.model.path = a.model
    p.model_alias = {a.alias}
    p.hostnames = [a.host]
    p.port = a.port
    p.n_ctx = a.ctx
    p.n_parallel = 1  # one slot: concurrent requests queue, none is interrupted
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.sampling.seed = a.seed
    p.sampling.penalty_repeat = a.repeat_penalty
    p.sampling.penalty_last_n = 64
    p.ui = False
    server = xlc.Server(p)  # raises RuntimeError (exit 1) if the model or the socket fails; details on stderr
    print(f"READY {server.listening_address}", flush=True)
    # Exit at once: a graceful ~Server() waits up to sse_ping_interval (30 s) for an open stream to notice.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
