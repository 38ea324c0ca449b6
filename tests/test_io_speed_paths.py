"""Delimited text has two readers — pyarrow's CSV parser when it gives exactly what the csv
module would, the csv module otherwise (relaynet.io.read._records_arrow) — and both must
give the same cells, line numbers, accepted and rejected tables, on the fixtures and on
generated files."""

from __future__ import annotations

import csv
import io
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import relaynet as rn
from relaynet.errors import RelaynetError
from relaynet.io import read

ROOT = Path(__file__).parents[1]
FILES = sorted(
    [*(ROOT / "tests" / "fixtures").rglob("*.csv"), *(ROOT / "relaynet" / "data").glob("*.csv")]
)
LOADERS = {"points": rn.io.load_points, "demand": rn.io.load_demand}
HEADERS = {
    "points": ["id", "lat", "lon", "name", "opening_hours", "extra"],
    "demand": ["code_insee", "population", "lat", "lon", "density_class", "nom"],
}


@pytest.fixture(autouse=True)
def _fast_path_for_small_files(monkeypatch):
    """pyarrow reads files from 1 MiB; here every file may take it."""
    monkeypatch.setattr(read, "_ARROW_MIN_BYTES", 0)


@contextmanager
def csv_module_only():
    """Read delimited text with the csv module only (the reader before pyarrow)."""
    original = read._records_arrow
    read._records_arrow = lambda *args: None
    try:
        yield
    finally:
        read._records_arrow = original


@contextmanager
def counting_fast_path(calls: list):
    original = read._records_arrow

    def spy(*args):
        result = original(*args)
        calls.append(result is not None)
        return result

    read._records_arrow = spy
    try:
        yield
    finally:
        read._records_arrow = original


def outcome(function, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args)
        except RelaynetError as exc:
            return ("error", type(exc).__name__, str(exc)), [str(w.message) for w in caught]
    return ("ok", result), [str(w.message) for w in caught]


def assert_raw_equal(fast, slow):
    assert fast[0][0] == slow[0][0], (fast, slow)
    if fast[0][0] == "error":
        assert fast == slow
        return
    a, b = fast[0][1], slow[0][1]
    assert list(a.frame.columns) == list(b.frame.columns)
    assert a.frame.astype(object).values.tolist() == b.frame.astype(object).values.tolist()
    assert np.array_equal(a.row_numbers, b.row_numbers)
    assert np.array_equal(a.cells_per_row, b.cells_per_row)
    assert a.long_cells == b.long_cells
    assert fast[1] == slow[1]


def assert_loaded_equal(fast, slow):
    assert fast[0][0] == slow[0][0], (fast, slow)
    if fast[0][0] == "error":
        assert fast == slow
        return
    (accepted, rejected), (accepted_b, rejected_b) = fast[0][1], slow[0][1]
    pd.testing.assert_frame_equal(accepted, accepted_b)
    pd.testing.assert_frame_equal(rejected, rejected_b)
    assert fast[1] == slow[1]


def both_paths(path: Path, what: str):
    raw = outcome(read.read_raw, path)
    loaded = outcome(LOADERS[what], path)
    with csv_module_only():
        raw_slow = outcome(read.read_raw, path)
        loaded_slow = outcome(LOADERS[what], path)
    assert_raw_equal(raw, raw_slow)
    assert_loaded_equal(loaded, loaded_slow)
    return loaded


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("what", sorted(LOADERS))
def test_fixtures_read_the_same_by_both_paths(path, what):
    both_paths(path, what)


def test_plain_files_take_the_fast_path(tmp_path):
    path = tmp_path / "demand.csv"
    lines = ["code_insee;population;lat;lon"]
    lines += [f"{i:05d};{i * 10};{45 + i / 1000:.4f};{4 + i / 1000:.4f}" for i in range(200)]
    lines += ["00007;5;45;4", ";;;", "", "x;-3;91;4", '"q;1";"2,5";45;4', "", ""]
    path.write_text("\r\n".join(lines))
    calls: list = []
    with counting_fast_path(calls):
        (status, (accepted, rejected)), _ = both_paths(path, "demand")
    assert calls == [True, True]
    assert status == "ok" and len(accepted) + len(rejected) == 205
    by_row = dict(zip(rejected["row"], rejected["reason"], strict=True))
    assert by_row[202].startswith("duplicate demand_id '00007' (first on line 9)")
    assert by_row[203] == by_row[204] == "blank line"
    assert "negative weight -3" in by_row[205] and "latitude 91" in by_row[205]
    assert accepted["demand_id"].iloc[-1] == "q;1" and accepted["weight"].iloc[-1] == 2.5


@pytest.mark.parametrize(
    "body",
    [
        'A;45;4\n"B\nstill B";46;5\n',  # a quoted newline: line numbers need the csv module
        "A;45;4\rB;46;5\n",  # a lone carriage return ends a line for the csv module only
        "A;45;4\nB;46\nC;47;5;extra\n",  # ragged rows
        "A;45;" + "x" * (read.MAX_CELL_CHARS + 1) + "\nB;46;5\n",  # a cell over the limit
    ],
)
def test_what_pyarrow_cannot_do_falls_back(tmp_path, body):
    path = tmp_path / "points.csv"
    path.write_text("id;lat;lon\n" + body)
    calls: list = []
    with counting_fast_path(calls):
        both_paths(path, "points")
    assert calls[0] is False


def test_cp1252_and_bom(tmp_path):
    for data in (
        "\ufeffid;lat;lon;name\nA;45;4;Hôtel\n".encode(),
        "id;lat;lon;name\nA;45;4;Hôtel – gare €\n".encode("cp1252"),
    ):
        path = tmp_path / "points.csv"
        path.write_bytes(data)
        calls: list = []
        with counting_fast_path(calls):
            (status, (accepted, _)), _ = both_paths(path, "points")
        assert calls[0] is True and accepted["name"].iloc[0].startswith("Hôtel")


CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "45.5", "4,83", " 46.1 ", "-91", "0", "nan", "None", "A", "B", "A", "12"]
        + ["urban", "rural", "7", "bogus", "Mo-Fr 09:00-18:00", "Mo-Fr 25:00", "-3", "1e3"]
        + ['"', '""', "a;b", "a,b", "x\ty", "\xa0", "\x1c", "\u2028", "é", "€", "=1+1"]
        + ["\x0b", "\x0c", " \u3000 "]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=8),
    st.floats(-100, 100, allow_nan=False).map(lambda x: f"{x:.5f}"),
)


@st.composite
def files(draw):
    what = draw(st.sampled_from(sorted(LOADERS)))
    names = HEADERS[what][: draw(st.integers(3, 6))]
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    width = st.integers(len(names), len(names))
    ragged = draw(st.booleans()) and draw(st.booleans())
    if ragged:
        width = st.integers(0, len(names) + 1)
    rows = draw(st.lists(width.flatmap(lambda k: st.lists(CELLS, min_size=k, max_size=k))))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=end, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    for cells in rows:
        if draw(st.integers(0, 9)) == 0:
            out.write(draw(st.sampled_from(["", " ", delimiter, "\r"])) + end)
        if quoting == csv.QUOTE_NONE:
            out.write(delimiter.join(cells) + end)
        else:
            csv.writer(out, delimiter=delimiter, lineterminator=end, quoting=quoting).writerow(
                cells
            )
    text = out.getvalue() + draw(st.sampled_from(["", end, end * 3]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    return what, data


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sample=files())
def test_generated_files_read_the_same_by_both_paths(tmp_path, sample):
    what, data = sample
    path = tmp_path / "input.csv"
    path.write_bytes(data)
    loaded = both_paths(path, what)
    if loaded[0][0] == "ok":
        accepted, rejected = loaded[0][1]
        raw = read.read_raw(path)
        assert len(accepted) + len(rejected) == len(raw.frame)
