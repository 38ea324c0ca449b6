"""One "covered" for assess and solve with a road network (the bundled Andorra extract)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_costs import _covered_equal, _demand, _points

from relaynet.standard import Standard

OSM = Path(__file__).resolve().parents[1] / "data" / "osm"


@pytest.fixture(scope="module")
def andorra():
    from relaynet.network import RoadNetwork

    return RoadNetwork.from_osm_file(OSM / "andorra.osm.gz", mode="drive")


class TestCoveredEqualityByRoad:
    """MCLP's covered weight is assess's, both measuring on the same RoadNetwork."""

    @pytest.mark.parametrize("text", ["5km", "10min", "5km|10min", "5km road", "20min"])
    def test_road_network(self, andorra, text):
        rng = np.random.default_rng(7)
        nodes = rng.choice(andorra.n_nodes, 60, replace=False)
        weight = rng.integers(1, 100, len(nodes)).astype(float)
        demand = _demand(andorra.lat[nodes], andorra.lon[nodes], weight)
        first = rng.choice(andorra.n_nodes, 2, replace=False)
        existing = _points(andorra.lat[first], andorra.lon[first], "e")
        std = Standard.parse(text)
        covered, result = _covered_equal(demand, existing, std, network=andorra)
        assert covered > 0
        if std.drive_s is not None:
            assert result.drive_time_source == "road_network"
        if std.distance_by == "road":
            assert result.distance_source == "road_network"
            # a road is never shorter than the straight line
            road = result.access["road_m"].to_numpy()
            ok = np.isfinite(road)
            assert (road[ok] >= result.access["distance_m"].to_numpy()[ok] - 1e-6).all()
