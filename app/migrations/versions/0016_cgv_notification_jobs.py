"""cgv notifications in the background: claims of the notification jobs, fan-out done

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 07:30:00.000000

`cgv_notifications.claimed_at`: a notification job claims its rows (a conditional update)
before mailing them, so that two jobs for the same clients (a retry, two workers, the sweep)
mail each client once; a claim older than its lease is a crashed job's and is taken again.
`cgv_versions.notifications_planned_at`: when the fan-out wrote the version's notification
rows, or the version's publication when none is due (NULL: a fan-out is due and has not run;
the sweep runs it). Versions published before this revision were notified in the request that
published them, or not at all (command line): none is due.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cgv_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cgv_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notifications_planned_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE cgv_versions SET notifications_planned_at = published_at")


def downgrade() -> None:
    with op.batch_alter_table("cgv_versions", schema=None) as batch_op:
        batch_op.drop_column("notifications_planned_at")
    with op.batch_alter_table("cgv_notifications", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
