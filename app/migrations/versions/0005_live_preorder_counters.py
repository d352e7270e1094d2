"""Demand counters count live pre-orders: take buyers' earlier cancels back out.

Since this revision a buyer's cancel takes its pre-order back out of `pre_order_count` and
`pieces_ordered` (`app.services.interest.cancel_preorder`); before, cancelled pre-orders stayed in
them and fed the demand estimate. Pre-orders released when a design is dropped are "cancelled" too,
and those the counters keep (that demand was real). Only a dropped design has released pre-orders, so
for every other design all cancelled pre-orders were its buyers' cancels, and its counters are
recomputed from the others. Dropped designs keep their counters.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:20:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""
        UPDATE designs SET
          pre_order_count = (SELECT count(*) FROM pre_orders p
                             WHERE p.design_id = designs.id AND p.status <> 'cancelled'),
          pieces_ordered = (SELECT coalesce(sum(p.quantity), 0) FROM pre_orders p
                            WHERE p.design_id = designs.id AND p.status <> 'cancelled')
        WHERE status <> 'dropped'
    """)


def downgrade() -> None:
    """Nothing to undo: the counters before this revision over-counted (module docstring)."""
