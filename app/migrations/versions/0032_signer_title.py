"""clients, contract_versions, contract_generations: the capacity (« qualité ») of the
client's signer (« Président », « Directrice générale »...), what shows that the person who
signs may bind the company; printed on the contract next to the signer's name

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 23:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Nullable everywhere, no backfill: existing versions printed no capacity, and copying the
# client record's (empty anyway) would make a version say what its PDF does not.
TABLES = ('clients', 'contract_versions', 'contract_generations')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('signer_title', sa.String(length=120), nullable=True))


def downgrade() -> None:
    # Not in batch mode: on SQLite it rebuilds the table, and dropping `clients` (which other
    # tables reference) fails with foreign keys on. SQLite >= 3.35 drops a column in place.
    for table in reversed(TABLES):
        op.drop_column(table, 'signer_title')
