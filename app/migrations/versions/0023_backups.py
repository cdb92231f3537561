"""backups: each backup run (one per slot) and the encryption keys' ids and state

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-05 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum("running", "done", "failed", name="runstate", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("blobs", sa.Integer(), nullable=True),
        sa.Column("copied", sa.Integer(), nullable=True),
        sa.Column("copied_bytes", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_runs")),
        sa.UniqueConstraint("slot", name=op.f("uq_backup_runs_slot")),
    )
    op.create_table(
        "backup_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("client", "legal", "platform", name="keypurpose", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_backup_keys_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_backup_keys")),
    )


def downgrade() -> None:
    op.drop_table("backup_keys")
    op.drop_table("backup_runs")
