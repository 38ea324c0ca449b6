"""Carrier exports and spreadsheets → the canonical relay-point schema.

One small reader per format turns a file into rows of canonical columns (``point_id``,
``name``, ``network``, ``kind``, ``opening_hours`` in OSM syntax, ``services``,
``max_weight_kg`` …, ``hours_source="carrier"``) plus ``source_file`` and ``source_row``;
:func:`relaynet.io.load_points` then validates them like any other input, so rejected rows
keep their source line or record number and a reason, and ``accepted + rejected`` always
equals the records read.

=================  ==========================================================================
format             file
=================  ==========================================================================
``mondial_relay``  ``WSI4_PointRelais_Recherche`` XML/JSON, or a table with its field names
``inpost``         InPost points API JSON (``items[]``)
``colissimo``      Colissimo ``listePointRetraitAcheminement`` XML/JSON, or a table
``chronopost``     Chronopost ``listePointRelais`` XML/JSON
``dpd``            DPD Pickup ``PUDO_ITEMS`` XML/JSON
``osm``            OpenStreetMap extract (.osm, .osm.pbf …), see :mod:`relaynet.io.osm`
``generic``        CSV, spreadsheet or geographic file with user-mapped columns
=================  ==========================================================================

``format="auto"`` detects the format from the file's field names: when exactly one carrier
matches it is used, when several do an :class:`~relaynet.errors.InputError` names them, and
a file matching none is a generic table — unless it is a JSON or XML document holding a
carrier's list of points (a reader's ``CONTAINERS``: ``PointsRelais``, ``PUDO_ITEMS`` …),
even an empty one, which is then read by that carrier's reader (an empty
``<PointsRelais/>``: "has no mondial_relay points", as with ``format="mondial_relay"``).

Layering: this package is the front door for points files (``relaynet.load_points`` is
:func:`load_points` here) and sits on top of :mod:`relaynet.io`, whose public API it uses:
:func:`relaynet.io.load_points` (validates one canonical table),
:func:`relaynet.io.load_osm_points`, :func:`relaynet.io.reject_outside`,
:func:`relaynet.io.one_line` and :mod:`relaynet.io.hour_columns`. :mod:`relaynet.io` never
imports this package: the dependency goes one way.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, ParameterError
from ..io import load_osm_points, reject_outside
from ..io import load_points as load_table
from . import chronopost, colissimo, dpd, generic, inpost, mondial_relay
from ._base import (
    JSON_SUFFIXES,
    SHEET_SUFFIXES,
    TABLE_SUFFIXES,
    XML_SUFFIXES,
    Records,
    document_records,
    head_text,
    table_records,
)

READERS = {m.NAME: m for m in (mondial_relay, inpost, colissimo, chronopost, dpd)}
"""Carrier readers by format name."""

FORMATS = ("auto", *READERS, "osm", "generic")
"""Values of ``format=`` (and ``--points-format``)."""

_OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf")
_BINARY_GEO = (".gpkg", ".shp", ".fgb", ".parquet", ".geoparquet", ".pq")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Source = str | os.PathLike | pd.DataFrame | Sequence


def _name(path: Path) -> str:
    return path.name.lower()


def _file_tokens(path: Path, layer: str | None) -> set[str]:
    """Lower-case field names found at the start of a file (or a sheet's header row)."""
    if _name(path).endswith(SHEET_SUFFIXES):
        from .spreadsheet import read_sheet

        header, _, _ = read_sheet(path, layer, header_only=True)
        return {h.strip().lower() for h in header}
    return {m.lower() for m in _TOKEN.findall(head_text(path))}


def candidates(tokens: set[str]) -> tuple[list[str], list[str]]:
    """Formats whose required fields are all in ``tokens``, and those of them confirmed
    by one of their distinguishing fields."""
    found, confirmed = [], []
    for name, reader in READERS.items():
        required, any_of = reader.MARKERS
        if all(m.lower() in tokens for m in required):
            found.append(name)
            if not any_of or any(m.lower() in tokens for m in any_of):
                confirmed.append(name)
    return found, confirmed


def detect(path: str | os.PathLike, *, layer: str | None = None) -> str:
    """The format of a points file: a carrier's name, ``"osm"`` or ``"generic"``.

    Raises
    ------
    InputError
        When the file's fields fit several carriers (the message names them) or the file
        cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file does not exist")
    name = _name(path)
    if name.endswith(_OSM_SUFFIXES):
        return "osm"
    if name.endswith(_BINARY_GEO):
        return "generic"
    tokens = _file_tokens(path, layer)
    found, confirmed = candidates(tokens)
    if len(confirmed) == 1:
        return confirmed[0]
    if len(confirmed) > 1 or len(found) > 1:
        names = confirmed if len(confirmed) > 1 else found
        raise InputError(
            f"{path}: format is ambiguous, the fields fit {' and '.join(names)}; "
            f"say which with format= (CLI: --points-format), one of {', '.join(names)}"
        )
    if found:
        return found[0]
    if name.endswith(JSON_SUFFIXES + XML_SUFFIXES):  # no record fields: an empty export?
        holders = [
            format
            for format, reader in READERS.items()
            if any(c.lower() in tokens for c in reader.CONTAINERS)
        ]
        if len(holders) == 1:
            return holders[0]
    return "generic"


def describe_format(path: str | os.PathLike, format: str = "auto") -> str:
    """The format a points file or folder is read with, for people: ``"dpd (detected)"``,
    ``"colissimo (given)"``, or one entry per file of a folder."""
    format = _check_format(format)
    path = Path(path)
    if path.is_dir():
        return "; ".join(f"{p.name}: {describe_format(p, format)}" for p in _paths(path))
    return f"{format} (given)" if format != "auto" else f"{detect(path)} (detected)"


def load_points(
    source: Source,
    *,
    format: str = "auto",
    columns: dict[str, str] | None = None,
    crs=None,
    country: str | None = "FR",
    strict: bool = False,
    layer: str | None = None,
    defaults: dict[str, object] | None = None,
    within=None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read relay points from any points file: a carrier export, a spreadsheet, a CSV or
    geographic table, an OSM extract, a DataFrame, or several files at once.

    This is ``relaynet.load_points``. Parameters are those of
    :func:`relaynet.io.load_points` (which reads one canonical table), plus:

    source
        A path, a folder (every points file in it, by name), a list of paths, or a
        DataFrame (of carrier records when ``format`` names a carrier).
    format
        ``"auto"`` (detect per file), a carrier (``"mondial_relay"``, ``"inpost"``,
        ``"colissimo"``, ``"chronopost"``, ``"dpd"``), ``"osm"`` or ``"generic"``.

    Every row of several files, and every row of a carrier format, carries
    ``source_file``; carrier rows also carry ``source_row`` (line or record number) and
    ``carrier_type`` (the carrier's own type code). ``defaults`` fills empty cells and
    replaces what the format assumes (e.g. ``{"network": "relais_colis"}``). When several
    files give the same ``point_id`` to points of different networks, those ids become
    ``"<network>:<id>"``; a repeat within a network is rejected as a duplicate.
    """
    format = _check_format(format)
    options = dict(columns=columns, crs=crs, country=country, layer=layer, defaults=defaults)
    # the readers' warnings (columns dropped …) name the caller's line, not this package's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if isinstance(source, list | tuple) or (
            not isinstance(source, pd.DataFrame) and Path(source).is_dir()
        ):
            accepted, rejected = _load_many(_paths(source), format, strict, options)
            result = reject_outside(accepted, rejected, within, strict=strict)
        else:
            result = _load_one(source, format, strict, options, within)
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return result


def _check_format(format: str | None) -> str:
    format = "auto" if format is None else str(format).lower()
    if format not in FORMATS:
        raise ParameterError(f"format={format!r}: expected one of {', '.join(FORMATS)}")
    return format


def _load_one(source, format: str, strict: bool, options: dict, within=None):
    """One file or DataFrame: the dispatch from a format to its reader."""
    explicit = format
    is_frame = isinstance(source, pd.DataFrame)
    if not is_frame and format == "auto":
        format = detect(source, layer=options["layer"])
    if format in READERS:
        if options["columns"] and explicit == format:
            raise ParameterError(
                f"columns= applies to generic tables; format {format!r} reads its own fields"
            )
        accepted, rejected = _load_carrier(
            source,
            READERS[format],
            strict,
            options["country"],
            options["layer"],
            options["defaults"],
        )
        return reject_outside(accepted, rejected, within, strict=strict)
    if is_frame:
        return load_table(source, strict=strict, within=within, **options)
    if _name(Path(source)).endswith(SHEET_SUFFIXES):
        accepted, rejected = _load_sheet(Path(source), strict, options)
        return reject_outside(accepted, rejected, within, strict=strict)
    if format == "osm" or _name(Path(source)).endswith(_OSM_SUFFIXES):
        return load_osm_points(source, strict=strict, within=within)
    return load_table(source, strict=strict, within=within, **options)


# --------------------------------------------------------------------------- one carrier file


def _records(source, reader, layer: str | None) -> Records:
    if isinstance(source, pd.DataFrame):
        if len(source) == 0:
            raise InputError("<DataFrame>: has no rows")
        items = source.astype(object).where(source.notna(), None).to_dict("records")
        return Records(items, np.arange(1, len(items) + 1), "record", "<DataFrame>")
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: file does not exist")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    name = _name(path)
    if name.endswith(JSON_SUFFIXES + XML_SUFFIXES):
        return document_records(
            path, reader.RECORD_KEYS, f"{reader.NAME} points", reader.RECORD_ID_KEYS
        )
    if name.endswith(TABLE_SUFFIXES + SHEET_SUFFIXES):
        return table_records(path, layer)
    raise InputError(
        f"{path}: a {reader.NAME} file is expected as .json, .xml, .csv or a spreadsheet"
    )


def _fill_defaults(frame: pd.DataFrame, defaults: dict | None) -> pd.DataFrame:
    for column, value in (defaults or {}).items():
        if column in frame:
            empty = frame[column].map(lambda v: v is None or str(v).strip() in ("", "nan"))
            frame[column] = frame[column].where(~empty, value)
    return frame


def _load_carrier(source, reader, strict, country, layer, defaults):
    records = _records(source, reader, layer)
    table = reader.read(records, {**reader.ASSUMED, **(defaults or {})})
    frame = _fill_defaults(table.frame, defaults)
    frame["source_file"] = records.source
    frame["source_row"] = table.rows
    accepted, rejected = load_table(frame, country=country, strict=False, defaults=defaults)
    rejected["row"] = table.rows[rejected["row"].to_numpy(dtype=np.int64) - 1]
    extra = {int(r): p for r, p in zip(table.rows, table.problems, strict=True) if p}
    if extra:
        reasons = rejected["row"].map(lambda r: extra.pop(int(r), None))
        rejected["reason"] = [
            "; ".join([*more, reason]) if more else reason
            for reason, more in zip(rejected["reason"], reasons, strict=True)
        ]
        moving = accepted["source_row"].isin(list(extra))
        if moving.any():
            positions = np.flatnonzero(np.isin(table.rows, list(extra)))
            cells = frame.iloc[positions].reset_index(drop=True).astype(str)
            cells = cells.replace({"None": "", "nan": ""})
            moved = pd.DataFrame(
                {
                    "row": table.rows[positions],
                    "reason": ["; ".join(extra[int(r)]) for r in table.rows[positions]],
                }
            )
            rejected = pd.concat([rejected, pd.concat([moved, cells], axis=1)])
            rejected = rejected.sort_values("row", kind="stable").reset_index(drop=True)
            accepted = accepted.loc[~moving.to_numpy()].reset_index(drop=True)
    _raise_if_strict(strict, rejected, records.source, records.label, len(records.items))
    return accepted, rejected


def _raise_if_strict(strict: bool, rejected: pd.DataFrame, source: str, label: str, n: int):
    if strict and len(rejected):
        first = rejected.head(5)
        listing = "; ".join(
            f"{label} {r}: {m}" for r, m in zip(first["row"], first["reason"], strict=True)
        )
        raise InputError(f"{source}: {len(rejected)} bad rows of {n} — {listing}")


# --------------------------------------------------------------------------- spreadsheets


def _load_sheet(path: Path, strict: bool, options: dict):
    frame, rows = generic.read_table(path, options["layer"])
    options = {**options, "layer": None}
    try:
        accepted, rejected = load_table(frame, strict=False, **options)
    except InputError as exc:  # name the spreadsheet, not the table read from it
        raise InputError(str(exc).replace("<DataFrame>", str(path), 1)) from None
    rejected["row"] = rows[rejected["row"].to_numpy(dtype=np.int64) - 1]
    _raise_if_strict(strict, rejected, str(path), "row", len(frame))
    return accepted, rejected


# --------------------------------------------------------------------------- several files

_POINT_SUFFIXES = (
    *JSON_SUFFIXES,
    *XML_SUFFIXES,
    *TABLE_SUFFIXES,
    *SHEET_SUFFIXES,
    *_OSM_SUFFIXES,
    *_BINARY_GEO,
    ".geojson",
    ".csv.gz",
)


def _paths(source) -> list[Path]:
    sources = [source] if not isinstance(source, list | tuple) else list(source)
    paths: list[Path] = []
    for item in sources:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and not p.name.startswith(".") and _name(p).endswith(_POINT_SUFFIXES)
            )
            if not found:
                raise InputError(f"{path}: folder holds no points file")
            paths += found
        else:
            paths.append(path)
    if not paths:
        raise InputError("no points file given")
    return paths


def _load_many(paths: list[Path], format: str, strict: bool, options: dict):
    accepted_parts, rejected_parts = [], []
    for path in paths:
        accepted, rejected = _load_one(path, format, False, options)
        accepted = accepted.copy()
        accepted["source_file"] = str(path)
        if "source_file" not in rejected:
            rejected.insert(2, "source_file", str(path))
        accepted_parts.append(accepted)
        rejected_parts.append(rejected)
    accepted = pd.concat(accepted_parts, ignore_index=True)
    rejected = pd.concat(rejected_parts, ignore_index=True)
    accepted, dupes = _unique_ids(accepted)
    if len(dupes):
        rejected = pd.concat([rejected, dupes], ignore_index=True)
    accepted = gpd.GeoDataFrame(accepted, geometry="geometry", crs=accepted_parts[0].crs)
    if strict and len(rejected):
        first = rejected.head(5)
        listing = "; ".join(
            f"{f} {r}: {m}"
            for f, r, m in zip(first["source_file"], first["row"], first["reason"], strict=True)
        )
        raise InputError(f"{len(rejected)} bad rows in {len(paths)} files — {listing}")
    return accepted, rejected


def _unique_ids(points: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ids shared by points of different networks → ``network:id``; repeats within one
    network → rejected (``row`` from ``source_row`` when known)."""
    ids = points["point_id"].astype(str)
    shared = ids.duplicated(keep=False)
    if not shared.any():
        return points, pd.DataFrame()
    points = points.copy()
    network = points["network"].fillna("").astype(str)
    points.loc[shared, "source_id"] = ids[shared]
    qualified = np.where(network != "", network + ":" + ids, ids)
    points["point_id"] = np.where(shared, qualified, ids)
    repeat = points["point_id"].duplicated(keep="first")
    if not repeat.any():
        return points, pd.DataFrame()
    first_file = points.drop_duplicates("point_id").set_index("point_id")["source_file"]
    bad = points.loc[repeat]
    row = bad["source_row"] if "source_row" in bad else pd.Series(0, index=bad.index)
    dupes = pd.DataFrame(
        {
            "row": row.fillna(0).astype("int64").to_numpy(),
            "reason": [
                f"duplicate point_id {p!r} (first in {first_file[p]})" for p in bad["point_id"]
            ],
            "source_file": bad["source_file"].to_numpy(),
            "point_id": bad["point_id"].to_numpy(),
        }
    )
    return points.loc[~repeat].reset_index(drop=True), dupes


@dataclass(frozen=True)
class PointFiles:
    """Points files read as one network, with the options the CLI gives them
    (``--points a.json --points b.xml --points-format auto --defaults …``)."""

    paths: tuple[str, ...]
    format: str = "auto"
    columns: dict[str, str] | None = field(default=None, hash=False)
    defaults: dict[str, object] | None = field(default=None, hash=False)

    def load(self, **kwargs) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
        """:func:`load_points` of these files (``kwargs``: ``strict``, ``country`` …)."""
        source = list(self.paths) if len(self.paths) > 1 else self.paths[0]
        return load_points(
            source, format=self.format, columns=self.columns, defaults=self.defaults, **kwargs
        )


__all__ = [
    "FORMATS",
    "READERS",
    "PointFiles",
    "describe_format",
    "detect",
    "load_points",
]
