"""clients.revision: the record's version counter, bumped by every change, so that an edit
started from an older reading (a form left open, a CRM's stale copy) is refused instead of
silently overwriting the change made meanwhile

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing client starts at 1, the value a new one is inserted with.
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('revision', sa.Integer(), server_default='1', nullable=False)
        )


def downgrade() -> None:
    # Not in batch mode: on SQLite it rebuilds the table, and dropping `clients` (which other
    # tables reference) fails with foreign keys on. SQLite >= 3.35 drops a column in place.
    op.drop_column('clients', 'revision')
