"""logsink: records, segments, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-27 06:45:43.442519

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
        "logsink_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("logsink_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logsink_outbox_next_attempt_us"), ["next_attempt_us"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_logsink_outbox_tenant"), ["tenant"], unique=False)

    op.create_table(
        "logsink_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("ingest_us", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("provider", sa.String(length=256), nullable=False),
        sa.Column("prompt_template", sa.String(length=256), nullable=False),
        sa.Column("prompt_hash", sa.String(length=64), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_creation_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("usage_estimated", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("time_to_first_token_ms", sa.Double(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("error_type", sa.String(length=256), nullable=False),
        sa.Column("error_message", sa.String(length=500), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("experiment_id", sa.String(length=256), nullable=False),
        sa.Column("variant", sa.String(length=256), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=True),
        sa.Column("batch", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(length=256), nullable=False),
        sa.Column("billed_currency", sa.String(length=3), nullable=True),
        sa.Column("billed_micros", sa.BigInteger(), nullable=True),
        sa.Column("segment_id", sa.BigInteger(), nullable=True),
        sa.Column("text_offset", sa.BigInteger(), nullable=True),
        sa.Column("text_length", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant", "request_id", name="uq_logsink_records_tenant_request"),
    )
    with op.batch_alter_table("logsink_records", schema=None) as batch_op:
        batch_op.create_index("ix_logsink_records_segment", ["segment_id"], unique=False)
        batch_op.create_index(
            "ix_logsink_records_tenant_ts", ["tenant", "ts_us", "id"], unique=False
        )

    op.create_table(
        "logsink_segments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=512), nullable=False),
        sa.Column("min_ts_us", sa.BigInteger(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("logsink_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logsink_segments_tenant"), ["tenant"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("logsink_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logsink_segments_tenant"))

    op.drop_table("logsink_segments")
    with op.batch_alter_table("logsink_records", schema=None) as batch_op:
        batch_op.drop_index("ix_logsink_records_tenant_ts")
        batch_op.drop_index("ix_logsink_records_segment")

    op.drop_table("logsink_records")
    with op.batch_alter_table("logsink_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logsink_outbox_tenant"))
        batch_op.drop_index(batch_op.f("ix_logsink_outbox_next_attempt_us"))

    op.drop_table("logsink_outbox")
