"""Notices: each user's inbox (`app.services.notices`, issue 14): what the lifecycle tells buyers,
factories and merchandisers, answered inquiries, and designs for what a buyer asked.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:50:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), nullable=True),
        sa.Column("factory_id", sa.String(64), nullable=True),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(30), nullable=False),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_notices_buyer", "notices", ["buyer_id", "read_at"])
    op.create_index("ix_notices_factory", "notices", ["factory_id"])
    op.create_index("ix_notices_staff", "notices", ["staff", "read_at"])  # the header's count on every staff page


def downgrade() -> None:
    op.drop_index("ix_notices_staff", table_name="notices")
    op.drop_index("ix_notices_factory", table_name="notices")
    op.drop_index("ix_notices_buyer", table_name="notices")
    op.drop_table("notices")
