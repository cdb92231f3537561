"""page_images: the contract's pages as PNG blobs for the signing page

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-05 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0025'
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('page_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_page_images_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_images')),
    sa.UniqueConstraint('document_id', 'page', name=op.f('uq_page_images_document_id_page'))
    )
    with op.batch_alter_table('page_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_images_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('page_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_images_document_id'))
    op.drop_table('page_images')
