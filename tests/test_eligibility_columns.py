"""Hand-built point tables: services as Python collections, core columns missing.

Oracle: hand-computed eligible sets for five points (no library code in the expected side).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from relaynet.coverage import assess
from relaynet.eligibility import Eligibility
from relaynet.errors import ParameterError
from relaynet.nearest import Locator

SERVICES_TEXT = ["pickup;returns", "pickup", "dropoff;returns", "", None]
# point a and c offer returns; d has no services (unknown); e is missing (unknown)
RETURNS = np.array([True, False, True, False, False])
RETURNS_OR_UNKNOWN = np.array([True, False, True, True, True])


def points_with(services) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"point_id": list("abcde"), "services": services},
        geometry=gpd.points_from_xy([2.30, 2.31, 2.32, 2.33, 2.34], [48.85] * 5),
        crs="EPSG:4326",
    )


@pytest.mark.parametrize(
    "services",
    [
        SERVICES_TEXT,
        [{"pickup", "returns"}, {"pickup"}, {"dropoff", "returns"}, set(), None],
        [["pickup", "returns"], ["pickup"], ["dropoff", "returns"], [], None],
        [("Pickup", "Returns"), ("pickup",), ("returns", "dropoff"), (), np.nan],
        [frozenset({"pickup", "returns"}), "pickup", ["dropoff", "returns"], "", None],
    ],
    ids=["text", "sets", "lists", "tuples", "mixed"],
)
def test_services_as_collections(services):
    points = points_with(services)
    where = Eligibility(services={"returns"})
    np.testing.assert_array_equal(where.mask(points), RETURNS)
    include = Eligibility(services={"returns"}, unknown_attributes="include")
    np.testing.assert_array_equal(include.mask(points), RETURNS_OR_UNKNOWN)
    both = Eligibility(services={"pickup", "returns"})
    np.testing.assert_array_equal(both.mask(points), [True, False, False, False, False])


def test_locator_with_service_sets_finds_points():
    points = points_with([{"pickup", "returns"}, {"pickup"}, {"dropoff", "returns"}, set(), None])
    table = Locator(points).nearest((48.85, 2.305), k=2, where=Eligibility(services={"returns"}))
    assert table["point_id"].tolist() == ["a", "c"]
    assert table["distance_m"].notna().all()


def test_assess_with_service_lists_covers_demand():
    points = points_with([["pickup", "returns"], ["pickup"], [], [], None])
    demand = gpd.GeoDataFrame(
        {"demand_id": ["x"], "weight": [100.0], "area_id": ["75"]},
        geometry=gpd.points_from_xy([2.305], [48.85]),
        crs="EPSG:4326",
    )
    result = assess(demand, points, "1km", Eligibility(services={"returns"}), windows={})
    row = result.access.iloc[0]
    assert row["point_id"] == "a" and bool(row["covered"])
    assert row["distance_m"] == pytest.approx(365.8, abs=1)  # 0.005° of longitude at 48.85°N


@pytest.mark.parametrize(
    "column, kwargs, criterion",
    [
        ("services", {"services": {"returns"}}, "services"),
        ("opening_hours", {"open_at": "2026-11-28 10:00"}, "open_at"),
        ("opening_hours", {"open_during": "Sa 10:00-11:00"}, "open_during"),
        ("opening_hours", {"min_weekly_hours": 20}, "min_weekly_hours"),
        ("kind", {"kinds": {"locker"}}, "kinds"),
        ("network", {"networks": {"la_poste"}}, "networks"),
    ],
)
def test_missing_core_column_names_column_and_filter(column, kwargs, criterion):
    points = points_with(SERVICES_TEXT).assign(
        opening_hours="24/7", kind="locker", network="la_poste"
    )
    points = points.drop(columns=column)
    where = Eligibility(**kwargs)
    with pytest.raises(ParameterError, match=rf"'{column}' column.*'{criterion}' filter"):
        where.mask(points)
    with pytest.raises(ParameterError, match=rf"'{column}'"):
        Locator(points).nearest((48.85, 2.3), k=1, where=where)


def test_core_columns_present_no_error():
    points = points_with(SERVICES_TEXT).assign(
        opening_hours="24/7", kind="locker", network=pd.Series(["la_poste"] * 5)
    )
    where = Eligibility(open_at="2026-11-28 10:00", kinds={"locker"}, networks={"la_poste"})
    assert where.mask(points).all()
