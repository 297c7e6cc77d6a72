"""drift: monitors and recent windows

Revision ID: 0001
Revises:
Create Date: 2026-11-27 06:46:30.311443

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "drift_monitors",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("monitor_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline_id", sa.String(length=32), nullable=True),
        sa.Column("baseline_size", sa.Integer(), server_default="0", nullable=False),
        sa.Column("baseline_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("distance_unit", sa.Float(), nullable=True),
        sa.Column("outlier_threshold", sa.Float(), nullable=True),
        sa.Column("last_check", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "monitor_id", name="pk_drift_monitors"),
    )
    with op.batch_alter_table("drift_monitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drift_monitors_tenant"), ["tenant"], unique=False)

    op.create_table(
        "drift_window",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("monitor_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drift_window", schema=None) as batch_op:
        batch_op.create_index(
            "ix_drift_window_monitor", ["tenant", "monitor_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drift_window_tenant"), ["tenant"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("drift_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_window_tenant"))
        batch_op.drop_index("ix_drift_window_monitor")

    op.drop_table("drift_window")
    with op.batch_alter_table("drift_monitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_monitors_tenant"))

    op.drop_table("drift_monitors")
