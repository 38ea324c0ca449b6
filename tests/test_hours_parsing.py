"""What a string means: comment-only hours, sun events at each place, past dated exceptions.

Oracles: opening-hours-py called directly (with the place's coordinates), published
sunrise/sunset times (Paris: 21 June ≈ 05:47–21:58, 21 December ≈ 08:41–16:56; Brest
about 25 minutes later) and hand-cleaned strings.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from pathlib import Path

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import pytest

from relaynet import hours

DATA = Path(__file__).resolve().parent.parent / "data" / "laposte_points.parquet"
PARIS = (48.8566, 2.3522)
BREST = (48.3904, -4.4861)


class TestCommentOnly:
    STRINGS = [
        '"on appointment"',
        '"only after registration"; PH off',
        '24/7 "call first"',
        'Mo-Fr 10:00-12:00 "ring"',
    ]

    def test_unknown_not_open(self):
        sched = hours.Schedules(pd.Series(self.STRINGS))
        np.testing.assert_array_equal(sched.known, [False, False, True, True])
        assert sched.n_comment_only_ == 2 and sched.n_unknown == 2
        monday_11 = dt.datetime(2026, 11, 30, 11)
        np.testing.assert_array_equal(hours.is_open(sched, monday_11), [False, False, True, True])
        include = hours.is_open(sched, monday_11, unknown="include")
        np.testing.assert_array_equal(include, [True, True, True, True])
        # the parser alone says open 24/7: the behaviour this guards against
        assert opening_hours.OpeningHours(self.STRINGS[0]).is_open(monday_11)

    def test_summary_and_validate(self):
        summary = hours.weekly_summary(pd.Series(self.STRINGS), "2026-11-30")
        assert summary["hours_known"].tolist() == [False, False, True, True]
        assert [hours.validate(s) for s in self.STRINGS] == [False, False, True, True]


def sun_points(strings, places) -> gpd.GeoDataFrame:
    lat, lon = zip(*places, strict=True)
    return gpd.GeoDataFrame(
        {"opening_hours": strings},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


class TestSunEvents:
    def test_published_times_paris_and_brest(self):
        points = sun_points(["sunrise-sunset"] * 2, [PARIS, BREST])
        cases = {
            dt.datetime(2026, 6, 21, 6, 0): [True, False],  # before 07:00, after Paris sunrise
            dt.datetime(2026, 6, 21, 21, 50): [True, True],  # after the fixed 19:00
            dt.datetime(2026, 6, 21, 22, 10): [False, True],  # Brest sets at ≈ 22:17
            dt.datetime(2026, 12, 21, 8, 30): [False, False],  # Paris rises at ≈ 08:41
            dt.datetime(2026, 12, 21, 16, 50): [True, True],
            dt.datetime(2026, 12, 21, 17, 5): [False, True],  # Brest sets at ≈ 17:21
        }
        for when, expected in cases.items():
            np.testing.assert_array_equal(hours.is_open(points, when), expected, err_msg=str(when))

    def test_against_parser_with_coordinates(self):
        places = [PARIS, BREST, (43.2965, 5.3698), (50.6292, 3.0573)]  # + Marseille, Lille
        strings = ["sunrise-sunset", "Mo-Sa sunrise-sunset; PH off", "sunset-23:00", "dusk-dawn"]
        points = sun_points(strings, places)
        times = pd.date_range("2026-06-19", periods=96 * 3, freq="15min")
        got = hours.is_open(points, times)
        tz = zoneinfo.ZoneInfo("Europe/Paris")
        for i, (text, (lat, lon)) in enumerate(zip(strings, places, strict=True)):
            oracle = opening_hours.OpeningHours(text, country="FR", coords=(lat, lon), timezone=tz)
            expected = np.array([oracle.is_open(t) for t in times.to_pydatetime()])
            # coordinates are rounded to 0.1°: at most one 15-min slot may differ at a change
            assert (got[i] != expected).sum() <= 6, text

    def test_weekly_matrix_across_dst_in_blocks(self, monkeypatch):
        # sun schedules yield zone-aware intervals; blocks mix them with plain strings, and
        # the week of 2026-10-19 ends with the change to winter time (25 October)
        monkeypatch.setattr(hours.schedules, "_CHUNK", 3)
        strings = ["sunrise-sunset", "Mo-Fr 09:00-18:00", "sunset-02:00", "dawn-dusk", "24/7"]
        places = [PARIS, BREST, (43.2965, 5.3698), (50.6292, 3.0573), PARIS]
        sched = hours.Schedules(sun_points(strings, places))
        matrix = hours.weekly_matrix(sched, "2026-10-19")
        times = pd.date_range("2026-10-19", periods=672, freq="15min").to_pydatetime()
        expected = np.column_stack([sched.open_at(t) for t in times])
        np.testing.assert_array_equal(matrix, sched.broadcast(expected, False))

    def test_hours_on_text(self):
        text = hours.hours_on(sun_points(["sunrise-sunset"], [PARIS]), dt.date(2026, 6, 21))
        begin, end = text.iloc[0].split("-")
        assert "05:44" <= begin <= "05:49" and "21:55" <= end <= "22:00"

    def test_one_parse_per_string_and_rounded_place(self):
        near_paris = (PARIS[0] + 0.01, PARIS[1] + 0.01)
        points = sun_points(
            ["sunrise-sunset", "sunrise-sunset", "sunrise-sunset", "Mo 10:00-12:00"] + ["24/7"],
            [PARIS, near_paris, BREST, PARIS, BREST],
        )
        sched = hours.Schedules(points)
        assert len(sched.schedules_) == 4  # Paris (×2), Brest, and one per plain string
        assert sched.codes_[0] == sched.codes_[1] != sched.codes_[2]

    def test_projected_geometry_is_converted(self):
        points = sun_points(["sunrise-sunset"] * 2, [PARIS, BREST]).to_crs("EPSG:2154")
        np.testing.assert_array_equal(
            hours.is_open(points, dt.datetime(2026, 6, 21, 6, 0)), [True, False]
        )

    def test_without_coordinates_parser_default(self):
        # a plain Series has no place: the parser's documented 07:00 sunrise applies
        series = pd.Series(["sunrise-sunset"])
        assert not hours.is_open(series, dt.datetime(2026, 6, 21, 6, 0))[0]
        assert hours.is_open(series, dt.datetime(2026, 6, 21, 7, 30))[0]


class TestPastDatedExceptions:
    RECOVERABLE = {
        "Mo-Fr 09:00-12:00; PH off; 2022 Mar 11,25 off": "Mo-Fr 09:00-12:00; PH off",
        "Mo,We,Fr 10:00-12:30; PH off; 2022 Mar 08 14:00-17:00; 2022 Mar 09,May 02-06,27 off": (
            "Mo,We,Fr 10:00-12:30; PH off; 2022 Mar 08 14:00-17:00"
        ),
        "Tu-Sa 09:00-12:00; PH off; 2021 Dec 27,31,2022 Jan 11 off": "Tu-Sa 09:00-12:00; PH off",
        "Mo-Sa 09:00-12:00; PH off; 2023 Apr 04,12 closed": "Mo-Sa 09:00-12:00; PH off",
    }
    KEPT_UNKNOWN = [
        "PH off; 2022 May 22,29 06:45-12:30",  # a dated *opening* rule: not dropped
        "Mo-Fr 09:00-12:00; 2099 Mar 11,25 off",  # future
        f"Mo-Fr 09:00-12:00; {dt.date.today().year} Jan 02,05 off",  # this year: kept
        "Mo-Fr 09:00-12:00; 2022 Mar 11,25 off; Sa 10:00-12:00 some junk",
    ]

    def test_recovered_like_the_hand_cleaned_string(self):
        originals = list(self.RECOVERABLE)
        sched = hours.Schedules(pd.Series(originals))
        assert sched.known.all() and sched.n_recovered_ == len(originals)
        assert list(sched.strings_) == originals  # the original strings are kept
        times = pd.date_range("2026-12-21", periods=14 * 24 * 4, freq="15min")  # with Christmas
        got = hours.is_open(sched, times)
        for i, cleaned in enumerate(self.RECOVERABLE.values()):
            oracle = opening_hours.OpeningHours(cleaned, country="FR")
            expected = [oracle.is_open(t) for t in times.to_pydatetime()]
            np.testing.assert_array_equal(got[i], expected, err_msg=cleaned)
        assert not got[0][times.get_loc(pd.Timestamp("2026-12-25 10:00"))]  # PH off kept
        assert all(hours.validate(s) for s in originals)

    def test_other_failures_stay_unknown(self):
        for text in self.KEPT_UNKNOWN:
            with pytest.raises((opening_hours.ParserError, SyntaxError, ValueError)):
                opening_hours.OpeningHours(text)
        sched = hours.Schedules(pd.Series(self.KEPT_UNKNOWN))
        assert sched.n_unknown == len(self.KEPT_UNKNOWN) and sched.n_recovered_ == 0

    def test_bundled_la_poste_points_recovered(self, caplog):
        columns = ["opening_hours", "opening_hours_unparsed", "geometry"]
        points = gpd.read_parquet(DATA, columns=columns)
        # the strings opening-hours-py rejects: kept aside, or (since the data keeps the
        # recoverable ones) in opening_hours itself
        kept = points["opening_hours"].fillna("").astype(str)
        rejected = kept.ne("") & ~kept.map(opening_hours.validate).astype(bool)
        original = points["opening_hours_unparsed"].replace("", None)
        original = original.where(original.notna(), kept.where(rejected))
        assert original.notna().sum() >= 100  # 103 in the data of 2020 as first bundled
        with caplog.at_level(logging.INFO, logger="relaynet.hours"):
            sched = hours.Schedules(points.assign(opening_hours=original))
        n = sched.n_recovered_
        assert n >= 60 and sched.known.sum() == n  # 61 of the 103
        assert n == sum(hours.validate(text) for text in original.dropna())
        assert f"{n} points' opening hours parsed after dropping past dated 'off'" in caplog.text
