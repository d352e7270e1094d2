import csv
import json

import pytest
import typer
from typer.testing import CliRunner

import app.cli
from app.cli import DEMO_MARKER, cli

runner = CliRunner()


def test_bad_trend_file_is_rejected_with_line_and_nothing_stored(home, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,cn_all_socks_color_navy\n2025-01-06,0.5\n2025-01-13,oops\n")
    r = runner.invoke(cli, ["trends", "ingest", str(bad)])
    assert r.exit_code == 1
    assert "line 3" in r.output and "'oops' is not a number" in r.output
    status = json.loads(runner.invoke(cli, ["status", "--json"]).stdout)
    assert status["trends"]["series"] == 0 and status["trends"]["points"] == 0


def test_bad_factory_file_is_rejected_with_line_and_nothing_stored(home, tmp_path):
    runner.invoke(cli, ["sample", "--out", str(tmp_path / "s")])
    with (tmp_path / "s" / "factories.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[4].update(moq="50", capacity="1")  # data row 5 is line 6 of the file
    bad = tmp_path / "bad_factories.csv"
    with bad.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = runner.invoke(cli, ["factories", "import", str(bad)])
    assert r.exit_code == 1 and "line 6" in r.output and "capacity 1 is below the MOQ 50" in r.output
    assert json.loads(runner.invoke(cli, ["status", "--json"]).stdout)["factories"] == 0


def test_generate_needs_trends_first(home):
    r = runner.invoke(cli, ["designs", "generate", "--n", "2"])
    assert r.exit_code == 1 and "import trend data first" in r.output


def _a_workspace(home, *, demo: bool) -> None:
    """A workspace with a database and an image in `home`, marked as the demo's or not."""
    assert runner.invoke(cli, ["status", "--json"]).exit_code == 0  # creates the database
    (home / "images").mkdir(exist_ok=True)
    (home / "images" / "design-1-0.png").write_bytes(b"png")
    if demo:
        (home / DEMO_MARKER).write_text("built by the demo\n")


@pytest.fixture
def demo_stops_after_the_workspace(monkeypatch):
    """`demo` stops at its first step; returns what the workspace folder held at that point."""
    seen: list[list[str]] = []

    def first_step(out, **_):
        seen.append(sorted(p.name for p in out.parent.iterdir()))
        raise typer.Exit(0)

    monkeypatch.setattr(app.cli, "sample", first_step)
    return seen


def test_demo_refuses_a_workspace_it_did_not_build_and_leaves_it_intact(home, demo_stops_after_the_workspace):
    _a_workspace(home, demo=False)
    before = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    r = runner.invoke(cli, ["demo", "--no-serve"])
    assert r.exit_code == 1
    said = " ".join(r.output.split())
    assert "was not built by the demo" in said and "will not delete it" in said and "--reset" in said
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == before
    assert demo_stops_after_the_workspace == []  # nothing ran


@pytest.mark.parametrize("state, args", [("missing", []), ("empty", []), ("earlier demo", []),
                                         ("not a demo", ["--reset"])])
def test_demo_starts_from_an_empty_marked_workspace(home, demo_stops_after_the_workspace, state, args):
    if state == "empty":
        home.mkdir()
    elif state != "missing":
        _a_workspace(home, demo=state == "earlier demo")
    r = runner.invoke(cli, ["demo", "--no-serve", *args])
    assert r.exit_code == 0, r.output
    assert demo_stops_after_the_workspace == [[DEMO_MARKER]]  # the old database and images are gone
