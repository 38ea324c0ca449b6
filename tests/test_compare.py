"""``compare`` against brute force: deltas are differences of independently computed
coverage (haversine over every place × point pair), identical scenarios give zero deltas,
adding points never loses anyone, closing never gains anyone, states sum to the totals;
the comparison folder (CLI), its safety rules and the dask engine."""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

import relaynet as rn
from relaynet.cli import main
from relaynet.coverage.compare import DELTA_KPIS
from relaynet.io import write_csv
from relaynet.scenarios import Scenario, points_table

R_M = 5000.0
EARTH_M = 6_371_008.8
SATURDAY_10 = rn.Eligibility(
    open_at=dt.datetime(2024, 6, 15, 10, 0), reference=dt.date(2024, 6, 10)
)


def _haversine(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dp = p2 - p1
    dl = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(a))


def _nearest(demand, points, mask=None):
    """Brute-force nearest distance of every place (inf when no point)."""
    if mask is not None:
        points = points[np.asarray(mask)]
    if len(points) == 0:
        return np.full(len(demand), np.inf)
    d = _haversine(
        demand.geometry.y.to_numpy(),
        demand.geometry.x.to_numpy(),
        points.geometry.y.to_numpy(),
        points.geometry.x.to_numpy(),
    )
    return d.min(axis=1)


def _demand(n: int = 80, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "name": [f"place {i}" for i in range(n)],
            "weight": rng.integers(0, 500, n).astype(float),
            "area_id": rng.choice(["A", "B", "C"], n),
            "density_class": rng.choice(["urban", "intermediate", "rural"], n),
        },
        geometry=[Point(x, y) for x, y in zip(rng.uniform(3, 3.6, n), rng.uniform(44, 44.4, n))],
        crs="EPSG:4326",
    )


HOURS = ["Mo-Sa 08:00-20:00", "Mo-Fr 09:00-12:00; PH off", "Mo-Fr 09:00-18:00; Sa 09:00-12:00"]


def _points(n: int = 25, seed: int = 2, prefix: str = "p") -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "point_id": [f"{prefix}{i}" for i in range(n)],
            "name": [f"point {i}" for i in range(n)],
            "network": rng.choice(["la_poste", "mondial_relay"], n),
            "kind": "counter",
            "opening_hours": [HOURS[i % 3] for i in range(n)],
            "services": "pickup",
        },
        geometry=[Point(x, y) for x, y in zip(rng.uniform(3, 3.6, n), rng.uniform(44, 44.4, n))],
        crs="EPSG:4326",
    )


def _covered_by_area(demand, distance):
    covered = distance <= R_M
    frame = pd.DataFrame({"area_id": demand["area_id"], "w": demand["weight"] * covered})
    return frame.groupby("area_id")["w"].sum()


def _all_deltas_zero(comparison) -> None:
    for table in (
        comparison.kpis,
        comparison.by_area,
        comparison.by_density,
        comparison.windows,
        comparison.networks,
        comparison.burden,
    ):
        deltas = [c for c in table.columns if c.startswith("delta_")]
        assert deltas
        values = table[deltas].to_numpy(float)
        assert (values == 0).all(), table[deltas]


class TestSynthetic:
    def test_deltas_equal_brute_force(self):
        demand, points = _demand(), _points()
        today = Scenario("today", points)
        fewer = today.close(["p0", "p3", "p7", "p11"], name="fewer")
        result = rn.compare(demand, [today, fewer], "5km")
        d0 = _nearest(demand, points)
        d1 = _nearest(demand, fewer.points)
        expected = _covered_by_area(demand, d1) - _covered_by_area(demand, d0)
        rows = result.by_area[result.by_area["scenario"] == "fewer"].set_index("area_id")
        np.testing.assert_allclose(rows["delta_covered_weight"], expected.reindex(rows.index))
        overall = result.kpis.set_index("scenario").loc["fewer"]
        assert overall["delta_covered_weight"] == pytest.approx(expected.sum())
        changes = result.changes
        np.testing.assert_allclose(changes["distance_before_m"], d0, rtol=1e-9)
        np.testing.assert_allclose(changes["distance_after_m"], d1, rtol=1e-9)
        lost = (d0 <= R_M) & (d1 > R_M)
        np.testing.assert_array_equal(changes["state"] == "lost", lost)
        # the mean distance delta of the whole demand, from brute force
        w = demand["weight"].to_numpy()
        delta_mean = (w * d1).sum() / w.sum() - (w * d0).sum() / w.sum()
        assert overall["delta_mean_distance_m"] == pytest.approx(delta_mean, rel=1e-9)

    def test_window_deltas_equal_brute_force(self):
        demand, points = _demand(), _points()
        today = Scenario("today", points)
        no_saturday = today.close_on("Sa", name="no Saturday")
        result = rn.compare(demand, [today, no_saturday], "5km")
        open0 = SATURDAY_10.mask(points)
        open1 = SATURDAY_10.mask(no_saturday.points)
        assert open0.any() and not open1.any()
        d0, d1 = _nearest(demand, points, open0), _nearest(demand, points, open1)
        lost = (d0 <= R_M) & (d1 > R_M)
        changes = result.changes
        np.testing.assert_array_equal(changes["state_saturday"] == "lost", lost)
        assert (changes["state"] == "unchanged").all()  # no hour filter: nobody moves
        movers = result.movers("saturday")
        expected = demand.assign(lost=demand["weight"] * lost).groupby("area_id")["lost"].sum()
        got = movers.set_index("area_id")["lost_weight"]
        np.testing.assert_allclose(got, expected.reindex(got.index))
        assert expected[expected > 0].index.isin(got.index).all()
        window = result.windows
        row = window[
            (window["scenario"] == "no Saturday")
            & (window["window"] == "saturday")
            & (window["group"] == "all")
        ]
        assert row["delta_covered_weight"].iloc[0] == pytest.approx(
            -(demand["weight"] * lost).sum()
        )

    def test_identical_scenario_has_zero_deltas(self):
        demand, points = _demand(), _points()
        today = Scenario("today", points)
        result = rn.compare(demand, [today, today.renamed("same")], "5km")
        _all_deltas_zero(result)
        assert (result.changes["state"] == "unchanged").all()
        for column in [c for c in result.changes.columns if c.startswith("state_")]:
            assert (result.changes[column] == "unchanged").all()
        assert result.movers().empty

    def test_merged_network_appears_in_the_network_table(self):
        demand = _demand()
        today = Scenario("today", _points())
        lockers = _points(10, seed=5, prefix="m").assign(network="inpost")
        merged = today.merge(lockers, name="with InPost")
        result = rn.compare(demand, [today, merged], "5km")
        net = result.networks.set_index(["scenario", "network"])
        inpost = net.loc[("with InPost", "inpost")]
        assert inpost["delta_covered_weight"] == inpost["covered_weight"]
        assert ("today", "inpost") not in net.index

    def test_burden_delta_is_compare_burden_of_travel_burden(self):
        demand, points = _demand(), _points()
        today = Scenario("today", points)
        fewer = today.close(["p1", "p2"], name="fewer")
        result = rn.compare(demand, [today, fewer], "5km", windows=False)
        before = rn.travel_burden(rn.assess(demand, points, "5km", windows=None))
        after = rn.travel_burden(rn.assess(demand, fewer.points, "5km", windows=None))
        expected = rn.coverage.compare_burden(before, after).iloc[0]
        got = result.burden.set_index(["scenario", "window"]).loc[("fewer", "base")]
        for column, value in expected.items():
            assert got[column] == pytest.approx(value)

    def test_parameters_checked(self):
        demand, points = _demand(), _points()
        today = Scenario("today", points)
        with pytest.raises(rn.ParameterError, match="unique"):
            rn.compare(demand, [today, today], "5km")
        with pytest.raises(rn.ParameterError, match="Scenario"):
            rn.compare(demand, [points], "5km")
        with pytest.raises(rn.ParameterError, match="engine"):
            rn.compare(demand, [today], "5km", engine="spark")


@st.composite
def _subset(draw, n: int):
    return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


class TestProperties:
    demand = _demand(40, seed=7)
    points = _points(15, seed=8)

    @settings(
        max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )  # each example runs the pipeline twice
    @given(closed=_subset(15), seed=st.integers(0, 10_000))
    def test_adding_never_loses_closing_never_gains(self, closed, seed):
        today = Scenario("today", self.points)
        fewer = today.close(where=closed, name="fewer")
        extra = _points(5, seed=seed, prefix="new")
        more = today.add(extra, name="more")
        result = rn.compare(self.demand, [today, fewer, more], "5km", windows=False)
        changes = result.changes
        states = changes.set_index("scenario")["state"]
        assert not (states.loc["fewer"] == "gained").any()
        assert not (states.loc["more"] == "lost").any()
        fewer_d = changes[changes["scenario"] == "fewer"]["delta_distance_m"].to_numpy()
        more_d = changes[changes["scenario"] == "more"]["delta_distance_m"].to_numpy()
        assert (np.nan_to_num(fewer_d, nan=np.inf) >= 0).all()
        assert (np.nan_to_num(more_d, nan=0.0) <= 0).all()
        # per-place states sum to the totals, per area and overall
        for name in ("fewer", "more"):
            area = result.by_area[result.by_area["scenario"] == name]
            np.testing.assert_allclose(
                area["gained_weight"] - area["lost_weight"], area["delta_covered_weight"]
            )
            row = result.kpis.set_index("scenario").loc[name]
            assert row["gained_places"] + row["lost_places"] + row["unchanged_places"] == len(
                self.demand
            )
            assert row["gained_weight"] + row["lost_weight"] + row["unchanged_weight"] == (
                pytest.approx(self.demand["weight"].sum())
            )
            assert row["gained_weight"] - row["lost_weight"] == pytest.approx(
                row["delta_covered_weight"]
            )


# -- command line, report folder, safety ---------------------------------------------------


def _write_inputs(folder: Path) -> tuple[Path, Path, Path]:
    demand = _demand()
    frame = pd.DataFrame(demand.drop(columns="geometry"))
    frame["lat"], frame["lon"] = demand.geometry.y, demand.geometry.x
    write_csv(frame, folder / "demand.csv")
    write_csv(points_table(_points()), folder / "points.csv")
    write_csv(points_table(_points(6, seed=9, prefix="x")), folder / "extra.csv")
    return folder / "demand.csv", folder / "points.csv", folder / "extra.csv"


class TestCommandLine:
    def test_compare_folder(self, tmp_path):
        demand, points, extra = _write_inputs(tmp_path)
        closed = tmp_path / "closed.csv"
        write_csv(points_table(_points().iloc[:4]), closed)
        out = tmp_path / "cmp"
        args = ["compare", "--demand", str(demand), "--baseline", str(points)]
        args += ["--scenario", f"more=+{extra}", "--scenario", f"swap=-{closed}"]
        args += ["--scenario", f"swap=+{extra}", "--by", "area_id", "--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        files = sorted(p.name for p in out.iterdir())
        assert files == sorted(rn.report.COMPARISON_FILES)
        kpis = json.loads((out / "kpis.json").read_text())
        assert kpis["schema"] == "relaynet.compare/1"
        assert [s["name"] for s in kpis["scenarios"]] == ["baseline", "more", "swap"]
        swap = kpis["scenarios"][2]
        assert [e["action"] for e in swap["edits"]] == ["close", "add"]
        assert swap["kpis"]["schema"] == "relaynet.kpis/1"
        deltas = pd.read_csv(out / "deltas.csv")
        assert set(deltas["scenario"]) == {"baseline", "more", "swap"}
        changes = pd.read_csv(out / "changes.csv")
        assert len(changes) == 2 * 80 and {"state", "state_saturday"} <= set(changes.columns)
        run = json.loads((out / "run.json").read_text())
        assert run["exit_code"] == 0 and "index.html" in run["files"]
        page = (out / "index.html").read_text()
        assert "largest loss first" in page and "more vs baseline" in page

    def test_optimize_points_plug_into_compare(self, tmp_path):
        demand, points, _ = _write_inputs(tmp_path)
        opt = tmp_path / "opt"
        args = ["optimize", "--demand", str(demand), "--points", str(points)]
        args += ["--model", "mclp", "--p", "2", "--standard", "5km", "--out", str(opt)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        sites = pd.read_csv(opt / "proposed_points.csv")
        assert len(sites) == 2 and {"lat", "lon", "point_id"} <= set(sites.columns)
        out = tmp_path / "cmp"
        args = ["compare", "--demand", str(demand), "--baseline", str(points)]
        args += ["--scenario", f"sites=+{opt / 'proposed_points.csv'}", "--no-windows"]
        args += ["--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        kpis = json.loads((out / "kpis.json").read_text())
        gained = kpis["scenarios"][1]["changes"]["gained_weight"]
        summary = json.loads((opt / "summary.json").read_text())
        assert gained == pytest.approx(summary["objective"] - kpis["scenarios"][0]["kpis"][
            "overall"]["covered_weight"])  # fmt: skip

    def test_errors_and_exit_codes(self, tmp_path):
        demand, points, extra = _write_inputs(tmp_path)
        base = ["compare", "--demand", str(demand), "--baseline", str(points)]
        bad = CliRunner().invoke(
            main, [*base, "--scenario", "nofile", "--out", str(tmp_path / "o")]
        )
        assert bad.exit_code == 2 and "NAME=FILE" in bad.output
        order = [*base, "--scenario", f"a=+{extra}", "--scenario", f"a={extra}"]
        bad = CliRunner().invoke(main, [*order, "--out", str(tmp_path / "o")])
        assert bad.exit_code == 2 and "first step" in bad.output
        blocker = tmp_path / "file"
        blocker.write_text("x")
        under_a_file = str(blocker / "out")
        bad = CliRunner().invoke(main, [*base, "--scenario", f"a=+{extra}", "--out", under_a_file])
        assert bad.exit_code == 3 and "cannot write" in bad.output
        with open(tmp_path / "points.csv", "a", encoding="utf-8") as handle:
            handle.write("broken,row,,,,,,,,,,,\n")
        ok = CliRunner().invoke(
            main, [*base, "--scenario", f"a=+{extra}", "--out", str(tmp_path / "r")]
        )
        assert ok.exit_code == 1, ok.output
        assert len(pd.read_csv(tmp_path / "r" / "rejected.csv")) == 1


PROBE = "X{{ 7*7 }}Y"


def test_comparison_never_evaluates_input_text(tmp_path):
    """Scenario names, place and point texts with Jinja payloads and spreadsheet formulas:
    shown literally, never run (same checks as tests/test_template_injection.py)."""
    marker = tmp_path / "pwned"
    run = f"{{{{ lipsum.__globals__['os'].makedirs('{marker.as_posix()}') }}}}"
    payloads = [PROBE, run, "A {{ B", "C {% D", "E {# F", '=HYPERLINK("http://x")']
    demand = _demand(len(payloads) * 4)
    demand["name"] = [f"{payloads[i % len(payloads)]} place {i}" for i in range(len(demand))]
    demand["area_id"] = [payloads[i % len(payloads)] for i in range(len(demand))]
    points = _points(len(payloads) * 2)
    points["name"] = [f"{payloads[i % len(payloads)]} point {i}" for i in range(len(points))]
    frame = pd.DataFrame(demand.drop(columns="geometry"))
    frame["lat"], frame["lon"] = demand.geometry.y, demand.geometry.x
    frame.to_csv(tmp_path / "demand.csv", index=False, quoting=csv.QUOTE_ALL)
    points_table(points).to_csv(tmp_path / "points.csv", index=False, quoting=csv.QUOTE_ALL)
    points_table(points.iloc[: len(payloads)]).to_csv(tmp_path / "close.csv", index=False)
    out = tmp_path / "cmp"
    args = ["compare", "--demand", str(tmp_path / "demand.csv")]
    args += ["--baseline", str(tmp_path / "points.csv"), "--baseline-name", run]
    args += ["--scenario", f"{PROBE}=-{tmp_path / 'close.csv'}"]
    args += ["--scenario", f"+cmd|' /C calc'!A0=-{tmp_path / 'close.csv'}"]
    args += ["--offline", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not marker.exists(), "a template in the input data was executed"
    for name in ("index.html", "map.html"):
        page = (out / name).read_text(encoding="utf-8")
        decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
        shown = html.unescape(html.unescape(decoded))
        assert "X49Y" not in shown
        assert f"{PROBE}: " in shown  # the scenario's name reaches the page literally
        if name == "map.html":  # the closed points' names, braces and all
            assert f"closed: {PROBE} point 0" in shown
    for name in ("changes.csv", "deltas.csv", "rejected.csv"):
        with open(out / name, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                assert not any(cell.startswith(("=", "+", "@")) for cell in row), (name, row)
    assert "X49Y" not in (out / "kpis.json").read_text(encoding="utf-8")


# -- dask engine ----------------------------------------------------------------------------


def test_dask_engine_same_kpi_deltas(tmp_path):
    pytest.importorskip("dask_geopandas")
    from relaynet.distributed import ClusterOptions

    demand, points = _demand(), _points()
    today = Scenario("today", points)
    fewer = today.close(["p0", "p5", "p9"], name="fewer").add(
        _points(4, seed=11, prefix="n"), name="fewer"
    )
    local = rn.compare(demand, [today, fewer], "5km")
    cluster = ClusterOptions(n_workers=1, processes=False, memory_limit="1GiB")
    dask = rn.compare(demand, [today, fewer], "5km", engine="dask", cluster=cluster)
    assert dask.changes is None
    columns = [c for c in local.by_area.columns if c.endswith("weight") and "gained" not in c
               and "lost" not in c] + ["delta_share_covered", "passes"]  # fmt: skip
    pd.testing.assert_frame_equal(
        dask.by_area[["scenario", "area_id", *columns]],
        local.by_area[["scenario", "area_id", *columns]],
        check_dtype=False,
    )
    for table in ("kpis", "by_density"):
        got, want = getattr(dask, table), getattr(local, table)
        for column in ("delta_covered_weight", "delta_backup_weight", "delta_mean_distance_m"):
            np.testing.assert_allclose(got[column], want[column], rtol=1e-9, atol=1e-6)
    wanted = [c for c in local.burden.columns if c.startswith("delta_")]
    np.testing.assert_allclose(dask.burden[wanted], local.burden[wanted], rtol=1e-9, atol=1e-9)
    assert set(DELTA_KPIS) - {"n_places"} <= {c.removeprefix("delta_") for c in dask.kpis.columns}


@pytest.mark.parametrize("areas", [[None, None], ["48", None]])
def test_places_without_area_count_as_unknown_movers(areas):
    """Demand without area ids (a communes file lacking the département column) used to
    crash merging the movers into ``by_area``; they are its ``"unknown"`` row."""
    demand = gpd.GeoDataFrame(
        {"demand_id": ["a", "b"], "weight": [10.0, 5.0], "area_id": areas},
        geometry=[Point(3.5, 44.5), Point(3.6, 44.6)],
        crs="EPSG:4326",
    )
    points = _points(2).set_geometry([Point(3.5, 44.5), Point(3.6, 44.6)], crs="EPSG:4326")
    points["opening_hours"] = "24/7"
    base = Scenario("today", points)
    result = rn.compare(demand, [base, base.close(ids=["p1"], name="fewer")], "5km", by="area_id")
    row = result.by_area.set_index(["scenario", "area_id"]).loc[("fewer", "unknown")]
    assert (row["lost_places"], row["lost_weight"]) == (1, 5.0)
    assert result.by_area["lost_places"].sum() == 1
