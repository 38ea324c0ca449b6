"""Load relay points and demand into the canonical schema, with rejected rows.

Every loader returns ``(accepted, rejected)``: ``accepted`` is a GeoDataFrame in
EPSG:4326 with the canonical columns of :mod:`relaynet.io.schema` first, ``rejected`` a
DataFrame with one row per unusable input row: ``row`` (source line for delimited text,
header = line 1; record number, 1-based, for other formats), ``reason`` (every problem of
that row, ``"; "``-joined) and the row's original cells. ``len(accepted) + len(rejected)``
always equals the number of rows read.

Wide inputs are bounded: besides the columns the schema uses (canonical columns under any
known spelling, coordinates, per-day hour columns, and those named in ``columns=``), only
the first :data:`MAX_EXTRA_COLUMNS` other columns are kept, in accepted and rejected rows
alike; the rest are dropped with one warning naming how many. Delimited text cells longer
than :data:`~relaynet.io.read.MAX_CELL_CHARS` characters reject their row.
"""

from __future__ import annotations

import gc
import logging
import os
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, ParameterError
from . import validate as v
from .columns import (
    DEMAND_ALIASES,
    LAT_ALIASES,
    LATLON_ALIASES,
    LON_ALIASES,
    POINT_ALIASES,
    X_ALIASES,
    Y_ALIASES,
    find_column,
    map_columns,
)
from .hour_columns import days_to_osm, find_day_columns, parse_day_value
from .osm import read_osm_relay_records
from .read import MAX_CELL_CHARS, OSM_SUFFIXES, RawTable, raw_from_geodataframe, read_raw, suffix_of
from .schema import (
    CRS,
    DEMAND_COLUMNS,
    DENSITY_ALIASES,
    KIND_ALIASES,
    KINDS,
    POINT_COLUMNS,
    normalize_network,
    normalize_token,
    parse_services,
)
from .within import as_within

log = logging.getLogger(__name__)

REJECTED_COLUMNS = ("row", "reason")

MAX_EXTRA_COLUMNS = 200
"""Input columns kept besides those the schema uses; further ones are dropped with a warning
(a 5 000-column export loads in linear time instead of minutes)."""

MAX_WEIGHT = 1e15
"""Largest demand weight accepted: far above any population or order count, far below
the values whose sums overflow."""

_COORDINATE_NAMES = frozenset((*LAT_ALIASES, *LON_ALIASES, *X_ALIASES, *Y_ALIASES, *LATLON_ALIASES))

Source = str | os.PathLike | pd.DataFrame | RawTable


def load_points(
    source: Source,
    *,
    columns: dict[str, str] | None = None,
    crs=None,
    country: str | None = "FR",
    strict: bool = False,
    layer: str | None = None,
    defaults: dict[str, object] | None = None,
    within=None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read one table of relay points: CSV, GeoJSON, GeoPackage, GeoParquet, OSM or a
    DataFrame.

    Parameters
    ----------
    source
        A file path, or a (Geo)DataFrame already in memory. Carrier exports, spreadsheets,
        folders and lists of files are read by ``relaynet.load_points``
        (:func:`relaynet.formats.load_points`, which detects the format and validates
        through this function); this module does not know about them.
    columns
        Explicit mapping ``{input column: canonical column}``; wins over the automatic
        spellings (``lat``/``latitude``, ``lon``/``lng``, ``nom``, ``code_postal`` …).
    crs
        CRS of ``x``/``y`` columns or of a geometry without CRS (e.g. ``"EPSG:2154"``).
        Lat/lon columns are WGS84 unless ``crs`` says otherwise.
    country
        ISO code used to detect swapped latitude/longitude (``None`` skips that check).
    strict
        Raise :class:`~relaynet.errors.InputError` naming the first bad rows instead of
        returning them in ``rejected``.
    layer
        Layer name for multi-layer files (GeoPackage).
    defaults
        Values for canonical columns the file lacks, e.g. ``{"network": "la_poste"}``.
    within
        Reject rows outside an area, with a reason such as ``"outside FR (41.63 N, 0.16
        E)"``: a country code (``"FR"``), a boundary file of polygons (GeoJSON, GeoPackage
        …), polygons (shapely geometry, GeoSeries, GeoDataFrame) or a
        :class:`~relaynet.io.Within` — e.g. ``Within.around(demand, 20_000)``, 20 km
        around the demand. ``None`` (default): no area check.

    Returns
    -------
    (accepted, rejected)
        Points in EPSG:4326 with the canonical columns, and the rejected rows with reasons.
    """
    if isinstance(source, str | os.PathLike) and suffix_of(Path(source)) in OSM_SUFFIXES:
        return load_osm_points(source, strict=strict, within=within)
    raw = _raw_from(source, layer, crs)
    return _load(raw, "points", columns, crs, country, strict, defaults, as_within(within))


def load_demand(
    source: Source,
    *,
    columns: dict[str, str] | None = None,
    crs=None,
    country: str | None = "FR",
    strict: bool = False,
    layer: str | None = None,
    defaults: dict[str, object] | None = None,
    within=None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read demand points (communes, addresses, customers) into the canonical schema.

    Parameters are those of :func:`load_points` (``within``: a country code, boundary file
    or polygons); ``source`` may also be a :class:`~relaynet.io.read.RawTable` already read,
    e.g. one block of a file (:func:`~relaynet.io.read.read_delimited_block`, as the dask
    engine reads its partitions), whose row numbers are kept. ``weight`` (population,
    households or orders) defaults to 1 per row when the file has no weight column at all;
    a row with an empty, non-numeric or negative weight is rejected. Polygon geometries
    (communes) are reduced to a point on their surface and their area is kept as
    ``area_km2`` (computed in EPSG:6933, equal-area).
    """
    area = as_within(within)
    raw = _raw_from(source, layer, crs)
    return _load(raw, "demand", columns, crs, country, strict, defaults, area)


def _raw_from(source: Source, layer, crs) -> RawTable:
    if isinstance(source, RawTable):  # read already (a block of a file: its line numbers)
        return source
    if isinstance(source, gpd.GeoDataFrame):
        return raw_from_geodataframe(source, Path("<GeoDataFrame>"), crs)
    if isinstance(source, pd.DataFrame):
        if len(source) == 0:
            raise InputError("<DataFrame>: has no rows")
        numbers = np.arange(1, len(source) + 1, dtype=np.int64)
        return RawTable(
            source.reset_index(drop=True).astype(object), numbers, None, "<DataFrame>", "record"
        )
    return read_raw(source, layer=layer, crs=crs)


def _column_list(columns, limit: int = 20) -> str:
    """The first ``limit`` column names, for error messages about wide files."""
    names = [str(c)[:80] for c in columns]
    more = f" … and {len(names) - limit} more" if len(names) > limit else ""
    return f"{names[:limit]}{more}"


def _bounded_columns(frame: pd.DataFrame, mapping: dict, aliases, explicit, source: str):
    """``frame`` without the extra columns beyond the first :data:`MAX_EXTRA_COLUMNS`."""
    names = (
        set(aliases) | _COORDINATE_NAMES | set(find_day_columns(list(mapping.values())).values())
    )
    extra = [c for c in frame.columns if mapping[c] not in names and c not in explicit]
    if len(extra) <= MAX_EXTRA_COLUMNS:
        return frame
    dropped = extra[MAX_EXTRA_COLUMNS:]
    warnings.warn(
        f"{source}: {len(dropped)} columns dropped (only the first {MAX_EXTRA_COLUMNS} columns "
        f"outside the schema are kept), from {str(dropped[0])[:80]!r} on",
        UserWarning,
        stacklevel=4,
    )
    return frame.drop(columns=dropped)


def _load(raw: RawTable, what: str, columns, crs, country, strict, defaults, within=None):
    frame = raw.frame
    ncells = raw.cells_per_row
    aliases = POINT_ALIASES if what == "points" else DEMAND_ALIASES
    if columns:
        unknown = sorted(set(columns) - set(frame.columns))
        if unknown:
            raise InputError(
                f"{raw.source}: columns= names {unknown} not in the file; it has "
                f"{_column_list(frame.columns)}"
            )
        targets = list(columns.values())
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise InputError(f"{raw.source}: columns= maps several input columns to {twice}")
    n = len(frame)
    width = len(frame.columns)
    blank = np.zeros(n, dtype=bool) if ncells is None else _blank_rows(frame)
    mapping = map_columns(list(frame.columns), aliases, columns)
    frame = _bounded_columns(frame, mapping, aliases, columns or {}, raw.source)
    data = frame.rename(columns={c: mapping[c] for c in frame.columns})
    original = frame
    reasons: dict[int, list[str]] = {}  # row position → problems (rows with none: absent)

    def add(messages: list[str | None]) -> None:
        for i in [i for i, message in enumerate(messages) if message]:
            reasons.setdefault(i, []).append(messages[i])

    if ncells is not None and (ncells != width).any():
        add(
            [
                None if c == width else f"row has {c} fields, header has {width}"
                for c in ncells.tolist()
            ]
        )
    if raw.long_cells is not None and any(c is not None for c in raw.long_cells):
        add(
            [
                f"cell in column {c[:80]!r} longer than {MAX_CELL_CHARS} characters"
                if c is not None
                else None
                for c in raw.long_cells
            ]
        )

    lon, lat, consumed, placed = _coordinates(raw, data, crs, country, add)
    if within is not None:
        add(within.reasons(np.where(placed, lon, np.nan), np.where(placed, lat, np.nan)))
    id_col = "point_id" if what == "points" else "demand_id"
    if id_col not in data:
        raise InputError(
            f"{raw.source}: missing required column {id_col!r} (or a known spelling such as "
            f"{', '.join(aliases[id_col][1:5])}); columns found: {_column_list(frame.columns)}; "
            f"map yours with columns={{'your_column': {id_col!r}}}"
        )
    ids = v.text_values(data[id_col])
    add(_check_ids(ids, raw.row_numbers, id_col, raw.row_label))

    out = pd.DataFrame(index=data.index)
    out[id_col] = ids
    builder: Callable = _point_columns if what == "points" else _demand_columns
    consumed |= builder(raw, data, out, add, defaults or {})
    schema = POINT_COLUMNS if what == "points" else DEMAND_COLUMNS
    for column, dtype in schema.items():
        if column not in out:
            out[column] = pd.Series(
                [defaults.get(column) if defaults else None] * n, index=out.index, dtype=object
            )
        out[column] = _as_dtype(out[column], dtype)
    extras = [c for c in data.columns if c not in schema and c not in consumed]
    out = pd.concat([out, data[extras].astype(object)], axis=1)  # cells as read, any reader
    if (
        raw.geometry is not None
        and what == "demand"
        and not raw.geometry.geom_type.eq("Point").all()
    ):
        areas = raw.geometry.to_crs(6933).area.to_numpy() / 1e6
        out["area_km2"] = np.where(raw.geometry.geom_type.eq("Point"), np.nan, areas)

    for i in np.flatnonzero(blank).tolist():
        reasons[i] = ["blank line"]
    bad = np.zeros(n, dtype=bool)
    bad[list(reasons)] = True
    with _gc_paused():  # millions of new geometries, no cycles: collections are pure cost
        geometry = gpd.points_from_xy(lon, lat, crs=CRS)
    accepted = gpd.GeoDataFrame(out.loc[~bad], geometry=geometry[~bad], crs=CRS)
    accepted = accepted[[*schema, *[c for c in accepted.columns if c not in schema]]]
    accepted = accepted.reset_index(drop=True)
    rejected = pd.DataFrame(
        {
            "row": pd.Series(raw.row_numbers[bad], dtype="int64"),
            "reason": pd.Series(
                ["; ".join(reasons[i]) for i in np.flatnonzero(bad).tolist()], dtype="str"
            ),
        }
    )
    originals = original.loc[bad].reset_index(drop=True).astype(str)
    originals = originals.replace({"None": "", "nan": ""})
    originals.columns = [c if c not in REJECTED_COLUMNS else f"input_{c}" for c in originals]
    rejected = pd.concat([rejected, originals], axis=1)
    if bad.any():
        log.info("%s: %d rows accepted, %d rejected", raw.source, len(accepted), bad.sum())
    if strict and bad.any():
        first = rejected.head(5)
        listing = "; ".join(
            f"{raw.row_label} {r}: {m}" for r, m in zip(first["row"], first["reason"], strict=True)
        )
        raise InputError(f"{raw.source}: {int(bad.sum())} bad rows of {n} — {listing}")
    return accepted, rejected


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector (re-enabled after, if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of delimited text whose every cell is empty or whitespace (columns are checked
    only for the rows still blank, so a long file costs about one column)."""
    blank = np.ones(len(frame), dtype=bool)
    for position in range(len(frame.columns)):
        rows = np.flatnonzero(blank)
        if len(rows) == 0:
            break
        column = frame.iloc[:, position]
        cells = column if len(rows) == len(frame) else column.iloc[rows]
        blank[rows] = (v.text_values(cells) == "").to_numpy(dtype=bool)
    return blank


def _check_ids(ids: pd.Series, numbers: np.ndarray, column: str, label: str) -> list[str | None]:
    messages: list[str | None] = [None] * len(ids)
    values = ids.to_numpy(dtype=object)
    missing = (ids == "").to_numpy(dtype=bool)
    repeated = ids.duplicated(keep="first").to_numpy(dtype=bool) & ~missing
    for i in np.flatnonzero(missing).tolist():
        messages[i] = f"missing {column}"
    if repeated.any():
        first_seen = dict(
            zip(values[~repeated & ~missing].tolist(), numbers[~repeated & ~missing].tolist())
        )
        for i in np.flatnonzero(repeated).tolist():
            value = values[i]
            messages[i] = f"duplicate {column} {value!r} (first on {label} {first_seen[value]})"
    return messages


def _per_distinct(values: pd.Series, function) -> list:
    """``[function(x) for x in values]``, calling ``function`` once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    results = [function(u) for u in uniques.tolist()]
    return [results[c] for c in codes.tolist()]


def _coordinates(raw: RawTable, data: pd.DataFrame, crs, country, add) -> tuple:
    """Longitude/latitude arrays (EPSG:4326), the names of the columns consumed and, per row,
    whether the coordinates passed every check."""
    if raw.geometry is not None:
        lon, lat, messages = v.check_geometry(raw.geometry, country)
        if v.looks_projected(lon, lat):
            raise InputError(
                f"{raw.source}: coordinates look projected (metres), not degrees, although "
                "the file declares a geographic CRS; fix the file's CRS or pass crs="
            )
        add(messages)
        return lon, lat, set(), np.array([m is None for m in messages], dtype=bool)
    mapped = {c: c for c in data.columns}
    lat_col, lon_col = find_column(mapped, LAT_ALIASES), find_column(mapped, LON_ALIASES)
    x_col, y_col = find_column(mapped, X_ALIASES), find_column(mapped, Y_ALIASES)
    pair_col = find_column(mapped, LATLON_ALIASES)
    if lat_col and lon_col:
        consumed = {lat_col, lon_col} | ({pair_col} if pair_col else set())
        x_text, y_text, source_crs = data[lon_col], data[lat_col], crs
    elif x_col and y_col:
        if crs is None:
            raise InputError(
                f"{raw.source}: coordinates in columns {x_col!r}/{y_col!r} need their CRS; "
                "pass crs= (e.g. 'EPSG:2154' for Lambert-93 metres)"
            )
        consumed = {x_col, y_col}
        x_text, y_text, source_crs = data[x_col], data[y_col], crs
    elif pair_col:
        parts = v.text_values(data[pair_col]).str.split(",", n=1, expand=True)
        parts = parts.reindex(columns=[0, 1]).fillna("")
        consumed = {pair_col}
        x_text, y_text, source_crs = parts[1], parts[0], crs
    else:
        raise InputError(
            f"{raw.source}: no coordinates: expected latitude/longitude columns (lat, latitude / "
            f"lon, lng, longitude), x/y with crs=, or a geometry; columns found: "
            f"{_column_list(raw.frame.columns)}"
        )
    if source_crs is not None and gpd.GeoSeries([], crs=source_crs).crs != CRS:
        xs, _, xbad = v.numeric(x_text)
        ys, _, ybad = v.numeric(y_text)
        ok = np.isfinite(xs) & np.isfinite(ys)
        pts = gpd.GeoSeries(gpd.points_from_xy(xs[ok], ys[ok]), crs=source_crs).to_crs(CRS)
        lon_v = np.full(len(xs), np.nan)
        lat_v = np.full(len(xs), np.nan)
        lon_v[ok], lat_v[ok] = pts.x.to_numpy(), pts.y.to_numpy()
        x_text = pd.Series(np.where(ok, lon_v, np.nan)).astype(object)
        y_text = pd.Series(np.where(ok, lat_v, np.nan)).astype(object)
        raw_x, raw_y = v.text_values(data[x_col or lon_col]), v.text_values(data[y_col or lat_col])
        x_text[~ok] = np.where(xbad[~ok], "?", raw_x[~ok])
        y_text[~ok] = np.where(ybad[~ok], "?", raw_y[~ok])
        x_text[~ok & ~xbad & ~ybad] = ""
    failure = None
    try:  # parses the cells once; the checks below keep their order
        lon, lat, messages = v.check_coordinates(x_text, y_text, country)
    except ParameterError as exc:
        (lon, _, _), (lat, _, _), failure = v.numeric(x_text), v.numeric(y_text), exc
    if v.looks_projected(lon, lat):
        raise InputError(
            f"{raw.source}: coordinates look projected (values in metres, e.g. Lambert-93), "
            "not WGS84 degrees; pass crs= (e.g. crs='EPSG:2154')"
        )
    if failure is not None:
        raise failure
    add(messages)
    return lon, lat, consumed, np.array([m is None for m in messages], dtype=bool)


def _point_columns(raw, data, out, add, defaults) -> set[str]:
    consumed: set[str] = set()
    for column in ("name", "address", "postcode", "city", "country"):
        if column in data:
            out[column] = v.text_values(data[column]).replace("", None)
    network = (
        data["network"]
        if "network" in data
        else pd.Series([defaults.get("network")] * len(data), index=data.index)
    )
    out["network"] = network.map(normalize_network).replace("", None)
    if "kind" in data:
        tokens = v.text_values(data["kind"])
        kinds, messages = [], []
        for raw_kind in tokens:
            token = normalize_token(raw_kind)
            kinds.append(KIND_ALIASES.get(token) if token else None)
            bad = token and token not in KIND_ALIASES
            messages.append(
                f"unknown kind {raw_kind!r} (expected one of {', '.join(KINDS)})" if bad else None
            )
        out["kind"] = kinds
        add(messages)
    if "services" in data:
        parsed = [parse_services(s) for s in v.text_values(data["services"])]
        out["services"] = [p[0] or None for p in parsed]
        add(
            [
                f"unknown service {', '.join(map(repr, p[1]))} (expected pickup, dropoff, returns)"
                if p[1]
                else None
                for p in parsed
            ]
        )
    for column in ("max_weight_kg", "max_length_cm", "capacity"):
        if column in data:
            out[column], messages = v.positive(data[column], column)
            add(messages)
    if "rating" in data:
        values, missing, bad = v.numeric(data["rating"])
        text = v.text_values(data["rating"])
        out_of_range = ~missing & (bad | ~((values >= 0) & (values <= 5)))
        add(
            [
                f"rating must be a number in [0, 5], got {text.iloc[i]!r}"
                if out_of_range[i]
                else None
                for i in range(len(values))
            ]
        )
        values[out_of_range] = np.nan
        out["rating"] = values
    for column in ("parking", "step_free"):
        if column in data:
            out[column], messages = v.booleans(data[column], column)
            add(messages)
    consumed |= _hours(data, out, add, defaults)
    return consumed


def _hours(data, out, add, defaults) -> set[str]:
    """Fill ``opening_hours``/``hours_source``; returns the per-day columns consumed."""
    n = len(data)
    hours = (
        v.text_values(data["opening_hours"])
        if "opening_hours" in data
        else pd.Series([""] * n, index=data.index)
    )
    day_columns = find_day_columns(list(data.columns))
    from_days = np.zeros(n, dtype=bool)
    if day_columns:
        messages: list[str | None] = [None] * n
        for i in range(n):
            if hours.iloc[i]:
                continue
            spans, problems = {}, []
            for day, column in day_columns.items():
                try:
                    spans[day] = parse_day_value(data[column].iloc[i])
                except ValueError as exc:
                    problems.append(f"bad opening hours in column {column!r}: {exc}")
            if problems:
                messages[i] = "; ".join(problems)
                continue
            osm = days_to_osm(spans)
            if osm:
                hours.iloc[i] = osm
                from_days[i] = True
        add(messages)
    add([v.hours_error(h) if h else None for h in hours])
    out["opening_hours"] = hours.replace("", None)
    if "hours_source" in data:
        source = v.text_values(data["hours_source"]).map(normalize_token)
    else:
        default = defaults.get("hours_source", "operator")
        source = pd.Series([default] * n, index=data.index)
    source = source.where(hours != "", "unknown").replace("", "operator")
    out["hours_source"] = source
    return set(day_columns.values())


def _demand_columns(raw, data, out, add, defaults) -> set[str]:
    for column in ("name", "area_id", "area_name"):
        if column in data:
            out[column] = v.text_values(data[column]).replace("", None)
    if "weight" in data:
        values, missing, bad = v.numeric(data["weight"])
        text = v.text_values(data["weight"])
        messages: list[str | None] = [None] * len(values)
        huge = values > MAX_WEIGHT  # sums of such weights overflow to inf, KPIs to NaN
        for i in np.flatnonzero(missing | bad | (values < 0) | huge).tolist():
            if missing[i]:
                messages[i] = "missing weight"
            elif bad[i]:
                messages[i] = f"non-numeric weight {text.iloc[i]!r}"
            elif huge[i]:
                messages[i] = f"weight {values[i]:g} too large (expected at most {MAX_WEIGHT:g})"
            else:
                messages[i] = f"negative weight {values[i]:g}"
        add(messages)
        out["weight"] = values
    else:
        out["weight"] = float(defaults.get("weight", 1.0))
    if "density_class" in data:

        def density(raw_class: str) -> tuple[str | None, str | None]:
            token = normalize_token(raw_class)
            if token.endswith("_0"):
                token = token[:-2]
            message = (
                f"unknown density_class {raw_class!r} (expected urban, intermediate, rural "
                "or INSEE level 1-7)"
                if token and token not in DENSITY_ALIASES
                else None
            )
            return (DENSITY_ALIASES.get(token) if token else None), message

        parsed = _per_distinct(v.text_values(data["density_class"]), density)
        out["density_class"] = [p[0] for p in parsed]
        add([p[1] for p in parsed])
    return set()


def _as_dtype(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "float64":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if dtype == "boolean":
        return series.astype("boolean")
    if series.dtype == "str":  # already text with NaN for missing: what the line below gives
        return series
    return series.astype(object).where(series.notna(), None).astype("str")


def reject_outside(
    accepted: gpd.GeoDataFrame, rejected: pd.DataFrame, within, *, strict: bool = False
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Move the rows of ``accepted`` outside ``within`` (see :func:`load_points`) to
    ``rejected`` with their reason; ``row`` is their ``source_row`` when they have one, else 0
    (unknown). Row counts are conserved. For tables already loaded (a carrier export, a
    GeoDataFrame given to the pipeline)."""
    area = as_within(within)
    if area is None or len(accepted) == 0:
        return accepted, rejected
    geometry = accepted.geometry
    reasons = area.reasons(geometry.x.to_numpy(), geometry.y.to_numpy())
    outside = np.array([r is not None for r in reasons], dtype=bool)
    if not outside.any():
        return accepted, rejected
    if strict:
        ids = accepted.iloc[:, 0].to_numpy()[outside][:5]
        listing = "; ".join(f"{i}: {r}" for i, r in zip(ids, np.array(reasons)[outside][:5]))
        raise InputError(f"{int(outside.sum())} rows outside {area.label} — {listing}")
    moved = pd.DataFrame(accepted.loc[outside].drop(columns=geometry.name))
    rows = moved["source_row"] if "source_row" in moved else pd.Series(0, index=moved.index)
    cells = moved.drop(columns=[c for c in REJECTED_COLUMNS if c in moved]).astype(object)
    cells = cells.where(cells.notna(), "").astype(str)
    moved = pd.concat(
        [
            pd.DataFrame(
                {
                    "row": pd.to_numeric(rows, errors="coerce").fillna(0).astype("int64"),
                    "reason": pd.Series([r for r in reasons if r], index=moved.index, dtype="str"),
                }
            ),
            cells,
        ],
        axis=1,
    )
    rejected = pd.concat([rejected, moved], ignore_index=True)
    return accepted.loc[~outside].reset_index(drop=True), rejected


def empty_points() -> gpd.GeoDataFrame:
    """A points table with the canonical columns and no rows."""
    frame = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in POINT_COLUMNS.items()})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def load_osm_points(
    path: str | os.PathLike, *, strict: bool = False, within=None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Relay points of an OSM file in the canonical schema, and rejected objects.

    Rows are numbered in file order of the relay objects found (``row``); the OSM id is
    the ``point_id`` (``n123`` node, ``w456`` way, ``r789`` relation). ``within``: as for
    :func:`relaynet.io.load_points`.
    """
    records, unplaced, problems = read_osm_relay_records(path)
    all_records = pd.DataFrame([*records.to_dict("records"), *unplaced])
    accepted, rejected = load_points(all_records, country=None, strict=False, within=within)
    relation_rows = set(range(len(records) + 1, len(all_records) + 1))
    is_relation = rejected["row"].isin(relation_rows)
    rejected.loc[is_relation, "reason"] = "OSM relation: geometry not supported"
    for position, reason in problems.items():  # ways whose nodes have bad coordinates
        at = rejected["row"] == position + 1
        rejected.loc[at, "reason"] = rejected.loc[at, "reason"].str.replace(
            "missing coordinates", reason, regex=False
        )
    if strict and len(rejected):
        first = rejected.head(5)
        listing = "; ".join(
            f"{p}: {m}" for p, m in zip(first["point_id"], first["reason"], strict=True)
        )
        raise InputError(f"{path}: {len(rejected)} bad OSM objects — {listing}")
    return accepted, rejected
