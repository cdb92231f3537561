"""signers: the consent recorded by the signing page, the signature applied by a job (issue 14)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consented_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sign_attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('sign_error', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signers', schema=None) as batch_op:
        batch_op.drop_column('sign_error')
        batch_op.drop_column('sign_attempts')
        batch_op.drop_column('consented_at')
