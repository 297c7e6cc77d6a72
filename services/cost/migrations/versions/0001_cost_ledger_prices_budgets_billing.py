"""cost: ledger, prices, budgets, billing

Revision ID: 0001
Revises:
Create Date: 2026-11-27 06:47:54.546504

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
        "cost_billed_amounts",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "request_id", name="pk_cost_billed_amounts"),
    )
    with op.batch_alter_table("cost_billed_amounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_billed_amounts_tenant"), ["tenant"], unique=False)

    op.create_table(
        "cost_billing_export",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=256), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "provider", "day", "model", name="pk_cost_billing_export"
        ),
    )
    with op.batch_alter_table("cost_billing_export", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_billing_export_tenant"), ["tenant"], unique=False)

    op.create_table(
        "cost_budgets",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=True),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("window_kind", sa.String(length=32), nullable=False),
        sa.Column("window_length", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("limit_micros", sa.BigInteger(), nullable=False),
        sa.Column("thresholds", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_cost_budgets"),
        sa.UniqueConstraint("tenant", "name", name="uq_cost_budgets_name"),
    )
    with op.batch_alter_table("cost_budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_budgets_tenant"), ["tenant"], unique=False)

    op.create_table(
        "cost_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("month_start", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("provider", sa.String(length=256), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("prompt_template", sa.String(length=256), nullable=False),
        sa.Column("experiment_id", sa.String(length=256), nullable=False),
        sa.Column("variant", sa.String(length=256), nullable=False),
        sa.Column("tag", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch", sa.Boolean(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_creation_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("estimated_micros", sa.BigInteger(), nullable=False),
        sa.Column("billed_micros", sa.BigInteger(), nullable=True),
        sa.Column("priced", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant", "request_id", name="uq_cost_ledger_request"),
    )
    with op.batch_alter_table("cost_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_ledger_tenant"), ["tenant"], unique=False)
        batch_op.create_index("ix_cost_ledger_time", ["tenant", "timestamp_us"], unique=False)

    op.create_table(
        "cost_price_overrides",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("effective_from", sa.String(length=10), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "model", "effective_from", name="pk_cost_price_overrides"
        ),
    )
    with op.batch_alter_table("cost_price_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_price_overrides_tenant"), ["tenant"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("cost_price_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_price_overrides_tenant"))

    op.drop_table("cost_price_overrides")
    with op.batch_alter_table("cost_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_ledger_time")
        batch_op.drop_index(batch_op.f("ix_cost_ledger_tenant"))

    op.drop_table("cost_ledger")
    with op.batch_alter_table("cost_budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_budgets_tenant"))

    op.drop_table("cost_budgets")
    with op.batch_alter_table("cost_billing_export", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_billing_export_tenant"))

    op.drop_table("cost_billing_export")
    with op.batch_alter_table("cost_billed_amounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_billed_amounts_tenant"))

    op.drop_table("cost_billed_amounts")
