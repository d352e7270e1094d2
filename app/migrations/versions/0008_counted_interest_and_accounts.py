"""Interest counted by the server, screened buyers, and accounts an admin can take away.

- `served_impressions`: a design the server put on a page served to a buyer, once per buyer, design and
  day; a `view` confirms it, and only a confirmed impression of an unflagged buyer is counted.
- `interest_marks`: a buyer's first click, favourite and inquiry per design (later ones are not stored).
- `buyer_activity`: per buyer, design and hour, the browse events sent and those that counted.
- `buyers.flagged_at`, `flag_reason`, `trusted_at`: screening (`app.services.abuse`).
- `pre_orders.counted`: the pre-order is in its design's demand counters. Before this revision a buyer's
  cancel took the order out of the counters and a drop's release did not (0005), so a cancelled order is
  uncounted unless its design was dropped (an order its buyer cancelled before the drop stays counted:
  the two cannot be told apart afterwards).
- `users.disabled_at`: a disabled account cannot sign in and has no token or session.
- `designs.untrusted`: pieces of `committed` outside the demand counters (0: no such order existed).
- `interest_events.counted`: every event sent is stored; those that count nowhere say so (earlier ones all counted).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 15:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "served_impressions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("page", sa.String(10), nullable=False),
        sa.Column("served_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("buyer_id", "design_id", "day", name="uq_served_buyer_design_day"),
        sa.CheckConstraint("page IN ('feed', 'search', 'item')", name="ck_served_impressions_page"),
    )
    op.create_index("ix_served_design", "served_impressions", ["design_id"])
    op.create_table(
        "interest_marks",
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("first_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "buyer_activity",
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("design_id", sa.Integer(), sa.ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("hour", sa.DateTime(), primary_key=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
    )
    op.create_index("ix_buyer_activity_hour", "buyer_activity", ["hour"])
    with op.batch_alter_table("buyers") as batch:
        batch.add_column(sa.Column("flagged_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("flag_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("trusted_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("pre_orders") as batch:
        batch.add_column(sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute(sa.text("""
        UPDATE pre_orders SET counted = :no
        WHERE status = 'cancelled'
          AND design_id IN (SELECT id FROM designs WHERE status <> 'dropped')
    """).bindparams(no=False))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("designs") as batch:
        batch.add_column(sa.Column("untrusted", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("interest_events") as batch:
        batch.add_column(sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("interest_events") as batch:
        batch.drop_column("counted")
    with op.batch_alter_table("designs") as batch:
        batch.drop_column("untrusted")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
    with op.batch_alter_table("pre_orders") as batch:
        batch.drop_column("counted")
    with op.batch_alter_table("buyers") as batch:
        batch.drop_column("trusted_at")
        batch.drop_column("flag_reason")
        batch.drop_column("flagged_at")
    op.drop_index("ix_buyer_activity_hour", table_name="buyer_activity")
    op.drop_table("buyer_activity")
    op.drop_table("interest_marks")
    op.drop_index("ix_served_design", table_name="served_impressions")
    op.drop_table("served_impressions")
