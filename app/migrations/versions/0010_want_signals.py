"""What buyers asked for and did not find (`app.services.wants`, issue 18): one row per buyer, week,
source and text.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "want_signals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("other", sa.String(64), nullable=True),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("buyer_id", "week", "source", "text", name="uq_want_buyer_week_text"),
        sa.CheckConstraint("source IN ('search', 'inquiry', 'variant')", name="ck_want_signals_source"),
    )
    op.create_index("ix_want_week", "want_signals", ["week"])


def downgrade() -> None:
    op.drop_index("ix_want_week", table_name="want_signals")
    op.drop_table("want_signals")
