"""contract_generations: a generation asked again from its page points to the one first
asked (through the web or the API), whose choices it repeats: the countersigner the API body
named, or the rule of who countersigns, survive a retry by someone else

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_of', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contract_generations_retry_of_contract_generations'), 'contract_generations', ['retry_of'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contract_generations_retry_of_contract_generations'), type_='foreignkey')
        batch_op.drop_column('retry_of')
