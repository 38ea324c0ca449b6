"""The command line's on-disk cache (relaynet.cache): keyed by content and version,
never unpickles, never breaks a run; and the brute-force path of the Locator that a
one-place query takes equals the k-d tree."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from relaynet import cache, nearest, places
from relaynet.cli import main
from relaynet.eligibility import Eligibility

SAMPLE = Path(__file__).parents[1] / "relaynet" / "data" / "laposte_points_sample.csv"
QUERY = ("nearest", "--at", "Mende", "-k", "3", "--open-at", "2026-11-28 18:30")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("RELAYNET_CACHE_DIR", str(folder))
    monkeypatch.delenv("RELAYNET_CACHE", raising=False)
    places.communes.cache_clear()
    yield folder
    places.communes.cache_clear()


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


class TestKeys:
    def test_content_not_name_and_version(self, tmp_path, monkeypatch):
        a, b = tmp_path / "a.csv", tmp_path / "b.csv"
        a.write_text("id;lat;lon\nA;45;4\n")
        b.write_text("id;lat;lon\nA;45;4\n")
        assert cache.content_key([a]) == cache.content_key([b])
        b.write_text("id;lat;lon\nA;45;5\n")
        assert cache.content_key([a]) != cache.content_key([b])
        assert cache.content_key([a], "x") != cache.content_key([a], "y")
        before = cache.content_key([a])
        monkeypatch.setattr(cache, "_version", lambda: "999.0")
        assert cache.content_key([a]) != before

    def test_folder_key_follows_every_file(self, tmp_path):
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "one.csv").write_text("1")
        first = cache.content_key([tmp_path / "d"])
        (tmp_path / "d" / "two.csv").write_text("2")
        assert cache.content_key([tmp_path / "d"]) != first

    def test_eligibility_key_is_stable_and_distinct(self):
        one = Eligibility(open_at="2026-11-28 18:30", services={"returns", "pickup"})
        same = Eligibility(open_at="2026-11-28 18:30", services={"pickup", "returns"})
        other = Eligibility(open_at="2026-11-28 18:45", services={"returns", "pickup"})
        assert cache.derived_key("k", *cache.eligibility_key(one)) == cache.derived_key(
            "k", *cache.eligibility_key(same)
        )
        assert cache.derived_key("k", *cache.eligibility_key(one)) != cache.derived_key(
            "k", *cache.eligibility_key(other)
        )


class TestStorage:
    def test_round_trip(self, cache_dir):
        cache.write_arrays("k1", a=np.arange(5), b=np.array(["x", "yz"]))
        back = cache.read_arrays("k1")
        assert back["a"].tolist() == [0, 1, 2, 3, 4] and back["b"].tolist() == ["x", "yz"]
        assert not list(cache_dir.glob("*.tmp"))

    def test_never_unpickles(self, cache_dir):
        cache_dir.mkdir(parents=True)
        with open(cache_dir / "k2.npz", "wb") as handle:
            np.savez(handle, a=np.array([{"pickled": True}], dtype=object))
        assert cache.read_arrays("k2") is None

    def test_corrupt_file_is_ignored_with_a_log_line(self, cache_dir, caplog):
        cache_dir.mkdir(parents=True)
        (cache_dir / "k3.npz").write_bytes(b"not a zip file")
        (cache_dir / "k3.parquet").write_bytes(b"PAR1 broken")
        with caplog.at_level(logging.INFO, logger="relaynet.cache"):
            assert cache.read_arrays("k3") is None
            assert cache.read_frame("k3") is None
        assert "ignoring unreadable" in caplog.text

    def test_unwritable_cache_does_not_raise(self, tmp_path, monkeypatch, caplog):
        blocker = tmp_path / "file"
        blocker.write_text("a file where the cache folder should be")
        monkeypatch.setenv("RELAYNET_CACHE_DIR", str(blocker / "sub"))
        with caplog.at_level(logging.INFO, logger="relaynet.cache"):
            cache.write_arrays("k4", a=np.arange(3))
        assert cache.read_arrays("k4") is None
        assert "not written" in caplog.text

    def test_disabled(self, cache_dir, monkeypatch):
        monkeypatch.setenv("RELAYNET_CACHE", "off")
        cache.write_arrays("k5", a=np.arange(3))
        assert cache.read_arrays("k5") is None and not cache_dir.exists()

    def test_prune_keeps_the_newest(self, cache_dir, monkeypatch):
        monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
        for i in range(5):
            cache.write_arrays(f"p{i}", a=np.arange(i + 1))
        assert len(list(cache_dir.glob("*.npz"))) == 3
        assert cache.read_arrays("p4") is not None


def test_cached_mask_computed_once_per_filter(cache_dir, monkeypatch):
    points = gpd.read_parquet(places.datasets.path("laposte_points.parquet"))
    key = cache.points_key([places.datasets.path("laposte_points.parquet")])
    calls = []
    evaluate = Eligibility.mask
    monkeypatch.setattr(Eligibility, "mask", lambda self, p: calls.append(1) or evaluate(self, p))
    where = Eligibility(open_during="Sa 18:00-19:00")
    first = cache.cached_mask(key, where, points)
    second = cache.cached_mask(key, Eligibility(open_during="Sa 18:00-19:00"), points)
    assert len(calls) == 1
    assert np.array_equal(first, second) and np.array_equal(first, evaluate(where, points))
    other = cache.cached_mask(key, Eligibility(open_during="Su 10:00-11:00"), points)
    assert len(calls) == 2 and not np.array_equal(first, other)
    assert cache.cached_mask("another input", where, points) is not None and len(calls) == 3


def test_cached_points_equal_loaded(cache_dir):
    from relaynet.formats import load_points

    cold, n_cold = cache.cached_points("pk", lambda: load_points(str(SAMPLE)))
    warm, n_warm = cache.cached_points("pk", lambda: pytest.fail("read twice"))
    assert n_cold == n_warm
    pd.testing.assert_frame_equal(
        pd.DataFrame(cold.drop(columns="geometry")), pd.DataFrame(warm.drop(columns="geometry"))
    )
    assert cold.geometry.geom_equals_exact(warm.geometry, 0).all()


def test_communes_table_from_cache_equals_built(cache_dir):
    built = places._build_communes(places.datasets.path("communes_demand.parquet"))
    first = places.communes()
    places.communes.cache_clear()
    second = places.communes()
    pd.testing.assert_frame_equal(built, first)
    pd.testing.assert_frame_equal(built, second)
    assert places.resolve_place("Lyon 3e")["demand_id"].iloc[0] == "69383"


class TestCommandLine:
    def test_cold_warm_and_uncached_give_the_same_answer(self, cache_dir, monkeypatch):
        cold = run(*QUERY)
        assert cold.exit_code == 0, cold.output
        assert any(cache_dir.iterdir())
        warm = run(*QUERY)
        monkeypatch.setenv("RELAYNET_CACHE", "off")
        off = run(*QUERY)
        assert cold.output == warm.output == off.output
        assert "Nearest points to Mende" in cold.output

    def test_corrupt_cache_files_fall_back(self, cache_dir):
        first = run(*QUERY)
        for file in cache_dir.iterdir():
            file.write_bytes(b"\x00garbage")
        places.communes.cache_clear()
        again = run(*QUERY)
        assert again.exit_code == 0, again.output
        assert again.output == first.output

    def test_unwritable_cache_falls_back(self, tmp_path, monkeypatch):
        blocker = tmp_path / "file"
        blocker.write_text("x")
        monkeypatch.setenv("RELAYNET_CACHE_DIR", str(blocker))
        places.communes.cache_clear()
        result = run(*QUERY)
        assert result.exit_code == 0, result.output
        assert "Nearest points to Mende" in result.output

    def test_points_file_cached_then_edited(self, cache_dir, tmp_path):
        path = tmp_path / "points.csv"
        path.write_bytes(SAMPLE.read_bytes())
        args = ("nearest", "--points", path, "--lat", "45.75", "--lon", "4.85", "-k", "2")
        cold, warm = run(*args), run(*args)
        assert cold.exit_code == 0, cold.output
        assert cold.output == warm.output
        frame = pd.read_csv(SAMPLE, sep=None, engine="python", dtype=str)
        first = frame.iloc[[0]]
        lat_col = next(c for c in frame.columns if c.lower() in ("lat", "latitude"))
        lon_col = next(c for c in frame.columns if c.lower() in ("lon", "longitude", "lng"))
        id_col = frame.columns[0]
        edited = first.assign(**{lat_col: "45.75", lon_col: "4.85", id_col: "HERE"})
        sep = ";" if ";" in SAMPLE.read_text().splitlines()[0] else ","
        pd.concat([frame, edited]).to_csv(path, sep=sep, index=False)
        changed = run(*args)
        assert changed.exit_code == 0, changed.output
        assert "HERE" in changed.output and "HERE" not in cold.output


class TestBruteForceEqualsTree:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("k", [1, 3, 40])
    def test_query(self, seed, k, monkeypatch):
        rng = np.random.default_rng(seed)
        n = 500
        points = gpd.GeoDataFrame(
            {"point_id": [f"p{i}" for i in range(n)]},
            geometry=gpd.points_from_xy(rng.uniform(-5, 9, n), rng.uniform(41, 51, n)),
            crs="EPSG:4326",
        )
        lat, lon = rng.uniform(41, 51, 7), rng.uniform(-5, 9, 7)
        mask = rng.random(n) < 0.05
        for where, limit in ((None, None), (mask, None), (mask, 150_000.0)):
            brute = nearest.Locator(points).query(lat, lon, k, where, limit)
            monkeypatch.setattr(nearest, "_BRUTE_FORCE_PAIRS", 0)
            tree = nearest.Locator(points).query(lat, lon, k, where, limit)
            monkeypatch.undo()
            assert np.array_equal(brute[0], tree[0])
            np.testing.assert_allclose(brute[1], tree[1], rtol=1e-12, atol=1e-6)
            assert np.array_equal(np.isnan(brute[1]), np.isnan(tree[1]))
