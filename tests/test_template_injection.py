"""Data is data: text from input files never runs as a Jinja template when maps and reports
are written (branca compiles rendered folium output a second time).

Every text field of points and demand carries an arithmetic probe (``{{ 7*7 }}`` must not
become ``49``), a payload that would create a file if evaluated, and bare Jinja openers
(``{{``, ``{%``, ``{#``) that crash the template compiler if they reach it.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from relaynet.cli import main

PROBE = "X{{ 7*7 }}Y"


def _payloads(marker: Path) -> list[str]:
    run = f"{{{{ lipsum.__globals__['os'].makedirs('{marker.as_posix()}') }}}}"
    stmt = f"{{% set x = lipsum.__globals__['os'].makedirs('{marker.as_posix()}') %}}"
    return [PROBE, run, stmt, "A {{ B", "C {% D", "E {# F", "}} {{"]


POINT_TEXT = ["point_id", "name", "network", "address", "postcode", "city", "hours_source"]
DEMAND_TEXT = ["demand_id", "name", "area_id", "area_name"]


def _write_inputs(folder: Path, marker: Path) -> tuple[Path, Path]:
    payloads = _payloads(marker)
    points = [["lat", "lon", "kind", "opening_hours", "services", *POINT_TEXT]]
    demand = [["lat", "lon", "weight", "density_class", *DEMAND_TEXT]]
    for i, text in enumerate(payloads):
        for j in range(3):
            k = 3 * i + j
            fields = [f"{text} {name} {k}" for name in POINT_TEXT]
            hours = f'Mo-Fr 09:00-18:00 "{text}"' if j == 0 else "Mo-Sa 08:00-19:00"
            points.append([44.50 + 0.01 * k, 3.50, "locker", hours, "pickup", *fields])
            # demand places: some near the points (covered), some far (gap zones)
            lat = 44.50 + 0.01 * k if j else 45.40 + 0.02 * k
            fields = [f"{text} {name} {k}" for name in DEMAND_TEXT]
            demand.append([lat, 3.50 + 0.3 * j, 100 + k, "rural", *fields])
    for path, rows in ((folder / "points.csv", points), (folder / "demand.csv", demand)):
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
    return folder / "points.csv", folder / "demand.csv"


def _shown_text(page: str) -> str:
    """What a person can read from a page: JSON string escapes and HTML references decoded."""
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
    return html.unescape(html.unescape(decoded))


@pytest.mark.parametrize("optimize", [False, True])
def test_report_and_map_never_evaluate_input_text(tmp_path, optimize):
    marker = tmp_path / "pwned"
    points, demand = _write_inputs(tmp_path, marker)
    out = tmp_path / "report"
    args = ["report", "--points", str(points), "--demand", str(demand)]
    args += ["--standard", "5km", "--offline", "--out", str(out)]
    if optimize:
        args += ["--optimize", "mclp", "--p", "2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not marker.exists(), "a template in the input data was executed"
    for name in ("map.html", "index.html"):
        page = (out / name).read_text(encoding="utf-8")
        shown = _shown_text(page)
        assert "X49Y" not in shown
        assert "lipsum" not in page or "makedirs" in shown  # only ever as inert text
    shown_map = _shown_text((out / "map.html").read_text(encoding="utf-8"))
    # every text field of both inputs reaches the map literally, braces and all
    for field in ("name", "address", "city", "postcode"):
        assert f"{PROBE} {field} 0" in shown_map, field
    for field in ("name", "area_name"):
        assert f"{PROBE} {field}" in shown_map, field
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert "X49Y" not in json.dumps(kpis)


def test_network_map_hostile_text_everywhere(tmp_path):
    import relaynet as rn
    from relaynet.maps import map_html, network_map

    marker = tmp_path / "pwned"
    points_path, _ = _write_inputs(tmp_path, marker)
    points, rejected = rn.load_points(points_path)
    assert len(rejected) == 0, rejected
    page = map_html(network_map(points, when="2026-11-30 10:00", tiles=None))
    shown = _shown_text(page)
    assert not marker.exists()
    assert "X49Y" not in shown
    # free-text fields arrive literally (network and kind are normalised to tokens)
    for field in ("point_id", "name", "address", "city", "postcode"):
        assert f"{PROBE} {field}" in shown, field
