"""Shared pieces of the carrier readers: reading a file into records, cells, hours, dates.

A carrier reader turns the records of a file (JSON objects, XML elements or table rows,
each with its source line or record number) into a :class:`CarrierTable`: one row per
record with the canonical point columns, ``lat``/``lon`` as text (decimal comma and sign
kept for the loader's checks) and, per row, the problems the reader found itself
("Horaires_Lundi: expected HHMM values"). :func:`relaynet.formats.load_points` hands the
table to :func:`relaynet.io.load_points`, which validates it like any other input.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import one_line
from ..io.hour_columns import OSM_DAYS, days_to_osm, parse_day_value
from ..io.read import MAX_CELL_CHARS, decode_bytes, delimited_records, delimiter_of

JSON_SUFFIXES = (".json",)
XML_SUFFIXES = (".xml",)
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")

HEAD_BYTES = 65_536
"""Bytes of a file read to detect its format."""


@dataclass
class Records:
    """The records of one file, before any format-specific reading.

    ``items`` are dicts (JSON objects, XML elements turned into dicts, or table rows keyed
    by header); ``rows`` the source line (tables: 1-based, the header being its own line)
    or record number (JSON/XML, 1-based) of each; ``label`` says which.
    """

    items: list[dict]
    rows: np.ndarray
    label: str
    source: str


@dataclass
class CarrierTable:
    """Canonical columns built by a carrier reader, one row per source record."""

    frame: pd.DataFrame
    rows: np.ndarray
    label: str
    source: str
    problems: list[list[str]] = field(default_factory=list)


# --------------------------------------------------------------------------- files


def decode(data: bytes, source: str) -> str:
    """Text of a file, decoded as every text input is
    (:func:`relaynet.io.read.decode_bytes`: UTF-8 with or without BOM, else Windows-1252,
    else Latin-1)."""
    return decode_bytes(data, source, "text")[0]


def head_text(path: Path) -> str:
    """The first :data:`HEAD_BYTES` of a text file, decoded (for detection only)."""
    with open(path, "rb") as handle:
        data = handle.read(HEAD_BYTES)
    if b"\x00" in data[:4096]:
        return ""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start > len(data) - 4:  # a multi-byte character cut at the end
            return data[: exc.start].decode("utf-8-sig", errors="ignore")
        return data.decode("cp1252", errors="replace")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_value(elem: ET.Element):
    children = list(elem)
    if not children:
        return (elem.text or "").strip()
    out: dict = {}
    for child in children:
        tag, value = _local(child.tag), _xml_value(child)
        if tag in out:
            if not isinstance(out[tag], list):
                out[tag] = [out[tag]]
            out[tag].append(value)
        else:
            out[tag] = value
    return out


def parse_document(path: Path):
    """A JSON or XML file as nested dicts and lists (XML namespaces dropped)."""
    source = str(path)
    data = path.read_bytes()
    text = decode(data, source)
    if path.suffix.lower() in XML_SUFFIXES or text.lstrip().startswith("<"):
        if re.search(r"<!(DOCTYPE|ENTITY)", text[:HEAD_BYTES], re.IGNORECASE):
            raise InputError(f"{source}: XML with a DOCTYPE/ENTITY declaration is not read")
        try:  # bytes first: expat honours the declared encoding and a BOM
            root = ET.fromstring(data)
        except ET.ParseError:
            try:  # undeclared Latin-1: parse the decoded text without its declaration
                root = ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
            except ET.ParseError as exc:
                raise InputError(f"{source}: cannot read as XML ({one_line(exc)})") from None
        return {_local(root.tag): _xml_value(root)}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: cannot read as JSON ({one_line(exc)})") from None


def _empty(value) -> bool:
    """Nothing in it: ``None``, blank text, ``{}`` or ``[]`` (an XML element with no text
    and no children reads as ``""``)."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, dict | list) and not value)


def find_records(document, keys: Iterable[str], id_keys: Iterable[str] = ()) -> list[dict] | None:
    """The records under the first of ``keys`` found anywhere in ``document`` (keys tried
    in order, each searched depth-first); ``None`` when there is none.

    A key of ``id_keys`` is a field of a record (``Num``, ``PUDO_ID``): the object holding
    it is the record. Any other key names the records or their container: a list gives
    its items (every listed item is a record, even a malformed one), an object a list of
    one (XML elements that occur once). An empty value (``<PointsRelais/>``, ``"items":
    {}``, a list of only empty elements) holds no records: ``[]``, never the envelope
    around it as a bogus record.
    """
    id_keys = set(id_keys)

    def walk(node, key):
        if isinstance(node, dict):
            if key in node:
                value = node[key]
                if key in id_keys:
                    return [node]
                if isinstance(value, list):
                    return [] if all(_empty(i) for i in value) else value
                return [] if _empty(value) else [value]
            for value in node.values():
                found = walk(value, key)
                if found is not None:
                    return found
        elif isinstance(node, list):
            if key in id_keys and any(isinstance(i, dict) and key in i for i in node):
                return list(node)
            for value in node:
                found = walk(value, key)
                if found is not None:
                    return found
        return None

    for key in keys:
        found = walk(document, key)
        if found is not None:
            return found
    return None


def document_records(path: Path, keys: Iterable[str], what: str, id_keys=()) -> Records:
    """Records of a JSON/XML file: the objects found by :func:`find_records`.

    A document whose record list is empty (``<PointsRelais/>``, ``"items": []``) raises
    :class:`~relaynet.errors.InputError` ("has no … points"), as an empty CSV does.
    """
    items = find_records(parse_document(path), keys, id_keys)
    if items is None:
        raise InputError(f"{path}: no {what} found (expected objects with {', '.join(keys)})")
    if not items:
        raise InputError(f"{path}: has no {what}")
    return Records(items, np.arange(1, len(items) + 1, dtype=np.int64), "record", str(path))


def table_records(path: Path, layer: str | None = None) -> Records:
    """Records of a delimited text file or a spreadsheet: one dict per data row."""
    suffix = path.suffix.lower()
    if suffix in SHEET_SUFFIXES:
        from .spreadsheet import read_sheet

        header, body, numbers = read_sheet(path, layer)
    else:
        header, body, numbers = _read_delimited(path)
    names = [str(h).strip() for h in header]
    items = [dict(zip(names, (row + [""] * len(names))[: len(names)])) for row in body]
    return Records(items, np.asarray(numbers, dtype=np.int64), "line", str(path))


def _read_delimited(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and line numbers of a delimited text file, split as
    :func:`relaynet.io.read_raw` splits it: the delimiter of its first line
    (:func:`~relaynet.io.read.delimiter_of`, which refuses a line without one), the header
    the first line with a non-blank cell, empty lines at the end not rows (any other line,
    even ``;;;``, is one). A cell longer than :data:`~relaynet.io.read.MAX_CELL_CHARS` is a
    one-line error naming its line."""
    text = decode(path.read_bytes(), str(path))
    lines = text.lstrip("\r\n").splitlines()
    if not lines:
        raise InputError(f"{path}: file is empty, expected a header and data rows")
    delimiter = delimiter_of(lines[0], path)
    try:
        rows, starts = delimited_records(text, delimiter)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot parse as delimited text ({one_line(exc)})") from None
    first = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if first is None:
        raise InputError(f"{path}: no header row")
    body, numbers = rows[first + 1 :], starts[first + 1 :]
    while body and not body[-1]:
        body.pop()
        numbers.pop()
    if not body:
        raise InputError(f"{path}: has a header but no data rows")
    for row, line in zip(rows[first:], starts[first:], strict=False):
        if any(len(cell) > MAX_CELL_CHARS for cell in row):
            raise InputError(
                f"{path}: line {line} has a cell longer than {MAX_CELL_CHARS} characters"
            )
    return rows[first], body, numbers


# --------------------------------------------------------------------------- cells


def text(value) -> str:
    """A cell as stripped text; ``""`` for missing values, lists and objects."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def as_list(value) -> list:
    """A repeated element as a list: one object → ``[obj]``, missing/empty → ``[]``."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def flag(value) -> bool | None:
    """``True``/``False`` from booleans and ``true/false/1/0/oui/non/yes/no`` text."""
    if isinstance(value, bool):
        return value
    token = text(value).lower()
    if token in ("true", "1", "yes", "oui", "o", "y", "vrai"):
        return True
    if token in ("false", "0", "no", "non", "n", "faux"):
        return False
    return None


def yes_no(value) -> str:
    """A flag as ``"yes"``/``"no"``/``""`` (the loader reads these for boolean columns)."""
    result = flag(value)
    return "" if result is None else ("yes" if result else "no")


def grams_to_kg(value) -> tuple[float | None, str | None]:
    """A weight in grams (``"20000"``) as kg, and a problem message when not a number."""
    raw = text(value).replace(",", ".")
    if not raw:
        return None, None
    try:
        grams = float(raw)
    except ValueError:
        return None, f"weight {raw!r} is not a number of grams"
    if not grams > 0:
        return None, f"weight {raw!r} is not a positive number of grams"
    return grams / 1000.0, None


def join_text(*parts) -> str:
    """Non-empty parts joined by spaces."""
    return " ".join(p for p in (text(x) for x in parts) if p)


# --------------------------------------------------------------------------- hours


def hours_from_days(days: dict[str, object], label: Callable[[str], str]) -> tuple[str, list[str]]:
    """OSM ``opening_hours`` from per-day cells of ``HHMM`` values or ``HH:MM-HH:MM`` spans.

    ``days`` maps OSM day codes (``"Mo"`` …) to a cell: a string (``"0900 1200 1400 1900"``,
    ``"09:00-12:00 14:00-19:00"``), a list of such values, or ``None``. ``"0000"`` pairs and
    ``00:00-00:00`` spans mean closed (:func:`relaynet.io.hour_columns.parse_day_value`).
    Returns the string (``""`` when no day is open) and one problem per bad cell, named
    with ``label(day)``.
    """
    spans: dict[str, str] = {}
    problems: dict[str, list[str]] = {}  # message → cells it applies to
    for day in OSM_DAYS:
        value = days.get(day)
        cell = " ".join(text(v) for v in value) if isinstance(value, list) else text(value)
        try:
            spans[day] = parse_day_value(cell)
        except ValueError as exc:
            problems.setdefault(str(exc), []).append(label(day))
    if problems:
        return "", [f"{', '.join(where)}: {message}" for message, where in problems.items()]
    hours = days_to_osm(spans) or ""
    return ("24/7" if hours == "Mo-Su 00:00-24:00" else hours), []


_PARIS = ZoneInfo("Europe/Paris")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d")


def parse_date(value) -> dt.date | None:
    """A calendar date from ISO text (``2026-08-01``, ``2026-08-01T00:00:00+02:00``),
    ``dd/mm/yyyy``, ``dd.mm.yyyy`` or epoch milliseconds (Colissimo JSON: local midnight,
    read in Europe/Paris); ``None`` if not."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 1e11:
        return dt.datetime.fromtimestamp(value / 1000, _PARIS).date()
    raw = text(value)
    if not raw:
        return None
    if raw.isdigit() and len(raw) >= 12:
        return dt.datetime.fromtimestamp(int(raw) / 1000, _PARIS).date()
    head = raw[:10]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(head if fmt != "%Y%m%d" else raw[:8], fmt).date()
        except ValueError:
            continue
    return None


def closure_rule(start: dt.date, end: dt.date) -> str:
    """An OSM date-range rule closing a point from ``start`` to ``end`` inclusive."""
    a, b = start.strftime("%Y %b %d"), end.strftime("%Y %b %d")
    return f"{a} off" if start == end else f"{a}-{b} off"


def closures(periods: Iterable[tuple[object, object]], what: str) -> tuple[list[str], list[str]]:
    """OSM ``off`` rules for ``(start, end)`` periods, and problems for unreadable ones."""
    rules, problems = [], []
    for start, end in periods:
        if not text(start) and not text(end) and not isinstance(start, int | float):
            continue
        a, b = parse_date(start), parse_date(end)
        if a is None or b is None or b < a:
            problems.append(f"{what}: unreadable period {text(start)!r}–{text(end)!r}")
            continue
        rules.append(closure_rule(a, b))
    return rules, problems


def with_closures(hours: str, rules: list[str]) -> str:
    """``hours`` followed by closure rules; unknown hours stay unknown."""
    if not hours or not rules:
        return hours
    return "; ".join([hours, *rules])


DAY_NUMBERS = {str(i + 1): day for i, day in enumerate(OSM_DAYS)}
"""Carrier day numbers (1 = Monday … 7 = Sunday, as DPD and Chronopost number them)."""


def build(records: Records, row: Callable[[dict], tuple[dict, list[str]]]) -> CarrierTable:
    """Apply a reader's ``row`` function to every record."""
    built, problems = [], []
    for item in records.items:
        if _empty(item):  # an empty element or object is still a row, with its reason
            values, issues = {}, ["empty record"]
        elif not isinstance(item, dict):
            shown = one_line(json.dumps(item, ensure_ascii=False, default=str), 60)
            values, issues = {}, [f"record is not an object ({shown})"]
        else:
            try:
                values, issues = row(item)
            except (TypeError, AttributeError, ValueError) as exc:  # a record of the wrong shape
                values, issues = {}, [f"record not understood ({one_line(exc, 120)})"]
        built.append(values)
        problems.append(issues)
    frame = pd.DataFrame(built, dtype=object, index=range(len(built)))
    for column in ("point_id", "lat", "lon"):  # the loader's columns, even when no record read
        if column not in frame:
            frame[column] = None
    return CarrierTable(frame, records.rows, records.label, records.source, problems)
