"""Eligibility masks: each criterion against a direct pandas/opening-hours computation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaynet import hours
from relaynet.eligibility import Eligibility, parse_window
from relaynet.errors import ParameterError


def make_points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "point_id": ["a", "b", "c", "d", "e"],
            "network": ["mondial_relay", "la_poste", "inpost", "mondial_relay", "la_poste"],
            "kind": ["counter", "post_office", "locker", "locker", "counter"],
            "opening_hours": [
                "Mo-Sa 09:00-19:30; PH off",
                "Mo-Fr 09:00-12:00; PH off",
                "24/7",
                "",
                "Tu-Sa 10:00-20:00",
            ],
            "services": [
                "dropoff;pickup;returns",
                "dropoff;pickup",
                "pickup;returns",
                "pickup",
                "",
            ],
            "max_weight_kg": [30.0, 30.0, 20.0, np.nan, 25.0],
            "max_length_cm": [150.0, 100.0, 60.0, 60.0, np.nan],
            "capacity": [40.0, np.nan, 100.0, 10.0, 5.0],
            "rating": [4.5, 3.9, np.nan, 4.8, 4.0],
            "parking": pd.array([True, False, pd.NA, True, True], dtype="boolean"),
            "step_free": pd.array([True, True, True, pd.NA, False], dtype="boolean"),
        },
        geometry=gpd.points_from_xy([2.3, 2.4, 2.5, 2.6, 2.7], [48.8] * 5),
        crs="EPSG:4326",
    )


POINTS = make_points()


class TestCriteria:
    def test_no_criterion_all_true(self):
        assert Eligibility().mask(POINTS).all()
        assert Eligibility().describe() == "all points" and Eligibility().is_empty

    def test_open_at_saturday_evening(self):
        e = Eligibility(open_at="2026-11-28 19:00")
        np.testing.assert_array_equal(e.mask(POINTS), [True, False, True, False, True])
        inc = dataclasses.replace(e, unknown_hours="include")
        np.testing.assert_array_equal(inc.mask(POINTS), [True, False, True, True, True])
        np.testing.assert_array_equal(e.mask(POINTS), hours.is_open(POINTS, e.open_at))

    def test_open_during_weekday_spec(self):
        e = Eligibility(open_during="Sa 18:00-20:00", reference="2026-11-23")
        assert e.open_during == (dt.datetime(2026, 11, 28, 18), dt.datetime(2026, 11, 28, 20))
        np.testing.assert_array_equal(e.mask(POINTS), [False, False, True, False, True])

    def test_open_during_holiday_date(self):
        e = Eligibility(open_during="2026-12-25 10:00-11:00")
        np.testing.assert_array_equal(e.mask(POINTS), [False, False, True, False, True])

    def test_services_kinds_networks(self):
        e = Eligibility(services={"retour"}, kinds="locker", networks={"InPost"})
        assert e.services == {"returns"} and e.networks == {"inpost"}
        np.testing.assert_array_equal(e.mask(POINTS), [False, False, True, False, False])
        assert Eligibility(services=["pickup", "dropoff"]).mask(POINTS).tolist() == [
            True,
            True,
            False,
            False,
            False,
        ]

    def test_services_empty_is_unknown(self):
        e = Eligibility(services={"pickup"}, unknown_attributes="include")
        assert e.mask(POINTS).tolist() == [True, True, True, True, True]

    def test_parcel_limits(self):
        e = Eligibility(parcel_weight_kg=25)
        assert e.mask(POINTS).tolist() == [True, True, False, False, True]
        e = Eligibility(parcel_weight_kg=25, unknown_attributes="include")
        assert e.mask(POINTS).tolist() == [True, True, False, True, True]
        assert Eligibility(parcel_length_cm=90).mask(POINTS).tolist() == [
            True,
            True,
            False,
            False,
            False,
        ]

    def test_rating_parking_step_free_capacity(self):
        assert Eligibility(min_rating=4).mask(POINTS).tolist() == [True, False, False, True, True]
        assert Eligibility(parking=True).mask(POINTS).tolist() == [True, False, False, True, True]
        assert Eligibility(step_free=True).mask(POINTS).tolist() == [True, True, True, False, False]
        assert Eligibility(min_free_capacity=10).mask(POINTS).tolist() == [
            True,
            False,
            True,
            True,
            False,
        ]

    def test_min_weekly_hours(self):
        e = Eligibility(min_weekly_hours=50, reference="2026-11-25")
        # a: 6 × 10.5 h = 63, b: 15, c: 168, d unknown, e: 5 × 10 = 50
        assert e.mask(POINTS).tolist() == [True, False, True, False, True]

    def test_combined_is_conjunction(self):
        a = Eligibility(open_at="2026-11-28 11:00")
        b = Eligibility(parcel_weight_kg=25)
        both = Eligibility(open_at="2026-11-28 11:00", parcel_weight_kg=25)
        np.testing.assert_array_equal(both.mask(POINTS), a.mask(POINTS) & b.mask(POINTS))

    def test_report_counts(self):
        e = Eligibility(open_at="2026-11-28 19:00", parcel_weight_kg=25)
        report = e.report(POINTS).set_index("criterion")
        assert report.loc["open_at", "unknown"] == 1 and report.loc["open_at", "passing"] == 3
        assert report.loc["parcel_weight_kg", "unknown"] == 1
        assert report.loc["all", "passing"] == e.mask(POINTS).sum() == 2
        assert "open at Sat 2026-11-28 19:00" in e.describe()
        assert "takes 25 kg" in e.describe()

    def test_frozen_and_hashable(self):
        e = Eligibility(services={"returns"})
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.services = frozenset()
        assert hash(e) == hash(Eligibility(services=["returns"]))


class TestErrorsAndWarnings:
    def test_missing_column_warns_and_excludes(self):
        points = POINTS.drop(columns="rating")
        with pytest.warns(UserWarning, match="no 'rating' column"):
            mask = Eligibility(min_rating=1).mask(points)
        assert not mask.any()

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"kinds": {"spaceship"}}, "kinds"),
            ({"services": "teleport"}, "services"),
            ({"parcel_weight_kg": -1}, "parcel_weight_kg"),
            ({"parcel_weight_kg": "heavy"}, "parcel_weight_kg"),
            ({"unknown_hours": "maybe"}, "unknown_hours"),
            ({"open_during": "Saturday evening"}, "open_during"),
            ({"open_during": "Xx 10:00-11:00"}, "open_during"),
            ({"open_during": "Sa 25:00-26:00"}, "open_during"),
            ({"open_at": "someday"}, "datetime"),
            ({"parking": "yes"}, "parking"),
        ],
    )
    def test_bad_parameters(self, kwargs, match):
        with pytest.raises(ParameterError, match=match):
            Eligibility(**kwargs)

    def test_window_past_midnight(self):
        ((start, end),) = parse_window("Fr 22:00-26:00", reference="2026-11-23")
        assert start == dt.datetime(2026, 11, 27, 22) and end == dt.datetime(2026, 11, 28, 2)
        with pytest.raises(ParameterError, match="ends before it starts"):
            parse_window("Fr 22:00-02:00", reference="2026-11-23")


@settings(max_examples=40, deadline=None)
@given(
    weight=st.one_of(st.none(), st.floats(0, 40)),
    rating=st.one_of(st.none(), st.floats(0, 5)),
    services=st.sets(st.sampled_from(["pickup", "dropoff", "returns"])),
    kinds=st.sets(st.sampled_from(["locker", "counter", "post_office"])),
)
def test_adding_a_criterion_never_adds_points(weight, rating, services, kinds):
    base = Eligibility(services=services, kinds=kinds)
    narrower = dataclasses.replace(base, parcel_weight_kg=weight, min_rating=rating)
    assert not (narrower.mask(POINTS) & ~base.mask(POINTS)).any()
    include = dataclasses.replace(narrower, unknown_attributes="include")
    assert not (narrower.mask(POINTS) & ~include.mask(POINTS)).any()
