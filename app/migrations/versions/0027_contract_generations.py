"""contract_generations: a contract version asked for on the web, rendered by a job (issue 14)

Revision ID: 0027
Revises: 0020
Create Date: 2026-12-05 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status = 'pending'"
PENDING_FIRST = "status = 'pending' AND first_version"


def upgrade() -> None:
    op.create_table('contract_generations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_version', sa.Boolean(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('based_on', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('clause_version_ids', sa.JSON(), nullable=False),
    sa.Column('free_text', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'done', 'failed', name='generationstatus', native_enum=False, length=24), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_contract_generations_author_id_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_generations_contract_id_contracts')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_contract_generations_quote_id_quotes')),
    sa.ForeignKeyConstraint(['version_id'], ['contract_versions.id'], name=op.f('fk_contract_generations_version_id_contract_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_generations'))
    )
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_generations_quote_id'), ['quote_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_generations_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('uq_contract_generations_pending_quote', ['quote_id'], unique=True, sqlite_where=sa.text(PENDING_FIRST), postgresql_where=sa.text(PENDING_FIRST))
        batch_op.create_index('uq_contract_generations_pending_contract', ['contract_id'], unique=True, sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))


def downgrade() -> None:
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.drop_index('uq_contract_generations_pending_contract')
        batch_op.drop_index('uq_contract_generations_pending_quote')
        batch_op.drop_index(batch_op.f('ix_contract_generations_contract_id'))
        batch_op.drop_index(batch_op.f('ix_contract_generations_quote_id'))

    op.drop_table('contract_generations')
