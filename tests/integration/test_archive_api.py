"""The archivist API: filters, sorts, keyset cursors, Range on content, a document's events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.models import ApiToken, Scope
from app.auth.services import token_digest
from app.db import transaction
from app.documents import services as documents
from app.documents.models import DocumentKind
from storage import S3BlobStore, S3Location
from tests.factories import make_client, make_token
from tests.s3_server import new_bucket, s3_client

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _seed(app: Flask) -> tuple[int, int, list[dict[str, Any]]]:
    first, second = make_client(app), make_client(app, siren="732829320", vat_number="")
    rt = app.extensions["paraphe"]
    made = []
    with transaction(rt.session_factory) as session:
        for index in range(12):
            kind = DocumentKind.INVOICE if index % 3 == 0 else DocumentKind.CONTRACT
            data = f"%PDF-1.7 document {index}".encode() + b"x" * (index * 7 % 5)
            document = documents.deposit(
                session,
                rt.store,
                kind=kind,
                client_id=first if index % 2 == 0 else second,
                reference=f"REF-{index % 4:02d}",
                version=index + 1,
                data=data,
                media_type="application/pdf",
                filename=f"doc-{index}.pdf",
                now=T0 + timedelta(days=index % 6, minutes=index),
                actor="test",
            )
            made.append({"id": document.id, "size": document.size, "sha256": document.sha256})
    return first, second, made


def _all_pages(client: FlaskClient, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        url = f"/api/v1/documents?{query}&limit=5" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination does not end")


def test_filters_sorts_and_cursors(app: Flask, client: FlaskClient) -> None:
    first, _second, made = _seed(app)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}

    everything = _all_pages(client, "sort=id", headers)
    assert [d["id"] for d in everything] == [d["id"] for d in made]

    for sort in ("created_at", "-created_at", "reference", "-reference", "size", "-size", "-id"):
        key = sort.lstrip("-")
        items = _all_pages(client, f"sort={sort}", headers)
        assert len(items) == 12 and len({d["id"] for d in items}) == 12, sort
        pairs = [(d[key], d["id"]) for d in items]
        assert pairs == sorted(pairs, reverse=sort.startswith("-")), sort

    invoices = _all_pages(client, f"kind=invoice&client_id={first}", headers)
    assert {d["kind"] for d in invoices} == {"invoice"} and {d["client_id"] for d in invoices} == {
        first
    }
    assert [d["reference"] for d in _all_pages(client, "reference=REF-01", headers)] == [
        "REF-01"
    ] * 3
    one = _all_pages(client, f"sha256={made[4]['sha256']}", headers)
    assert [d["id"] for d in one] == [made[4]["id"]]
    # 2 to 3 January (Paris dates, inclusive): days 1 and 2 after T0
    window = _all_pages(client, "created_from=2026-01-02&created_to=2026-01-03", headers)
    assert len(window) == 4
    assert all(d["created_at"][:10] in ("2026-01-02", "2026-01-03") for d in window)

    # A cursor is the last document of a page: its sort value is read from the database, so
    # nothing in it can be forged or misread. Reused with another sort, it still means "after
    # this document", in that order.
    page = client.get("/api/v1/documents?sort=size&limit=2", headers=headers).get_json()
    assert page["next_cursor"] == str(page["items"][-1]["id"])
    other = client.get(
        f"/api/v1/documents?sort=-size&cursor={page['next_cursor']}&limit=200", headers=headers
    )
    assert other.status_code == 200
    descending = _all_pages(client, "sort=-size", headers)
    after = [d["id"] for d in descending].index(int(page["next_cursor"])) + 1
    assert [d["id"] for d in other.get_json()["items"]] == [d["id"] for d in descending[after:]]


def test_range_requests_and_document_events(app: Flask, client: FlaskClient) -> None:
    _first, _second, made = _seed(app)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    document_id = made[3]["id"]
    url = f"/api/v1/documents/{document_id}/content"
    full = client.get(url, headers=headers)
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    part = client.get(url, headers={**headers, "Range": "bytes=2-6"})
    assert part.status_code == 206
    assert part.data == full.data[2:7]
    assert part.headers["Content-Range"] == f"bytes 2-6/{len(full.data)}"
    tail = client.get(url, headers={**headers, "Range": "bytes=-4"})
    assert tail.status_code == 206 and tail.data == full.data[-4:]
    beyond = client.get(url, headers={**headers, "Range": "bytes=9999-"})
    assert beyond.status_code == 416 and beyond.mimetype == "application/problem+json"
    stale = client.get(url, headers={**headers, "Range": "bytes=0-1", "If-Range": '"autre"'})
    assert stale.status_code == 200 and stale.data == full.data

    events = client.get(f"/api/v1/documents/{document_id}/events", headers=headers)
    assert events.status_code == 200
    actions = [e["action"] for e in events.get_json()["items"]]
    assert actions[0] == "document.deposited"
    # full, part, tail, stale: the unsatisfiable range (416) sent and journaled nothing
    assert actions.count("document.read") == 4
    missing = client.get("/api/v1/documents/999999/events", headers=headers)
    assert missing.status_code == 404


def test_links_are_the_routes_and_last_use_is_recorded(app: Flask, client: FlaskClient) -> None:
    _first, _second, made = _seed(app)
    plaintext = make_token(app, Scope.READ)
    headers = {"Authorization": f"Bearer {plaintext}"}
    rt = app.extensions["paraphe"]

    def last_used() -> datetime | None:
        with transaction(rt.session_factory) as session:
            digest = token_digest(plaintext)
            token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
            assert token is not None
            return token.last_used_at

    assert last_used() is None
    # A request that fails after the token check still records the token's use.
    assert client.get("/api/v1/documents/999999", headers=headers).status_code == 404
    first_use = last_used()
    assert first_use is not None

    page = client.get("/api/v1/documents?sort=id&limit=3", headers=headers).get_json()
    with app.test_request_context():
        for item in page["items"]:
            assert item["links"] == {
                "self": url_for("archive_api.get_document", document_id=item["id"]),
                "content": url_for("archive_api.document_content", document_id=item["id"]),
            }
    one = client.get(page["items"][0]["links"]["self"], headers=headers)
    assert one.status_code == 200 and one.get_json() == page["items"][0]
    content = client.get(page["items"][0]["links"]["content"], headers=headers)
    assert content.status_code == 200 and len(content.data) == made[0]["size"]
    # Within the minute the row is not written again (no write, no row lock per request).
    assert last_used() == first_use


def test_a_range_is_read_from_s3_after_the_whole_blob_is_verified(
    app: Flask, client: FlaskClient, s3_endpoint: str
) -> None:
    """On S3 a Range is a ranged GET; the whole blob is re-hashed first, so a damaged one is
    refused (503, journaled) even when the part asked for is intact."""
    raw = s3_client(s3_endpoint)
    # Object Lock: the invoices are locked at deposit. Their versions are, not the key: a raw
    # put (no If-None-Match) still lays a damaged newer version over one, as below.
    store = S3BlobStore(raw, S3Location(new_bucket(raw, lock=True)))
    app.extensions["paraphe"] = replace(app.extensions["paraphe"], store=store)
    _first, _second, made = _seed(app)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    document = made[3]
    url = f"/api/v1/documents/{document['id']}/content"
    data = store.get(document["sha256"])

    part = client.get(url, headers={**headers, "Range": "bytes=3-9"})
    assert part.status_code == 206 and part.data == data[3:10]
    assert part.headers["Content-Range"] == f"bytes 3-9/{len(data)}"

    raw.put_object(Bucket=store.location.bucket, Key=document["sha256"], Body=data[:-1] + b"!")
    damaged = client.get(url, headers={**headers, "Range": "bytes=3-9"})
    assert damaged.status_code == 503
    events = client.get(f"/api/v1/documents/{document['id']}/events", headers=headers)
    assert "document.integrity_failed" in [e["action"] for e in events.get_json()["items"]]
