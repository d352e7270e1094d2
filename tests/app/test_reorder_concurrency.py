"""Sales reports that cross the reorder threshold at the same moment create one reorder, on SQLite and PostgreSQL."""

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import transaction
from app.errors import Invalid
from app.models import Design, FactoryOrder, FactoryRow, Reorder, Sale, utcnow
from app.services import reorders
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec

N = 4


def _report_at_once(ws: Workspace, race: Callable[..., list[str]]) -> tuple[list[str], int, int, list[tuple[str, int, int]]]:
    """A design shipped 100 pcs with 60 sold; four threads report 10 more at once (70, 80, 90, 100 sold).
    Returns the outcomes, the pieces sold, the reorders, and the offered orders (factory, batch, quantity)."""
    spec = DesignSpec(category="socks", color="navy", material="cotton", price_tiers=price_tiers(ws.taxonomy, "socks", "cotton", 0),
                      moq=24, name="Plain navy")
    with transaction(ws.sessions) as s:
        s.add(FactoryRow(id="F1", name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                         materials=["cotton"], processes=["knitting"], moq=50, capacity=1000, lead_time_days=10,
                         quality=0.8, price_index=1.0))
        design = Design(name="d", category="socks", spec=spec.to_dict(), status="shipped")
        s.add(design)
        s.flush()
        s.add(FactoryOrder(design_id=design.id, factory_id="F1", round=1, quantity=100, unit_price_cents=100,
                           due_date=date(2030, 1, 1), status="shipped", shipped_quantity=100))
        s.add(Sale(design_id=design.id, quantity=60))
        did = design.id

    def report(s: Session) -> str:
        res = reorders.record_sale(s, ws, did, 10, user_id=None, now=utcnow())
        return "reorder" if res.reorder else "sale"

    outcome = race(ws.sessions, [report] * N, refused=(Invalid,))
    with ws.sessions() as s:
        sold = s.scalar(select(func.sum(Sale.quantity)).where(Sale.design_id == did))
        n_reorders = s.scalar(select(func.count()).select_from(Reorder))
        offered = [(o.factory_id, o.batch, o.quantity) for o in s.scalars(select(FactoryOrder).where(
            FactoryOrder.status == "offered"))]
    return outcome, int(sold), int(n_reorders), offered


def _check(outcome, sold, n_reorders, offered) -> None:
    assert sorted(outcome) == ["reorder", "sale", "sale", "sale"], outcome
    assert sold == 100 and n_reorders == 1
    assert offered == [("F1", 2, 70)]  # the first report to commit crossed 0.7 at 70 sold: 70 pcs, same factory


def test_concurrent_sales_make_one_reorder_on_sqlite(tmp_path, fake_embedder, race):
    ws = Workspace.open(Settings(home=tmp_path / "ws"))
    try:
        _check(*_report_at_once(ws, race))
    finally:
        ws.close()


def test_concurrent_sales_make_one_reorder_on_postgres(tmp_path, fake_embedder, pg_url, race):
    ws = Workspace.open(Settings(home=tmp_path / "ws", database_url=pg_url))
    try:
        _check(*_report_at_once(ws, race))
    finally:
        ws.close()
