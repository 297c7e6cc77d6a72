"""logsink: a record's index in its segment frame

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:30:00.000000

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
    # Nullable: rows written before this revision have their texts in a frame of
    # their own, which is what NULL says.
    with op.batch_alter_table("logsink_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_index", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("logsink_records", schema=None) as batch_op:
        batch_op.drop_column("text_index")
