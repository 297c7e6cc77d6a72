"""drift: request ids on window rows, unique per monitor

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 08:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Nullable: rows observed before this revision, and texts sent without ids, have
    # none; NULLs never conflict in a unique index on SQLite or PostgreSQL.
    with op.batch_alter_table("drift_window", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))
        batch_op.create_index(
            "uq_drift_window_request", ["tenant", "monitor_id", "request_id"], unique=True
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("drift_window", schema=None) as batch_op:
        batch_op.drop_index("uq_drift_window_request")
        batch_op.drop_column("request_id")
