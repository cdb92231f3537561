"""cgv previews

Revision ID: 0026
Revises: 0020
Create Date: 2026-12-05 10:20:30.660691
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0026'
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cgv_previews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('minor', 'material', name='versionkind', native_enum=False, length=24), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_format', sa.String(length=10), nullable=False),
    sa.Column('source_filename', sa.String(length=255), nullable=True),
    sa.Column('late_interest_rule', sa.Enum('ecb_plus_10', 'three_times_legal', name='lateinterestrule', native_enum=False, length=24), nullable=True),
    sa.Column('penalty_article', sa.String(length=200), nullable=True),
    sa.Column('recovery_indemnity', app.db.Amount(precision=14, scale=4), nullable=False),
    sa.Column('penalties_from_text', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('rendered_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('render_error', sa.Text(), nullable=True),
    sa.Column('published_version_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cgv_previews_created_by_id_users')),
    sa.ForeignKeyConstraint(['published_version_id'], ['cgv_versions.id'], name=op.f('fk_cgv_previews_published_version_id_cgv_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cgv_previews')),
    sa.UniqueConstraint('published_version_id', name=op.f('uq_cgv_previews_published_version_id'))
    )


def downgrade() -> None:
    op.drop_table('cgv_previews')
