"""Gap zones: the cell-based zones equal scikit-learn's DBSCAN (min_samples=1, haversine)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from relaynet.coverage import assess, find_gaps
from relaynet.coverage.gaps import zone_labels
from relaynet.datasets import load_demo
from relaynet.errors import ParameterError
from relaynet.geo import EARTH_RADIUS_M


def _dbscan(lat, lon, eps_m):
    return DBSCAN(
        eps=eps_m / EARTH_RADIUS_M, min_samples=1, metric="haversine", algorithm="ball_tree"
    ).fit_predict(np.radians(np.column_stack([lat, lon])))


def _places(seed: int, n: int):
    """Dense blobs (cells of hundreds of places), sparse scatter and exact duplicates."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([43.0, 1.0], [46.0, 5.0], (12, 2))
    spread = rng.choice([0.005, 0.02, 0.08], 12)
    pick = rng.integers(0, 12, n)
    lat = centres[pick, 0] + rng.normal(0, 1, n) * spread[pick]
    lon = centres[pick, 1] + rng.normal(0, 1, n) * spread[pick]
    scatter = rng.random(n) < 0.3
    lat[scatter] = rng.uniform(43.0, 46.0, scatter.sum())
    lon[scatter] = rng.uniform(1.0, 5.0, scatter.sum())
    lat[:50], lon[:50] = lat[50:100], lon[50:100]
    return lat, lon


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eps_m", [300.0, 2000.0, 5000.0, 12000.0])
def test_zones_equal_dbscan(seed, eps_m):
    lat, lon = _places(seed, 4000)
    np.testing.assert_array_equal(zone_labels(lat, lon, eps_m), _dbscan(lat, lon, eps_m))


def test_chains_across_cells_and_the_edge():
    # places 4 999 m apart along a meridian chain join; 5 001 m apart do not
    step = np.degrees(4999.0 / EARTH_RADIUS_M)
    lat = 45.0 + step * np.arange(30)
    lat = np.concatenate([lat, lat[-1] + np.degrees(5001.0 / EARTH_RADIUS_M) * np.arange(1, 4)])
    lon = np.full(len(lat), 3.0)
    labels = zone_labels(lat, lon, 5000.0)
    np.testing.assert_array_equal(labels, _dbscan(lat, lon, 5000.0))
    assert labels.max() == 3


def test_real_sunday_gaps_equal_dbscan():
    points, demand = load_demo()
    national = assess(demand, points, "5km|20min")
    table = national.window_access["sunday"]
    todo = ~table["covered"].to_numpy() & (national.access["weight"].to_numpy() > 0)
    lat = national.access["lat"].to_numpy()[todo]
    lon = national.access["lon"].to_numpy()[todo]
    for eps in (2000.0, 5000.0, 9000.0):
        np.testing.assert_array_equal(zone_labels(lat, lon, eps), _dbscan(lat, lon, eps))
    gaps = find_gaps(national, window="sunday")
    sizes = np.bincount(_dbscan(lat, lon, 5000.0))
    assert sorted(gaps["n_places"]) == sorted(sizes)


def test_empty_and_too_small():
    assert len(zone_labels(np.empty(0), np.empty(0), 100.0)) == 0
    with pytest.raises(ParameterError, match="eps_m"):
        zone_labels(np.array([-80.0, 80.0]), np.array([0.0, 170.0]), 0.001)
