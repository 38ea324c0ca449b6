"""``relaynet validate`` exit codes and output, via click's CliRunner."""

from __future__ import annotations

from click.testing import CliRunner

from relaynet.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_all_rows_pass(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id;lat;lon\nA;45;4\nB;46;5\n")
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "2 rows read, 2 accepted, 0 rejected" in result.output


def test_some_rows_rejected_exit_1_with_reasons(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id;lat;lon\nA;45;4\nB;95;4\nA;45;4\nC;;\n")
    out = tmp_path / "rejected.csv"
    result = run("validate", str(path), "--rejected", str(out))
    assert result.exit_code == 1, result.output
    assert "4 rows read, 1 accepted, 3 rejected" in result.output
    assert "duplicate point_id" in result.output and "missing coordinates" in result.output
    assert out.read_text().count("\n") == 4


def test_demand_kind(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("code_insee,population,lat,lon\n48095,12000,44.5,3.5\n48001,-1,44.6,3.4\n")
    result = run("validate", str(path), "--kind", "demand")
    assert result.exit_code == 1
    assert "negative weight" in result.output


def test_unreadable_file_exit_2(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("")
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "empty" in result.output and "Traceback" not in result.output


def test_missing_file_exit_2(tmp_path):
    result = run("validate", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2


def test_version_and_help():
    assert run("--version").exit_code == 0
    result = run("-h")
    assert result.exit_code == 0 and "validate" in result.output


def test_within_rejects_rows_outside_with_the_place(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id;lat;lon\nA;45;4\nB;41.63;0.16\n")
    out = tmp_path / "rejected.csv"
    result = run("validate", str(path), "--within", "FR", "--rejected", str(out))
    assert result.exit_code == 1, result.output
    assert "2 rows read, 1 accepted, 1 rejected" in result.output
    assert "outside FR (41.63 N, 0.16 E)" in out.read_text()
    demand = tmp_path / "d.csv"
    demand.write_text("code_insee,population,lat,lon\n48095,12000,44.5,3.5\n99999,5,41.63,0.16\n")
    result = run("validate", str(demand), "--kind", "demand", "--within", "FR")
    assert result.exit_code == 1 and "outside FR" in result.output


def test_within_unknown_area_exit_2(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id;lat;lon\nA;45;4\n")
    result = run("validate", str(path), "--within", "XX")
    assert result.exit_code == 2 and "no area known" in result.output
    result = run("validate", str(path), "--within", "demand:5km")
    assert result.exit_code == 2 and "needs the demand" in result.output
