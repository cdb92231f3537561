"""replaced signing links: an old link after a reminder or resend says why it stopped working

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-22 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0009'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'replaced_signing_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('replaced_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            'reason',
            sa.Enum('reminder', 'resend', name='linkreplacement', native_enum=False, length=24),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ['signer_id'], ['signers.id'], name=op.f('fk_replaced_signing_links_signer_id_signers')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replaced_signing_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_replaced_signing_links_token_hash')),
    )
    with op.batch_alter_table('replaced_signing_links', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_replaced_signing_links_signer_id'), ['signer_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('replaced_signing_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replaced_signing_links_signer_id'))
    op.drop_table('replaced_signing_links')
