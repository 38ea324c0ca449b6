"""Tests for relaynet.network: road access against networkx and brute-force oracles."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from relaynet.errors import InputError, NetworkError, ParameterError
from relaynet.network import ClippedExtractWarning, RoadNetwork, Router, _build

OSM = Path(__file__).resolve().parents[1] / "data" / "osm"
R = 6_371_008.8


def _points(lat, lon, ids=None, **extra) -> gpd.GeoDataFrame:
    ids = ids if ids is not None else [f"p{i}" for i in range(len(lat))]
    return gpd.GeoDataFrame(
        {"point_id": ids, "name": [f"n-{i}" for i in ids], **extra},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def _demand(lat, lon) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"demand_id": [f"d{i}" for i in range(len(lat))], "weight": 1.0},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


class KeepIds:
    """Stand-in for relaynet.eligibility.Eligibility: anything with mask(points)."""

    def __init__(self, ids):
        self.ids = set(ids)

    def mask(self, points):
        return points["point_id"].isin(self.ids).to_numpy()


# -- a hand-made graph with one-way streets ------------------------------------------------
#
#   A --(one-way, 10 s, 200 m)--> B <--(10 s, 300 m)--> C --(one-way, 100 s, 900 m)--> D
#   A <--(50 s, 1000 m)--> D ;  also a slower parallel A -> B (30 s, 100 m)
#
# Customers travel place -> point. Points at C and D.
#   from A: C in 20 s (500 m), D in 50 s (1000 m)
#   from B: C in 10 s (300 m), D in 110 s (1200 m) -- the wrong direction would give 60 s
LAT = np.array([45.0, 45.0, 45.0, 45.001])
LON = np.array([5.0, 5.002, 5.004, 5.0])


def _tiny(**kw) -> RoadNetwork:
    u = [0, 0, 1, 2, 2, 0, 3]
    v = [1, 1, 2, 1, 3, 3, 0]
    t = [10.0, 30.0, 10.0, 10.0, 100.0, 50.0, 50.0]
    length = [200.0, 100.0, 300.0, 300.0, 900.0, 1000.0, 1000.0]
    return RoadNetwork(np.array([11, 12, 13, 14]), LAT, LON, u, v, t, length, **kw)


class TestTinyGraph:
    def test_one_way_times_and_road_length(self):
        net = _tiny()
        pts = _points(LAT[[2, 3]], LON[[2, 3]], ids=["C", "D"], network="x", kind="locker")
        acc = net.nearest((LAT[:2], LON[:2]), pts, k=2)
        assert list(acc.columns) == [
            "demand_id", "rank", "point_id", "distance_m", "name", "network", "kind",
            "drive_s", "road_m", "snap_m", "off_road",
        ]  # fmt: skip
        assert acc["demand_id"].tolist() == ["0", "0", "1", "1"]
        assert acc["rank"].tolist() == [1, 2, 1, 2]
        assert acc["point_id"].tolist() == ["C", "D", "C", "D"]
        np.testing.assert_allclose(acc["drive_s"], [20, 50, 10, 110])
        np.testing.assert_allclose(acc["road_m"], [500, 1000, 300, 1200])
        np.testing.assert_allclose(acc["snap_m"], 0, atol=1e-6)
        assert acc["name"].tolist() == ["n-C", "n-D", "n-C", "n-D"]
        assert not acc["off_road"].any()

    def test_parallel_edges_keep_fastest(self):
        net = _tiny()
        assert net.n_nodes == 4 and net.n_edges == 6
        assert "nodes=4" in repr(net) and net.summary()["edges"] == 6

    def test_k_distinct_points_on_same_node_and_missing_ranks(self):
        net = _tiny()
        pts = _points(LAT[[2, 2, 3]], LON[[2, 2, 3]], ids=["C1", "C2", "D"])
        acc = net.nearest((LAT[[1]], LON[[1]]), pts, k=4)
        assert acc["point_id"].tolist()[:3] == ["C1", "C2", "D"]
        assert pd.isna(acc["point_id"].iloc[3]) and np.isnan(acc["drive_s"].iloc[3])
        np.testing.assert_allclose(acc["drive_s"].iloc[:3], [10, 10, 110])

    def test_where_and_max_time(self):
        net = _tiny()
        pts = _points(LAT[[2, 3]], LON[[2, 3]], ids=["C", "D"])
        acc = net.nearest((LAT[:2], LON[:2]), pts, where=KeepIds(["D"]), max_time_s=100)
        assert acc["point_id"].tolist()[0] == "D"
        assert pd.isna(acc["point_id"].iloc[1])  # B -> D takes 110 s > 100 s
        np.testing.assert_allclose(acc["drive_s"].iloc[0], 50)

    def test_real_eligibility_and_empty_inputs(self):
        from relaynet.eligibility import Eligibility

        net = _tiny()
        pts = _points(LAT[[2, 3]], LON[[2, 3]], ids=["C", "D"], kind=["locker", "counter"])
        acc = net.nearest((LAT[:1], LON[:1]), pts, where=Eligibility(kinds=frozenset({"counter"})))
        assert acc["point_id"].tolist() == ["D"] and acc["kind"].tolist() == ["counter"]
        none = net.nearest((LAT[:2], LON[:2]), pts.iloc[:0], k=2)
        assert len(none) == 4 and none["point_id"].isna().all() and none["drive_s"].isna().all()
        empty = net.nearest((LAT[:0], LON[:0]), pts, k=2)
        assert len(empty) == 0 and "drive_s" in empty.columns
        assert len(net.within((LAT[:0], LON[:0]), pts, 60)) == 0

    def test_off_road_place_is_flagged_not_snapped(self):
        net = _tiny(max_snap_m=500)
        pts = _points(LAT[[2]], LON[[2]])
        far_lat = 45.02  # ~2.2 km north of A
        acc = net.nearest((np.array([far_lat, 45.0]), np.array([5.0, 5.0])), pts)
        expected = R * np.radians(far_lat - 45.001)  # nearest node is D
        np.testing.assert_allclose(acc["snap_m"].iloc[0], expected, rtol=1e-6)
        assert acc["off_road"].tolist() == [True, False]
        assert pd.isna(acc["point_id"].iloc[0]) and np.isnan(acc["drive_s"].iloc[0])
        np.testing.assert_allclose(acc["drive_s"].iloc[1], 20)

    def test_within_sparse_pairs(self):
        net = _tiny()
        pts = _points(LAT[[2, 3]], LON[[2, 3]], ids=["C", "D"])
        pairs = net.within(_demand(LAT, LON), pts, max_time_s=60)
        got = {(d, p): s for d, p, s in pairs.itertuples(index=False)}
        assert got == {
            ("d0", "C"): 20.0, ("d0", "D"): 50.0, ("d1", "C"): 10.0, ("d2", "C"): 0.0,
            ("d3", "D"): 0.0,
        }  # fmt: skip
        assert list(pairs.columns) == ["demand_id", "point_id", "drive_s"]

    def test_isochrones_contain_reachable_nodes(self):
        net = _tiny()
        iso = net.isochrones(_points(LAT[[2]], LON[[2]]), minutes=[0.25, 1.5])
        assert iso.crs == "EPSG:4326" and iso["minutes"].tolist() == [0.25, 1.5]
        assert iso["nodes"].tolist() == [2, 4]  # B, C within 15 s; all within 90 s
        big = iso.geometry.iloc[1]
        assert all(big.contains(gpd.points_from_xy(LON, LAT)))
        assert iso.geometry.iloc[0].area < big.area

    def test_save_load_round_trip(self, tmp_path):
        net = _tiny(mode="walk")
        path = net.save(tmp_path / "tiny.graphml")
        back = RoadNetwork.load(path)
        assert back.mode == "walk" and back.n_edges == net.n_edges
        pts = _points(LAT[[2, 3]], LON[[2, 3]])
        a = net.nearest((LAT, LON), pts, k=2)
        b = back.nearest((LAT, LON), pts, k=2)
        assert "walk_s" in b.columns
        pd.testing.assert_frame_equal(a, b)


class TestRouterOracle:
    """k nearest distinct sources on random graphs against dense all-pairs Dijkstra."""

    @pytest.mark.parametrize("seed", range(12))
    def test_random_graphs(self, seed):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 60))
        m = int(rng.integers(n, 5 * n))
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        w, length = rng.random(m) * 10 + 0.01, rng.random(m) * 100
        router = Router(u, v, w, length, n)
        sources = rng.choice(n, size=int(rng.integers(1, min(n, 8) + 1)), replace=False)
        k = int(rng.integers(1, 5))
        limit = np.inf if seed % 2 else float(rng.random() * 20)
        lab = router.nearest_sources(sources, k, limit)
        fwd = sp.csr_array((router.fw, (router.fu, router.fv)), shape=(n, n))
        dist = dijkstra(fwd, indices=np.arange(n))
        d = dist[:, sources]
        expected = np.sort(d, axis=1)[:, :k]
        expected = np.where(expected <= limit, expected, np.inf)
        if expected.shape[1] < k:
            pad = np.full((n, k - expected.shape[1]), np.inf)
            expected = np.hstack([expected, pad])
        np.testing.assert_allclose(lab.time_s, expected)
        ok = lab.source >= 0
        assert (ok == np.isfinite(expected)).all()
        rows = np.nonzero(ok)[0]
        np.testing.assert_allclose(d[rows, lab.source[ok]], lab.time_s[ok])
        for row in lab.source:  # distinct
            got = row[row >= 0]
            assert len(set(got.tolist())) == len(got)
        si, ti, tt = router.pairs_within(sources, np.arange(n), 12.0)
        want = np.argwhere(d.T <= 12.0)
        assert sorted(zip(si.tolist(), ti.tolist(), strict=True)) == sorted(
            map(tuple, want.tolist())
        )
        np.testing.assert_allclose(tt, d.T[si, ti])


# -- the bundled Andorra extract against networkx --------------------------------------------


@pytest.fixture(scope="module")
def andorra() -> RoadNetwork:
    return RoadNetwork.from_osm_file(OSM / "andorra.osm.gz", mode="drive")


@pytest.fixture(scope="module")
def monaco_walk() -> RoadNetwork:
    return RoadNetwork.from_osm_file(OSM / "monaco.osm.gz", mode="walk")


@pytest.fixture(scope="module")
def sample(andorra):
    rng = np.random.default_rng(7)
    place_nodes = rng.choice(andorra.n_nodes, 30, replace=False)
    point_nodes = rng.choice(andorra.n_nodes, 12, replace=False)
    pts = _points(andorra.lat[point_nodes], andorra.lon[point_nodes])
    places = _demand(andorra.lat[place_nodes], andorra.lon[place_nodes])
    return place_nodes, point_nodes, places, pts


class TestAndorra:
    def test_graph_is_timed_and_strongly_connected(self, andorra):
        G = andorra.graph
        assert 1000 < andorra.n_nodes < 2000
        assert nx.is_strongly_connected(G)
        times = np.array([d["travel_time"] for _, _, d in G.edges(data=True)])
        assert np.isfinite(times).all() and (times > 0).all()
        hw = {d["highway"] if isinstance(d["highway"], str) else d["highway"][0]
              for _, _, d in G.edges(data=True)}  # fmt: skip
        assert hw <= set(_build.DRIVE_HIGHWAYS)

    def test_nearest_matches_networkx(self, andorra, sample):
        place_nodes, point_nodes, places, pts = sample
        acc = andorra.nearest(places, pts, k=3)
        assert len(acc) == 3 * len(places)
        G, ids = andorra.graph, andorra.node_id
        got = acc["drive_s"].to_numpy().reshape(-1, 3)
        road = acc["road_m"].to_numpy().reshape(-1, 3)
        point_of = dict(zip(pts["point_id"], point_nodes, strict=True))
        for i, node in enumerate(place_nodes):
            lengths = nx.shortest_path_length(G, source=ids[node], weight="travel_time")
            t = np.sort([lengths[ids[p]] for p in point_nodes])[:3]
            np.testing.assert_allclose(got[i], t, rtol=1e-9, atol=1e-6)
            # road_m = length along the fastest path found by networkx
            target = ids[point_of[acc["point_id"].iloc[3 * i]]]
            path = nx.shortest_path(G, ids[node], target, weight="travel_time")
            metres = sum(
                min(G[a][b].values(), key=lambda e: e["travel_time"])["length"]
                for a, b in zip(path[:-1], path[1:], strict=True)
            )
            np.testing.assert_allclose(road[i, 0], metres, rtol=1e-9, atol=1e-6)

    def test_within_matches_networkx(self, andorra, sample):
        _, point_nodes, places, pts = sample
        limit = 600.0
        pairs = andorra.within(places, pts, max_time_s=limit)
        G, ids = andorra.graph, andorra.node_id
        Grev = G.reverse(copy=False)
        place_of = dict(zip(ids[sample[0]], places["demand_id"], strict=True))
        want = {}
        for pid, p in zip(pts["point_id"], point_nodes, strict=True):
            reach = nx.single_source_dijkstra_path_length(
                Grev, ids[p], cutoff=limit, weight="travel_time"
            )
            for node, t in reach.items():
                if node in place_of:
                    want[(place_of[node], pid)] = t
        got = {(d, p): t for d, p, t in pairs.itertuples(index=False)}
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[x] for x in want], list(want.values()), rtol=1e-9)

    def test_isochrones_grow_with_time(self, andorra, sample):
        _, _, _, pts = sample
        iso = andorra.isochrones(pts.head(2), minutes=[5, 10])
        assert len(iso) == 4 and iso.geometry.is_valid.all()
        nodes = iso["nodes"].to_numpy().reshape(2, 2)
        assert (nodes[:, 0] <= nodes[:, 1]).all() and (nodes[:, 0] >= 1).all()


_PRINT_TIMES = """
import sys
from relaynet.network import RoadNetwork
G = RoadNetwork.from_osm_file(sys.argv[1], mode="drive").graph
for u, v, k, d in sorted(G.edges(keys=True, data=True), key=lambda e: e[:3]):
    print(u, v, k, repr(d["speed_kph"]), repr(d["travel_time"]))
"""


class TestDeterminism:
    def test_travel_times_do_not_depend_on_hash_seed(self):
        # osmnx stores the road types of merged ways as list(set(...)), ordered by string
        # hashing; before the fix seeds 1 and 2 priced one Andorra edge at 50 vs 40 km/h
        env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _PRINT_TIMES, str(OSM / "andorra.osm.gz")],
                env={**env, "PYTHONHASHSEED": seed},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for seed in ("1", "2")
        ]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        assert all(proc.returncode == 0 for proc in procs), [err for _, err in outputs]
        first = outputs[0][0]
        assert len(first.splitlines()) > 2000
        assert all(out == first for out, _ in outputs[1:])

    def test_merged_road_types_take_the_slowest_speed(self, andorra):
        merged = [
            d
            for _, _, d in andorra.graph.edges(data=True)
            if isinstance(d["highway"], list) and "maxspeed" not in d
        ]
        assert merged
        for d in merged:
            want = min(_build.DEFAULT_SPEEDS_KMH[h] for h in d["highway"])
            assert d["speed_kph"] == want
            assert d["highway"][0] in _build.DRIVE_HIGHWAYS


class TestOtherExtracts:
    def test_walk_mode_monaco_is_symmetric_and_constant_speed(self):
        net = RoadNetwork.from_osm_file(OSM / "monaco.osm.gz", mode="walk")
        G = net.graph
        speeds = {d["speed_kph"] for _, _, d in G.edges(data=True)}
        assert speeds == {_build.WALK_SPEED_KMH}
        rng = np.random.default_rng(3)
        a, b = rng.choice(net.n_nodes, 2, replace=False)
        pts = _points(net.lat[[b]], net.lon[[b]])
        acc = net.nearest((net.lat[[a]], net.lon[[a]]), pts)
        back = net.nearest((net.lat[[b]], net.lon[[b]]), _points(net.lat[[a]], net.lon[[a]]))
        want = nx.shortest_path_length(G, net.node_id[a], net.node_id[b], weight="travel_time")
        np.testing.assert_allclose(acc["walk_s"].iloc[0], want)
        np.testing.assert_allclose(back["walk_s"].iloc[0], want)
        np.testing.assert_allclose(acc["road_m"].iloc[0] / want, _build.WALK_SPEED_KMH / 3.6)

    def test_saint_barthelemy_clipped_boundaries_are_not_roads(self):
        path = OSM / "saint_barthelemy.osm.gz"
        with pytest.raises(ValueError, match="missing nodes"):
            ox.graph_from_xml(path)  # raw osmnx chokes on the 5 clipped boundary ways
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            net = RoadNetwork.from_osm_file(path)
        assert 500 < net.n_nodes < 1000

    def test_clipped_road_is_dropped_with_warning(self, tmp_path):
        xml = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
 <node id="1" lat="45.0" lon="5.0"/><node id="2" lat="45.0" lon="5.01"/>
 <node id="3" lat="45.01" lon="5.01"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/></way>
 <way id="12"><nd ref="3"/><nd ref="99"/><tag k="highway" v="primary"/></way>
 <way id="13"><nd ref="1"/><nd ref="3"/><tag k="building" v="yes"/></way>
</osm>"""
        path = tmp_path / "clipped.osm"
        path.write_text(xml)
        with pytest.warns(ClippedExtractWarning, match="dropped 1 drive way"):
            net = RoadNetwork.from_osm_file(path)
        assert net.n_nodes == 2 and net.n_edges == 2  # node 2 simplified away
        acc = net.nearest((np.array([45.0]), np.array([5.0])), _points([45.01], [5.01]))
        east, north = R * np.radians(0.01) * np.cos(np.radians(45.0)), R * np.radians(0.01)
        np.testing.assert_allclose(acc["road_m"].iloc[0], east + north, rtol=1e-3)
        assert 0 < acc["drive_s"].iloc[0] < acc["road_m"].iloc[0] / (20 / 3.6)


class TestErrors:
    def test_bad_files(self, tmp_path):
        with pytest.raises(NetworkError, match="not found"):
            RoadNetwork.from_osm_file(tmp_path / "nope.osm.gz")
        (tmp_path / "x.csv").write_text("a\n")
        with pytest.raises(NetworkError, match="expected an OSM extract"):
            RoadNetwork.from_osm_file(tmp_path / "x.csv")
        (tmp_path / "empty.osm").write_text("<?xml version='1.0'?><osm version='0.6'></osm>")
        with pytest.raises(NetworkError, match="no drive roads"):
            RoadNetwork.from_osm_file(tmp_path / "empty.osm")
        with pytest.raises(NetworkError, match="not found"):
            RoadNetwork.load(tmp_path / "none.graphml")

    def test_bad_parameters(self):
        net = _tiny()
        pts = _points(LAT[[2]], LON[[2]])
        with pytest.raises(ParameterError, match="mode"):
            RoadNetwork.from_osm_file(OSM / "monaco.osm.gz", mode="bike")
        with pytest.raises(ParameterError, match="k must be"):
            net.nearest((LAT, LON), pts, k=0)
        with pytest.raises(ParameterError, match="max_time_s"):
            net.nearest((LAT, LON), pts, max_time_s=-1)
        with pytest.raises(ParameterError, match="finite"):
            net.within((LAT, LON), pts, max_time_s=None)
        with pytest.raises(InputError, match="no CRS"):
            net.nearest(gpd.GeoDataFrame(geometry=gpd.points_from_xy([5], [45])), pts)
        with pytest.raises(InputError, match="point_id"):
            net.nearest((LAT, LON), pts.drop(columns="point_id"))
        with pytest.raises(ParameterError, match="shape"):
            net.nearest((LAT, LON), pts, where=_BadMask())

    def test_offline_without_cache_fails_fast(self, tmp_path, monkeypatch):
        monkeypatch.setattr(_build, "is_online", lambda url, timeout_s: False)
        start = time.perf_counter()
        with pytest.raises(NetworkError, match="no cached road graph.*offline"):
            RoadNetwork.from_place("Andorra la Vella, Andorra", cache_dir=tmp_path)
        with pytest.raises(NetworkError, match="no cached road graph"):
            RoadNetwork.from_bbox((1.4, 42.4, 1.6, 42.6), cache_dir=tmp_path)
        assert time.perf_counter() - start < 2.0

    def test_cached_graph_needs_no_download(self, tmp_path, monkeypatch):
        def fail(*args, **kwargs):
            raise AssertionError("must not download when cached")

        monkeypatch.setattr(_build, "download_graph", fail)
        _tiny().save(_build.cache_path(tmp_path, "Somewhere", "drive"))
        net = RoadNetwork.from_place("Somewhere", cache_dir=tmp_path)
        assert net.n_nodes == 4

    def test_download_is_cached(self, tmp_path, monkeypatch):
        calls = []

        def fake(kind, query, mode, timeout_s):
            calls.append((kind, query, mode))
            G = _tiny().to_networkx().copy()
            for _, _, d in G.edges(data=True):
                d["highway"] = "residential"
            return G

        monkeypatch.setattr(_build, "download_graph", fake)
        a = RoadNetwork.from_bbox((5.0, 45.0, 5.01, 45.01), cache_dir=tmp_path)
        b = RoadNetwork.from_bbox((5.0, 45.0, 5.01, 45.01), cache_dir=tmp_path)
        assert len(calls) == 1 and a.n_edges == b.n_edges == 6


class _BadMask:
    def mask(self, points):
        return np.ones(len(points) + 1, dtype=bool)


# -- snapping to edges: a hand-built graph on the equator where every answer is known -----
#
# Nodes A (0°, 0°), B (0°, 0.01°E), C (0°, 0.02°E), all on the equator, and a curved one-way
# road C -> A through the shape vertex M (0.01°N, 0.01°E):
#
#   A <==(two-way, 100 s each way, 1000 m)==> B --(one-way, 50 s, 1000 m)--> C
#   C --(one-way through M, 300 s, 3000 m)--> A
#
# On the sphere a place due north or south of the equator projects straight onto it, so
# fractions are exact: 0.0025°E is 1/4 of the way from A to B. Access legs run at 15 km/h
# (drive default); 0.0001° of arc is 11.11951 m (R = 6 371 008.8 m).
EQ_LAT = np.array([0.0, 0.0, 0.0])
EQ_LON = np.array([0.0, 0.01, 0.02])
ARC_M = 11.119508  # metres in 0.0001° of great circle
ACCESS_MPS = 15 / 3.6


def _equator(**kw) -> RoadNetwork:
    u, v = [0, 1, 1, 2], [1, 0, 2, 0]
    t, length = [100.0, 100.0, 50.0, 300.0], [1000.0, 1000.0, 1000.0, 3000.0]
    shapes = (np.array([0, 0, 0, 0, 1]), np.array([0.01]), np.array([0.01]))
    return RoadNetwork(np.array([1, 2, 3]), EQ_LAT, EQ_LON, u, v, t, length, shapes=shapes, **kw)


# places/points: (lat, lon) and where they snap
P1 = (-0.0005, 0.0025)  # A-B at 1/4, 55.5975 m south
X = (-0.0002, 0.015)  # B->C at 1/2, 22.2390 m south
P2 = (0.0003, 0.012)  # B->C at 1/5, 33.3585 m north
P3 = (0.0001, 0.018)  # B->C at 4/5, 11.1195 m north
Y = (0.0004, 0.0075)  # A-B at 3/4, 44.4780 m north
NM = (0.0105, 0.01)  # 0.0005° north of the shape vertex M: C->A at 1/2, 55.5975 m


def _lat_lon(*pts):
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


class TestSnapToEdges:
    def test_snap_positions(self):
        snapped = _equator().snap(*_lat_lon(P1, X, P2, NM))
        np.testing.assert_allclose(
            snapped["snap_m"], [55.5975, 22.2390, 33.3585, 55.5975], atol=1e-3
        )
        assert snapped[["u", "v"]].values.tolist() in (
            [[1, 2], [2, 3], [2, 3], [3, 1]],
            [[2, 1], [2, 3], [2, 3], [3, 1]],
        )
        frac = snapped["fraction"].to_numpy()
        np.testing.assert_allclose(frac[1:], [0.5, 0.2, 0.5], atol=1e-9)
        np.testing.assert_allclose(
            snapped[["lat", "lon"]].values[:3], [[0, 0.0025], [0, 0.015], [0, 0.012]], atol=1e-12
        )
        np.testing.assert_allclose(snapped[["lat", "lon"]].values[3], [0.01, 0.01], atol=1e-12)

    def test_trip_times_with_access_legs_and_one_way(self):
        net = _equator()
        pts = _points(*_lat_lon(X), ids=["X"])
        acc = net.nearest(_lat_lon(P1, P2, P3, NM), pts)
        legs = np.array([55.5975, 33.3585, 11.1195, 55.5975]) / ACCESS_MPS + 22.2390 / ACCESS_MPS
        # P1: 3/4 of A->B (75 s) + half of B->C (25 s); the way back through A is 150 s
        # P2: along B->C from 1/5 to 1/2 (15 s), no node in between
        # P3: past X on one-way B->C: to C (10 s), C->A (300), A->B (100), B->X (25)
        # NM: half of the curved C->A (150 s), A->B (100), B->X (25)
        np.testing.assert_allclose(acc["drive_s"], np.array([100, 15, 435, 275]) + legs, atol=1e-3)
        np.testing.assert_allclose(acc["road_m"], [1250, 300, 4700, 3000], atol=1e-3)
        np.testing.assert_allclose(acc["snap_m"], [55.5975, 33.3585, 11.1195, 55.5975], atol=1e-3)
        assert acc["drive_s"].iloc[0] == pytest.approx(118.680, abs=1e-3)

    def test_two_way_road_both_directions_and_k(self):
        net = _equator()
        pts = _points(*_lat_lon(Y, X), ids=["Y", "X"])
        acc = net.nearest(_lat_lon(P1, X), pts, k=2)
        leg = {"P1": 55.5975, "X": 22.2390, "Y": 44.4780}
        want = [
            50 + (leg["P1"] + leg["Y"]) / ACCESS_MPS,  # P1 -> Y along A-B, 1/4 -> 3/4
            100 + (leg["P1"] + leg["X"]) / ACCESS_MPS,  # P1 -> X as above
            # X -> Y: to C (25 s), C->A (300), A->B to 3/4 (75)
            400 + (leg["X"] + leg["Y"]) / ACCESS_MPS,
            np.nan,  # X -> X itself: the same spot, 0 s plus both legs
        ]
        assert acc["point_id"].tolist() == ["Y", "X", "X", "Y"]
        np.testing.assert_allclose(acc["drive_s"].iloc[:2], want[:2], atol=1e-3)
        np.testing.assert_allclose(acc["drive_s"].iloc[2], 2 * leg["X"] / ACCESS_MPS, atol=1e-3)
        np.testing.assert_allclose(acc["drive_s"].iloc[3], want[2], atol=1e-3)
        # and back: Y -> P1 goes backward along A-B (B->A), 50 s
        back = net.nearest(_lat_lon(Y), _points(*_lat_lon(P1), ids=["P1"]))
        np.testing.assert_allclose(
            back["drive_s"], 50 + (leg["P1"] + leg["Y"]) / ACCESS_MPS, atol=1e-3
        )
        np.testing.assert_allclose(back["road_m"], 500, atol=1e-6)

    def test_within_matches_nearest(self):
        net = _equator()
        pts = _points(*_lat_lon(X, Y), ids=["X", "Y"])
        pairs = net.within(_lat_lon(P1, P2, P3, NM), pts, max_time_s=130)
        got = {(d, p): s for d, p, s in pairs.itertuples(index=False)}
        legs = {"0": 55.5975, "1": 33.3585, "X": 22.2390, "Y": 44.4780}
        want = {
            ("0", "Y"): 50 + (legs["0"] + legs["Y"]) / ACCESS_MPS,
            ("0", "X"): 100 + (legs["0"] + legs["X"]) / ACCESS_MPS,
            ("1", "X"): 15 + (legs["1"] + legs["X"]) / ACCESS_MPS,
        }
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[x] for x in want], list(want.values()), atol=1e-3)
        assert pairs["demand_id"].tolist() == ["0", "0", "1"]

    def test_place_at_a_junction_sees_every_way_out(self):
        # at B exactly: A-B (both ways), B->C all at 0 m; no access leg, no partial edge
        net = _equator()
        acc = net.nearest(
            _lat_lon((0.0, 0.01)), _points(*_lat_lon(X, (0.0, 0.0)), ids=["X", "A"]), k=2
        )
        np.testing.assert_allclose(acc["drive_s"], [25 + 22.2390 / ACCESS_MPS, 100], atol=1e-3)
        np.testing.assert_allclose(acc["snap_m"], 0, atol=1e-9)

    def test_access_speed_and_off_road(self):
        slow = _equator(access_speed_kmh=3.6, max_snap_m=50)  # 1 m/s
        acc = slow.nearest(_lat_lon(P1, P2), _points(*_lat_lon(X), ids=["X"]))
        assert acc["off_road"].tolist() == [True, False]  # P1 is 55.6 m from the road
        assert pd.isna(acc["point_id"].iloc[0])
        np.testing.assert_allclose(acc["drive_s"].iloc[1], 15 + 33.3585 + 22.2390, atol=1e-3)
        walk = _equator(mode="walk")
        acc = walk.nearest(_lat_lon(P2), _points(*_lat_lon(X), ids=["X"]))
        np.testing.assert_allclose(acc["walk_s"], 15 + (33.3585 + 22.2390) / (4.8 / 3.6), atol=1e-3)
        with pytest.raises(ParameterError, match="access_speed_kmh"):
            _equator(access_speed_kmh=0)

    def test_isochrone_counts_the_points_leg(self):
        net = _equator()
        iso = net.isochrones(_points(*_lat_lon(X), ids=["X"]), minutes=[0.55, 10])
        # within 33 s: B (25 s + the 5.34 s leg); within 10 min: A and C too
        assert iso["nodes"].tolist() == [1, 3]

    def test_round_trip_keeps_shapes(self, tmp_path):
        net = _equator()
        back = RoadNetwork.load(net.save(tmp_path / "eq.graphml"))
        pts = _points(*_lat_lon(X), ids=["X"])
        places = _lat_lon(P1, P2, P3, NM)
        pd.testing.assert_frame_equal(net.nearest(places, pts), back.nearest(places, pts))


# -- snapping against a brute-force oracle on the bundled extracts -----------------------------


def _oracle_snap(G, lat, lon):
    """Nearest directed edges of (lat, lon) by brute force: every edge of G, measured with
    shapely in an azimuthal equidistant projection centred on the place (distances from the
    centre are great-circle distances). Returns [(u, v, key, fraction, metres)]."""
    import shapely
    from pyproj import Transformer

    to_m = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=sphere +R={R}", always_xy=True
    )
    keys, lines = [], []
    for u, v, key, d in G.edges(keys=True, data=True):
        if "geometry" in d:
            xy = np.asarray(d["geometry"].coords)
        else:
            xy = np.array([[G.nodes[u]["x"], G.nodes[u]["y"]], [G.nodes[v]["x"], G.nodes[v]["y"]]])
        x, y = to_m.transform(xy[:, 0], xy[:, 1])
        keys.append((u, v, key))
        lines.append(shapely.LineString(np.column_stack([x, y])))
    lines = np.array(lines, dtype=object)
    centre = shapely.Point(0, 0)
    dist = shapely.distance(lines, centre)
    best = dist.min()
    out = []
    for i in np.flatnonzero(dist <= best + 1e-3):
        frac = shapely.line_locate_point(lines[i], centre) / lines[i].length
        out.append((*keys[i], float(frac), float(best)))
    return out


def _oracle_times(G, places, points, speed_mps):
    """Travel times place -> point (k columns sorted) on G split at every snapped spot."""
    H = nx.MultiDiGraph()
    H.add_edges_from((u, v, {"w": d["travel_time"]}) for u, v, d in G.edges(data=True))
    snap_m = {}
    on_edge: dict = {}
    for kind, coords in (("q", places), ("p", points)):
        for i, (la, lo) in enumerate(zip(*coords, strict=True)):
            for u, v, key, f, dist in _oracle_snap(G, la, lo):
                snap_m[(kind, i)] = dist
                t = G.edges[u, v, key]["travel_time"]
                if kind == "q":
                    H.add_edge((kind, i), v, w=(1 - f) * t + dist / speed_mps)
                else:
                    H.add_edge(u, (kind, i), w=f * t + dist / speed_mps)
                on_edge.setdefault((u, v, key), []).append((kind, i, f, t, dist))
    for spots in on_edge.values():  # place and point on one edge: straight along it
        for kq, i, g, t, dq in spots:
            for kp, j, f, _, dp in spots:
                if kq == "q" and kp == "p" and f >= g:
                    H.add_edge(("q", i), ("p", j), w=(f - g) * t + (dq + dp) / speed_mps)
    times = np.full((len(places[0]), len(points[0])), np.inf)
    for i in range(len(places[0])):
        reach = nx.single_source_dijkstra_path_length(H, ("q", i), weight="w")
        for j in range(len(points[0])):
            times[i, j] = reach.get(("p", j), np.inf)
    return times, np.array([snap_m[("q", i)] for i in range(len(places[0]))])


def _near_roads(net, n, seed):
    """n coordinates up to ~300 m from random graph nodes."""
    rng = np.random.default_rng(seed)
    nodes = rng.choice(net.n_nodes, n, replace=False)
    return net.lat[nodes] + rng.uniform(-0.003, 0.003, n), net.lon[nodes] + rng.uniform(
        -0.003, 0.003, n
    )


class TestSnapOracle:
    @pytest.mark.parametrize("extract", ["andorra", "monaco_walk"])
    def test_nearest_and_within_match_brute_force(self, extract, andorra, monaco_walk):
        net = {"andorra": andorra, "monaco_walk": monaco_walk}[extract]
        places, points = _near_roads(net, 25, 1), _near_roads(net, 8, 2)
        pts = _points(*points)
        want, snap_m = _oracle_times(net.graph, places, points, net.access_speed_kmh / 3.6)
        acc = net.nearest(places, pts, k=3)
        np.testing.assert_allclose(acc["snap_m"].to_numpy()[::3], snap_m, atol=1e-3)
        got = acc[net.time_column].to_numpy().reshape(-1, 3)
        np.testing.assert_allclose(got, np.sort(want, axis=1)[:, :3], rtol=1e-7, atol=1e-3)
        limit = float(np.median(want))
        pairs = net.within(places, pts, max_time_s=limit)
        got_pairs = {(int(d), p): t for d, p, t in pairs.itertuples(index=False)}
        clear = np.abs(want - limit) > 1e-2  # leave out pairs at the limit itself
        want_pairs = {(i, f"p{j}"): want[i, j] for i, j in np.argwhere((want <= limit) & clear)}
        assert {x for x in got_pairs if clear[x[0], int(x[1][1:])]} == want_pairs.keys()
        np.testing.assert_allclose(
            [got_pairs[x] for x in want_pairs], list(want_pairs.values()), rtol=1e-7, atol=1e-3
        )


# -- road graphs straight from PBF: same answers as the osmnx path -------------------------


def _edge_table(net: RoadNetwork) -> dict:
    r, ids = net._router, net.node_id
    return {(int(ids[a]), int(ids[b])): (t, m) for a, b, t, m in zip(r.fu, r.fv, r.fw, r.fl)}


def _assert_same_network(a: RoadNetwork, b: RoadNetwork) -> None:
    assert sorted(a.node_id.tolist()) == sorted(b.node_id.tolist())
    ea, eb = _edge_table(a), _edge_table(b)
    assert ea.keys() == eb.keys()
    keys = sorted(ea)
    np.testing.assert_allclose(
        [ea[x][0] for x in keys], [eb[x][0] for x in keys], rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        [ea[x][1] for x in keys], [eb[x][1] for x in keys], rtol=0, atol=1e-6
    )


def _write_pbf(path: Path) -> None:
    """A small PBF with every rule: one-way, reversed one-way, roundabout, maxspeed (read,
    unreadable, mph), a chain of shape nodes, a way clipped at the file's edge."""
    import osmium

    coords = {
        1: (45.0, 5.0), 2: (45.0, 5.01), 3: (45.0, 5.02), 4: (45.01, 5.02), 5: (45.01, 5.0),
        6: (45.001, 5.005), 7: (45.005, 5.021), 8: (45.005, 5.01), 9: (45.02, 5.0),
        10: (45.0, 5.03), 11: (44.99, 5.0),
    }  # fmt: skip
    ways = [
        (10, [1, 6, 2], {"highway": "primary", "maxspeed": "80"}),
        (11, [2, 3], {"highway": "secondary", "oneway": "yes"}),
        (12, [4, 7, 3], {"highway": "residential", "oneway": "-1", "maxspeed": "20 mph"}),
        (13, [4, 5], {"highway": "tertiary", "maxspeed": "FR:urban"}),
        (14, [5, 1], {"highway": "unclassified", "maxspeed": "signals"}),
        (15, [2, 8, 5], {"highway": "residential", "junction": "roundabout"}),
        (16, [5, 9, 99], {"highway": "primary"}),  # node 99 is not in the file
        (17, [1, 2], {"highway": "service"}),  # not a drive road
        (18, [3, 10], {"highway": "residential"}),  # dead ends: 1 and 3 stay junctions
        (19, [11, 1], {"highway": "residential"}),
    ]
    with osmium.SimpleWriter(str(path)) as w:
        for i, (la, lo) in coords.items():
            w.add_node(osmium.osm.mutable.Node(id=i, location=(lo, la)))
        for i, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=i, nodes=refs, tags=tags))


class TestFromPbf:
    def test_andorra_equals_osmnx_path(self, andorra, sample):
        net = RoadNetwork.from_pbf(OSM / "andorra.osm.gz", mode="drive")
        assert net.graph is None and net.n_nodes == andorra.n_nodes
        _assert_same_network(andorra, net)
        places = _near_roads(net, 40, 5)
        pts = _points(*_near_roads(net, 10, 6))
        a, b = andorra.nearest(places, pts, k=2), net.nearest(places, pts, k=2)
        assert a["point_id"].tolist() == b["point_id"].tolist()
        for col in ("drive_s", "road_m", "snap_m"):
            np.testing.assert_allclose(a[col], b[col], rtol=0, atol=1e-6)

    def test_monaco_walk_equals_osmnx_path(self, monaco_walk):
        _assert_same_network(monaco_walk, RoadNetwork.from_pbf(OSM / "monaco.osm.gz", "walk"))

    def test_rules_on_a_written_pbf(self, tmp_path):
        path = tmp_path / "rules.osm.pbf"
        _write_pbf(path)
        with pytest.warns(ClippedExtractWarning, match="dropped 1 drive way"):
            via_osmnx = RoadNetwork.from_osm_file(path)
        with pytest.warns(ClippedExtractWarning, match="dropped 1 drive way"):
            net = RoadNetwork.from_pbf(path)
        _assert_same_network(via_osmnx, net)
        edges = _edge_table(net)
        assert net.n_nodes == 7 and len(edges) == 13  # shape nodes 6, 7, 8 simplified away
        assert (2, 3) in edges and (3, 2) not in edges  # 11 one-way
        assert (3, 4) in edges and (4, 3) not in edges  # 12 one-way against its node order
        assert (2, 5) in edges and (5, 2) not in edges  # roundabout
        # 10: 1 -> 6 -> 2 simplified into one edge at maxspeed 80; 12 at 20 mph
        t, m = edges[(1, 2)]
        np.testing.assert_allclose(t, m / (80 / 3.6))
        t, m = edges[(3, 4)]
        np.testing.assert_allclose(t, m / (20 * 1.60934 / 3.6))
        # FR:urban is 50 km/h in osmnx's table; "signals" is unreadable: unclassified 40 km/h
        np.testing.assert_allclose(edges[(4, 5)][0], edges[(4, 5)][1] / (50 / 3.6))
        np.testing.assert_allclose(edges[(5, 1)][0], edges[(5, 1)][1] / (40 / 3.6))
        assert net.roads.vptr[-1] > 0  # shapes kept for snapping
        snapped = net.snap(45.0, 5.005)  # 0.005° E of node 1: the middle of way 10
        assert snapped[["u", "v"]].values.tolist()[0] in ([1, 2], [2, 1])
        assert snapped["snap_m"].iloc[0] < 700

    def test_errors(self, tmp_path):
        with pytest.raises(NetworkError, match="not found"):
            RoadNetwork.from_pbf(tmp_path / "nope.osm.pbf")
        (tmp_path / "x.csv").write_text("a\n")
        with pytest.raises(NetworkError, match="expected an OSM extract"):
            RoadNetwork.from_pbf(tmp_path / "x.csv")
        (tmp_path / "empty.osm").write_text("<?xml version='1.0'?><osm version='0.6'></osm>")
        with pytest.raises(NetworkError, match="no drive roads"):
            RoadNetwork.from_pbf(tmp_path / "empty.osm")
        (tmp_path / "junk.osm.pbf").write_bytes(b"\x00\x00\x00\x0bnot a pbf at all")
        with pytest.raises(NetworkError, match="cannot read OSM data"):
            RoadNetwork.from_pbf(tmp_path / "junk.osm.pbf")
        with pytest.raises(ParameterError, match="mode"):
            RoadNetwork.from_pbf(OSM / "monaco.osm.gz", mode="bike")
