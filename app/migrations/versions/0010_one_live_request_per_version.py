"""one live signature request per contract version: a partial unique index

Two parallel sends of one version (a double-click) used to create two requests. At most one
request per version may be draft, sent, partially signed or completed; declined, expired and
cancelled ones free the version for a new send.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('draft', 'sent', 'partially_signed', 'completed')"


def upgrade() -> None:
    # An instance that met the race has duplicates: say which, rather than fail on the index.
    # Which of two requests stands is a decision for the vendor (cancel the other one), never
    # one for a migration: both may carry signatures.
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT contract_version_id, COUNT(*) FROM signature_requests "
                f"WHERE {LIVE} GROUP BY contract_version_id HAVING COUNT(*) > 1"
            )
        )
        .all()
    )
    if duplicates:
        listed = ", ".join(f"version {v} ({n} demandes)" for v, n in duplicates)
        raise RuntimeError(
            "Plusieurs demandes de signature en cours ou signées pour une même version de "
            f"contrat : {listed}. Annulez les demandes en trop depuis la page du contrat "
            "(une demande déjà signée ne s'annule pas : décidez laquelle fait foi avec le "
            "client), puis relancez la mise à jour."
        )
    with op.batch_alter_table("signature_requests", schema=None) as batch_op:
        batch_op.create_index(
            "uq_signature_requests_live_version",
            ["contract_version_id"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )


def downgrade() -> None:
    with op.batch_alter_table("signature_requests", schema=None) as batch_op:
        batch_op.drop_index("uq_signature_requests_live_version")
