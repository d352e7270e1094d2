"""The same schema and API flow on a real PostgreSQL server (Debian's package, started by the test)."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing: .ci/run installs Debian's 'postgresql' package")
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    bindir = Path(bins[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="trendloom-pg-"))  # not under pytest's root-only tmp folder
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the package's postgres user
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "trendloom", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {data} -F", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "trendloom", "trendloom")
        yield f"postgresql+psycopg://trendloom@127.0.0.1:{port}/trendloom"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


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
        assert status["trends"]["series"] == 650 and status["pre_orders"]["confirmed"] == 1
