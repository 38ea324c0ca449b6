"""Opening hours: vectorized results against direct opening-hours-py calls (the oracle)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import pytest

from relaynet import hours
from relaynet.errors import ParameterError

DATA = Path(__file__).resolve().parent.parent / "data" / "laposte_points.parquet"
HOLIDAYS = [
    "2026-12-25 10:00",
    "2027-05-01 10:00",
    "2027-03-29 10:00",
    "2026-11-11 10:00",
    "2027-07-14 10:00",
    "2027-01-01 10:00",
    "2026-12-24 10:00",
    "2027-05-08 10:00",
]


@pytest.fixture(scope="module")
def bundled_hours() -> pd.Series:
    return gpd.read_parquet(DATA, columns=["opening_hours", "geometry"])["opening_hours"]


def _oracle_schedule(text: str) -> opening_hours.OpeningHours:
    """The string parsed directly; a string relaynet recovers (past dated 'off' rules the
    parser rejects, as in the bundled data) without those rules."""
    if not opening_hours.validate(text):
        text = hours.parsing._drop_past_off_rules(text, dt.date.today())
    return opening_hours.OpeningHours(text, country="FR")


def _oracle(strings, times) -> np.ndarray:
    out = np.zeros((len(strings), len(times)), dtype=bool)
    for i, text in enumerate(strings):
        schedule = _oracle_schedule(text)
        out[i] = [schedule.is_open(t) for t in times]
    return out


def _random_times(n: int, seed: int) -> list[dt.datetime]:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 6, 1)
    minutes = rng.integers(0, 365 * 1440, n)
    times = [start + dt.timedelta(minutes=int(m)) for m in minutes]
    return times + [dt.datetime.fromisoformat(h) for h in HOLIDAYS]


class TestAgainstOpeningHoursPy:
    def test_every_bundled_string_at_random_times(self, bundled_hours):
        strings = hours.Schedules(bundled_hours).strings_
        assert len(strings) > 5000
        times = _random_times(110, seed=1)
        got = hours.is_open(pd.Series(strings), times)
        np.testing.assert_array_equal(got, _oracle(strings, times))

    def test_interval_sweep_over_a_year(self, bundled_hours):
        # > 1.5 times per day forces the intervals() sweep path
        strings = hours.Schedules(bundled_hours).strings_
        rng = np.random.default_rng(2)
        sample = strings[rng.choice(len(strings), 300, replace=False)]
        times = sorted(_random_times(600, seed=3))
        got = hours.is_open(pd.Series(sample), times)
        np.testing.assert_array_equal(got, _oracle(sample, times))

    def test_weekly_matrix_christmas_week(self, bundled_hours):
        strings = hours.Schedules(bundled_hours).strings_
        sample = strings[np.random.default_rng(4).choice(len(strings), 400, replace=False)]
        matrix = hours.weekly_matrix(pd.Series(sample), "2026-12-21")
        assert matrix.shape == (400, 672)
        times = list(pd.date_range("2026-12-21", periods=672, freq="15min").to_pydatetime())
        cols = np.r_[0:672:7, 385, 386, 387]  # a spread of slots incl. Christmas day
        np.testing.assert_array_equal(matrix[:, cols], _oracle(sample, [times[c] for c in cols]))

    def test_weekly_matrix_in_blocks_equals_point_queries(self, bundled_hours, monkeypatch):
        # schedules are swept in blocks (small here): every block edge must be seamless
        monkeypatch.setattr(hours.schedules, "_CHUNK", 37)
        strings = hours.Schedules(bundled_hours).strings_[:250]
        extra = ["", "not hours", '"on appointment"', "Mo-Su 22:00-02:00", "24/7"]
        series = pd.Series([*strings, *extra] * 2)
        matrix = hours.weekly_matrix(series, "2026-12-21")
        times = list(pd.date_range("2026-12-21", periods=672, freq="15min").to_pydatetime())
        expected = _oracle([*strings, *extra[3:]], times)
        unknown = np.zeros((3, 672), dtype=bool)
        block = np.vstack([expected[: len(strings)], unknown, expected[len(strings) :]])
        np.testing.assert_array_equal(matrix, np.vstack([block, block]))

    def test_points_broadcast_to_codes(self, bundled_hours):
        when = dt.datetime(2026, 11, 28, 10, 30)
        got = hours.is_open(bundled_hours, when)
        sched = hours.Schedules(bundled_hours)
        expect = np.array([_oracle_schedule(s).is_open(when) for s in sched.strings_])[
            sched.codes_.clip(0)
        ]
        expect[sched.codes_ < 0] = False
        np.testing.assert_array_equal(got, expect)
        assert sched.n_unknown == int(bundled_hours.isna().sum() + (bundled_hours == "").sum())


class TestSynthetic:
    series = pd.Series(
        [
            "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00; PH off",
            "24/7",
            "",
            None,
            "not a schedule",
            "Tu-Sa 10:00-19:00; Dec 24 off",
            "Mo-Su 18:00-02:00",
        ]
    )

    def test_holidays_closed(self):
        for when in ("2026-12-25 10:00", "2027-05-01 10:00", "2027-03-29 10:00"):
            assert not hours.is_open(self.series, when)[0]
        assert hours.is_open(self.series, "2027-03-30 10:00")[0]
        assert not hours.is_open(self.series, "2026-12-24 11:00")[5]
        assert hours.is_open(self.series, "2026-12-23 11:00")[5]

    def test_unknown_policy(self):
        ex = hours.is_open(self.series, "2026-11-25 10:00")
        inc = hours.is_open(self.series, "2026-11-25 10:00", unknown="include")
        np.testing.assert_array_equal(ex, [True, True, False, False, False, True, False])
        np.testing.assert_array_equal(inc, [True, True, True, True, True, True, False])
        assert hours.Schedules(self.series).n_unknown == 3
        with pytest.raises(ParameterError, match="unknown="):
            hours.is_open(self.series, "2026-11-25 10:00", unknown="maybe")

    def test_unknown_state_is_not_open(self):
        assert not hours.is_open(pd.Series(["Mo-Su 10:00-12:00 unknown"]), "2026-11-25 11:00")[0]

    def test_timezone_aware_converted(self):
        utc = pd.Timestamp("2026-11-25 08:30", tz="UTC")  # 09:30 in Paris
        assert hours.is_open(self.series, utc)[0]
        assert not hours.is_open(self.series, pd.Timestamp("2026-11-25 08:30"))[0]

    def test_open_during_and_minutes(self):
        s = self.series
        full = hours.open_during(s, "2026-11-25 10:00", "2026-11-25 13:00")
        part = hours.open_during(s, "2026-11-25 10:00", "2026-11-25 13:00", min_minutes=120)
        np.testing.assert_array_equal(full, [False, True, False, False, False, True, False])
        np.testing.assert_array_equal(part, [True, True, False, False, False, True, False])
        minutes = hours.open_minutes(s, "2026-11-25 00:00", "2026-11-26 00:00")
        np.testing.assert_allclose(minutes[[0, 1, 5, 6]], [420, 1440, 540, 360 + 120])
        assert np.isnan(minutes[[2, 3, 4]]).all()
        with pytest.raises(ParameterError, match="not after"):
            hours.open_during(s, "2026-11-25 10:00", "2026-11-25 09:00")

    def test_weekly_summary(self):
        summary = hours.weekly_summary(self.series, "2026-11-23")
        row = summary.iloc[0]
        assert row.weekly_hours == pytest.approx(5 * 7 + 3)
        assert row.days_open == 6 and row.open_saturday and not row.open_sunday
        assert row.latest_weekday_close == "18:00" and not row.open_24_7
        assert summary.iloc[1].open_24_7 and summary.iloc[1].weekly_hours == 168
        assert summary.iloc[6].latest_weekday_close == "24:00"
        assert not summary.iloc[2].hours_known and pd.isna(summary.iloc[2].weekly_hours)
        # a week containing a public holiday (Mon 2027-03-29, Easter Monday) loses that day
        easter = hours.weekly_summary(self.series, "2027-03-29").iloc[0]
        assert easter.weekly_hours == pytest.approx(4 * 7 + 3)

    def test_weekly_matrix_matches_summary(self):
        matrix = hours.weekly_matrix(self.series, "2026-11-23", unknown="include")
        summary = hours.weekly_summary(self.series, "2026-11-23")
        known = summary.hours_known.to_numpy()
        np.testing.assert_allclose(matrix[known].sum(axis=1) / 4, summary.weekly_hours[known])
        assert matrix[~known].all()

    def test_hours_on(self):
        text = hours.hours_on(self.series, "2026-11-28")
        assert text.tolist()[:3] == ["09:00-12:00", "00:00-24:00", "unknown"]
        assert hours.hours_on(self.series, "2026-12-25").iloc[0] == "closed"

    def test_per_point_country(self):
        s = pd.Series(["Mo-Fr 09:00-12:00; PH off"] * 2)
        got = hours.is_open(s, "2026-11-11 10:00", country=["FR", "GB"])  # Armistice day FR
        np.testing.assert_array_equal(got, [False, True])
        with pytest.raises(ParameterError, match="country"):
            hours.is_open(s, "2026-11-11 10:00", country="ZZ")

    def test_bad_datetime(self):
        with pytest.raises(ParameterError, match="datetime"):
            hours.is_open(self.series, "not a date")
