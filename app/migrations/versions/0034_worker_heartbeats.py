"""worker_heartbeats: each `paraphe worker` process says it is alive every few seconds, so that
`/sante` and the staff pages can tell when no worker runs the background jobs

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'worker_heartbeats',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('hostname', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_heartbeats')),
        sa.UniqueConstraint('hostname', 'pid', name=op.f('uq_worker_heartbeats_hostname_pid')),
    )
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_worker_heartbeats_last_seen'), ['last_seen'], unique=False
        )


def downgrade() -> None:
    op.drop_table('worker_heartbeats')
