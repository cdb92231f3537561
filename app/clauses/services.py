"""The clause library: versioned clauses, rendered with the quote's values in the sandbox."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime

from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clauses import rules
from app.clauses.errors import ClauseInvalid, ClauseNotFound
from app.clauses.models import Clause, ClauseVersion
from app.messages import msg
from app.rendering.errors import RenderingError, TemplateSecurityError
from app.rendering.jinja import make_text_environment, render_string


@functools.cache
def _environment() -> SandboxedEnvironment:
    return make_text_environment()


def render_body(body: str, context: Mapping[str, str]) -> str:
    """The clause text with its placeholders filled; ``ClauseInvalid`` when it cannot be."""
    unknown = {k for k in context if k not in rules.PLACEHOLDERS}
    if unknown:
        raise ValueError(f"champs hors liste blanche : {sorted(unknown)}")
    literal = {name: rules.markdown_literal(value) for name, value in context.items()}
    try:
        return render_string(_environment(), body, literal)
    except TemplateSecurityError as exc:
        raise ClauseInvalid(
            {"body_markdown": msg("Ce texte tente d'accéder à des éléments interdits : refusé.")}
        ) from exc
    except RenderingError as exc:
        names = ", ".join(f"{{{{ {name} }}}}" for name in rules.PLACEHOLDERS)
        raise ClauseInvalid(
            {
                "body_markdown": (
                    msg(
                        "Champ inconnu ou syntaxe invalide ({exc}). Champs disponibles : {names}.",
                        exc=exc,
                        names=names,
                    )
                )
            }
        ) from exc


def _check(title: str, body: str) -> None:
    if problems := rules.clause_problems(title, body):
        raise ClauseInvalid(problems)
    render_body(body, rules.SAMPLE_CONTEXT)  # fails closed before anything is saved


def _wording(
    number: int, title: str, body: str, *, author_id: int | None, now: datetime
) -> ClauseVersion:
    """Version ``number`` of a clause, its title and text as saved (trimmed): the first one
    and every revision alike."""
    return ClauseVersion(
        version=number,
        title=title.strip(),
        body_markdown=body.strip(),
        author_id=author_id,
        created_at=now,
    )


def _journal(
    session: Session, clause: Clause, action: str, number: int, *, now: datetime, actor: str
) -> None:
    """The audit entry of a clause's new version (its number is all the details say)."""
    audit.record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type="clause",
        subject_id=clause.id,
        details={"version": number},
    )


def create_clause(
    session: Session, *, title: str, body: str, now: datetime, actor: str, author_id: int | None
) -> Clause:
    _check(title, body)
    clause = Clause(created_at=now)
    clause.versions = [_wording(1, title, body, author_id=author_id, now=now)]
    session.add(clause)
    session.flush()
    _journal(session, clause, "clause.created", 1, now=now, actor=actor)
    return clause


def revise_clause(
    session: Session,
    clause: Clause,
    *,
    title: str,
    body: str,
    now: datetime,
    actor: str,
    author_id: int | None,
) -> ClauseVersion:
    """A new version when the wording changed; the current one when it did not."""
    _check(title, body)
    latest = clause.latest
    if latest.title == title.strip() and latest.body_markdown == body.strip():
        return latest
    version = _wording(latest.version + 1, title, body, author_id=author_id, now=now)
    version.clause_id = clause.id
    session.add(version)
    session.flush()
    session.refresh(clause)
    _journal(session, clause, "clause.revised", version.version, now=now, actor=actor)
    return version


def get_clause(session: Session, clause_id: int) -> Clause:
    clause = session.get(Clause, clause_id)
    if clause is None:
        raise ClauseNotFound(msg("Clause n° {clause_id} introuvable.", clause_id=clause_id))
    return clause


def get_versions(session: Session, ids: Sequence[int]) -> list[ClauseVersion]:
    """The clause versions picked for a contract, in the order given; unknown ids refused."""
    found = {
        v.id: v for v in session.scalars(select(ClauseVersion).where(ClauseVersion.id.in_(ids)))
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise ClauseNotFound(msg("Version de clause inconnue : {missing_0}.", missing_0=missing[0]))
    return [found[i] for i in ids]


def list_clauses(session: Session) -> list[Clause]:
    return list(session.scalars(select(Clause).order_by(Clause.id)).unique())
