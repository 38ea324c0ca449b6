"""Scenario edits: each returns a new points table, leaves the original alone and says
what it did; opening-hours edits checked with the hours engine (opening-hours-py)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import relaynet as rn
from relaynet import hours
from relaynet.errors import ParameterError
from relaynet.io import write_csv
from relaynet.scenarios import Scenario, points_table, solution_points

MONDAY_10 = dt.datetime(2024, 6, 10, 10, 0)
SATURDAY_10 = dt.datetime(2024, 6, 15, 10, 0)
TUESDAY_18H30 = dt.datetime(2024, 6, 11, 18, 30)


def _points(n: int = 6, prefix: str = "p", network: str = "la_poste") -> gpd.GeoDataFrame:
    hours_text = [
        "Mo-Fr 09:00-12:00; PH off",
        "Mo-Sa 08:00-20:00",
        "",
        "24/7",
        "closed",
        "Sa 09:00-12:00",
    ]
    return gpd.GeoDataFrame(
        {
            "point_id": [f"{prefix}{i}" for i in range(n)],
            "name": [f"point {i}" for i in range(n)],
            "network": network,
            "kind": [("post_office", "counter")[i % 2] for i in range(n)],
            "opening_hours": [hours_text[i % len(hours_text)] for i in range(n)],
            "hours_source": "carrier",
        },
        geometry=[Point(3.0 + 0.01 * i, 44.5) for i in range(n)],
        crs="EPSG:4326",
    )


class TestEdits:
    def test_close_by_id_and_filter(self):
        base = Scenario("today", _points())
        fewer = base.close(["p0", "p2"], name="two closed")
        assert fewer.name == "two closed" and len(fewer.points) == 4
        assert list(fewer.point_ids) == ["p1", "p3", "p4", "p5"]
        assert len(base.points) == 6 and base.edits == ()  # the original is untouched
        counters = base.close(where=rn.Eligibility(kinds={"counter"}))
        assert set(counters.points["kind"]) == {"post_office"}
        assert "kind counter" in counters.edits[0].description
        both = base.close(["p0", "p1"], where=rn.Eligibility(kinds={"counter"}))
        assert list(both.edits[0].point_ids) == ["p1"]
        masked = base.close(where=np.array([True, False] * 3), label="odd ones")
        assert masked.edits[0].description == "closed 3 points: odd ones"
        assert "1. closed 3 points: odd ones" in masked.describe()

    def test_close_errors(self):
        base = Scenario("today", _points())
        with pytest.raises(ParameterError, match="not in scenario"):
            base.close(["nope"])
        with pytest.raises(ParameterError, match="ids= and/or where="):
            base.close()
        with pytest.raises(ParameterError, match="boolean mask of 6"):
            base.close(where=[1, 0])

    def test_add_points_defaults_and_clash(self):
        base = Scenario("today", _points())
        new = _points(2, prefix="n").drop(columns=["opening_hours"])
        more = base.add(new, defaults={"opening_hours": "Mo-Su 00:00-24:00"}, name="more")
        assert len(more.points) == 8
        assert more.edits[0].action == "add" and more.edits[0].point_ids == ("n0", "n1")
        assert (more.points.iloc[-2:]["opening_hours"] == "Mo-Su 00:00-24:00").all()
        with pytest.raises(ParameterError, match="already in scenario"):
            base.add(_points(2))

    def test_add_from_file_and_points_table_round_trip(self, tmp_path):
        path = write_csv(points_table(_points(3, prefix="f")), tmp_path / "new.csv")
        more = Scenario("today", _points()).add(path)
        assert list(more.point_ids[-3:]) == ["f0", "f1", "f2"]
        assert "from new.csv" in more.edits[0].description
        np.testing.assert_allclose(more.points.geometry.x.iloc[-3:], _points(3).geometry.x)

    def test_add_solution_takes_new_sites(self):
        sites = gpd.GeoDataFrame(
            {
                "point_id": ["cand:1", "kept"],
                "name": ["A", "B"],
                "status": ["new", "kept"],
                "new_weight": [10.0, 0.0],
            },
            geometry=[Point(3.5, 44.6), Point(3.6, 44.6)],
            crs="EPSG:4326",
        )
        solution = SimpleNamespace(sites=sites, model="mclp")
        frame = solution_points(solution)
        assert list(frame["point_id"]) == ["cand:1"] and frame["network"].iloc[0] == "proposed"
        assert frame["hours_source"].iloc[0] == "unknown"
        more = Scenario("today", _points()).add(solution)
        assert "1 new sites of the mclp solution" in more.edits[0].description

    def test_merge_networks(self):
        a = Scenario("la poste", _points())
        b = Scenario("lockers", _points(4, prefix="m", network="mondial_relay"))
        both = a.merge(b, name="together")
        assert len(both.points) == 10 and both.edits[0].action == "merge"
        assert "mondial_relay" in both.edits[0].description
        with pytest.raises(ParameterError, match="already in scenario"):
            a.merge(a)
        with pytest.raises(ParameterError, match="duplicate point_id"):
            Scenario("bad", pd.concat([_points(), _points()]).pipe(gpd.GeoDataFrame))


class TestHours:
    def test_set_hours(self):
        base = Scenario("today", _points())
        later = base.set_hours("Mo-Fr 09:00-19:00", ids=["p0"])
        assert later.points.loc[0, "opening_hours"] == "Mo-Fr 09:00-19:00"
        assert later.points.loc[0, "hours_source"] == "illustrative"
        assert later.points.loc[1, "hours_source"] == "carrier"
        unknown = base.set_hours(None, ids=["p1"])
        assert unknown.points.loc[1, "opening_hours"] == ""
        with pytest.raises(ParameterError, match="not an OSM opening_hours"):
            base.set_hours("whenever")

    def test_rule_goes_before_the_exceptions(self):
        base = Scenario("today", _points())
        later = base.add_hours_rule("Mo-Fr 09:00-19:00", ids=["p0", "p2"])
        # p0: the rule comes before "PH off", which still applies; p2 (unknown) untouched
        assert (
            later.points.loc[0, "opening_hours"] == "Mo-Fr 09:00-12:00; Mo-Fr 09:00-19:00; PH off"
        )
        assert later.points.loc[2, "opening_hours"] == ""
        assert "1 with unknown hours left unknown" in later.edits[0].description
        before = hours.is_open(base.points, TUESDAY_18H30)
        after = hours.is_open(later.points, TUESDAY_18H30)
        assert not before[0] and after[0]
        christmas = dt.datetime(2024, 12, 25, 10, 0)  # a Wednesday, a public holiday
        assert not hours.is_open(later.points, christmas)[0]

    def test_close_on_mondays_and_holidays(self):
        base = Scenario("today", _points())
        shut = base.close_on("Mo", public_holidays=True, name="no Mondays")
        open_before = hours.is_open(base.points, MONDAY_10)
        open_after = hours.is_open(shut.points, MONDAY_10)
        assert open_before.any() and not open_after.any()
        # other days keep their hours
        np.testing.assert_array_equal(
            hours.is_open(base.points, SATURDAY_10), hours.is_open(shut.points, SATURDAY_10)
        )
        assert shut.edits[0].description.startswith("added the rule 'Mo off; PH off'")
        with pytest.raises(ParameterError, match="days="):
            base.close_on()
