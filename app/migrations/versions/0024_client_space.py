"""client space: billing contacts, invoices by mail, sign-in links and sessions (issue 18)

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-05 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not batch mode: batch mode rebuilds `clients` on SQLite, and dropping
    # the old table fails on an instance with data (other tables reference it).
    op.add_column('clients', sa.Column('send_invoices_by_email', sa.Boolean(), server_default=sa.true(), nullable=False))

    op.create_table('billing_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_billing_contacts_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_contacts')),
    sa.UniqueConstraint('client_id', 'email', name=op.f('uq_billing_contacts_client_id_email'))
    )
    with op.batch_alter_table('billing_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_contacts_client_id'), ['client_id'], unique=False)

    op.create_table('client_space_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_space_links_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_space_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_client_space_links_token_hash'))
    )
    with op.batch_alter_table('client_space_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_space_links_client_id'), ['client_id'], unique=False)

    op.create_table('client_space_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_space_sessions_client_id_clients')),
    sa.ForeignKeyConstraint(['link_id'], ['client_space_links.id'], name=op.f('fk_client_space_sessions_link_id_client_space_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_space_sessions')),
    sa.UniqueConstraint('link_id', name=op.f('uq_client_space_sessions_link_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_client_space_sessions_token_hash'))
    )
    with op.batch_alter_table('client_space_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_space_sessions_client_id'), ['client_id'], unique=False)


def downgrade() -> None:
    op.drop_table('client_space_sessions')
    op.drop_table('client_space_links')
    op.drop_table('billing_contacts')
    op.drop_column('clients', 'send_invoices_by_email')  # SQLite ≥ 3.35 drops it in place
