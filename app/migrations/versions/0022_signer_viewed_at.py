"""signers.viewed_at: when the signer first viewed the document after entering its code (the
`signer.viewed` event is recorded once, when this is set)

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-05 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0022'
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('signers', sa.Column('viewed_at', app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signers') as batch_op:
        batch_op.drop_column('viewed_at')
