"""HTML to PDF with WeasyPrint, behind a URL fetcher that serves only bundled assets.

Documents reference their assets (fonts, logo, stylesheets) relative to a base URL on the
reserved ``.invalid`` domain (RFC 2606: it can never resolve), e.g.
``url("fonts/LiberationSans-Regular.ttf")`` with ``base_url=ASSETS_BASE_URL``. The fetcher
maps that URL prefix to ``assets_dir`` and refuses everything else (``file:``, ``http(s):``
elsewhere, ``data:``, ``local()`` fonts, paths escaping the folder, unknown file types) by
raising: the rendering stops, a document never silently lacks a resource nor reads a file
or the network on a template's say.

Determinism: the PDF's dates come from the HTML's ``dcterms.created``/``dcterms.modified``
metadata (the caller's "generated at"), never from the clock; WeasyPrint derives the file
identifier from the content. The same HTML therefore gives the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from app.rendering.errors import ForbiddenResourceError, RenderingError
from app.rendering.geometry import Rect

ASSETS_BASE_URL = "https://assets.paraphe.invalid/"
"""The base URL documents use for their bundled assets."""

ASSET_TYPES: dict[str, str] = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
"""File types the fetcher serves, by suffix, with the media type it announces."""

MAX_ASSET_BYTES = 20 * 1024 * 1024

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchAttempt:
    """One resource WeasyPrint asked for, and what the fetcher did."""

    url: str
    served: bool
    reason: str


class AssetFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only files under ``assets_dir``, at ``base_url``.

    Subclassing ``URLFetcher`` is WeasyPrint's documented way to plug a fetcher.

    ``fail_on_errors=True``: a refusal stops the rendering instead of leaving a hole.
    WeasyPrint swallows even that in a few places (inline SVG), so refusals are also kept
    in ``refusals`` for ``render_pdf`` to check afterwards. Every attempt is appended to
    ``log`` when one is given (audit, tests).
    """

    def __init__(
        self, base_url: str, assets_dir: Path, log: list[FetchAttempt] | None = None
    ) -> None:
        # No protocol allowed: even a call reaching urllib's opener by mistake is refused.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=True)
        base = urlsplit(base_url)
        if base.scheme != "https" or not base.netloc or not base.path.endswith("/"):
            raise ValueError(f"base_url doit être https://hôte/chemin/ : {base_url!r}")
        if base.query or base.fragment:
            raise ValueError(f"base_url sans requête ni fragment : {base_url!r}")
        self._base = base
        self._root = assets_dir.resolve(strict=True)
        if not self._root.is_dir():
            raise ValueError(f"assets_dir n'est pas un dossier : {assets_dir}")
        self._log = log
        self.refusals: list[ForbiddenResourceError] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            path = self._resolve(url)
            body = path.read_bytes()
        except ForbiddenResourceError as exc:
            self.refusals.append(exc)
            self._record(url, served=False, reason=exc.reason)
            logger.warning("ressource refusée au rendu PDF : %.200r (%s)", url, exc.reason)
            raise
        self._record(url, served=True, reason=str(path.relative_to(self._root)))
        return URLFetcherResponse(url, body, {"Content-Type": ASSET_TYPES[path.suffix.lower()]})

    def _record(self, url: str, *, served: bool, reason: str) -> None:
        if self._log is not None:
            self._log.append(FetchAttempt(url=url, served=served, reason=reason))

    def _resolve(self, url: str) -> Path:
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise ForbiddenResourceError(url, "URL invalide") from exc
        if (parts.scheme.lower(), parts.netloc.lower()) != (
            self._base.scheme,
            self._base.netloc.lower(),
        ):
            raise ForbiddenResourceError(url, "hors des ressources du document")
        if parts.query:
            raise ForbiddenResourceError(url, "requête interdite")
        if not parts.path.startswith(self._base.path):
            raise ForbiddenResourceError(url, "hors du dossier des ressources")
        relative = unquote(parts.path[len(self._base.path) :])
        pure = PurePosixPath(relative)
        if (
            not relative
            or "\x00" in relative
            or "\\" in relative
            or pure.is_absolute()
            or any(part in ("..", ".") for part in pure.parts)
        ):
            raise ForbiddenResourceError(url, "chemin interdit")
        candidate = (self._root / pure).resolve()
        if not candidate.is_relative_to(self._root):
            raise ForbiddenResourceError(url, "chemin hors du dossier des ressources")
        if candidate.suffix.lower() not in ASSET_TYPES:
            raise ForbiddenResourceError(url, "type de fichier non servi")
        if not candidate.is_file():
            raise ForbiddenResourceError(url, "fichier absent")
        if candidate.stat().st_size > MAX_ASSET_BYTES:
            raise ForbiddenResourceError(url, "fichier trop gros")
        return candidate


def render_pdf(
    html: str,
    *,
    base_url: str,
    assets_dir: Path,
    pdf_variant: str | None = "pdf/a-3b",
    fetch_log: list[FetchAttempt] | None = None,
    last_page_boxes: Mapping[str, Rect] | None = None,
) -> bytes:
    """Render ``html`` to PDF bytes; resources come only from ``assets_dir`` via ``base_url``.

    ``pdf_variant`` is a WeasyPrint variant (``"pdf/a-3b"`` by default: archivable, and
    PDF/A-3 is what Factur-X builds on), or ``None`` for a plain PDF. ``fetch_log`` receives
    every resource request. ``last_page_boxes`` maps element ids to the rectangle (PDF
    points, bottom-left origin) their border box must occupy on the LAST page; checked after
    layout, so a template that moves a signature frame fails instead of misplacing a field.
    Raises ``ForbiddenResourceError`` when the document asks for anything else,
    ``RenderingError`` for any other failure.
    """
    with _rendering_errors():
        document = layout_pdf(
            html,
            base_url=base_url,
            assets_dir=assets_dir,
            pdf_variant=pdf_variant,
            fetch_log=fetch_log,
        )
    return write_document(document, pdf_variant=pdf_variant, last_page_boxes=last_page_boxes)


@contextmanager
def _rendering_errors() -> Iterator[None]:
    """Turn whatever WeasyPrint raises into ``RenderingError`` (its cause kept)."""
    try:
        yield
    except RenderingError:
        raise
    except FatalURLFetchingError as exc:
        cause = exc.__cause__
        if isinstance(cause, RenderingError):
            raise cause from exc
        raise RenderingError(f"ressource du document inaccessible : {exc}") from exc
    except Exception as exc:
        raise RenderingError(f"échec du rendu PDF : {type(exc).__name__}: {exc}") from exc


def layout_pdf(
    html: str,
    *,
    base_url: str,
    assets_dir: Path,
    pdf_variant: str | None = "pdf/a-3b",
    fetch_log: list[FetchAttempt] | None = None,
    extra_css: str | None = None,
    reuse_style: bool = False,
) -> Any:
    """Lay ``html`` out: a WeasyPrint ``Document`` whose pages can be reused or combined.

    Same fetcher and same refusals as ``render_pdf``. ``extra_css``: a stylesheet of the
    service's own (never template input) applied after the document's. ``reuse_style``: the
    document's one ``<style>`` block is parsed once per thread and reused (see
    ``_parsed_style``).
    """
    fetcher = AssetFetcher(base_url, assets_dir, fetch_log)
    with _rendering_errors():
        font_config = font_configuration(assets_dir)
        stylesheets = (
            [CSS(string=extra_css, url_fetcher=fetcher, font_config=font_config)]
            if extra_css
            else []
        )
        if reuse_style:
            html, parsed = _parsed_style(html, base_url, assets_dir, fetcher, font_config)
            if parsed is not None:
                stylesheets.insert(0, parsed)
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            pdf_variant=pdf_variant, stylesheets=stylesheets, font_config=font_config
        )
    if fetcher.refusals:
        raise fetcher.refusals[0]
    return document


_fonts = threading.local()


def font_configuration(assets_dir: Path) -> FontConfiguration:
    """The thread's WeasyPrint font configuration for the fonts of ``assets_dir``.

    WeasyPrint otherwise builds a new one per document: every ``@font-face`` font is fetched,
    copied to a temporary folder and registered with Fontconfig again, for each contract.
    Kept per thread (Fontconfig objects are not shared between threads) and per assets
    folder, since WeasyPrint keys a loaded font by its ``@font-face`` rule, whose URLs are
    the same base URL for every assets folder.
    """
    per_thread: dict[Path, FontConfiguration] | None = getattr(_fonts, "configs", None)
    if per_thread is None:
        per_thread = _fonts.configs = {}
    key = assets_dir.resolve()
    config = per_thread.get(key)
    if config is None:
        config = per_thread[key] = FontConfiguration()
    return config


_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)
STYLE_CACHE_SIZE = 8


def _parsed_style(
    html: str, base_url: str, assets_dir: Path, fetcher: AssetFetcher, font_config: Any
) -> tuple[str, Any | None]:
    """``html`` without its stylesheet, and that stylesheet parsed, from this thread's cache.

    Every contract of a template carries the same ``<style>`` block (the template's CSS and
    the page geometry): WeasyPrint would parse it, and register its ``@font-face`` fonts,
    for each one. Only a document with exactly one ``<style>`` block is handled: the sheet
    then passes as a user stylesheet, which, with no other author sheet in the document,
    cascades as it did (it still overrides the user-agent defaults; the template's few
    ``!important`` declarations only get stronger). Text from data never reaches this:
    Jinja escapes ``<`` everywhere, so a ``<style>`` seen here is the template's.
    """
    blocks = _STYLE_BLOCK.findall(html)
    if len(blocks) != 1 or "<link" in html:
        return html, None
    key = (hashlib.sha256(blocks[0].encode("utf-8")).hexdigest(), base_url, assets_dir.resolve())
    cache: OrderedDict[Any, Any] | None = getattr(_fonts, "styles", None)
    if cache is None:
        cache = _fonts.styles = OrderedDict()
    parsed = cache.get(key)
    if parsed is None:
        parsed = CSS(
            string=blocks[0], base_url=base_url, url_fetcher=fetcher, font_config=font_config
        )
        cache[key] = parsed
        while len(cache) > STYLE_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return _STYLE_BLOCK.sub("", html, count=1), parsed


def clear_font_configurations() -> None:
    """Forget this thread's loaded fonts and parsed stylesheets: the next document fetches
    them again (tests)."""
    _fonts.configs = {}
    _fonts.styles = OrderedDict()


def write_document(
    document: Any,
    *,
    pdf_variant: str | None = "pdf/a-3b",
    last_page_boxes: Mapping[str, Rect] | None = None,
    also_fetched_by: Sequence[Any] = (),
) -> bytes:
    """Write a laid-out ``Document`` (see ``layout_pdf``) as PDF bytes, checking
    ``last_page_boxes`` on its last page first (see ``render_pdf``).

    ``also_fetched_by``: the URL fetchers of other documents whose pages ``document`` reuses.
    """
    with _rendering_errors():
        if last_page_boxes:
            _check_last_page_boxes(document, last_page_boxes)
        pdf = document.write_pdf(pdf_variant=pdf_variant)
    # Some resources (inline SVG images) are fetched while painting, and WeasyPrint swallows
    # the refusal there: the fetchers of every laid-out document used are checked again.
    for fetcher in (document.url_fetcher, *also_fetched_by):
        if isinstance(fetcher, AssetFetcher) and fetcher.refusals:
            raise fetcher.refusals[0]
    if not isinstance(pdf, bytes):
        raise RenderingError("WeasyPrint n'a pas produit de PDF")
    return pdf


_PT_PER_PX = 0.75  # WeasyPrint lays out in CSS pixels (1/96 in); PDF points are 1/72 in
BOX_TOLERANCE_PT = 0.05


def _check_last_page_boxes(document: Any, expected: Mapping[str, Rect]) -> None:
    last = document.pages[-1]
    page_height = last.height * _PT_PER_PX
    for element_id, rect in expected.items():
        found = last.anchors.get(element_id)
        if found is None:
            raise RenderingError(f"élément #{element_id} absent de la dernière page")
        x1, top, x2, bottom = (v * _PT_PER_PX for v in found)
        actual = (x1, page_height - bottom, x2, page_height - top)
        if any(abs(a - b) > BOX_TOLERANCE_PT for a, b in zip(actual, rect, strict=True)):
            shown = tuple(round(v, 2) for v in actual)
            raise RenderingError(f"élément #{element_id} en {shown} au lieu de {rect}")
