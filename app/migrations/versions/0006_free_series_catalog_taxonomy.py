"""Their data, their words: series under any name, mapping corrections, taxonomy additions, the catalogue.

- `trend_series`: region, segment, category, kind and attribute may be NULL (a free-named series has no
  region; an unmapped one no attribute; one without a category feeds every category), and `how` says how
  the name was mapped (convention, lexicon, embedding, manual, unmapped).
- `series_mappings`: a merchandiser's corrections, kept for the next import of the same name.
- `taxonomy_additions`: attributes (or words) a merchandiser added to the shipped taxonomy.
- `catalog_items`: the merchandiser's own catalogue and its sales.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("trend_series") as batch:
        for column, size in (("region", 20), ("segment", 20), ("category", 50), ("kind", 20), ("attribute", 50)):
            batch.alter_column(column, existing_type=sa.String(size), nullable=True)
        batch.add_column(sa.Column("how", sa.String(20), nullable=False, server_default="convention"))
    op.create_table(
        "series_mappings",
        sa.Column("series", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20)),
        sa.Column("attribute", sa.String(50)),
        sa.Column("category", sa.String(50)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "taxonomy_additions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("zh", sa.String(50), nullable=False),
        sa.Column("synonyms", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON),
        sa.Column("rgb", sa.String(7)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("kind", "name", name="uq_taxonomy_addition"),
    )
    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(50), index=True),
        sa.Column("color", sa.String(50)),
        sa.Column("material", sa.String(50)),
        sa.Column("pattern", sa.String(50)),
        sa.Column("silhouette", sa.String(50)),
        sa.Column("price_cents", sa.Integer),
        sa.Column("launch_date", sa.Date),
        sa.Column("units_sold", sa.Integer),
        sa.Column("image", sa.String(500)),
        sa.Column("inferred", sa.JSON, nullable=False),
        sa.Column("embedding", sa.LargeBinary),
        sa.Column("imported_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalog_items")
    op.drop_table("taxonomy_additions")
    op.drop_table("series_mappings")
    with op.batch_alter_table("trend_series") as batch:
        batch.drop_column("how")
