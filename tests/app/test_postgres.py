"""The same schema and API flow on a real PostgreSQL server (Debian's package; `pg_url` in conftest.py)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.db import make_engine, migrate, transaction
from app.services import production
from matching.factories.synthetic import make_factory_registry
from app.models import Base
from app.settings import Settings
from generation.taxonomy import load_taxonomy
from generation.trends.io import write_wide_csv
from generation.trends.synthetic import make_trend_sample


def test_migration_matches_models_on_postgres(pg_url):
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_api_loop_on_postgres(pg_url, tmp_path, clients_of):
    tx = load_taxonomy()
    write_wide_csv(make_trend_sample(tx, weeks=104, seed=1).frame, tmp_path / "t.csv")
    app = create_app(Settings(home=tmp_path / "ws", database_url=pg_url))
    with TestClient(app):
        clients = clients_of(app)
        c = clients.new("merchandiser")
        with (tmp_path / "t.csv").open("rb") as fh:
            assert c.post("/api/v1/merchandiser/trends", files={"file": ("t.csv", fh, "text/csv")}).status_code == 201
        with transaction(app.state.workspace.sessions) as s:
            production.import_factories(s, make_factory_registry(240))
        bad = "date,cn_all_socks_color_navy\n2025-01-06,-1\n"
        assert c.post("/api/v1/merchandiser/trends", files={"file": ("b.csv", bad, "text/csv")}).status_code == 422
        (draft,) = c.post("/api/v1/merchandiser/designs/generate", json={"n": 1}).json()
        design = c.post(f"/api/v1/merchandiser/designs/{draft['id']}/publish").json()
        buyer = clients.new("buyer")
        body = {"design_id": design["id"], "quantity": design["production_threshold"] + design["spec"]["moq"],
                "idempotency_key": "pg-1"}
        first = buyer.post("/api/v1/preorders", json=body)
        assert first.status_code == 201 and first.json()["status"] == "confirmed"
        assert buyer.post("/api/v1/preorders", json=body).json() == first.json()
        assert buyer.get(f"/api/v1/designs/{design['id']}").json()["status"] == "won"
        status = c.get("/api/v1/status").json()
        series = len((tmp_path / "t.csv").read_text().splitlines()[0].split(",")) - 1
        assert status["trends"]["series"] == series and status["pre_orders"]["confirmed"] == 1
