"""Sales (sell-through), reorders (one per design and batch) and the batch of each factory order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('factory_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch', sa.Integer(), server_default='1', nullable=False))
    op.create_table('sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reported_by', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_sale_quantity_positive'),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], ),
    sa.ForeignKeyConstraint(['reported_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_design_id'), ['design_id'], unique=False)
    op.create_table('reorders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('sold', sa.Integer(), nullable=False),
    sa.Column('shipped', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_reorder_quantity_positive'),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('design_id', 'batch', name='uq_reorder_batch')
    )
    with op.batch_alter_table('reorders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reorders_design_id'), ['design_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('reorders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reorders_design_id'))
    op.drop_table('reorders')
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_design_id'))
    op.drop_table('sales')
    with op.batch_alter_table('factory_orders', schema=None) as batch_op:
        batch_op.drop_column('batch')
