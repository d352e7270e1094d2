"""Real factory registries: unknown facts are NULL, registries' own words kept, term corrections.

- `factories`: materials, processes, moq, capacity, lead_time_days, quality, price_index and workers may
  be NULL ("not disclosed"; planning estimates what it needs from the settings). A stored workers count
  of 0 meant "not known" and becomes NULL. New columns keep what imported registries say: address,
  sectors, product_types (their words), categories_from (how `categories` was read), facility_type,
  supplies_materials (a material/component supplier: no finished-goods orders), parent_company, lat,
  lng, and sources (the "file:line" of every row merged into the factory).
- `factory_term_mappings`: a merchandiser's correction of what a product type or sector means.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NULLABLE = (("materials", sa.JSON()), ("processes", sa.JSON()), ("moq", sa.Integer()), ("capacity", sa.Integer()),
            ("lead_time_days", sa.Integer()), ("quality", sa.Float()), ("price_index", sa.Float()),
            ("workers", sa.Integer()))


def upgrade() -> None:
    with op.batch_alter_table("factories") as batch:
        for column, type_ in NULLABLE:
            batch.alter_column(column, existing_type=type_, nullable=True)
        batch.add_column(sa.Column("address", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("sectors", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("product_types", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("categories_from", sa.String(20), nullable=False, server_default="registry"))
        batch.add_column(sa.Column("facility_type", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("supplies_materials", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("parent_company", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("lat", sa.Float()))
        batch.add_column(sa.Column("lng", sa.Float()))
        batch.add_column(sa.Column("sources", sa.JSON(), nullable=False, server_default="[]"))
    op.execute("UPDATE factories SET workers = NULL WHERE workers = 0")
    op.create_table(
        "factory_term_mappings",
        sa.Column("term", sa.String(200), primary_key=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("factory_term_mappings")
    op.execute("UPDATE factories SET workers = 0 WHERE workers IS NULL")
    with op.batch_alter_table("factories") as batch:
        for column in ("sources", "lng", "lat", "parent_company", "supplies_materials", "facility_type",
                       "categories_from", "product_types", "sectors", "address"):
            batch.drop_column(column)
