"""The dask engine against the local engine, on a real LocalCluster with 2 workers."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

# dask is in the test extra: a missing install must fail here, not skip.
import dask_geopandas  # noqa: E402, F401
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster  # noqa: E402

from relaynet import distributed as rd  # noqa: E402
from relaynet.coverage import assess as local_assess  # noqa: E402
from relaynet.coverage import compliance_table  # noqa: E402
from relaynet.coverage.estimate import DriveEstimate  # noqa: E402
from relaynet.coverage.kpis import KPI_COLUMNS, weighted_quantile  # noqa: E402
from relaynet.distributed import _tasks  # noqa: E402
from relaynet.distributed._kpis import kpi_from_partials  # noqa: E402
from relaynet.eligibility import Eligibility  # noqa: E402
from relaynet.errors import InputError, ParameterError  # noqa: E402
from relaynet.nearest import Locator  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
DEMAND = DATA / "communes_demand.parquet"
POINTS = DATA / "laposte_points.parquet"
TUESDAY_10 = Eligibility(open_at=dt.datetime(2024, 6, 11, 10, 0), reference=dt.date(2024, 6, 10))
SATURDAY_10 = Eligibility(open_at=dt.datetime(2024, 6, 15, 10, 0), reference=dt.date(2024, 6, 10))
WEIGHT_COLUMNS = [
    "n_places",
    "weight",
    "covered_weight",
    "uncovered_weight",
    "share_covered",
    "fragile_weight",
    "fragile_share",
    "backup_weight",
    "backup_share",
    "unreached_weight",
]


@pytest.fixture(scope="module")
def client():
    """Two worker *processes* (1 thread each): pickling and per-process caches exercised."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="2GiB",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def points() -> gpd.GeoDataFrame:
    """Bundled points split into two networks (by kind), so fragility is non-trivial."""
    frame = gpd.read_parquet(POINTS)
    frame["network"] = np.where(frame["kind"] == "post_office", "la_poste", "partners")
    return frame


@pytest.fixture(scope="module")
def demand() -> gpd.GeoDataFrame:
    return gpd.read_parquet(DEMAND)


def _check_kpis(local: pd.DataFrame, dask: pd.DataFrame, resolution: float = 1.0) -> None:
    """Weights equal; means to float rounding; quantiles = local rounded up to the bin."""
    assert list(dask.columns) == list(KPI_COLUMNS)
    assert list(dask.index) == list(local.index)
    assert dask.index.name == local.index.name
    pd.testing.assert_frame_equal(
        dask[WEIGHT_COLUMNS], local[WEIGHT_COLUMNS], rtol=1e-12, check_index_type=False
    )
    for column in ("mean_distance_m", "mean_drive_s"):
        np.testing.assert_allclose(dask[column], local[column], rtol=1e-9)
    for column in ("p50_distance_m", "p90_distance_m"):
        expected = np.ceil(local[column].to_numpy() / resolution) * resolution
        np.testing.assert_array_equal(dask[column].to_numpy(), expected)
        finite = np.isfinite(local[column].to_numpy())  # inf: too much weight unreached
        gap = dask[column].to_numpy()[finite] - local[column].to_numpy()[finite]
        assert ((gap >= 0) & (gap < resolution)).all()
    bound = DriveEstimate().drive_s(resolution)
    finite = np.isfinite(local["p90_drive_s"].to_numpy())
    gap = np.where(finite, dask["p90_drive_s"].to_numpy(), 0) - np.where(
        finite, local["p90_drive_s"].to_numpy(), 0
    )
    assert ((gap[finite] >= -1e-9) & (gap[finite] < bound + 1e-9)).all()


class TestAgainstLocal:
    def test_nearest_equals_local(self, client, points, demand):
        access = rd.nearest(
            str(DEMAND), points, k=3, where=TUESDAY_10, scheduler=client, npartitions=3
        )
        expected = Locator(points).nearest(demand, k=3, where=TUESDAY_10)
        pd.testing.assert_frame_equal(access, expected)

    def test_nearest_written_by_workers_from_csv(self, client, points, demand, tmp_path):
        subset = demand.iloc[::7]
        csv = tmp_path / "demand.csv"
        pd.DataFrame(
            {
                "demand_id": subset["demand_id"],
                "weight": subset["weight"],
                "latitude": subset.geometry.y,
                "lon": subset.geometry.x,
            }
        ).to_csv(csv, index=False)
        out = rd.nearest(
            str(csv), points, k=2, max_distance_m=4000, scheduler=client, output=tmp_path / "out"
        )
        parts = sorted(out.glob("part.*.parquet"))
        got = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        expected = Locator(points).nearest(subset, k=2, max_distance_m=4000)
        assert len(got) == len(expected) == 2 * len(subset)
        np.testing.assert_array_equal(got["demand_id"], expected["demand_id"].astype(str))
        np.testing.assert_array_equal(got["point_id"].isna(), expected["point_id"].isna())
        found = expected["point_id"].notna().to_numpy()
        np.testing.assert_array_equal(got["point_id"][found], expected["point_id"][found])
        # CSV round trip of degrees: identical to ~1e-9 m, never another point
        np.testing.assert_allclose(got["distance_m"], expected["distance_m"], atol=1e-6)

    def test_assess_equals_local(self, client, points, demand):
        windows = {"saturday": SATURDAY_10}
        local = local_assess(demand, points, "5km|20min", TUESDAY_10, windows=windows)
        result = rd.assess(
            str(DEMAND),
            points,
            "5km|20min",
            TUESDAY_10,
            windows=windows,
            scheduler=client,
            npartitions=5,
        )
        assert result.n_partitions == 5
        assert result.n_places == len(demand)
        assert result.n_eligible == local.n_eligible
        _check_kpis(local.kpis, result.kpis)
        _check_kpis(local.by_area, result.by_area)
        _check_kpis(local.by_density, result.by_density)
        assert 0 < result.kpis["fragile_weight"].iloc[0] < result.kpis["weight"].iloc[0]
        win_local = local.windows.set_index(["window", "group"])
        win_dask = result.windows.set_index(["window", "group"])
        assert list(win_dask.index) == list(win_local.index)
        _check_kpis(win_local[list(KPI_COLUMNS)], win_dask[list(KPI_COLUMNS)])
        np.testing.assert_array_equal(win_dask["description"], win_local["description"])
        pd.testing.assert_frame_equal(result.networks, local.networks, rtol=1e-12)
        assert result.to_dict()["overall"]["share_covered"] == pytest.approx(local.share_covered)
        # kpis.json blocks: same layout, windows and networks included
        on_dask, here = result.to_dict(), local.to_dict()
        assert list(on_dask["windows"]) == list(here["windows"]) == ["saturday"]
        for name, block in here["windows"].items():
            assert list(on_dask["windows"][name]) == list(block)
            assert on_dask["windows"][name]["description"] == block["description"]
            for group in ("all", "urban", "intermediate", "rural"):
                assert list(on_dask["windows"][name][group]) == list(block[group])
                for key in ("weight", "covered_weight", "fragile_weight", "backup_weight"):
                    got, want = on_dask["windows"][name][group][key], block[group][key]
                    assert got == pytest.approx(want, rel=1e-12)
        assert [list(r) for r in on_dask["networks"]] == [list(r) for r in here["networks"]]
        for got, want in zip(on_dask["networks"], here["networks"], strict=True):
            assert got["network"] == want["network"] and got["n_points"] == want["n_points"]
            assert got["covered_weight"] == pytest.approx(want["covered_weight"], rel=1e-12)
            assert got["marginal_weight"] == pytest.approx(want["marginal_weight"], rel=1e-12)
        columns = ["area_id", "weight", "covered_weight", "share_covered", "passes", "shortfall"]
        expected = compliance_table(local, 0.9)[columns]
        got = result.compliance_table(0.9)
        assert not expected["passes"].all()  # the 5 km | 20 min rule fails somewhere at 10:00
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)

    def test_locator_built_once_per_worker(self, client, points):
        def cached():
            from relaynet.distributed import _tasks as tasks

            return sorted(tasks._LOCATORS)

        rd.nearest(str(DEMAND), points, scheduler=client, npartitions=6)
        before = client.run(cached)
        rd.assess(str(DEMAND), points, "5km", scheduler=client, npartitions=6, windows=None)
        after = client.run(cached)
        assert before == after
        fingerprint = _tasks.make_broadcast(points, None).fingerprint
        assert all(fingerprint in keys for keys in after.values())

    def test_local_cluster_started_for_the_run(self, points, demand):
        subset = demand.iloc[:3000]
        options = rd.ClusterOptions(n_workers=2, processes=False, memory_limit="1GiB")
        got = rd.run_nearest(subset, points, k=2, engine="dask", cluster=options)
        expected = rd.run_nearest(subset, points, k=2, engine="local")
        pd.testing.assert_frame_equal(got, expected)


class TestPartials:
    """The combination itself, without a cluster: associativity and the quantile bound."""

    @pytest.mark.parametrize("resolution", [1.0, 250.0])
    def test_merge_in_any_order_and_bound(self, points, demand, resolution):
        rng = np.random.default_rng(3)
        frame = demand.iloc[rng.permutation(len(demand))[:6000]].copy()
        frame["weight"] = rng.integers(0, 50, len(frame)).astype(float)
        broadcast = _tasks.make_broadcast(points, TUESDAY_10)
        args = (
            broadcast,
            5000.0,
            "area_id",
            resolution,
            DriveEstimate(),
            rd.api.DEFAULT_THRESHOLDS,
        )
        cuts = [0, 1000, 1001, 3500, len(frame)]
        pieces = [_tasks.partials_partition(frame.iloc[a:b], *args) for a, b in zip(cuts, cuts[1:])]
        tree = _tasks.merge_partials(
            _tasks.merge_partials(pieces[3], pieces[0]), _tasks.merge_partials(pieces[2], pieces[1])
        )
        flat = _tasks.merge_partials(*pieces)
        whole = _tasks.partials_partition(frame, *args)
        local = local_assess(frame, points, "5km", TUESDAY_10, windows=None)
        for merged in (tree, flat, whole):
            table = kpi_from_partials(merged, ("", "area_id"), resolution, DriveEstimate())
            _check_kpis(local.by_area, table, resolution)

    def test_histogram_quantile_is_ceiling_of_exact(self):
        rng = np.random.default_rng(5)
        values = rng.gamma(2.0, 1500.0, 5000)
        values[rng.random(5000) < 0.05] = np.nan
        weights = rng.integers(0, 5, 5000).astype(float)
        bins = np.where(np.isnan(values), -1, np.ceil(np.nan_to_num(values) / 1.0)).astype(int)
        table = pd.DataFrame({"bin": bins, "weight": weights}).groupby("bin")["weight"].sum()
        binned = np.where(table.index < 0, np.inf, table.index.to_numpy(float))
        for q in (0.1, 0.5, 0.9, 0.96, 1.0):
            exact = weighted_quantile(values, weights, q)
            assert weighted_quantile(binned, table.to_numpy(), q) == np.ceil(exact)


class TestErrors:
    def test_engine_and_parameters(self, points, demand):
        with pytest.raises(ParameterError, match="engine"):
            rd.run_nearest(demand, points, engine="spark")
        with pytest.raises(ParameterError, match="either scheduler"):
            rd.nearest(demand, points, scheduler="tcp://x:1", cluster=rd.ClusterOptions())
        with pytest.raises(ParameterError, match="quantile_resolution_m"):
            rd.assess(demand, points, "5km", quantile_resolution_m=0)
        with pytest.raises(ParameterError, match="k=0"):
            rd.nearest(demand, points, k=0)

    def test_bad_sources(self, client, points, tmp_path):
        with pytest.raises(InputError, match="no such demand"):
            rd.nearest(str(tmp_path / "missing.parquet"), points, scheduler=client)
        csv = tmp_path / "no_id.csv"
        csv.write_text("lat,lon\n45.0,4.0\n")
        with pytest.raises(InputError, match="demand_id"):
            rd.nearest(str(csv), points, scheduler=client)
        csv.write_text("demand_id,y,x\na,45.0,4.0\n")
        with pytest.raises(InputError, match="latitude"):
            rd.nearest(str(csv), points, scheduler=client)
        with pytest.raises(ParameterError, match="by='nope'"):
            rd.assess(str(DEMAND), points, "5km", by="nope", scheduler=client, windows=None)

    def test_negative_weight_named(self, client, points, demand, tmp_path):
        bad = demand.iloc[:50].copy()
        bad.loc[bad.index[7], "weight"] = -3.0
        with pytest.raises(InputError, match=bad["demand_id"].iloc[7]):
            rd.assess(bad, points, "5km", scheduler=client, windows=None)

    def test_missing_extra_message(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "distributed", None)
        with pytest.raises(ImportError, match=r"relaynet\[dask\]"):
            rd.require_dask()

    def test_click_engine_options(self):
        seen = {}

        @click.command()
        @rd.engine_options
        def command(engine, cluster):
            seen.update(engine=engine, cluster=cluster)

        runner = CliRunner()
        assert runner.invoke(command, []).exit_code == 0
        assert seen == {"engine": "local", "cluster": None}
        result = runner.invoke(command, ["--scheduler", "tcp://host:8786", "--workers", "3"])
        assert result.exit_code == 0
        assert seen["engine"] == "dask"
        assert seen["cluster"] == rd.ClusterOptions(scheduler="tcp://host:8786", n_workers=3)
        result = runner.invoke(command, ["--engine", "local", "--scheduler", "tcp://h:1"])
        assert result.exit_code == 2 and "--engine dask" in result.output


def test_coverage_cli_on_dask_matches_local(client, demand, points, tmp_path):
    """`relaynet coverage --engine dask --scheduler ADDRESS` writes the same KPIs."""
    from relaynet.cli import main

    demand_file = tmp_path / "demand.parquet"
    demand.to_parquet(demand_file)
    points_file = tmp_path / "points.parquet"
    points.to_parquet(points_file)
    args = [
        "coverage",
        "--points",
        str(points_file),
        "--demand",
        str(demand_file),
        "--standard",
        "5km",
        "--no-windows",
        "--quiet",
    ]
    dask_out, local_out = tmp_path / "dask", tmp_path / "local"
    result = CliRunner().invoke(
        main, [*args, "--out", str(dask_out), "--scheduler", client.scheduler.address]
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, [*args, "--out", str(local_out)])
    assert result.exit_code == 0, result.output
    import json

    on_dask = json.loads((dask_out / "kpis.json").read_text())["overall"]
    local = json.loads((local_out / "kpis.json").read_text())["overall"]
    assert on_dask["covered_weight"] == pytest.approx(local["covered_weight"], rel=1e-12)
    assert on_dask["weight"] == pytest.approx(local["weight"], rel=1e-12)
    assert (dask_out / "kpis_by_area.csv").exists()
    dask_compliance = pd.read_csv(dask_out / "compliance.csv", dtype={"area_id": str})
    local_compliance = pd.read_csv(local_out / "compliance.csv", dtype={"area_id": str})
    columns = list(dask_compliance.columns)
    pd.testing.assert_frame_equal(dask_compliance, local_compliance[columns], rtol=1e-9)


def test_nearest_cli_on_dask_matches_local(client, demand, points, tmp_path):
    """`relaynet nearest --places FILE --scheduler ADDRESS` gives the local access table."""
    from relaynet.cli import main

    places = tmp_path / "places.parquet"
    demand.iloc[:500].to_parquet(places)
    points_file = tmp_path / "points.parquet"
    points.to_parquet(points_file)
    args = [
        "nearest",
        "--points",
        str(points_file),
        "--places",
        str(places),
        "-k",
        "2",
        "--open-at",
        "2024-06-15 10:30",
        "--format",
        "csv",
    ]
    on_dask = CliRunner().invoke(
        main, [*args, "-o", str(tmp_path / "d.csv"), "--scheduler", client.scheduler.address]
    )
    assert on_dask.exit_code == 0, on_dask.output
    local = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "l.csv")])
    assert local.exit_code == 0, local.output
    d = pd.read_csv(tmp_path / "d.csv", dtype={"demand_id": str, "point_id": str})
    loc = pd.read_csv(tmp_path / "l.csv", dtype={"demand_id": str, "point_id": str})
    assert len(d) == 1000
    pd.testing.assert_frame_equal(d, loc)


def test_cli_on_dask_reports_rejected_rows(client, demand, points, tmp_path):
    """Bad demand rows on the dask engine: rejected.csv names them and the exit code is 1,
    as on the local engine (coverage and nearest)."""
    from relaynet.cli import main

    sample = demand.iloc[:300]
    lines = ["demand_id;lat;lon;weight"] + [
        f"{i};{y:.6f};{x:.6f};{w:g}"
        for i, y, x, w in zip(
            sample["demand_id"], sample.geometry.y, sample.geometry.x, sample["weight"], strict=True
        )
    ]
    lines[5] = "bad1;not-a-number;3.5;10"
    lines[40] = "bad2;44.5;;10"
    demand_file = tmp_path / "demand.csv"
    demand_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    points_file = tmp_path / "points.parquet"
    points.to_parquet(points_file)
    common = ["--points", str(points_file), "--scheduler", client.scheduler.address]
    out = tmp_path / "cov"
    result = CliRunner().invoke(
        main,
        ["coverage", *common, "--demand", str(demand_file), "--no-windows", "-q"]
        + ["--out", str(out)],
    )
    assert result.exit_code == 1, result.output
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert len(rejected) == 2 and set(rejected["source"]) == {"demand"}
    places = CliRunner().invoke(
        main,
        ["nearest", *common, "--places", str(demand_file), "-k", "1", "--format", "csv"]
        + ["-o", str(tmp_path / "n.csv")],
    )
    assert places.exit_code == 1, places.output
    assert len(pd.read_csv(tmp_path / "n.csv")) == 298


def test_search_limit_on_dask_equals_local(client, demand, points):
    """A search limit leaves the same places unreached on both engines."""
    from relaynet.coverage import assess
    from relaynet.distributed import assess as dask_assess

    local = assess(demand, points, "5km", windows=None, search_limit_m=2_000.0)
    on_dask = dask_assess(
        demand, points, "5km", windows=None, scheduler=client, search_limit_m=2_000.0
    )
    assert local.kpis["unreached_weight"].iloc[0] > 0
    assert on_dask.search_limit_m == 2_000.0
    np.testing.assert_allclose(
        on_dask.kpis["unreached_weight"].to_numpy(), local.kpis["unreached_weight"].to_numpy()
    )
