"""restitution_requests: a restitution asked for and built by a background job (issue 14)

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-05 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status = 'pending'"


def upgrade() -> None:
    op.create_table('restitution_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'ready', 'failed', name='restitutionstatus', native_enum=False, length=24), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('request_link_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('download_link_id', sa.Integer(), nullable=True),
    sa.Column('mail_sent_to', sa.String(length=254), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_restitution_requests_client_id_clients')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_restitution_requests_document_id_documents')),
    sa.ForeignKeyConstraint(['download_link_id'], ['restitution_links.id'], name=op.f('fk_restitution_requests_download_link_id_restitution_links')),
    sa.ForeignKeyConstraint(['request_link_id'], ['restitution_links.id'], name=op.f('fk_restitution_requests_request_link_id_restitution_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restitution_requests'))
    )
    with op.batch_alter_table('restitution_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restitution_requests_client_id'), ['client_id'], unique=False)
        batch_op.create_index('uq_restitution_requests_pending_client', ['client_id'], unique=True, sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))


def downgrade() -> None:
    with op.batch_alter_table('restitution_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_restitution_requests_pending_client')
        batch_op.drop_index(batch_op.f('ix_restitution_requests_client_id'))

    op.drop_table('restitution_requests')
