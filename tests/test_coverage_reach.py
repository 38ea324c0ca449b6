"""One radius query, every mask over it: evaluate_masks against brute force."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from relaynet.coverage import reach
from relaynet.coverage.reach import evaluate_masks
from relaynet.errors import ParameterError
from relaynet.geo import chord_to_metres, unit_vectors
from relaynet.nearest import Locator


def _points(rng, n: int) -> gpd.GeoDataFrame:
    lat = rng.uniform(44.0, 45.0, n)
    lon = rng.uniform(3.0, 4.5, n)
    lat[:6], lon[:6] = lat[6:12], lon[6:12]  # exact duplicates: ties broken by lower row
    return gpd.GeoDataFrame(
        {"point_id": [f"P{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def _brute(points_xyz, lat, lon, radius, mask, code, n_networks):
    """Chord distances (the same sphere as the index), all pairs."""
    xyz = unit_vectors(lat, lon)
    dist = chord_to_metres(np.linalg.norm(xyz[:, None, :] - points_xyz[None, :, :], axis=2))
    dist = np.where(mask[None, :], dist, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(mask)), dist.shape), dist), axis=1)
    nearest = order[:, 0]
    nearest_m = dist[np.arange(len(lat)), nearest]
    radius = np.broadcast_to(radius, len(lat))[:, None]
    within = dist <= radius
    by_net = np.stack([(within & (code == j)[None, :]).any(axis=1) for j in range(n_networks)])
    found = np.isfinite(nearest_m)
    return {
        "nearest_row": np.where(found, nearest, -1),
        "distance_m": np.where(found, nearest_m, np.nan),
        "n_points": within.sum(axis=1),
        "covered_by": by_net,
        "n_networks": by_net.sum(axis=0),
    }


@pytest.mark.parametrize("chunk", [1, 37, 65536])
@pytest.mark.parametrize("per_place_radius", [False, True])
@pytest.mark.parametrize("one_pass", [True, False])
def test_every_mask_equals_brute_force(chunk, per_place_radius, one_pass, monkeypatch):
    if not one_pass:  # as with many distinct mask patterns: one pass per mask
        monkeypatch.setattr(reach, "_MAX_CELLS", 0)
    rng = np.random.default_rng(11)
    points = _points(rng, 400)
    locator = Locator(points, workers=2)
    lat = rng.uniform(43.9, 45.1, 700)
    lon = rng.uniform(2.9, 4.6, 700)
    code = rng.integers(0, 3, len(points))
    base = rng.random(len(points)) < 0.9
    masks = [base, base & (rng.random(len(points)) < 0.3), base & (code == 1), base & False]
    radius = rng.choice([2000.0, 5000.0], len(lat)) if per_place_radius else 4000.0
    got = evaluate_masks(locator, lat, lon, radius, masks, code, 3, chunk=chunk)
    for mask, result in zip(masks, got, strict=True):
        expected = _brute(locator.xyz_, lat, lon, radius, mask, code, 3)
        np.testing.assert_array_equal(result.n_points, expected["n_points"])
        np.testing.assert_array_equal(result.covered_by, expected["covered_by"])
        np.testing.assert_array_equal(result.n_networks, expected["n_networks"])
        np.testing.assert_array_equal(result.covered, expected["n_points"] > 0)
        np.testing.assert_array_equal(result.backup, expected["n_points"] >= 2)
        # within reach the pair list decides (ties: lower row); beyond it, the k=1 query
        inside = result.covered
        np.testing.assert_array_equal(result.nearest_row[inside], expected["nearest_row"][inside])
        np.testing.assert_allclose(result.distance_m, expected["distance_m"], rtol=1e-12)
        assert (result.nearest_row >= 0).sum() == (expected["nearest_row"] >= 0).sum()


def test_no_points_and_no_places():
    rng = np.random.default_rng(2)
    points = _points(rng, 20)
    locator = Locator(points)
    none = np.zeros(len(points), dtype=bool)
    (result,) = evaluate_masks(locator, [44.5], [3.5], 5000.0, [none], np.zeros(20, int), 1)
    assert result.nearest_row.tolist() == [-1] and np.isnan(result.distance_m).all()
    assert result.n_points.tolist() == [0] and result.n_networks.tolist() == [0]
    (empty,) = evaluate_masks(locator, np.empty(0), np.empty(0), 5000.0, [~none], none, 1)
    assert len(empty.nearest_row) == 0 and empty.covered_by.shape == (1, 0)


def test_errors():
    rng = np.random.default_rng(2)
    locator = Locator(_points(rng, 20))
    every = np.ones(20, dtype=bool)
    code = np.zeros(20, int)
    with pytest.raises(ParameterError, match="radius_m"):
        evaluate_masks(locator, [44.5], [3.5], -1.0, [every], code, 1)
    with pytest.raises(ParameterError, match="one per place"):
        evaluate_masks(locator, [44.5], [3.5], np.ones(3), [every], code, 1)
    with pytest.raises(ParameterError, match="chunk"):
        evaluate_masks(locator, [44.5], [3.5], 10.0, [every], code, 1, chunk=0)


@pytest.mark.parametrize("limit", [None, 30_000.0, 60_000.0])
def test_search_limit_equals_brute_force(limit):
    """Beyond the search limit a place is unreached: no nearest point, distance NaN."""
    rng = np.random.default_rng(5)
    points = _points(rng, 300)
    locator = Locator(points)
    lat = rng.uniform(42.5, 46.5, 500)  # many places far outside the points' square
    lon = rng.uniform(1.5, 6.0, 500)
    code = np.zeros(len(points), dtype=int)
    masks = [np.ones(len(points), bool), rng.random(len(points)) < 0.02]
    got = evaluate_masks(locator, lat, lon, 3000.0, masks, code, 1, search_limit_m=limit)
    for mask, result in zip(masks, got, strict=True):
        expected = _brute(locator.xyz_, lat, lon, 3000.0, mask, code, 1)
        far = expected["distance_m"] > (np.inf if limit is None else limit)
        assert far.any() == (limit is not None)
        np.testing.assert_array_equal(result.nearest_row[far], -1)
        assert np.isnan(result.distance_m[far]).all()
        near = ~far
        np.testing.assert_array_equal(result.nearest_row[near], expected["nearest_row"][near])
        np.testing.assert_allclose(
            result.distance_m[near], expected["distance_m"][near], rtol=1e-12
        )


def test_assess_overseas_place_is_unreached_not_9000_km_away():
    """Réunion with every open point in mainland France: unreached, not 9 000 km."""
    from relaynet.coverage import assess

    points = gpd.GeoDataFrame(
        {"point_id": ["paris", "saint-denis"], "network": "n"},
        geometry=gpd.points_from_xy([2.35, 55.45], [48.85, -20.88]),
        crs="EPSG:4326",
    )
    demand = gpd.GeoDataFrame(
        {"demand_id": ["p", "r"], "weight": [10.0, 1.0], "area_id": ["75", "974"]},
        geometry=gpd.points_from_xy([2.36, 55.5], [48.86, -20.9]),
        crs="EPSG:4326",
    )
    only_paris = np.array([True, False])
    capped = assess(demand, points, "5km", only_paris, windows=None)
    assert capped.access["point_id"].tolist()[0] == "paris"
    assert capped.access["distance_m"].isna().tolist() == [False, True]
    assert capped.kpis["unreached_weight"].iloc[0] == 1.0
    assert capped.kpis["mean_distance_m"].iloc[0] < 2000
    free = assess(demand, points, "5km", only_paris, windows=None, search_limit_m=None)
    assert free.access["distance_m"].iloc[1] > 9_000_000
    with pytest.raises(ParameterError, match="search_limit_m"):
        assess(demand, points, "5km", windows=None, search_limit_m=-1)


def test_assess_parameters_and_empty_demand():
    from relaynet.coverage import assess

    points = gpd.GeoDataFrame(
        {"point_id": ["a"], "network": "n"},
        geometry=gpd.points_from_xy([3.5], [44.5]),
        crs="EPSG:4326",
    )
    demand = gpd.GeoDataFrame(
        {"demand_id": ["p"], "weight": [1.0], "area_id": ["48"]},
        geometry=gpd.points_from_xy([3.51], [44.51]),
        crs="EPSG:4326",
    )
    for limit in (np.int64(50_000), np.float32(5e4), 50_000):
        result = assess(demand, points, "5km", windows=None, search_limit_m=limit)
        assert result.search_limit_m == 50_000.0
    for bad in (True, "100km", np.nan, 0):
        with pytest.raises(ParameterError, match="search_limit_m"):
            assess(demand, points, "5km", windows=None, search_limit_m=bad)
    with pytest.raises(ParameterError, match="no places"):
        assess(demand.iloc[:0], points, "5km", windows=None)


def test_cost_table_warns_once_across_window_threads():
    """Window threads share one CostTable: unknown demand ids are reported once."""
    import warnings

    import pandas as pd

    from relaynet.coverage import assess
    from relaynet.eligibility import Eligibility

    rng = np.random.default_rng(3)
    points = _points(rng, 30).assign(network="n", opening_hours="Mo-Su 08:00-20:00")
    lat, lon = rng.uniform(44.0, 45.0, 50), rng.uniform(3.0, 4.5, 50)
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"d{i}" for i in range(50)], "weight": 1.0, "area_id": "a"},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    table = pd.DataFrame(
        {
            "demand_id": ["d1", "d2", "ghost1", "ghost2"],
            "point_id": ["P1", "P2", "P3", "P4"],
            "cost": [100.0, 200.0, 300.0, 400.0],
        }
    )
    windows = {f"w{i}": Eligibility(open_at=f"2024-06-1{i} 10:00") for i in range(6)}
    for _ in range(5):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assess(demand, points, "5km", windows=windows, costs=table, costs_unit="s")
        unknown = [w for w in caught if "not in the demand" in str(w.message)]
        assert len(unknown) == 1


def test_points_at_one_spot_lowest_row_wins_in_the_tree_path_too():
    """k=1 through the k-d tree (places × points above the brute-force size) picks the
    lowest row among points at the same spot, as the brute force and the pairs do."""
    rng = np.random.default_rng(8)
    points = _points(rng, 400)  # rows 0-5 sit exactly on rows 6-11
    locator = Locator(points)
    lat, lon = rng.uniform(43.9, 45.1, 3000), rng.uniform(2.9, 4.6, 3000)
    rows, _ = locator.query(lat, lon, k=1)
    expected = _brute(locator.xyz_, lat, lon, 1.0, np.ones(400, bool), np.zeros(400, int), 1)
    np.testing.assert_array_equal(rows[:, 0], expected["nearest_row"])
    assert np.isin(rows[:, 0], np.arange(6, 12)).sum() == 0  # a copy never wins
