"""Demand counters, prior, embedding and pre-order book state on designs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:44:21.266179

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('impressions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pre_order_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pieces_ordered', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('committed', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('prior', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('p_reach', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('impression_budget', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('embedding', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('book_closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), server_default='1970-01-01 00:00:00', nullable=False))
        batch_op.create_index(batch_op.f('ix_designs_updated_at'), ['updated_at'], unique=False)
    # Back-fill the counters of existing designs from the events and pre-orders they summarise.
    op.execute("""
        UPDATE designs SET
          impressions = (SELECT count(*) FROM interest_events e WHERE e.design_id = designs.id AND e.kind = 'view'),
          pre_order_count = (SELECT count(*) FROM pre_orders p WHERE p.design_id = designs.id),
          pieces_ordered = (SELECT coalesce(sum(p.quantity), 0) FROM pre_orders p WHERE p.design_id = designs.id),
          committed = (SELECT coalesce(sum(p.quantity), 0) FROM pre_orders p
                       WHERE p.design_id = designs.id AND p.status IN ('active', 'confirmed'))
    """)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_designs_updated_at'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('book_closed_at')
        batch_op.drop_column('embedding')
        batch_op.drop_column('impression_budget')
        batch_op.drop_column('p_reach')
        batch_op.drop_column('prior')
        batch_op.drop_column('committed')
        batch_op.drop_column('pieces_ordered')
        batch_op.drop_column('pre_order_count')
        batch_op.drop_column('impressions')

