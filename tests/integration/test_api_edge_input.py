"""What schema fuzzing of the archivist API found: an empty `at=`, an empty or unknown
`cursor`, an empty or malformed `Range` got a 500 or an answer the description did not allow.
Each now gets a precise 4xx, and ranges are answered as RFC 9110 says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth.models import Role, Scope
from tests.factories import count, deposit_document, login_as, make_client, make_token
from tests.integration.fixtures_security import check_each
from tests.integration.helpers import problem_fields


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app, *Scope)}"}


def problem_of(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return body


def test_an_empty_or_pre_1900_at_is_refused(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    client_id = make_client(app)
    url = f"/api/v1/clients/{client_id}/cgv"

    def refused(query: str) -> None:
        body = problem_of(client.get(f"{url}?{query}", headers=headers), 422)
        assert set(problem_fields(body)) == {"at"} and "AAAA-MM-JJ" in problem_fields(body)["at"]

    check_each(
        ["at=", "at=0999-12-31", "at=1899-12-31", "at=%D9%A2%D9%A0%D9%A2%D9%A6-01-01"], refused
    )
    assert client.get(url, headers=headers).status_code == 200  # absent: today
    assert client.get(f"{url}?at=1900-01-01", headers=headers).status_code == 200
    # the report page's empty date field still means today
    assert login_as(app, Role.LEGAL).get("/cgv/rapport?at=").status_code == 200


def test_a_cursor_is_the_last_document_of_the_previous_page(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    client_id = make_client(app)
    ids = [deposit_document(app, client_id, f"CTR-2026-000{n}") for n in (1, 2, 3)]

    def refused(query: str) -> None:
        body = problem_of(client.get(f"/api/v1/documents?{query}", headers=headers), 422)
        assert set(problem_fields(body)) == {"cursor"}, body

    check_each(
        ["cursor=", "cursor=0", "cursor=-1", "cursor=01", "cursor=abc", f"cursor={2**31}"], refused
    )
    unknown = problem_of(client.get("/api/v1/documents?cursor=999999", headers=headers), 404)
    assert "999999" in unknown["detail"]

    first = client.get("/api/v1/documents?limit=1", headers=headers).get_json()
    assert first["next_cursor"] == str(ids[0])
    rest = client.get(f"/api/v1/documents?cursor={ids[0]}", headers=headers).get_json()
    assert [d["id"] for d in rest["items"]] == ids[1:] and rest["next_cursor"] is None


RANGE_REFUSED = ["", " ", "bytes=", "bytes=-", "bytes=abc", "bytes=1-2-3", "items=0-1",
                 "bytes=0-1;", f"bytes={'9' * 19}-", "bytes=0-1,,2-3"]  # fmt: skip


def test_range_requests_follow_rfc_9110(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    document_id = deposit_document(app, make_client(app))
    url = f"/api/v1/documents/{document_id}/content"
    full = client.get(url, headers=headers)
    assert full.status_code == 200
    size = len(full.data)
    reads = count(app, AuditEvent, AuditEvent.action == "document.read")

    def refused(header: str) -> None:
        body = problem_of(client.get(url, headers={**headers, "Range": header}), 422)
        assert set(problem_fields(body)) == {"Range"}

    check_each(RANGE_REFUSED, refused)

    def unsatisfiable(header: str) -> None:
        response = client.get(url, headers={**headers, "Range": header})
        problem_of(response, 416)
        assert response.headers["Content-Range"] == f"bytes */{size}"

    check_each([f"bytes={size}-", "bytes=9999-", "bytes=-0", f"bytes={'9' * 18}-"], unsatisfiable)
    # neither refusals nor unsatisfiable ranges read (and journal) the content
    assert count(app, AuditEvent, AuditEvent.action == "document.read") == reads

    def whole(header: str) -> None:
        response = client.get(url, headers={**headers, "Range": header})
        assert response.status_code == 200 and response.data == full.data, response.status_code
        assert "Content-Range" not in response.headers

    # several ranges (no multipart answers) and a last position before the first: ignored
    check_each(["bytes=0-1,3-4", "bytes=0-1, 3-4", "bytes=5-2"], whole)

    def part(header: str, first: int, last: int) -> None:
        response = client.get(url, headers={**headers, "Range": header})
        assert response.status_code == 206, response.status_code
        assert response.data == full.data[first : last + 1]
        assert response.headers["Content-Range"] == f"bytes {first}-{last}/{size}"

    check_each(
        [
            ("bytes=2-6", 2, 6),
            ("bytes=3-", 3, size - 1),
            ("bytes=-4", size - 4, size - 1),
            ("bytes=-99999", 0, size - 1),
            (f"bytes=0-{'9' * 18}", 0, size - 1),
        ],
        part,
    )


def test_verifying_a_document_that_is_no_pdf_is_a_conflict(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    # the archived bytes are no readable PDF: the document's nature, not the request, is wrong
    document_id = deposit_document(app, make_client(app))
    body = problem_of(
        client.get(f"/api/v1/documents/{document_id}/verification", headers=headers), 409
    )
    assert "n'est pas un PDF" in body["detail"]
