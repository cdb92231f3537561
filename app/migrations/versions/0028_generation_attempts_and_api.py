"""contract_generations: asked through the API (a token, a countersigner) and given up after
repeated render failures (issues 14, 15)

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-05 11:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('countersigner_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('countersigner_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('render_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_contract_generations_token_id_api_tokens'), 'api_tokens', ['token_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_contract_generations_asked_by_a_user_or_a_token'), '(author_id IS NULL) <> (token_id IS NULL)')


def downgrade() -> None:
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_contract_generations_asked_by_a_user_or_a_token'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_contract_generations_token_id_api_tokens'), type_='foreignkey')
        batch_op.drop_column('render_attempts')
        batch_op.drop_column('countersigner_email')
        batch_op.drop_column('countersigner_name')
        batch_op.drop_column('token_id')
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=False)
