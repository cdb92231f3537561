"""users.title: a user's capacity (« fonction »), printed when they countersign a contract;
contract_versions.countersigner_title: the countersigner's capacity as the version printed it

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0036'
down_revision: str | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=120), nullable=True))
    with op.batch_alter_table('contract_versions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('countersigner_title', sa.String(length=120), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('contract_versions', schema=None) as batch_op:
        batch_op.drop_column('countersigner_title')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('title')
