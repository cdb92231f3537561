"""EU clients: VAT numbers up to 14 characters (Netherlands, Sweden)

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-05 01:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite does not enforce VARCHAR lengths, and rebuilding `clients` (batch mode) fails
        # on an instance with data, since other tables reference it: nothing to change there.
        return
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.alter_column(
            'vat_number',
            existing_type=sa.String(length=13),
            type_=sa.String(length=14),
            existing_nullable=True,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.alter_column(
            'vat_number',
            existing_type=sa.String(length=14),
            type_=sa.String(length=13),
            existing_nullable=True,
        )
