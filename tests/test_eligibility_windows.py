"""How users type dates and windows: day-first French dates, weekday names, ranges.

Oracles: hand-computed calendar dates (2026-11-25 is a Wednesday) and direct
opening-hours-py evaluations for the masks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import opening_hours
import pandas as pd
import pytest
from click.testing import CliRunner

from relaynet import hours
from relaynet.eligibility import Eligibility, parse_window
from relaynet.errors import ParameterError

WED = "2026-11-25"  # a Wednesday
SAT_18_19 = ((dt.datetime(2026, 11, 28, 18), dt.datetime(2026, 11, 28, 19)),)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("05/12/2026 10:30", dt.datetime(2026, 12, 5, 10, 30)),  # 5 December, not 12 May
        ("5/12/2026 10h30", dt.datetime(2026, 12, 5, 10, 30)),
        ("05.12.2026 9h", dt.datetime(2026, 12, 5, 9, 0)),
        ("13-01-2027 08:05", dt.datetime(2027, 1, 13, 8, 5)),
        ("2026-12-05 10:30", dt.datetime(2026, 12, 5, 10, 30)),  # ISO stays ISO
        ("2026-05-12T10:30:00", dt.datetime(2026, 5, 12, 10, 30)),
    ],
)
def test_open_at_day_first_and_iso(text, expected):
    assert Eligibility(open_at=text).open_at == expected
    assert hours.parse_datetime(text, require_time=True) == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["9999-12-31 23:59", "31/12/1000 10h"])
def test_open_at_outside_pandas_years_is_a_parameter_error(text):
    with pytest.raises(ParameterError, match="outside the years 1677–2262"):
        Eligibility(open_at=text)


def test_open_at_with_utc_offset_converted_to_paris():
    # 09:30 UTC is 10:30 in Paris in winter
    assert Eligibility(open_at="2026-12-05T09:30:00+00:00").open_at == dt.datetime(
        2026, 12, 5, 10, 30
    )


@pytest.mark.parametrize(
    "text, match",
    [
        ("2026-11-28", "no time of day"),
        ("28/11/2026", "no time of day"),
        ("05/12/26 10:30", "ambiguous"),
        ("2026/05/12 10:30", "ambiguous"),
        ("05/12 10:30", "ambiguous"),
        ("12/25/2026 10:00", "day first"),  # a US date: no 25th month
        ("2026-11-28 25:00", "datetime"),
        ("28/11/2026 18h75", "time"),
        ("someday", "datetime"),
    ],
)
def test_open_at_refused(text, match):
    with pytest.raises(ParameterError, match=match):
        Eligibility(open_at=text)


def test_open_at_date_object_refused():
    with pytest.raises(ParameterError, match="time of day"):
        Eligibility(open_at=dt.date(2026, 11, 28))


def test_is_open_refuses_date_only_string():
    with pytest.raises(ParameterError, match="no time of day"):
        hours.is_open(pd.Series(["24/7"]), "2026-11-28")


@pytest.mark.parametrize(
    "spec", ["Sa 18:00-19:00", "samedi 18:00-19:00", "Saturday 18:00-19:00", "sat 18h-19h"]
)
def test_weekday_spellings(spec):
    assert parse_window(spec, reference=WED) == SAT_18_19


@pytest.mark.parametrize(
    "spec, days",
    [
        ("Mo-Fr 18:00-19:00", [25, 26, 27, 30, 1]),
        ("lundi-vendredi 18:00-19:00", [25, 26, 27, 30, 1]),
        ("Fr-Mo 18:00-19:00", [27, 28, 29, 30]),
        ("Mo,We 18:00-19:00", [25, 30]),
        ("We 18:00-19:00", [25]),  # the reference day itself
    ],
)
def test_weekday_ranges_give_one_window_per_day(spec, days):
    windows = parse_window(spec, reference=WED)
    assert [start.day for start, _ in windows] == days
    assert all((s.hour, e.hour, (e - s).seconds) == (18, 19, 3600) for s, e in windows)


@pytest.mark.parametrize(
    "spec", ["24/12/2026 10:00-12:00", "2026-12-24 10:00-12:00", "24.12.2026 10h-12h"]
)
def test_dated_windows(spec):
    assert parse_window(spec) == ((dt.datetime(2026, 12, 24, 10), dt.datetime(2026, 12, 24, 12)),)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("Sa 19:00-18:00", "ends before it starts"),
        ("Sa 18:00-18:00", "ends before it starts"),
        ("funday 10:00-11:00", "not a weekday"),
        ("Mo-Xy 10:00-11:00", "not a weekday"),
        ("05/12/26 10:00-11:00", "ambiguous"),
        ("Sa 10:00-49:00", "invalid time"),
    ],
)
def test_bad_windows_refused(spec, match):
    with pytest.raises(ParameterError, match=match):
        Eligibility(open_during=spec, reference=WED)


HOURS = ["Mo-Fr 09:00-19:30", "Mo-We,Fr 09:00-19:30", "Mo-Su 17:00-20:00", "Sa 10:00-12:00"]


def _oracle(text: str, windows) -> bool:
    schedule = opening_hours.OpeningHours(text, country="FR")
    return all(schedule.is_open(s) and schedule.next_change(s) >= e for s, e in windows)


def test_weekday_range_mask_requires_every_day():
    points = pd.DataFrame({"opening_hours": HOURS})
    where = Eligibility(open_during="Mo-Fr 18:00-19:00", reference=WED)
    windows = parse_window("Mo-Fr 18:00-19:00", reference=WED)
    expected = [_oracle(text, windows) for text in HOURS]
    assert expected == [True, False, True, False]  # hand check: Thursday closes point 1
    np.testing.assert_array_equal(where.mask(points), expected)
    assert "Tue 2026-12-01 18:00–19:00" in where.describe()


def test_overnight_window_mask():
    points = pd.DataFrame({"opening_hours": ["Fr 20:00-03:00", "Fr 20:00-24:00", "24/7"]})
    where = Eligibility(open_during="Fr 22:00-26:00", reference=WED)
    np.testing.assert_array_equal(where.mask(points), [True, False, True])


def test_cli_reads_the_same_way():
    import click

    from relaynet.cli._common import eligibility_options, library_errors

    seen = {}

    @click.command()
    @library_errors
    @eligibility_options
    def show(where, unknown_hours):
        seen["where"] = where

    runner = CliRunner()
    result = runner.invoke(show, ["--open-at", "05/12/2026 10:30"])
    assert result.exit_code == 0, result.output
    assert seen["where"].open_at == dt.datetime(2026, 12, 5, 10, 30)
    result = runner.invoke(show, ["--open", "samedi 18:00-19:00"])
    assert result.exit_code == 0 and seen["where"].open_during[0].weekday() == 5
    for args, match in (
        (["--open-at", "2026-11-28"], "no time of day"),
        (["--open", "Sa 19:00-18:00"], "ends before it starts"),
    ):
        result = runner.invoke(show, args)
        assert result.exit_code == 2 and match in result.output


def test_masks_together_equal_one_by_one():
    """eligibility.masks (hours parsed once, every instant in one pass) equals each mask."""
    from relaynet.eligibility import masks

    points = pd.DataFrame(
        {
            "opening_hours": [
                "Mo-Fr 09:00-19:30; Sa 09:00-12:00; PH off",
                "Mo-Sa 10:00-18:00; Su 09:00-12:00",
                "24/7",
                None,
                "not hours",
                "Tu 08:00-20:00; 2026 Nov 24 off",
                '"on appointment"',
            ],
            "services": ["pickup;returns", "pickup", "", "pickup", "returns", "pickup", "pickup"],
        }
    )
    items = [
        Eligibility(open_at="2026-11-24 10:00"),
        Eligibility(open_at="2026-11-24 19:00", unknown_hours="include"),
        Eligibility(open_at="2026-11-29 10:00", services={"pickup"}),
        Eligibility(open_at="2026-11-24 10:00", country=None),
        Eligibility(open_during="Sa 09:30-11:30", reference=WED),
        Eligibility(services={"returns"}),
        Eligibility(),
    ]
    together = masks(points, items)
    assert len(together) == len(items)
    for item, mask in zip(items, together, strict=True):
        np.testing.assert_array_equal(mask, item.mask(points))
    assert masks(points, []) == []
    with pytest.raises(ParameterError, match="Eligibility"):
        masks(points, ["Sa 10:00"])
