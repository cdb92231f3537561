"""`@idempotent`: the `Idempotency-Key` header of an API POST, under `require_scope`.

The first request with a key claims it (a row, unique per token and key, committed before the
work starts); a repetition with the same method, path and body waits for the first one's
answer and gets it back (same status and body, `Idempotent-Replayed: true`); a repetition with
another request is a 409. A refused or failed first request frees the key (nothing was
written: the views write in one transaction), so that the corrected request can use it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import closing
from functools import wraps
from typing import ParamSpec

from flask import Response, g, make_response, request
from flask.typing import ResponseReturnValue

from app.auth.guards import current_token
from app.db import utcnow
from app.idempotency import services
from app.idempotency.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)
from app.wiring import runtime

P = ParamSpec("P")

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
WAIT_SECONDS = 30.0
"""How long a repetition waits for the first request's answer (contract generation and
certification take seconds) before it is told to come back (409)."""
POLL_SECONDS = 0.05


def idempotent(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return make_response(view(*args, **kwargs))
        if not KEY_PATTERN.fullmatch(key):
            raise IdempotencyKeyInvalid()
        token_id = current_token().id
        digest = services.request_hash(request.method, request.full_path, request.get_data())
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            with closing(runtime().session_factory()) as session:
                stored = services.claim(session, token_id, key, digest, now=utcnow())
            if stored is None:
                break
            if stored.request_hash != digest:
                raise IdempotencyKeyReused()
            if stored.status is not None:
                return _replay(stored)
            if time.monotonic() > deadline:
                raise IdempotencyKeyInProgress()
            time.sleep(POLL_SECONDS)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            _end_request_transaction()
            _release(token_id, key)
            raise
        _end_request_transaction()
        if response.status_code >= 400 or response.direct_passthrough:
            _release(token_id, key)
            return response
        with closing(runtime().session_factory()) as session:
            services.record(
                session,
                token_id,
                key,
                status=response.status_code,
                body=response.get_data(as_text=True),
                location=response.headers.get("Location"),
            )
        return response

    return wrapped


def _end_request_transaction() -> None:
    """The view committed what it wrote; what its session still holds is a read (the answer
    is already built). It ends here: on SQLite every transaction holds the write lock, which
    the key's own session needs next, and the error handler would roll it back anyway."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _release(token_id: int, key: str) -> None:
    with closing(runtime().session_factory()) as session:
        services.release(session, token_id, key)


def _replay(stored: services.Stored) -> Response:
    assert stored.status is not None and stored.body is not None  # an answered key
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
