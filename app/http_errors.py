"""The one place where errors become HTTP responses.

API routes (under /api/) answer RFC 9457 problem+json; web routes answer an error page in
French. Field errors on web forms are handled by the forms themselves (they re-render with
messages). The domain's errors (`app.errors`) know nothing of HTTP: their status, titles and
page come from `app.error_table`. An API client whose `Accept-Language` prefers English gets
the English title, `detail` and field messages: the French sentences are `app.messages`
messages, said in English here from the catalogue (`app.translation`, loaded once when the
application is built); the field paths are the same in both languages. Web pages stay French.
"""

from __future__ import annotations

from typing import Any

from babel.support import Translations
from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from app.error_table import row_for
from app.errors import DomainError, FieldErrors, field_sentences
from app.messages import msg
from app.translation import load_english, say

_ENGLISH = "paraphe_english"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def prefers_english() -> bool:
    """French unless the client ranks English above French (by primary tag: `en-GB` is English,
    `fr-FR` French; no header, `*` or only other languages: French). Werkzeug's `best_match`
    would take an exact `en` over a preferred `fr-FR`."""
    for tag, _quality in request.accept_languages:  # highest quality first
        primary = tag.replace("_", "-").split("-")[0].lower()
        if primary in ("fr", "en", "*"):
            return primary == "en"
    return False


def _said(text: str) -> str:
    """`text` as the API client reads it: English when preferred, else the French unchanged."""
    if not prefers_english():
        return text
    english: Translations = current_app.extensions[_ENGLISH]
    return say(text, english)


def _reset_session() -> None:
    # A failed flush leaves the request's session unusable until rolled back; the error page
    # itself reads the current user through it, so roll back before rendering anything.
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def register_error_handlers(app: Flask) -> None:
    # Read once here, not per error: a broken catalogue stops the start, not an answer.
    app.extensions[_ENGLISH] = load_english()

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response | tuple[str, int]:
        _reset_session()
        row = row_for(exc)
        if _wants_problem_json():
            extra: dict[str, Any] = dict(exc.members())
            detail = _said(exc.detail)
            if isinstance(exc, FieldErrors):  # a body's or a query's: one shape for clients
                said = {field: _said(message) for field, message in exc.errors.items()}
                extra["errors"] = [{"field": f, "message": m} for f, m in said.items()]
                if prefers_english():  # the French detail lists the French messages
                    detail = field_sentences(said, colon=": ")
            title = row.title_en if prefers_english() else row.title
            return problem(row.status, title, detail, **extra)
        page = render_template(
            row.template or "error.html", title=row.title, detail=exc.detail, error=exc
        )
        return page, row.status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        _reset_session()
        status = exc.code or 500
        title = _FRENCH_TITLES.get(status, exc.name)
        detail = _french_detail(exc, title)
        # Keep what the exception says about the protocol (Allow on 405, Retry-After on 429).
        headers = Headers([(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"])
        if _wants_problem_json():
            if not prefers_english():
                response = problem(status, title, detail)
            elif detail is title:  # nothing of our own to say: Werkzeug's English says it
                response = problem(status, exc.name, type(exc).description or exc.name)
            else:
                response = problem(status, exc.name, _said(detail))
            response.headers.extend(headers)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="paraphe"'
            return response
        html = render_template("error.html", title=title, detail=detail, status=status)
        return Response(html, status=status, headers=headers, mimetype="text/html")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int]:
        _reset_session()
        # Logged with its traceback; the user sees a generic message, never internals.
        app.logger.exception("Erreur inattendue sur %s %s", request.method, request.path)
        detail = msg("Une erreur interne est survenue. Elle a été journalisée.")
        if _wants_problem_json():
            title = "Internal error" if prefers_english() else "Erreur interne"
            return problem(500, title, _said(detail))
        return render_template("error.html", title="Erreur interne", detail=detail), 500


def _french_detail(exc: HTTPException, title: str) -> str:
    """Our own messages are French; Werkzeug's and Flask-WTF's defaults are replaced."""
    if isinstance(exc, CSRFError):
        return msg(
            "Le formulaire n'est plus valide (jeton de sécurité absent ou expiré). "
            "Rechargez la page et recommencez."
        )
    if isinstance(exc, RateLimitExceeded) and not exc.limit.error_message:
        # Flask-Limiter's own description is the limit itself ("10 per 1 minute").
        return _FRENCH_DETAILS[429]
    description = exc.description or ""
    if not description or description == type(exc).description:
        return _FRENCH_DETAILS.get(exc.code or 500, title)
    return description


_FRENCH_DETAILS = {
    400: msg("La requête est mal formée."),
    401: msg("Authentifiez-vous pour accéder à cette ressource."),
    403: msg("Vous n'avez pas accès à cette ressource."),
    404: msg("L'adresse demandée n'existe pas."),
    405: msg("Cette méthode n'est pas acceptée à cette adresse."),
    413: msg("Le contenu envoyé est trop volumineux."),
    415: msg("Ce type de contenu n'est pas pris en charge."),
    416: msg("La plage d'octets demandée (Range) est hors du document."),
    429: msg("Trop de tentatives : patientez un moment avant de réessayer."),
}

_FRENCH_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    410: "Lien expiré ou déjà utilisé",
    413: "Contenu trop volumineux",
    415: "Type de contenu non pris en charge",
    416: "Plage non satisfaisable",
    422: "Données invalides",
    429: "Trop de tentatives",
}
