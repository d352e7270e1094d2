"""Inquiries as conversations (`app.services.inquiries`, issue 14): a buyer's questions on a design and
the merchandisers' answers, one thread per design and buyer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:20:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "inquiry_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("from_buyer", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_inquiry_thread", "inquiry_messages", ["design_id", "buyer_id"])


def downgrade() -> None:
    op.drop_index("ix_inquiry_thread", table_name="inquiry_messages")
    op.drop_table("inquiry_messages")
