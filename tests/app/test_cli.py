import csv
import json

from typer.testing import CliRunner

from app.cli import cli

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
