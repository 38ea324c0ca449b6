"""Fuzz the CSV loaders: any bytes give an InputError or every row accounted for, nothing else."""

from __future__ import annotations

import csv
import io
import sys
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import relaynet as rn
from relaynet.errors import InputError

HEADERS = {"points": "id{d}lat{d}lon{d}name", "demand": "code_insee{d}population{d}lat{d}lon"}
LOADERS = {"points": rn.load_points, "demand": rn.load_demand}

CELL = st.one_of(
    st.text(max_size=12),  # any code point, control bytes and line breaks included
    st.sampled_from(
        ["", " ", "nan", "NaN", "-inf", "1e999", "45.5", "4,5", "-91", "0", "None", "null"]
        + ["{x}", "{{ 7*7 }}", "{% raw %}", "=1+1", "@SUM(A1)", "+33", '"', '""', "'"]
        + ["\x00", "\x1b[31m", "\r", "\n", "\r\n", "\x0b\x0c", "\ufeff", "\u2028", "é"]
    ),
    st.integers(130_000, 140_000).map(lambda n: "x" * n),  # around the 128 KiB cell limit
)
ROW = st.one_of(
    st.lists(CELL, max_size=6).map(tuple),
    st.sampled_from([(), ("",), ("", ""), ("", "", "", ""), ("", "", "", "", "")]),
)


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def rows_read(text: str) -> int:
    """Records after the header, trailing empty lines excepted (the csv module as oracle).

    The delimiter is the one of ``; , tab |`` most frequent on the first line, as documented.
    """
    first = (text.lstrip("\r\n").splitlines() or [""])[0]
    delimiter = max(";,\t|", key=first.count)
    previous = csv.field_size_limit(sys.maxsize)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    finally:
        csv.field_size_limit(previous)
    header = next(i for i, r in enumerate(records) if any(c.strip() for c in r))
    body = records[header + 1 :]
    while body and not body[-1]:
        body.pop()
    return len(body)


def check(tmp_path, what: str, data: bytes) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(data)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            accepted, rejected = LOADERS[what](path)
    except InputError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert all("columns dropped" in str(w.message) for w in caught), caught
    assert len(accepted) + len(rejected) == rows_read(decode(data))
    assert rejected["reason"].str.len().gt(0).all()
    assert rejected["row"].is_unique and rejected["row"].gt(1).all()


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def header(what: str):
    """The loader's usual header (maybe with many extra columns) or a random one, after
    optional blank or delimiter-only lines."""
    known = st.integers(0, 300).map(
        lambda k: HEADERS[what] + "".join(f"{{d}}c{i}" for i in range(k))
    )
    random = st.lists(CELL, max_size=6).map(
        lambda cells: "{d}".join(c.replace("{", "{{").replace("}", "}}") for c in cells)
    )
    prefix = st.sampled_from(["", "\n", "{d}{d}\n", "\n{d}\n\n"])
    return st.tuples(prefix, st.one_of(known, known, random)).map("".join)


@SETTINGS
@given(
    data=st.data(),
    what=st.sampled_from(sorted(LOADERS)),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    rows=st.lists(st.tuples(ROW, st.sampled_from(["\n", "\r\n", "\r"])), max_size=8),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE]),
)
def test_random_rows(tmp_path, data, what, delimiter, rows, quoting):
    out = io.StringIO()
    out.write(data.draw(header(what)).format(d=delimiter) + "\n")
    for cells, end in rows:
        if quoting == csv.QUOTE_NONE:  # raw text: stray quotes, delimiters and newlines
            out.write(delimiter.join(cells) + end)
        else:
            csv.writer(out, delimiter=delimiter, lineterminator=end).writerow(cells)
    check(tmp_path, what, out.getvalue().encode("utf-8"))


@SETTINGS
@given(what=st.sampled_from(sorted(LOADERS)), tail=st.binary(max_size=400))
def test_random_bytes_after_a_header(tmp_path, what, tail):
    check(tmp_path, what, HEADERS[what].format(d=";").encode() + b"\n" + tail)
