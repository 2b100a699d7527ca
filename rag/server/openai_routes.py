"""OpenAI-compatible routes (``/v1/models``, ``/v1/chat/completions``), so any OpenAI client can ask newsrag.

The answer is the assistant message, with its ``[n]`` markers; the passages they point at are in a
``citations`` list on the choice (with ``refused``, ``flags``, ``notices``, ``as_of``, ``read_as``, the log's
``turn_id`` and its ``feedback_token``, which ``POST /v1/feedback`` takes with a 👍/👎 rating and a note; the
token is needed without a login). Earlier user and assistant messages are the conversation history. newsrag's
own options ride along as extra body fields: ``engine``, ``top_k``, ``sources``, ``since``, ``until``,
``as_of``. Errors use OpenAI's error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.answering.answerer import History
from rag.answering.response import Response
from rag.core.errors import NewsRAGError
from rag.core.types import Answer
from rag.index.filters import MAX_FILTER_CHARS, MAX_FILTER_VALUES
from rag.index.store import StoreError
from rag.server.errors import OpenAIError, error_body
from rag.service.history import MAX_NOTE_CHARS, Rating, new_conversation_id, scope_for
from rag.service.services import Services
from rag.service.turns import Asker, LoggedAnswer

MODEL_ID = "newsrag"
MAX_MODEL_CHARS = 256  # the model name is echoed in every reply: a long one would be sent back many times
MAX_DATE_CHARS = 40  # an ISO date or a timestamp, with room for a time zone
router = APIRouter(prefix="/v1")
logger = logging.getLogger(__name__)


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = Field(MODEL_ID, max_length=MAX_MODEL_CHARS)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    # newsrag's options (openai client: extra_body={...})
    engine: str | None = Field(None, max_length=MAX_MODEL_CHARS)  # a built-in engine or a plugin's; checked on asking
    top_k: int | None = Field(None, ge=1, le=50)
    # Bounded here too (rag/index/filters.py checks again), so the client hears which field is wrong.
    sources: list[Annotated[str, Field(max_length=MAX_FILTER_CHARS)]] | None = Field(None, max_length=MAX_FILTER_VALUES)
    since: str | None = Field(None, max_length=MAX_DATE_CHARS)
    until: str | None = Field(None, max_length=MAX_DATE_CHARS)
    as_of: str | None = Field(None, max_length=MAX_DATE_CHARS)  # ask as on that day (YYYY-MM-DD)

    def question_and_history(self) -> tuple[str, History]:
        """The last user message is the question; the user/assistant messages before it are history."""
        turns = [(m.role, m.text()) for m in self.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1][0] != "user":
            raise OpenAIError(400, "the last message must be a user message with the question", code="no_question")
        return turns[-1][1], turns[:-1]


def services(request: Request) -> Services:
    return request.app.state.services


def authenticate(request: Request) -> str | None:
    """The user when ``NEWSRAG_AUTH`` is set: ``Authorization: Bearer <their password>`` or HTTP basic."""
    return user_of(services(request), request.headers.get("authorization", ""))


def user_of(svc: Services, authorization: str) -> str | None:
    """The user an ``Authorization`` header names (None when there is no login to give); OpenAIError 401 if none."""
    if svc.auth is None:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and (user := svc.user_with_password(value)) is not None:
        return user
    if scheme.lower() == "basic":
        try:
            given_user, _, given_password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            given_user = given_password = ""
        if svc.login(given_user, given_password):
            return given_user
    raise OpenAIError(
        401, "login required: send 'Authorization: Bearer <password>' (NEWSRAG_AUTH)", code="invalid_api_key"
    )


@router.get("/models")
def models(_: str | None = Depends(authenticate)) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "newsrag"}]}


@router.post("/chat/completions", response_model=None)
def chat_completions(
    body: ChatRequest, request: Request, user: str | None = Depends(authenticate)
) -> dict[str, Any] | StreamingResponse:
    svc = services(request)
    question, history = body.question_and_history()
    options = {"engine": body.engine, "top_k": body.top_k}
    given = {"sources": body.sources, "since": body.since, "until": body.until, "as_of": body.as_of}
    filters = {name: value for name, value in given.items() if value}
    # Scoped to the caller: the user when logged in; without a login, every /v1 caller shares the "openai"
    # channel's scope, which no browser visitor has, so a client resending a visitor's turns cannot join them.
    scope = scope_for(user, None, "openai")
    asker = Asker("openai", scope, user, svc.history.continued(history, scope=scope) or new_conversation_id())
    try:
        stream = svc.turns.stream(question, asker, history=history, **options, **filters)
        deltas = iter(stream)
        first = next(deltas, "")  # the index failing (a 503) surfaces here, before any byte is sent
    except NewsRAGError as exc:
        if not isinstance(exc, ValueError):  # the index or the embedder failing: the server's (rag/server/http.py)
            raise
        raise OpenAIError(400, str(exc), code="invalid_question") from exc  # the question or its options
    reply = _Reply(model=body.model or MODEL_ID, sign=svc.tokens.token)
    if body.stream:
        return StreamingResponse(
            reply.sse(first, deltas, stream.response, stream.finish), media_type="text/event-stream"
        )
    logged = stream.finish()
    return reply.completion(logged.answer, logged.turn_id)


class FeedbackRequest(BaseModel):
    """A 👍/👎 on an answer of this API: the ``turn_id`` its choice carried, and an optional note.

    Without a login, also the ``feedback_token`` that came with the answer: callers without a login share one
    scope, and the token is what shows the answer was given to this one."""

    model_config = ConfigDict(extra="forbid")
    turn_id: int
    feedback_token: str = Field("", max_length=128)
    rating: str = Field(max_length=10)  # "up" / "down" (or 👍 / 👎)
    note: str = Field("", max_length=MAX_NOTE_CHARS)


@router.post("/feedback")
def feedback(body: FeedbackRequest, request: Request, user: str | None = Depends(authenticate)) -> dict[str, Any]:
    """Rate an answer given through /v1 (newsrag's own endpoint): kept in the question log for ``--as-suite``."""
    try:
        rating = Rating.parse(body.rating)
    except ValueError as exc:
        raise OpenAIError(400, str(exc), code="invalid_rating") from exc
    svc = services(request)
    # The same scope the answer was logged in: a caller can rate only the answers of its own scope, and without a
    # login (one scope for all such callers) only those whose token it was given.
    mine = user is not None or svc.tokens.check(body.turn_id, body.feedback_token)
    if not mine or not svc.history.rate(body.turn_id, rating, body.note, scope=scope_for(user, None, "openai")):
        raise OpenAIError(404, "no answer with that turn_id was given to you", code="unknown_turn")
    return {"object": "feedback", "turn_id": body.turn_id, "rating": rating.value}


class _Reply:
    """OpenAI's response shapes for one answer: a ``chat.completion`` or ``chat.completion.chunk`` events."""

    def __init__(self, model: str, sign: Callable[[int], str]) -> None:
        self.id, self.created, self.model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model
        self.sign = sign  # a turn id's feedback token

    def _envelope(self, kind: str, choice: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, "choices": [choice]}

    def _extras(self, answer: Answer, turn_id: int | None) -> dict[str, Any]:
        return {
            "citations": [c.model_dump(mode="json") for c in answer.citations],
            "refused": answer.refused,
            "flags": answer.flags,
            "notices": answer.notices,
            "as_of": answer.as_of,  # the day asked as of, and how the question's time words were read
            "read_as": answer.read_as,
            "turn_id": turn_id,  # for POST /v1/feedback; None when the log is off
            # What a caller without a login shows to rate this answer: the turn id alone is no proof it was theirs.
            "feedback_token": None if turn_id is None else self.sign(turn_id),
        }

    def completion(self, answer: Answer, turn_id: int | None) -> dict[str, Any]:
        message = {"role": "assistant", "content": answer.text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"} | self._extras(answer, turn_id)
        return self._envelope("chat.completion", choice)

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish} | extra
        return f"data: {json.dumps(self._envelope('chat.completion.chunk', choice))}\n\n"

    def sse(
        self, first: str, rest: Iterator[str], response: Response, log: Callable[[], LoggedAnswer]
    ) -> Iterator[str]:
        yield self._chunk({"role": "assistant", "content": ""})
        try:
            for delta in _chain(first, rest):
                if delta:
                    yield self._chunk({"content": delta})
            answer = response.answer
        except Exception as exc:  # the stream has started: report in-band, as OpenAI does
            # The detail (an index path, a store's SQL, a trace) is for the server's log, never for the client.
            logger.error("the answer failed while streaming: %r", exc, exc_info=not isinstance(exc, StoreError))
            message = StoreError.FOR_VISITORS if isinstance(exc, StoreError) else "the answer failed"
            yield f"data: {json.dumps(error_body(message, 'server_error'))}\n\n"
            yield "data: [DONE]\n\n"
            return
        turn_id = log().turn_id
        delta: dict[str, Any] = {}
        if response.changed():
            # Citations are checked after streaming; when that changed the text, send the checked one.
            delta = {"content": f"\n\nChecked answer: {answer.text}"}
        yield self._chunk(delta, "stop", **self._extras(answer, turn_id))
        yield "data: [DONE]\n\n"


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
