"""Two first requests for a CGV version's PDF at the same time archive it once: the second
waits for the first and serves the same document (no duplicate archive row, no error)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.terms import versions
from app.terms.models import CgvVersion
from tests.factories import count, publish_short_cgv, runtime
from tests.together import at_once


@pytest.mark.committed_db  # threads on their own connections
def test_concurrent_first_requests_archive_the_cgv_pdf_once(app: Flask) -> None:
    publish_short_cgv(app)  # published from code: no PDF yet, as a command-line publication
    rt = runtime(app)
    # On PostgreSQL both transactions read "no PDF yet" before either archives it: the row
    # lock must serialise them. On SQLite the second transaction cannot even start before
    # the first commits (BEGIN IMMEDIATE): the threads only start together.
    concurrent_reads = rt.engine.dialect.name == "postgresql"
    seen = threading.Barrier(2)

    def first_request() -> int:
        with transaction(rt.session_factory) as session:
            version = session.scalars(select(CgvVersion)).one()
            if concurrent_reads:
                assert version.document_id is None
                seen.wait(timeout=30)  # both have seen "no PDF yet"
            document = versions.archive_pdf(
                session, rt.store, version, vendor_name="Éditeur", now=utcnow(), actor="t"
            )
            return document.id

    results = at_once(first_request, times=2)

    assert len(results) == 2 and results[0] == results[1]
    assert count(app, Document, Document.kind == DocumentKind.CGV) == 1
    with rt.session_factory() as session:
        version = session.scalars(select(CgvVersion)).one()
        assert version.document_id == results[0]
