"""contract_versions: the client's signer as printed on the version (issue 15); a CRM may name
that signer when it asks for a generation, and a reminder cadence per signature request

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contract_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('signer_email', sa.String(length=254), nullable=True))
    # Existing versions printed their client's record as it is now: nothing changed it since
    # without this column, so the record is what their PDF shows (the best evidence left).
    op.execute(
        "UPDATE contract_versions SET "
        "signer_name = (SELECT clients.signer_name FROM contracts JOIN clients "
        "ON clients.id = contracts.client_id WHERE contracts.id = contract_versions.contract_id), "
        "signer_email = (SELECT clients.signer_email FROM contracts JOIN clients "
        "ON clients.id = contracts.client_id WHERE contracts.id = contract_versions.contract_id)"
    )
    with op.batch_alter_table('contract_versions', schema=None) as batch_op:
        batch_op.alter_column('signer_name', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('signer_email', existing_type=sa.String(length=254), nullable=False)
    with op.batch_alter_table('contract_generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('signer_email', sa.String(length=254), nullable=True))
    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_every_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    # the columns upgrade() added, dropped in the reverse order
    added = (
        ('signature_requests', ('reminder_every_days',)),
        ('contract_generations', ('signer_email', 'signer_name')),
        ('contract_versions', ('signer_email', 'signer_name')),
    )
    for table, columns in added:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_column(column)
