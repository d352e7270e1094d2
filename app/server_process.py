"""Run the API in a uvicorn subprocess on 127.0.0.1 (for load scripts, benchmarks and tests)."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.db import transaction
from app.models import utcnow
from app.services import accounts
from app.settings import Settings
from app.workspace import Workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_api(home: Path, *, env: dict[str, str] | None = None, workers: int = 1,
              startup_timeout_s: float = 180) -> tuple[subprocess.Popen[bytes], str]:
    """Start `trendloom`'s API for workspace `home` (in `workers` processes under one uvicorn parent: give
    DATABASE_URL in `env` for more than one) and wait until it answers /healthz; returns the process (the
    caller stops it, e.g. with SIGKILL to test crash safety) and its base URL."""
    port = free_port()
    full_env = {**os.environ, "TRENDLOOM_HOME": str(home), "HF_HUB_OFFLINE": "1", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             *(["--workers", str(workers), "--timeout-worker-healthcheck", "60"] if workers > 1 else [])],
                            env=full_env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the API server exited with code {proc.returncode} during start-up")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return proc, url
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not answer /healthz within {startup_timeout_s} s")
            time.sleep(0.3)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


@contextmanager
def api_server(home: Path, *, env: dict[str, str] | None = None, workers: int = 1,
               startup_timeout_s: float = 180) -> Iterator[str]:
    """Start `trendloom`'s API for workspace `home`; yield its base URL; stop it (SIGTERM) afterwards."""
    proc, url = spawn_api(home, env=env, workers=workers, startup_timeout_s=startup_timeout_s)
    try:
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def admin_token(home: Path, *, login: str = "load-admin", ttl_days: float = 1, database_url: str | None = None) -> str:
    """A bearer token of a new admin of workspace `home` (random password): load scripts and tests act
    for many buyers at once, which only an admin may."""
    ws = Workspace.open(Settings(home=home, database_url=database_url))
    try:
        with transaction(ws.sessions) as s:
            user = accounts.create_user(s, login, secrets.token_urlsafe(16), "admin")
            return accounts.issue_token(s, user, utcnow(), timedelta(days=ttl_days), name=login)
    finally:
        ws.close()


def worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes under the uvicorn parent `parent` (Linux: read from /proc)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


@contextmanager
def throwaway_postgres(folder: Path) -> Iterator[str]:
    """A PostgreSQL server of Debian's `postgresql` package on 127.0.0.1 with its data in `folder` (made
    here), for load scripts and benchmarks; yields its SQLAlchemy URL and stops it afterwards. Default
    durability settings (fsync on every commit), unlike the tests' server."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise RuntimeError("PostgreSQL server binaries are missing: apt-get install postgresql")
    bindir = Path(bins[-1]).parent
    folder.mkdir(parents=True, exist_ok=True)
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the package's postgres user
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True)

    run(str(bindir / "initdb"), "-D", str(folder / "db"), "-A", "trust", "-U", "trendloom")
    run(str(bindir / "pg_ctl"), "-D", str(folder / "db"), "-l", str(folder / "log"), "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=300", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "trendloom", "trendloom")
        yield f"postgresql+psycopg://trendloom@127.0.0.1:{port}/trendloom"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(folder / "db"), "-m", "fast", "-w", "stop")
