"""Benchmark: ``hours.weekly_matrix`` with (almost) one distinct string per point (not a test).

100 000 points whose opening hours are the bundled La Poste strings with every time of
day shifted by a random number of minutes per point (one shift per string, so the
structure — lunch breaks, Saturdays, holidays, dated exceptions — stays real): ~99 000
distinct strings. Times in one run, each repeated (min and median printed):

(a) relaynet ``weekly_matrix``: 100 000 × 672 quarter-hours of the week of 2026-11-23;
    parsing is once per string and process and is timed apart (first call);
(b) the previous implementation (same intervals sweep, but a point × slot int64
    difference matrix in one piece), kept here as it was;
(c) the naive way: 672 ``is_open`` point queries per distinct string (on a sample of
    strings, extrapolated);

and checks that (a) equals opening-hours-py point queries at random instants. Peak memory
of a call is the tracemalloc peak (numpy buffers and Python objects) of a separate run.

Run: ``.venv/bin/python scripts/bench_hours.py [--points 100000] [--repeat 5] [--skip-old]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source tree

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd

from relaynet import hours

SEED = 20261123
WEEK = "2026-11-23"
DATA = Path(__file__).resolve().parent.parent / "data" / "laposte_points.parquet"
_TIME = re.compile(r"\b(\d{2}):(\d{2})\b")


def shifted_strings(n: int, rng) -> pd.Series:
    """``n`` strings: bundled ones with all times shifted by one random delta each."""
    real = gpd.read_parquet(DATA, columns=["opening_hours", "geometry"])["opening_hours"]
    pool = np.array(sorted(s for s in real.dropna().unique() if opening_hours.validate(s)))
    out = []
    for text, delta in zip(rng.choice(pool, n), rng.integers(-150, 150, n), strict=True):
        minutes = [int(h) * 60 + int(m) + int(delta) for h, m in _TIME.findall(text)]
        if minutes and 0 <= min(minutes) and max(minutes) <= 1440:
            clock = iter(f"{m // 60:02d}:{m % 60:02d}" for m in minutes)
            text = _TIME.sub(lambda _match, clock=clock: next(clock), text)
        out.append(text)
    return pd.Series(out, dtype=object)


def repeated(func, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return np.array(times), out


def traced_peak_mib(func) -> float:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def old_weekly_matrix(points, week_start, step_minutes: int = 15) -> np.ndarray:
    """The implementation before this change (open_matrix's sweep path, verbatim in
    substance): every distinct schedule's open intervals at once, then one int64
    difference matrix of (distinct strings × slots) built with two ``bincount`` calls, a
    running sum, and a padded copy broadcast to the points."""
    sched = hours.Schedules(points)
    times = pd.date_range(
        week_start, periods=7 * 1440 // step_minutes, freq=f"{step_minutes}min", unit="ns"
    )
    d, t = len(sched.schedules_), len(times)
    ns = times.asi8
    start = times[0].to_pydatetime()
    end = (times[-1] + pd.Timedelta(minutes=1)).to_pydatetime()
    owner, begins, ends = [], [], []
    for i, schedule in enumerate(sched.schedules_):
        for a, b, state, _ in schedule.intervals(start, end):
            if state == opening_hours.State.OPEN:
                owner.append(i)
                begins.append(a.replace(tzinfo=None))
                ends.append(end if b is None else b.replace(tzinfo=None))
    lo, hi = ns[0], pd.Timestamp(end).value
    owner = np.asarray(owner, dtype=np.int64)
    begin = np.clip(pd.DatetimeIndex(begins).as_unit("ns").asi8, lo, hi)
    stop = np.clip(pd.DatetimeIndex(ends).as_unit("ns").asi8, lo, hi)
    i0 = np.searchsorted(ns, begin, side="left")
    i1 = np.searchsorted(ns, stop, side="left")
    keep = i1 > i0
    width = t + 1
    owner, i0, i1 = owner[keep], i0[keep], i1[keep]
    size = d * width
    diff = np.bincount(owner * width + i0, minlength=size) - np.bincount(
        owner * width + i1, minlength=size
    )
    per_string = np.cumsum(diff.reshape(d, width)[:, :t], axis=1) > 0
    padded = np.concatenate([per_string, np.zeros((1, t), dtype=bool)])
    return padded[sched.codes_]


def naive_seconds_per_string(strings: np.ndarray, times: list[dt.datetime]) -> float:
    start = time.perf_counter()
    for text in strings:
        schedule = opening_hours.OpeningHours(text, country="FR")
        [schedule.is_open(x) for x in times]
    return (time.perf_counter() - start) / len(strings)


def check_against_point_queries(matrix, points: pd.Series, rng, n_rows=300, n_cols=60) -> None:
    """Random points × random slots of (a) against opening-hours-py's ``is_open``."""
    times = pd.date_range(WEEK, periods=672, freq="15min").to_pydatetime()
    rows = rng.choice(len(points), n_rows, replace=False)
    cols = rng.choice(672, n_cols, replace=False)
    for r in rows:
        if not opening_hours.validate(points.iat[r]):  # unknown hours: never open
            expected = [False] * n_cols
        else:
            schedule = opening_hours.OpeningHours(points.iat[r], country="FR")
            expected = [schedule.is_open(times[c]) for c in cols]
        if not np.array_equal(matrix[r, cols], expected):
            raise AssertionError(f"point {r} ({points.iat[r]!r}) differs from is_open")
    print(f"check: {n_rows} points × {n_cols} random slots equal opening-hours-py is_open")


def summary(label: str, seconds: np.ndarray) -> str:
    return f"{label:<44} min {seconds.min():6.2f} s   median {np.median(seconds):6.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-old", action="store_true", help="skip (b), ~10 s and ~1 GiB")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    points = shifted_strings(args.points, rng)
    n_distinct = points.nunique()
    print(f"{len(points):,} points, {n_distinct:,} distinct strings, week of {WEEK}, 672 slots")

    start = time.perf_counter()
    matrix = hours.weekly_matrix(points, WEEK)
    first = time.perf_counter() - start
    print(f"(a) first call, parsing every string once       {first:6.2f} s")
    t_new, matrix = repeated(lambda: hours.weekly_matrix(points, WEEK), args.repeat)
    print(summary("(a) relaynet weekly_matrix (strings parsed)", t_new))
    check_against_point_queries(matrix, points, rng)

    sample = rng.choice(points.unique(), 500, replace=False)
    times = list(pd.date_range(WEEK, periods=672, freq="15min").to_pydatetime())
    naive = naive_seconds_per_string(sample, times) * n_distinct
    print(f"(c) naive, 672 is_open calls per string          {naive:6.1f} s (500-string sample)")
    if not args.skip_old:
        t_old, old = repeated(lambda: old_weekly_matrix(points, WEEK), 2)
        print(summary("(b) previous implementation", t_old))
        if not np.array_equal(old, matrix):
            raise AssertionError("previous and new weekly matrices differ")

    mem_new = traced_peak_mib(lambda: hours.weekly_matrix(points, WEEK))
    print(f"peak memory of one call (tracemalloc): (a) {mem_new:,.0f} MiB", end="")
    if not args.skip_old:
        mem_old = traced_peak_mib(lambda: old_weekly_matrix(points, WEEK))
        print(f", (b) {mem_old:,.0f} MiB", end="")
    print(f"; the result itself is {matrix.nbytes / 2**20:.0f} MiB (bool)")

    print("\nratios (min times)")
    if not args.skip_old:
        print(f"  (b)/(a): {t_old.min() / t_new.min():5.1f}× faster than before")
    print(f"  (c)/(a): {naive / t_new.min():5.1f}× faster than point queries")
    ok = t_new.min() <= 2.0 and mem_new <= 200
    print(f"target (≤ 2 s, ≤ 200 MB): {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
