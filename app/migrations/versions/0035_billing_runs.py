"""billing_runs: a period's due invoices issued from the plans page by a background job, its
progress and report; one open run per period (a double click joins it)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0035'
down_revision: str | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "finished_at IS NULL"


def upgrade() -> None:
    op.create_table(
        'billing_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'queued', 'running', 'done',
                name='billingrunstatus', native_enum=False, length=24,
            ),
            nullable=False,
        ),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('issued_numbers', sa.JSON(), nullable=False),
        sa.Column('already_billed', sa.Integer(), nullable=False),
        sa.Column('nothing_due', sa.Integer(), nullable=False),
        sa.Column('refused', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['users.id'], name=op.f('fk_billing_runs_requested_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_runs')),
    )
    with op.batch_alter_table('billing_runs', schema=None) as batch_op:
        batch_op.create_index(
            'uq_billing_runs_open_period',
            ['period'],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table('billing_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_billing_runs_open_period')
    op.drop_table('billing_runs')
