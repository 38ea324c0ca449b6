"""The spatial kernel: one sphere, one way to read coordinates and weights."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from relaynet import geo
from relaynet.errors import InputError

PACKAGE = Path(geo.__file__).resolve().parent


def _frame(geometries, crs="EPSG:4326", **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geometries), crs=crs)


class TestSphere:
    def test_haversine_known_values(self):
        one_degree = geo.EARTH_RADIUS_M * np.pi / 180
        assert geo.haversine_m(45.0, 3.0, 46.0, 3.0) == pytest.approx(one_degree)
        assert geo.haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(np.pi * geo.EARTH_RADIUS_M)

    def test_chords_agree_with_haversine(self):
        rng = np.random.default_rng(0)
        lat1, lat2 = rng.uniform(-80, 80, (2, 500))
        lon1, lon2 = rng.uniform(-180, 180, (2, 500))
        chord = np.linalg.norm(geo.unit_vectors(lat1, lon1) - geo.unit_vectors(lat2, lon2), axis=1)
        np.testing.assert_allclose(
            geo.chord_to_metres(chord), geo.haversine_m(lat1, lon1, lat2, lon2), rtol=1e-9
        )
        np.testing.assert_allclose(geo.metres_to_chord(geo.chord_to_metres(chord)), chord)
        assert isinstance(geo.metres_to_chord(5000.0), float)
        np.testing.assert_allclose(
            np.linalg.norm(geo.earth_xyz([10.0], [20.0]), axis=1), geo.EARTH_RADIUS_M
        )

    def test_one_earth_radius_in_the_package(self):
        defined = [
            path.relative_to(PACKAGE).as_posix()
            for path in PACKAGE.rglob("*.py")
            if re.search(r"6_?371", path.read_text(encoding="utf-8"))
        ]
        assert defined == ["geo.py"]


class TestCoordinates:
    def test_points_any_crs(self):
        frame = _frame([Point(3.0, 45.0), Point(2.35, 48.85)]).to_crs(2154)
        lat, lon = geo.latlon(frame, "demand")
        np.testing.assert_allclose(lat, [45.0, 48.85])
        np.testing.assert_allclose(lon, [3.0, 2.35])

    def test_one_policy_for_polygons(self):
        square = Polygon([(3.0, 44.0), (3.1, 44.0), (3.1, 44.1), (3.0, 44.1)])
        frame = _frame([Point(3.0, 45.0), square])
        with pytest.raises(InputError, match=r"\['Polygon'\] on rows \[1\]"):
            geo.latlon(frame, "demand")
        lat, lon = geo.latlon(geo.representative_points(frame), "demand")
        assert square.contains(Point(lon[1], lat[1])) and lat[0] == 45.0

    @pytest.mark.parametrize(
        ("frame", "message"),
        [
            (_frame([Point(3.0, 45.0)], crs=None), "no CRS"),
            (_frame([Point(3.0, 45.0), None]), "empty or missing geometry on rows \\[1\\]"),
            (_frame([Point(3.0, 95.0)]), "out of range on rows \\[0\\]"),
            (pd.DataFrame({"x": [1]}), "expected a GeoDataFrame"),
        ],
    )
    def test_errors(self, frame, message):
        with pytest.raises(InputError, match=message):
            geo.latlon(frame, "demand")

    def test_every_reader_uses_the_kernel(self):
        from relaynet.nearest import Locator
        from relaynet.network import _inputs
        from relaynet.optimize import sparse_coverage
        from relaynet.standard import Standard

        square = Polygon([(3.0, 44.0), (3.1, 44.0), (3.1, 44.1), (3.0, 44.1)])
        frame = _frame([square], point_id=["a"], demand_id=["a"])
        points = _frame([Point(3.0, 45.0)], point_id=["p"])
        for call in (
            lambda: Locator(frame),
            lambda: _inputs.points_latlon(frame),
            lambda: sparse_coverage(frame, points, Standard(distance_m=1000)),
        ):
            with pytest.raises(InputError, match="expected Point geometries"):
                call()


class TestWeights:
    def test_absent_means_one(self):
        assert geo.weights(pd.DataFrame({"a": [1, 2]})).tolist() == [1.0, 1.0]

    def test_bad_weights_named(self):
        frame = pd.DataFrame({"demand_id": ["x", "y", "z"], "weight": [1.0, -2.0, "n/a"]})
        with pytest.raises(InputError, match=r"demand_id \['y', 'z'\]"):
            geo.weights(frame)
        with pytest.raises(InputError, match=r"rows \[1\]"):
            geo.weights(pd.DataFrame({"weight": [1.0, np.nan]}))
