"""Proof that a client was given an answer, for rating it without a login.

API callers without a login share one scope (``channel:openai``, ``channel:api``): a turn id alone would let
any of them rate, and overwrite the note on, anyone's answer, and those notes become eval cases (``newsrag log
--as-suite``). So each answer comes with a token, an HMAC of its turn id under a secret kept beside the index
(``index_dir/server-secret``, owner-only), and a rating without a login must bring the token of that turn.
The secret outlives restarts, so a token stays good as long as its turn is in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

SECRET_NAME = "server-secret"
SECRET_MODE = 0o600
TOKEN_CHARS = 32  # 128 bits of the HMAC: not guessable, short enough to carry around


class FeedbackTokens:
    """Tokens for turn ids under the secret of one index folder (created on first use)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / SECRET_NAME
        self._secret: bytes | None = None

    def _key(self) -> bytes:
        if self._secret is None:
            self._secret = _load_or_create(self.path)
        return self._secret

    def token(self, turn_id: int) -> str:
        """The token of ``turn_id``, handed to whoever the answer was given to."""
        return hmac.new(self._key(), f"turn:{int(turn_id)}".encode(), hashlib.sha256).hexdigest()[:TOKEN_CHARS]

    def check(self, turn_id: int, token: str | None) -> bool:
        """Whether ``token`` is the token of ``turn_id`` (compared in constant time)."""
        return bool(token) and hmac.compare_digest(self.token(turn_id), str(token).strip())


def _load_or_create(path: Path) -> bytes:
    """The secret in ``path``, written once (owner-only, from its first byte); two processes agree on the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
    except FileExistsError:
        for _ in range(100):  # another process may have created it an instant ago and not written it yet
            if text := path.read_text().strip():
                return bytes.fromhex(text)
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty: delete it, and a new secret is made") from None
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())
