"""The PDF engine reads nothing but the bundled assets: no file, no network, no data: URL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.rendering.errors import ForbiddenResourceError, RenderingError
from app.rendering.pdf import ASSETS_BASE_URL, AssetFetcher, FetchAttempt, render_pdf

FONT_FACE = """
<style>
@font-face { font-family: T; src: url("fonts/LiberationSans-Regular.ttf"); }
body { font-family: T; }
</style>
"""


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    root = tmp_path / "assets"
    (root / "fonts").mkdir(parents=True)
    source = Path(__file__).resolve().parents[3] / "templates/contracts/assets/fonts"
    font = (source / "LiberationSans-Regular.ttf").read_bytes()
    (root / "fonts" / "LiberationSans-Regular.ttf").write_bytes(font)
    (root / "notes.txt").write_text("pas un asset", encoding="utf-8")
    (tmp_path / "secret.css").write_text("body { color: red }", encoding="utf-8")
    return root


def test_serves_a_bundled_asset(assets: Path) -> None:
    log: list[FetchAttempt] = []
    fetcher = AssetFetcher(ASSETS_BASE_URL, assets, log)
    response = fetcher(ASSETS_BASE_URL + "fonts/LiberationSans-Regular.ttf")
    assert response.read()[:4] == b"\x00\x01\x00\x00"
    assert response.content_type == "font/ttf"
    assert log == [
        FetchAttempt(
            url=ASSETS_BASE_URL + "fonts/LiberationSans-Regular.ttf",
            served=True,
            reason="fonts/LiberationSans-Regular.ttf",
        )
    ]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://evil/x.png",
        "https://evil.example/font.ttf",
        "https://assets.paraphe.invalid.evil.example/fonts/LiberationSans-Regular.ttf",
        "data:text/css,body{color:red}",
        "ftp://evil/x",
        ASSETS_BASE_URL + "../secret.css",
        ASSETS_BASE_URL + "%2e%2e/secret.css",
        ASSETS_BASE_URL + "fonts/%2e%2e/%2e%2e/secret.css",
        ASSETS_BASE_URL + "%2Fetc%2Fpasswd",
        ASSETS_BASE_URL + "notes.txt",
        ASSETS_BASE_URL + "absent.css",
        ASSETS_BASE_URL + "fonts/LiberationSans-Regular.ttf?x=1",
        ASSETS_BASE_URL,
    ],
)
def test_refuses_everything_else(assets: Path, url: str) -> None:
    log: list[FetchAttempt] = []
    fetcher = AssetFetcher(ASSETS_BASE_URL, assets, log)
    with pytest.raises(ForbiddenResourceError):
        fetcher(url)
    assert [(a.url, a.served) for a in log] == [(url, False)]


def test_refuses_a_symlink_leaving_the_folder(assets: Path) -> None:
    os.symlink(assets.parent / "secret.css", assets / "link.css")
    with pytest.raises(ForbiddenResourceError, match="hors du dossier"):
        AssetFetcher(ASSETS_BASE_URL, assets)(ASSETS_BASE_URL + "link.css")


def test_base_url_must_be_an_https_folder(assets: Path) -> None:
    for bad in ("file:///tmp/", "https://x.invalid/no-slash", "asset:", "https://x.invalid/?q"):
        with pytest.raises(ValueError):
            AssetFetcher(bad, assets)


def test_renders_with_embedded_bundled_font(assets: Path) -> None:
    log: list[FetchAttempt] = []
    pdf = render_pdf(
        f"<html><head>{FONT_FACE}</head><body>Bonjour</body></html>",
        base_url=ASSETS_BASE_URL,
        assets_dir=assets,
        fetch_log=log,
    )
    assert pdf.startswith(b"%PDF-")
    assert [a.served for a in log] == [True]


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/passwd">',
        '<img src="http://127.0.0.1:9/x.png">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<div style="background: url(file:///etc/passwd)">x</div>',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<style>@import url("../secret.css");</style>',
        '<style>@font-face { font-family: L; src: local("DejaVu Sans"); }'
        " p { font-family: L }</style><p>x</p>",
        '<link rel="attachment" href="file:///etc/passwd">',
        '<object data="file:///etc/passwd"></object>',
        '<svg><image href="file:///etc/passwd" width="10" height="10"/></svg>',
    ],
)
def test_a_document_asking_for_anything_else_fails_closed(assets: Path, markup: str) -> None:
    log: list[FetchAttempt] = []
    with pytest.raises(RenderingError):
        render_pdf(
            f"<html><body>{markup}</body></html>",
            base_url=ASSETS_BASE_URL,
            assets_dir=assets,
            fetch_log=log,
        )
    assert log, "the refusal went through the fetcher"
    assert not any(a.served for a in log)


def test_plain_links_are_not_fetched(assets: Path) -> None:
    log: list[FetchAttempt] = []
    render_pdf(
        '<html><body><a href="http://evil/x">lien</a></body></html>',
        base_url=ASSETS_BASE_URL,
        assets_dir=assets,
        fetch_log=log,
    )
    assert log == []


def test_same_html_gives_the_same_bytes(assets: Path) -> None:
    html = (
        f"<html><head>{FONT_FACE}<title>T</title>"
        '<meta name="dcterms.created" content="2026-01-15T13:05:00Z"></head>'
        "<body>Même entrée, même PDF.</body></html>"
    )
    first = render_pdf(html, base_url=ASSETS_BASE_URL, assets_dir=assets)
    second = render_pdf(html, base_url=ASSETS_BASE_URL, assets_dir=assets)
    assert first == second


def test_plain_pdf_variant(assets: Path) -> None:
    pdf = render_pdf("<p>x</p>", base_url=ASSETS_BASE_URL, assets_dir=assets, pdf_variant=None)
    assert b"/OutputIntents" not in pdf
