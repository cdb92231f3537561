"""CGV as they arrive: the shared fixture uploaded as a plain-text file and as a Word file
goes through the mandatory preview (its PDF rendered by the job, its table of articles, a
warning when none was found) and is published from that preview only, once, with the hash
that was on screen."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.db import transaction, utcnow
from app.terms import workflow
from app.terms.comparison import compare_articles
from app.terms.conversion import SourceFormat
from app.terms.models import CgvPreview, CgvVersion, VersionKind
from app.terms.planning import CLAIM_LEASE
from app.terms.previews import create_preview
from app.terms.versions import CgvDraft
from tests.conftest import CGV_FIXTURE, csrf_from
from tests.factories import count, login_as, runtime, session_of
from tests.integration.helpers import PREVIEW_HASH
from tests.together import run_together
from tests.unit.terms.docx_cgv import docx_of
from tests.unit.terms.plain_cgv import plain_text_of

FIELDS = {
    "label": "2.2",
    "title": "Conditions générales de vente et d'utilisation",
    "effective_date": "2022-09-04",
    "kind": "minor",
    "summary": "Import du texte reçu.",
    "source_format": "text",
    "late_interest_rule": "texte",
}


def _upload(browser: FlaskClient, content: bytes, filename: str, **changes: str) -> TestResponse:
    page = browser.get("/cgv/nouvelle").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), **FIELDS, **changes}
    return browser.post(
        "/cgv/nouvelle",
        data={**data, "source": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


@pytest.mark.parametrize(
    ("filename", "build"),
    [
        ("cgv-2.2.txt", lambda md: plain_text_of(md).encode("utf-8")),
        ("cgv-2.2.docx", docx_of),
    ],
    ids=["txt", "docx"],
)
def test_an_uploaded_text_is_previewed_then_published_as_previewed(
    app: Flask, filename: str, build: Callable[[str], bytes]
) -> None:
    markdown = CGV_FIXTURE.read_text(encoding="utf-8")
    legal = login_as(app, Role.LEGAL)
    submitted = _upload(legal, build(markdown), filename)
    assert submitted.status_code == 302, submitted.get_data(as_text=True)[-3000:]
    preview_url = submitted.headers["Location"]
    assert "/cgv/apercus/" in preview_url and count(app, CgvVersion) == 0

    html = legal.get(preview_url).get_data(as_text=True)
    table = html[html.index('id="articles"') :]
    articles = re.findall(r"<li>([^<]+)</li>", table[: table.index("</ul>")])
    assert len(articles) == 21 and articles[16] == "ARTICLE 17. NON-RENONCIATION"
    assert articles[-1].startswith("ANNEXE III")
    assert 'id="no-article"' not in html
    # the job rendered the PDF (inline here, no broker): readable, with the articles
    assert 'id="preview-pdf-link"' in html
    pdf = legal.get(f"{preview_url}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert "ARTICLE 17. NON-RENONCIATION" in _pdf_text(pdf.data)

    shown = PREVIEW_HASH.search(html)
    assert shown is not None
    published = legal.post(
        f"{preview_url}/publier", data={"csrf_token": csrf_from(html), "sha256": shown[1]}
    )
    assert published.status_code == 302, published.get_data(as_text=True)[-2000:]
    # no client yet: said as such, not « 0 client(s) notifié(s) »
    shown_after = legal.get(published.headers["Location"]).get_data(as_text=True)
    assert "publiée ; aucun client à notifier." in shown_after, shown_after[:3000]
    assert "Aucun client à notifier" in shown_after
    with session_of(app) as session:
        version = session.scalars(select(CgvVersion)).one()
        preview = session.scalars(select(CgvPreview)).one()
        assert version.sha256 == shown[1] == preview.sha256
        assert version.body_markdown == preview.body_markdown
        assert preview.published_version_id == version.id
        body = version.body_markdown
    # compared with the Markdown original, every article is found again, unchanged
    statuses = {d.title: d.status for d in compare_articles(markdown, body)}
    assert set(statuses.values()) == {"same"}, statuses


def test_a_text_without_articles_is_previewed_with_a_warning(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    text = "Conditions du service\n\nLe client paie chaque mois.\nLe service est rendu.\n"
    # a file name with a bidi override (it would show "cgv-txt.exe") is not shown
    submitted = _upload(legal, text.encode(), "cgv-\u202eexe.txt")
    assert submitted.status_code == 302
    html = legal.get(submitted.headers["Location"]).get_data(as_text=True)
    assert 'id="no-article"' in html and "Aucun article n'a été reconnu" in html
    assert "\u202e" not in html and "importée du fichier" not in html


def test_an_unreadable_file_and_the_other_fields_are_refused_at_once(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    refused = _upload(legal, b"%PDF-1.7", "cgv.pdf", label="", effective_date="")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Format non pris en charge" in html
    assert html.count('class="field-error"') >= 3  # the file, the label, the date
    damaged = _upload(legal, b"PK\x03\x04 not a document", "cgv.docx")
    assert damaged.status_code == 422
    assert "document Word (.docx) lisible" in damaged.get_data(as_text=True)
    assert count(app, CgvPreview) == 0 and count(app, CgvVersion) == 0


def _unrendered_preview(app: Flask) -> CgvPreview:
    with transaction(runtime(app).session_factory) as session:
        return create_preview(
            session,
            CgvDraft(
                label="9.0",
                title="CGV",
                effective_date=date(2024, 1, 1),
                body_markdown="# CGV\n\n## Article 1. Objet\n\nLe service.\n",
                summary="",
                kind=VersionKind.MINOR,
            ),
            source=SourceFormat.MARKDOWN,
            filename=None,
            now=utcnow(),
        )


def test_only_the_previewed_and_rendered_text_is_published(app: Flask) -> None:
    preview = _unrendered_preview(app)
    legal = login_as(app, Role.LEGAL)
    url = f"/cgv/apercus/{preview.id}"
    html = legal.get(url).get_data(as_text=True)
    assert 'id="preview-pending"' in html and "cgv-preview.js" in html
    assert legal.get(f"{url}/etat").get_json() == {"rendered": False}
    assert legal.get(f"{url}.pdf").status_code == 409
    csrf = csrf_from(html)
    not_ready = legal.post(f"{url}/publier", data={"csrf_token": csrf, "sha256": preview.sha256})
    assert not_ready.status_code == 409
    with transaction(runtime(app).session_factory) as session:
        session.get_one(CgvPreview, preview.id).rendered_at = utcnow()
    stale = legal.post(f"{url}/publier", data={"csrf_token": csrf, "sha256": "0" * 64})
    assert stale.status_code == 409 and count(app, CgvVersion) == 0
    forged = legal.post(f"{url}/publier", data={"sha256": preview.sha256})  # no CSRF token
    assert forged.status_code == 400 and count(app, CgvVersion) == 0
    assert login_as(app, Role.SALES).get(url).status_code == 403


@pytest.mark.committed_db  # twenty requests, each on its own connection
def test_twenty_clicks_on_publish_publish_once(app: Flask) -> None:
    preview = _unrendered_preview(app)
    with transaction(runtime(app).session_factory) as session:
        session.get_one(CgvPreview, preview.id).rendered_at = utcnow()
    # one login (the login form is rate-limited), its session in twenty browsers: the same
    # user clicking twenty times, or twenty tabs
    legal = login_as(app, Role.LEGAL)
    page = legal.get(f"/cgv/apercus/{preview.id}").get_data(as_text=True)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = legal.get_cookie(name)  # read after the page: it holds the form's CSRF secret
    assert cookie is not None
    browsers = []
    for _ in range(20):
        browser = app.test_client()
        browser.set_cookie(name, cookie.value)
        browsers.append((browser, csrf_from(page)))

    def click(n: int) -> TestResponse:
        browser, csrf = browsers[n]
        return browser.post(
            f"/cgv/apercus/{preview.id}/publier",
            data={"csrf_token": csrf, "sha256": preview.sha256},
        )

    answers = run_together(len(browsers), click)
    assert len(answers) == 20
    assert all(a.status_code == 302 for a in answers), [
        (a.status_code, a.get_data(as_text=True)[-300:]) for a in answers
    ]
    assert len({a.headers["Location"] for a in answers}) == 1
    assert count(app, CgvVersion) == 1
    assert count(app, AuditEvent, AuditEvent.action == "cgv.published") == 1


def test_the_sweep_renders_a_preview_whose_job_was_lost(app: Flask) -> None:
    preview = _unrendered_preview(app)  # no job was ever enqueued for it
    c = runtime(app).collaborators(preview.created_at)
    assert workflow.sweep(c).previews == []  # its job may still be on its way
    later = dataclasses.replace(c, now=preview.created_at + CLAIM_LEASE + timedelta(minutes=1))
    assert workflow.sweep(later).previews == [preview.id]
    workflow.render_preview(later, preview.id)
    workflow.render_preview(later, preview.id)  # a second run finds it done
    assert workflow.sweep(later).previews == []
    with session_of(app) as session:
        rendered = session.get_one(CgvPreview, preview.id)
        assert rendered.rendered_at == later.now and rendered.pdf is not None
        assert rendered.pdf.startswith(b"%PDF-")
