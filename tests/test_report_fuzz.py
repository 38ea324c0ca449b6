"""The report on hostile and careless files: no traceback, an exit code in the documented
set, every input row accounted for, no template or formula executed, and identical runs
giving identical data files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaynet.cli import main

TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "NULL",
            "X{{ 7*7 }}Y",
            "{{ lipsum.__globals__['os'].makedirs('MARK') }}",
            "{% for x in y %}",
            "{#",
            "=1+1",
            '=HYPERLINK("http://x")',
            "@SUM(A1)",
            "-2",
            "<script>alert(1)</script>",
            "a;b",
            'quote " inside',
            "é\u00e8\u2028x",
            "\x00\x07",
        ]
    ),
    st.text(max_size=12),
)
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(str),
    st.sampled_from(["", "abc", "44,5", "1e999", "-0", "91", "-181"]),
    st.floats(min_value=44.0, max_value=45.0).map(lambda v: f"{v:.4f}"),
)
LON = st.one_of(NUMBER, st.floats(min_value=3.0, max_value=4.0).map(lambda v: f"{v:.4f}"))

POINT_ROW = st.tuples(TEXT, TEXT, NUMBER, LON, TEXT, TEXT)
DEMAND_ROW = st.tuples(TEXT, TEXT, NUMBER, LON, NUMBER)


def _write(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])


def _good_points():
    return [
        (f"P{i}", f"Point {i}", f"{44.5 + 0.05 * i:.3f}", "3.5", "locker", "Mo-Sa 08:00-19:00")
        for i in range(3)
    ]


def _good_demand():
    return [(f"D{i}", f"Place {i}", f"{44.5 + 0.04 * i:.3f}", "3.52", "10") for i in range(3)]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(points=st.lists(POINT_ROW, max_size=6), demand=st.lists(DEMAND_ROW, max_size=6))
def test_report_on_random_rows(tmp_path_factory, points, demand):
    folder = tmp_path_factory.mktemp("fuzz")
    marker = folder / "executed"
    points = _good_points() + [tuple(v.replace("MARK", str(marker)) for v in row) for row in points]
    demand = _good_demand() + [tuple(v.replace("MARK", str(marker)) for v in row) for row in demand]
    _write(folder / "p.csv", ["point_id", "name", "lat", "lon", "kind", "opening_hours"], points)
    _write(folder / "d.csv", ["demand_id", "name", "lat", "lon", "weight"], demand)
    out = folder / "out"
    result = CliRunner().invoke(
        main,
        ["report", "--points", str(folder / "p.csv"), "--demand", str(folder / "d.csv")]
        + ["--no-windows", "--out", str(out), "-q"],
    )
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert not marker.exists()
    if result.exit_code == 2:
        assert len(result.output.strip().splitlines()) == 1
        return
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for record, rows in zip(run["inputs"], (points, demand), strict=True):
        assert record["rows_read"] == len(rows)
        assert record["accepted"] + record["rejected"] == len(rows)
    assert run["exit_code"] == result.exit_code
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "X49Y" not in page and "X49Y" not in (out / "index.html").read_text(encoding="utf-8")
    for name in ("access.csv", "rejected.csv", "gaps.csv"):
        with (out / name).open(encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")), (name, cell)


def test_identical_runs_give_identical_files(tmp_path):
    root = Path(__file__).resolve().parent.parent / "data"
    args = ["--points", str(root / "laposte_points_sample.csv")]
    args += ["--demand", str(root / "lozere_communes.geojson"), "-q", "--when", "2026-11-30 10:00"]
    for name in ("a", "b"):
        result = CliRunner().invoke(main, ["report", *args, "--out", str(tmp_path / name)])
        assert result.exit_code in (0, 1), result.output
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files:
        a = (tmp_path / "a" / name).read_bytes()
        b = (tmp_path / "b" / name).read_bytes()
        if name.endswith(".json"):
            a, b = json.loads(a), json.loads(b)
            for doc in (a, b):
                for key in ("timings_s", "started_utc", "finished_utc"):
                    doc.pop(key, None)
        elif name.endswith(".html"):
            continue  # pages carry the generation time and folium's element ids
        assert a == b, name
