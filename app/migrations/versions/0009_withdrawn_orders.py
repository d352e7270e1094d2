"""A factory order can be withdrawn (issue 15, `app.lifecycle`): `factory_orders.status` may be
'cancelled', an offer withdrawn when the merchandiser cancelled its design (the design is dropped and its
buyers' pre-orders released).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ORDER = ("offered", "accepted", "declined", "in_production", "shipped")


def _listed(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _recheck(table: str, values: tuple[str, ...]) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(f"ck_{table}_status", type_="check")
        batch.create_check_constraint(f"ck_{table}_status", _listed(values))


def upgrade() -> None:
    _recheck("factory_orders", (*ORDER, "cancelled"))


def downgrade() -> None:
    _recheck("factory_orders", ORDER)
