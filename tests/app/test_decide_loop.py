"""The server's automatic decisions: an error in one round does not stop them, and shutdown always cleans up."""

import gc
import logging
import time

import pytest
from fastapi.testclient import TestClient

import app.api.main as api_main
from app.settings import Settings
from app.workspace import Workspace


@pytest.fixture
def closed(monkeypatch):
    """The workspaces closed so far (Workspace.close still does its work)."""
    done: list[Workspace] = []
    original = Workspace.close

    def close(self: Workspace) -> None:
        original(self)
        done.append(self)

    monkeypatch.setattr(Workspace, "close", close)
    return done


def test_a_failed_round_is_logged_and_decisions_go_on(tmp_path, fake_embedder, monkeypatch, closed, caplog):
    rounds: list[int] = []

    def decide_once(ws: Workspace) -> dict[str, int]:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database is locked")
        return {}

    monkeypatch.setattr(api_main, "_decide_once", decide_once)
    app = api_main.create_app(Settings(home=tmp_path / "ws", decide_every_s=0.01))
    with caplog.at_level(logging.ERROR, logger=api_main.__name__), TestClient(app):
        ws = app.state.workspace
        deadline = time.monotonic() + 20
        while len(rounds) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(rounds) >= 3  # the rounds after the failed one still ran
    assert "automatic decisions failed" in caplog.text and "database is locked" in caplog.text
    assert closed == [ws]


def test_shutdown_closes_the_workspace_even_if_the_decision_task_died(tmp_path, fake_embedder, monkeypatch, closed,
                                                                        caplog):
    async def dies(ws: Workspace, every_s: float, leader: object) -> None:
        raise RuntimeError("the task died")

    monkeypatch.setattr(api_main, "_decide_forever", dies)
    app = api_main.create_app(Settings(home=tmp_path / "ws", decide_every_s=0.01))
    with caplog.at_level(logging.ERROR, logger=api_main.__name__), TestClient(app):  # leaving must not raise
        ws = app.state.workspace
        time.sleep(0.05)
    assert closed == [ws]  # event writer stopped, index saved, engine disposed
    assert gc.get_freeze_count() == 0
    assert "the background task decisions had stopped with an error" in caplog.text
