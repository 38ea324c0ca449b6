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


class TestRoadDistanceDoorToDoor:
    """A road-distance standard measures access legs in metres plus metres along roads."""

    @pytest.fixture
    def straight_road(self):
        from relaynet.geo import EARTH_RADIUS_M
        from relaynet.network import RoadNetwork

        # a north-south road of 1 km pieces (both ways), 10 km long, at 45° N
        step = 1000.0 / (EARTH_RADIUS_M * np.pi / 180)
        n = 11
        lat = 45.0 + step * np.arange(n)
        lon = np.full(n, 3.0)
        u = np.r_[np.arange(n - 1), np.arange(1, n)]
        v = np.r_[np.arange(1, n), np.arange(n - 1)]
        length = np.full(len(u), 1000.0)
        return RoadNetwork(np.arange(n), lat, lon, u, v, length / 13.9, length), step

    def test_access_leg_counts_its_metres(self, straight_road):
        from relaynet.coverage import assess
        from relaynet.geo import EARTH_RADIUS_M

        net, step = straight_road
        # the place 300 m east of the road at km 2.5, the point on the road at km 0
        east = 300.0 / (EARTH_RADIUS_M * np.pi / 180 * np.cos(np.radians(45.0 + 2.5 * step)))
        demand = _demand([45.0 + 2.5 * step], [3.0 + east])
        points = _points([45.0], [3.0])
        door_to_door = net.by_length().nearest(demand, points, k=1)
        assert door_to_door[net.time_column].iloc[0] == pytest.approx(2800.0, abs=1.0)
        covered = {
            text: bool(assess(demand, points, text, network=net, windows=None).access["covered"][0])
            for text in ("2.75km road", "2.85km road")
        }
        # 2 500 m along the road + the 300 m access leg (not 300 m at the access speed)
        assert covered == {"2.75km road": False, "2.85km road": True}
