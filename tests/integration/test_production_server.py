"""`paraphe serve`, the production server (granian over WSGI), on the test database: the web
login with its CSRF form and session cookie, the API with its tokens and problem+json
answers, a document's bytes and ETag, and a clean stop on SIGTERM. The Flask test client
covers the application; this covers what only the real server does (HTTP parsing, headers,
cookies, keep-alive, the worker processes reading the configuration from the environment)."""

from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import io
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import closing
from datetime import UTC, datetime

import pikepdf
from flask import Flask

from app.auth.models import Role, Scope
from app.cli import STOP_TIMEOUT_S
from app.documents.models import DocumentKind
from tests.factories import PASSWORD, deposit_file, make_client, make_token, make_user
from tests.integration.production_server import production_server as production_server


def test_web_login_through_the_production_server(
    app: Flask, production_server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, _process = production_server
    address = make_user(app, Role.SALES)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/connexion").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token in the login page"

    def post(password: str, csrf: str) -> int:
        form = urllib.parse.urlencode(
            {"csrf_token": csrf, "email": address, "password": password}
        ).encode()
        try:
            with opener.open(f"{base}/connexion", data=form) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert post(PASSWORD, "forged") == 400  # a form without its CSRF token is refused
    assert post("wrong password", token.group(1)) == 401
    assert post(PASSWORD, token.group(1)) == 200  # redirected, then the home page
    home = opener.open(f"{base}/").read().decode()  # the session cookie came back
    assert f"Test {Role.SALES.label}" in home


def _multipart(fields: dict[str, str], name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = f"paraphe-{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"'
        "\r\nContent-Type: application/pdf\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_uploads_through_the_production_server(
    production_server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    """The public /verify page reads a multipart upload from the server's input stream; the
    upload limits answer 413 before anything is parsed."""
    base, _process = production_server
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/verify").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    buffer = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(buffer)
    blank = buffer.getvalue()

    def upload(data: bytes) -> tuple[int, str]:
        body, content_type = _multipart({"csrf_token": token.group(1)}, "document", "a.pdf", data)
        request = urllib.request.Request(
            f"{base}/verify", data=body, headers={"Content-Type": content_type}
        )
        try:
            with opener.open(request) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    status, html = upload(blank)
    assert status == 200, html
    assert hashlib.sha256(blank).hexdigest() in html
    assert "ne contient aucune signature" in html
    status, html = upload(b"%PDF-1.7 " + b"0" * (21 * 1024 * 1024))
    assert status == 413 and "20 Mo" in html


def test_api_through_the_production_server(
    app: Flask, production_server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, process = production_server
    client_id = make_client(app)
    data = b"%PDF-1.7 " + os.urandom(300_000)  # large enough to span many TCP segments
    document = deposit_file(
        app,
        client_id,
        DocumentKind.CONTRACT,
        "CT-2026-0001",
        data=data,
        filename="contrat.pdf",
        now=datetime(2026, 11, 1, tzinfo=UTC),
        retention=False,
    )
    document_id, sha256 = document.id, document.sha256
    bearer = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    host = base.removeprefix("http://")
    # One keep-alive connection throughout.
    with closing(http.client.HTTPConnection(host, timeout=10)) as conn:
        conn.request("GET", "/api/v1/documents")
        refused = conn.getresponse()
        assert refused.status == 401
        assert refused.getheader("Content-Type") == "application/problem+json"
        assert json.loads(refused.read())["status"] == 401

        conn.request("GET", f"/api/v1/documents?client_id={client_id}", headers=bearer)
        listed = conn.getresponse()
        assert listed.status == 200
        items = json.loads(listed.read())["items"]
        assert [(d["id"], d["sha256"]) for d in items] == [(document_id, sha256)]

        conn.request("GET", "/api/v1/documents?limit=zero", headers=bearer)
        bad = conn.getresponse()
        assert bad.status == 422 and "limit" in json.loads(bad.read())["detail"]

        conn.request("GET", f"/api/v1/documents/{document_id}/content", headers=bearer)
        content = conn.getresponse()
        assert content.status == 200
        assert content.getheader("ETag") == f'"{sha256}"'
        assert content.read() == data

    # Let the server see the client's close first: a keep-alive connection closing while the
    # graceful stop begins can hold that stop until granian's kill timeout (STOP_TIMEOUT_S),
    # which bounds it in any case.
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT_S + 10) == 0  # workers stopped too
    # The access log is the application's: routes, statuses, no secrets.
    log = process.stdout.read().decode() if process.stdout else ""
    assert "GET /api/v1/documents/<int:document_id>/content 200" in log
    assert "GET /api/v1/documents 401" in log
    assert bearer["Authorization"].split()[1] not in log
