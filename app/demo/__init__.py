"""Demo data for the embedded defaults: one user per role, a CGV version, a demo client, a
catalogue, a clause and an archivist API token, then the journey through them (a quote, its
contract sent for signature: `app.demo.journey`). Idempotent; credentials are generated once
and kept in the instance folder (never in the repository), then printed at every start."""

from __future__ import annotations

import json
import os
import secrets
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, Scope, User
from app.auth.services import create_api_token, create_user
from app.clauses.models import Clause
from app.clauses.services import create_clause
from app.clients.models import Client
from app.clients.services import ClientInput, create_client
from app.config import Settings
from app.db import transaction
from app.demo.journey import DEMO_SIREN, seed_journey
from app.quotes.models import Product, ProductKind
from app.quotes.services import ProductInput, create_product
from app.runtime import Collaborators
from app.terms.models import CgvVersion, VersionKind
from app.terms.versions import CgvDraft
from app.terms.workflow import publish_version

# (address, name, role, capacity printed when the user countersigns: set at creation only,
# so a capacity the administrator changed since is kept when the seed runs again)
DEMO_USERS = (
    ("commercial@demo.paraphe.fr", "Claire Commerciale", Role.SALES, "Responsable commerciale"),
    ("juriste@demo.paraphe.fr", "Jules Juriste", Role.LEGAL, "Directeur juridique"),
    ("archiviste@demo.paraphe.fr", "Anna Archiviste", Role.ARCHIVIST, "Archiviste"),
    ("admin@demo.paraphe.fr", "Adam Admin", Role.ADMIN, "Administrateur"),
)
CGV_FILE = Path(__file__).with_name("cgv-demo.md")


DEMO_CATALOGUE = (
    ("ESSENTIEL", ProductKind.PLAN, "Abonnement Essentiel", "mois", "149.00"),
    ("PREMIUM", ProductKind.PLAN, "Abonnement Premium", "mois", "390.00"),
    ("MOD-SIGN", ProductKind.MODULE, "Module Signature électronique", "mois", "59.00"),
    ("MES", ProductKind.SETUP_FEE, "Frais de mise en service", "forfait", "1500.00"),
    ("FORM-J", ProductKind.TRAINING, "Journée de formation", "jour", "950.00"),
)


def seed(c: Collaborators) -> list[str]:
    """The demo data, each part only if missing; the CGV is published with its PDF/A."""
    with transaction(c.session_factory) as session:
        lines = _seed_records(session, c.settings, now=c.now)
    draft = CgvDraft(
        label="1.0",
        title="Conditions générales de vente",
        effective_date=date(2026, 1, 1),
        body_markdown=CGV_FILE.read_text(encoding="utf-8"),
        summary="Version initiale",
        kind=VersionKind.MATERIAL,
    )
    with transaction(c.session_factory) as session:
        missing = session.scalar(select(CgvVersion).limit(1)) is None
    if missing:
        publish_version(c, draft, actor="demo")
    # After the CGV: the contract prints the version in force.
    return lines + seed_journey(c)


def _seed_records(session: Session, settings: Settings, *, now: datetime) -> list[str]:
    path = settings.instance_dir / "demo-credentials.json"
    credentials: dict[str, str] = (
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    )
    changed = False
    for email, name, role, title in DEMO_USERS:
        if session.scalar(select(User).where(User.email == email)) is None:
            password = secrets.token_urlsafe(12)
            create_user(
                session,
                email=email,
                full_name=name,
                role=role,
                password=password,
                now=now,
                actor="demo",
                title=title,
            )
            credentials[email] = password
            changed = True
    if "api_token" not in credentials:
        _token, plaintext = create_api_token(
            session,
            name="démo archiviste",
            scopes=[Scope.READ, Scope.RESTITUTION],
            now=now,
            actor="demo",
        )
        credentials["api_token"] = plaintext
        changed = True
    if changed:
        _write_private(path, json.dumps(credentials, indent=2))
    if session.scalar(select(Client).limit(1)) is None:
        create_client(
            session,
            ClientInput(
                legal_name="Cabinet Exemple & Associés",
                siren=DEMO_SIREN,
                vat_number=f"FR96{DEMO_SIREN}",
                address="3 place de la Bourse",
                postal_code="69002",
                city="Lyon",
                signer_name="Élodie Martin-Ngô",
                signer_email="elodie.martin@example.fr",
                signer_title="Associée gérante",
            ),
            actor="demo",
            now=now,
        )
    if session.scalar(select(Product).limit(1)) is None:
        for code, kind, name, unit, price in DEMO_CATALOGUE:
            create_product(
                session,
                ProductInput(code, kind, name, unit, Decimal(price), Decimal("20")),
                now=now,
                actor="demo",
            )
    if session.scalar(select(Clause).limit(1)) is None:
        create_clause(
            session,
            title="Réversibilité des données",
            body=(
                "À la fin du contrat, {{ vendor_name }} restitue à {{ client_name }} "
                "l'intégralité de ses données dans un format ouvert, sans frais, dans un délai "
                "de 30 jours."
            ),
            now=now,
            actor="demo",
            author_id=None,
        )
    lines = [f"Comptes de démonstration (mots de passe dans {path}) :"]
    for email, _name, role, _title in DEMO_USERS:
        if email in credentials:
            lines.append(f"  {role.label:<15} {email:<30} {credentials[email]}")
    lines.append(f"Jeton d'API archiviste (read, restitution) : {credentials['api_token']}")
    if settings.smtp_url is None:
        lines.append(f"Courriels sortants (fichiers .eml) : {settings.outbox_dir}")
    lines.append(f"Paraphe : {settings.base_url}")
    return lines


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
