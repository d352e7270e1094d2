"""Fixtures shared by the app tests: signed-in API clients, a cheap password hash so creating users stays
fast, a throwaway PostgreSQL server, and `race` to run transactions at the same moment from threads."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.models import Design, utcnow
from app.services import accounts
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2id with the smallest cost: the production profile takes ~0.3 s a hash on a busy CI machine.
    The scheme, the salts and the checks are the same; only the work factor is lowered."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts, "_hasher", cheap)
        mp.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a password"))
        yield


class Clients:
    """API clients of one app, each signed in with a bearer token as a new user of some role."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.ws = app.state.workspace
        self._made = 0
        self._factories: dict[str, TestClient] = {}

    def new(self, role: str, **kwargs) -> TestClient:
        """A client signed in as a new user; `.user` holds its id, role, buyer_id and factory_id."""
        self._made += 1
        with transaction(self.ws.sessions) as s:
            user = accounts.create_user(s, f"{role}-{self._made}", PASSWORD, role, **kwargs)
            token = accounts.issue_token(s, user, utcnow(), timedelta(hours=2))
            info = {"id": user.id, "login": user.login, "role": role, "buyer_id": user.buyer_id,
                    "factory_id": user.factory_id}
        client = TestClient(self.app, headers={"Authorization": f"Bearer {token}"})
        client.user = info
        client.token = token
        client.ws = self.ws
        return client

    def plain_design(self, merch: TestClient, category: str = "socks", material: str = "cotton",
                     *, publish: bool = True) -> dict:
        """A design with a hand-written spec that sample factories can make, published by `merch`
        (or left a draft); returns its JSON."""
        ws = self.ws
        spec = DesignSpec(category=category, color="navy", material=material,
                          price_tiers=price_tiers(ws.taxonomy, category, material, 0),
                          moq=ws.taxonomy.category(category).buyer_moq, name="Plain navy")
        with transaction(ws.sessions) as s:
            d = Design(name=spec.name, category=category, spec=spec.to_dict(), status="draft", images=[])
            s.add(d)
            s.flush()
            path = ws.settings.images_dir / f"design-{d.id}-0.png"
            ws.images.generate(spec)[0].save(path)
            d.images = [path.name]
            did = d.id
        r = merch.post(f"/api/v1/merchandiser/designs/{did}/publish") if publish else merch.get(
            f"/api/v1/merchandiser/designs/{did}")
        assert r.status_code == 200, r.text
        return r.json()

    def factory(self, factory_id: str) -> TestClient:
        """The signed-in client of `factory_id`'s user (made on first use)."""
        if factory_id not in self._factories:
            self._factories[factory_id] = self.new("factory", factory_id=factory_id)
        return self._factories[factory_id]


@pytest.fixture(scope="session")
def clients_of():
    """`clients_of(app)`: signed-in clients of an app whose lifespan has started (see `Clients`)."""
    return Clients


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


def _race(sessions: sessionmaker[Session], actions: Sequence[Callable[[Session], str]], *,
          refused: tuple[type[Exception], ...]) -> list[str]:
    """Runs every action in its own thread and transaction, all released together by a barrier so they hit
    the service at the same moment. Returns, in order, what each action returned once its transaction
    committed, or "refused: <message>" where it raised one of `refused` (any other error is left as "")."""
    start = threading.Barrier(len(actions))
    outcome = [""] * len(actions)

    def run(i: int) -> None:
        start.wait()
        try:
            with transaction(sessions) as s:
                result = actions[i](s)
            outcome[i] = result
        except refused as exc:
            outcome[i] = f"refused: {exc}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


@pytest.fixture(scope="session")
def race():
    """`race(sessions, actions, refused=(SomeError, ...))`: the actions run at once from threads (see `_race`)."""
    return _race
