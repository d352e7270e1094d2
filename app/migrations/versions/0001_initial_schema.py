"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 07:16:14.446654

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('buyers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('shop', 'live_streamer', 'consumer_group')", name='ck_buyers_kind'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('designs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('production_threshold', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('window_end', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'published', 'won', 'dropped', 'matched', 'in_production', 'shipped')", name='ck_designs_status'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.create_index('ix_designs_status', ['status'], unique=False)

    op.create_table('factories',
    sa.Column('id', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=50), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('processes', sa.JSON(), nullable=False),
    sa.Column('moq', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('quality', sa.Float(), nullable=False),
    sa.Column('price_index', sa.Float(), nullable=False),
    sa.Column('small_batch', sa.Boolean(), nullable=False),
    sa.Column('workers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('trend_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=20), nullable=False),
    sa.Column('segment', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('attribute', sa.String(length=50), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('trend_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trend_series_category'), ['category'], unique=False)

    op.create_table('factory_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('factory_id', sa.String(length=50), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('shipped_quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('offered', 'accepted', 'declined', 'in_production', 'shipped')", name='ck_factory_orders_status'),
    sa.CheckConstraint('quantity > 0', name='ck_factory_order_quantity_positive'),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], ),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('design_id', 'factory_id', 'round', name='uq_factory_order_round')
    )
    with op.batch_alter_table('factory_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_factory_orders_design_id'), ['design_id'], unique=False)
        batch_op.create_index('ix_factory_orders_factory_status', ['factory_id', 'status'], unique=False)

    op.create_table('interest_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('view', 'click', 'favourite', 'inquiry', 'pre_order')", name='ck_interest_events_kind'),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('interest_events', schema=None) as batch_op:
        batch_op.create_index('ix_events_design_kind', ['design_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_events_buyer_id'), ['buyer_id'], unique=False)

    op.create_table('pre_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('design_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('active', 'cancelled', 'confirmed')", name='ck_pre_orders_status'),
    sa.CheckConstraint('quantity > 0', name='ck_preorder_quantity_positive'),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyers.id'], ),
    sa.ForeignKeyConstraint(['design_id'], ['designs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('pre_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pre_orders_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index('ix_preorders_design_status', ['design_id', 'status'], unique=False)

    op.create_table('trend_points',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['trend_series.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'week')
    )
    op.create_table('trend_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('growth', sa.Float(), nullable=False),
    sa.Column('lo', sa.Float(), nullable=False),
    sa.Column('hi', sa.Float(), nullable=False),
    sa.Column('recent_mean', sa.Float(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("direction IN ('rising', 'fading', 'flat')", name='ck_trend_signals_direction'),
    sa.ForeignKeyConstraint(['series_id'], ['trend_series.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('trend_signals')
    op.drop_table('trend_points')
    with op.batch_alter_table('pre_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_preorders_design_status')
        batch_op.drop_index(batch_op.f('ix_pre_orders_buyer_id'))

    op.drop_table('pre_orders')
    with op.batch_alter_table('interest_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_events_buyer_id'))
        batch_op.drop_index('ix_events_design_kind')

    op.drop_table('interest_events')
    with op.batch_alter_table('factory_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_factory_orders_factory_status')
        batch_op.drop_index(batch_op.f('ix_factory_orders_design_id'))

    op.drop_table('factory_orders')
    with op.batch_alter_table('trend_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trend_series_category'))

    op.drop_table('trend_series')
    op.drop_table('factories')
    with op.batch_alter_table('designs', schema=None) as batch_op:
        batch_op.drop_index('ix_designs_status')

    op.drop_table('designs')
    op.drop_table('buyers')
