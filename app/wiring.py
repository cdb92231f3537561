"""The Flask edge of the process-wide collaborators: `create_app` builds one
`app.runtime.Runtime` and stores it on the application; views and commands read it here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g
from sqlalchemy.orm import Session

from app.db import utcnow
from app.runtime import Collaborators, Runtime


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["paraphe"]
    return rt


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
    session: Session = g.db_session
    return session


def read_only_db_session() -> Session:
    """The request's session, for a view that only reads (and never writes).

    On PostgreSQL its statements then run in autocommit: a single SELECT needs no transaction,
    and this saves the BEGIN and ROLLBACK round trips, two of the four a warm API read made
    (with the pool's ping and the query). SQLite keeps its transactions (its BEGIN IMMEDIATE
    is what serialises writers). If the request already opened a transaction, it goes on."""
    session = db_session()
    if not session.in_transaction() and session.get_bind().dialect.name != "sqlite":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


@contextmanager
def unit_of_work(*, commit_on: tuple[type[BaseException], ...] = ()) -> Iterator[Session]:
    """The edge's one way to make writes last (views and commands; services never commit).

    Yields the request's (or the command's) session; commits it when the block ends, rolls it
    back when the block raises. The errors listed in `commit_on` are the exception: what was
    journaled before them (a failed integrity check) must outlive the refusal, so the session
    is committed and the error raised on. Mail and rendering come after the block, never in
    it: the transaction (on SQLite, the write lock) is held only for the writes."""
    session = db_session()
    try:
        yield session
    except commit_on:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


def hand_over() -> Collaborators:
    """The collaborators of a workflow a view hands the request over to. The request's session
    is closed first: its transaction (on SQLite, the write lock BEGIN IMMEDIATE takes) would
    block the workflow's own; what it loaded stays readable (expire_on_commit=False)."""
    if "db_session" in g:
        g.db_session.close()
    return runtime().collaborators(utcnow())
