"""Favourites a buyer can take back (`app.services.favourites`, issue 14): one row per buyer and design,
`active` while it is a favourite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_favourites_buyer_active", "favourites", ["buyer_id", "active"])


def downgrade() -> None:
    op.drop_index("ix_favourites_buyer_active", table_name="favourites")
    op.drop_table("favourites")
