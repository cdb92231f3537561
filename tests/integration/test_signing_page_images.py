"""The signing page shows the contract as page images rendered once per document by a job
(`signatures.page_images`, pdftoppm), never in the request: the steps in order (code, read,
consent, sign), the images lazy-loaded and as wide as the screen, a PDF link always; while the
images are not ready the page says so. Twenty renders at once record one set of pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from weasyprint import HTML

from app.archive.purge import purge_document
from app.archive.services.scrub import referenced_blobs
from app.config import Settings
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.signatures import page_images
from app.signatures.models import PageImage
from tests.conftest import csrf_from
from tests.factories import count, make_contracted_client, publish_short_cgv
from tests.factories.db import session_of
from tests.factories.documents import deposit_file
from tests.integration.helpers import (
    last_code,
    remove_blob_behind_the_store,
    send_from_sales_page,
)
from tests.integration.worker_process import queued_settings, running_worker, wait_until
from tests.together import PARALLEL, at_once


def _send(app: Flask) -> tuple[int, str]:
    """A contract sent through the sales page: (its document id, the signer's link)."""
    publish_short_cgv(app)
    return send_from_sales_page(app, make_contracted_client(app).contract_id)


def test_the_signing_page_shows_the_steps_and_the_pages_as_images(app: Flask) -> None:
    document_id, link = _send(app)
    with session_of(app) as session:
        pages = page_images.pages_of(session, document_id)
        assert len(pages) >= 2 and [p.page for p in pages] == list(range(1, len(pages) + 1))
        assert all(p.width == page_images.WIDTH and p.height > p.width for p in pages)

    signer: FlaskClient = app.test_client()
    html = signer.get(link).get_data(as_text=True)
    # who asks, then the steps in order: code, read, consent, sign
    assert "<strong>Éditeur Démo SAS</strong> vous invite à signer ce contrat" in html
    positions = [html.index(s) for s in (">1. Vérifier votre identité<", ">2. Lire le contrat<")]
    assert positions == sorted(positions)
    assert html.index("Recevoir un code par e-mail") < html.index('id="pages"')
    assert f'href="{link}/contrat.pdf"' in html and "<iframe" not in html
    assert f'src="{link}/pages/1.png"' in html
    assert html.count('loading="lazy"') == len(pages) - 1  # all but the first
    assert f'alt="Page 2 sur {len(pages)} du contrat' in html
    image = signer.get(f"{link}/pages/1.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG") and "private" in image.headers["Cache-Control"]
    assert signer.get(f"{link}/pages/{len(pages) + 1}.png").status_code == 404
    assert app.test_client().get("/signature/inconnu/pages/1.png").status_code in {404, 410}

    # after the code, the consent and the sign button follow the document
    signer.post(f"{link}/code", data={"csrf_token": csrf_from(html)})
    code = last_code(app.extensions["paraphe"].settings.outbox_dir, "zoe@example.fr")
    signer.post(f"{link}/verifier", data={"csrf_token": csrf_from(html), "code": code})
    html = signer.get(link).get_data(as_text=True)
    assert "Identité vérifiée" in html
    steps = [html.index(s) for s in ('id="pages"', "<h2>3. Consentement", "<h2>4. Signer")]
    assert steps == sorted(steps)
    done = signer.post(
        link, data={"csrf_token": csrf_from(html), "accept_cgv": "oui", "agree": "oui"}
    )
    page = signer.get(done.headers["Location"]).get_data(as_text=True)
    # the only signer: sealed inline at once, the page says where the signed copy went
    assert "Télécharger le contrat signé" in page
    # the one French `de` helper (a filter: its apostrophe is escaped, as any text is)
    assert "reçu à zoe@example.fr un e-mail d'Éditeur Démo SAS" in unescape(page)

    # the job again (a retry, the sweep): the pages are there, nothing more is recorded
    rt = app.extensions["paraphe"]
    before = count(app, PageImage)
    assert page_images.render(rt.session_factory, rt.store, document_id, now=utcnow()) == len(pages)
    assert count(app, PageImage) == before


def test_a_lost_page_image_is_a_503_and_the_pdf_stays(app: Flask) -> None:
    document_id, link = _send(app)
    rt = app.extensions["paraphe"]
    with session_of(app) as session:
        first = page_images.pages_of(session, document_id)[0]
    remove_blob_behind_the_store(rt, first.sha256)
    signer = app.test_client()
    assert signer.get(f"{link}/pages/1.png").status_code == 503
    assert signer.get(f"{link}/contrat.pdf").status_code == 200


@pytest.mark.committed_db
@pytest.mark.real_clock
def test_until_a_worker_renders_the_pages_the_page_offers_the_pdf(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    queued = queued_settings("sqlite", settings, tmp_path)
    app = make_app(queued)
    document_id, link = _send(app)  # the job waits in the broker: no worker yet
    html = app.test_client().get(link).get_data(as_text=True)
    assert 'id="pages-pending"' in html and "en cours de préparation" in html
    assert f'href="{link}/contrat.pdf"' in html and 'id="pages"' not in html
    # The page asks for the pages itself (pages-status.js); without JavaScript, a reload link.
    assert f'data-url="{link}/pages"' in html and "pages-status.js" in html
    assert f'<noscript>Ou <a href="{link}">actualisez la page</a>' in html
    waiting = app.test_client().get(f"{link}/pages")
    assert waiting.status_code == 204 and waiting.get_data() == b""
    assert waiting.headers["Cache-Control"] == "no-store"

    with running_worker(queued, periodic=False):
        wait_until(lambda: count(app, PageImage, PageImage.document_id == document_id) > 0, queued)
    html = app.test_client().get(link).get_data(as_text=True)
    assert 'id="pages"' in html and 'id="pages-pending"' not in html
    assert "data-url=" not in html and "pages-status.js" not in html  # nothing left to wait for
    ready = app.test_client().get(f"{link}/pages")
    fragment = ready.get_data(as_text=True)
    assert ready.status_code == 200 and ready.mimetype == "text/html"
    assert 'id="pages"' in fragment and f'src="{link}/pages/1.png"' in fragment
    assert "<html" not in fragment and "<script" not in fragment  # the pages alone
    assert app.test_client().get("/signature/inconnu/pages").status_code == 404


@pytest.mark.committed_db
def test_twenty_renders_at_once_record_one_set_of_pages(app: Flask) -> None:
    pdf = HTML(string="<p>Première page</p><p style='break-before:page'>Seconde</p>").write_pdf()
    document = deposit_file(app, None, DocumentKind.CONTRACT, "CTR-PAGES", data=pdf)
    rt = app.extensions["paraphe"]

    renders = at_once(
        lambda: page_images.render(rt.session_factory, rt.store, document.id, now=utcnow())
    )
    assert renders == [2] * PARALLEL
    with session_of(app) as session:
        rows = session.scalars(select(PageImage).where(PageImage.document_id == document.id))
        assert sorted(r.page for r in rows) == [1, 2]


def test_the_purge_of_a_document_deletes_its_page_images(app: Flask) -> None:
    pdf = HTML(string="<p>Données du client</p>").write_pdf()
    document = deposit_file(
        app, None, DocumentKind.CONTRACT, "CTR-PURGE", data=pdf, retention=False
    )
    rt = app.extensions["paraphe"]
    assert page_images.render(rt.session_factory, rt.store, document.id, now=utcnow()) == 1
    with session_of(app) as session:
        [image] = page_images.pages_of(session, document.id)
        holders = referenced_blobs(session)[image.sha256]
    assert holders == [f"page 1 en image du document n° {document.id}"]  # not an orphan
    assert rt.store.exists(image.sha256)

    with transaction(rt.session_factory) as session:
        session.get_one(Document, document.id).retention_until = date(2020, 1, 1)
    with transaction(rt.session_factory) as session:
        purged = purge_document(
            session, rt.store, document.id, today=date(2021, 1, 1), now=utcnow(), actor="test"
        )
    assert purged is not None
    assert count(app, PageImage, PageImage.document_id == document.id) == 0
    assert not rt.store.exists(image.sha256)
    # a late job for the purged document renders nothing
    assert page_images.render(rt.session_factory, rt.store, document.id, now=utcnow()) == 0
