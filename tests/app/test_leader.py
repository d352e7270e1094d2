"""Several API workers: one leader (a PostgreSQL advisory lock) runs the background jobs and another takes
over when it dies; designs published through one worker reach the others; SQLite serves one worker only."""

import subprocess
import sys
import time

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

import app.api.main as api_main
from app.cli import cli
from app.db import transaction
from app.leader import LOCK_KEY, Leadership
from app.models import Design
from app.settings import Settings
from app.workspace import Workspace


def _until(check, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _lock_holder(url: str) -> int | None:
    """The server process id of the session holding the leader's lock, if any."""
    with create_engine(url).connect() as conn:
        return conn.execute(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                 "AND classid = :hi AND objid = :lo"),
                            {"hi": LOCK_KEY >> 32, "lo": LOCK_KEY & 0xFFFFFFFF}).scalar()


def test_exactly_one_candidate_leads_and_the_other_takes_over_when_its_connection_ends(pg_url):
    a, b = Leadership(pg_url), Leadership(pg_url)
    try:
        assert [a.poll(), b.poll()] == [True, False]
        assert [a.poll(), b.poll()] == [True, False]  # a leader stays leader; the other keeps waiting
        with create_engine(pg_url).connect() as admin:  # the leader's connection dies under it
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": _lock_holder(pg_url)})
        assert _until(b.poll)  # PostgreSQL released the lock with the connection
        assert not a.poll()  # the old leader notices and does not lead
        b.release()  # a clean shutdown hands over at once
        assert a.poll()
    finally:
        a.release()
        b.release()


def test_a_killed_leader_process_is_replaced(pg_url):
    code = ("import sys, time; from app.leader import Leadership; "
            "assert Leadership(sys.argv[1]).poll(); print('leading', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, pg_url], stdout=subprocess.PIPE, text=True)
    waiting = Leadership(pg_url)
    try:
        assert proc.stdout.readline().strip() == "leading"
        assert not waiting.poll()
        proc.kill()  # SIGKILL: no shutdown, no unlock
        proc.wait()
        assert _until(waiting.poll)
    finally:
        proc.kill()
        waiting.release()


def test_only_the_leading_worker_runs_decisions(pg_url, tmp_path, fake_embedder, monkeypatch):
    rounds: dict[int, int] = {}

    def decide_once(ws: Workspace) -> dict[str, int]:
        rounds[id(ws)] = rounds.get(id(ws), 0) + 1
        return {}

    monkeypatch.setattr(api_main, "_decide_once", decide_once)
    apps = [api_main.create_app(Settings(home=tmp_path / f"w{i}", database_url=pg_url, decide_every_s=0.02))
            for i in range(2)]
    with TestClient(apps[0]), TestClient(apps[1]):
        assert _until(lambda: sum(rounds.values()) >= 10)
        assert len(rounds) == 1  # one worker decided, the other only served
    assert _lock_holder(pg_url) is None  # both shut down: nobody holds the lock


def test_a_design_published_elsewhere_joins_this_workers_index(tmp_path, fake_embedder):
    settings = Settings(home=tmp_path / "ws")
    here, there = Workspace.open(settings), Workspace.open(settings)
    try:
        assert len(here.design_index) == 0
        vec = np.full(fake_embedder.dim, fake_embedder.dim ** -0.5, dtype=np.float32)
        with transaction(there.sessions) as s:
            d = Design(name="n", category="socks", spec={}, status="published", images=[], embedding=vec.tobytes())
            s.add(d)
            s.flush()
            did = d.id
        assert here.sync_design_index() == 1
        assert here.design_index.ids.tolist() == [did]
        assert here.sync_design_index() == 0
    finally:
        here.close()
        there.close()


def test_several_workers_on_sqlite_are_refused_with_the_reason(home):
    r = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert r.exit_code == 2
    assert "needs PostgreSQL" in r.output and "SQLite" in r.output

