"""Write tables atomically: CSV and Excel (formula cells and headers neutralised), GeoJSON
and GeoPackage (EPSG:4326), strict JSON; identical data give identical bytes."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError
from .schema import CRS


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


CSV_LINE_END = "\r\n"
"""Line end of the CSV files written (RFC 4180). With it the csv writer quotes every cell
holding a carriage return; with ``"\n"`` a cell ``"\r=1+1"`` went out unquoted and a
reader split it into a new line starting with ``=1+1``: a formula again."""


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells starting with ``= + - @`` (or tab/CR) with ``'`` so spreadsheets show
    them as text instead of running them (CSV injection). Negative plain numbers such as
    ``"-3.5"`` are left alone; numeric columns are never touched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_neutralise_cell)
    # headers too: input column names are data (``=HYPERLINK(...)`` as a column name)
    out.columns = [_neutralise_cell(str(c)) for c in out.columns]
    return out


def _neutralise_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if value[0] != "-" or not _PLAIN_NUMBER.match(value):
            return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` as UTF-8 CSV atomically, geometry as WKT, formulas neutralised."""
    frame = pd.DataFrame(frame)
    if "geometry" in frame:
        frame["geometry"] = gpd.GeoSeries(frame["geometry"]).to_wkt()
    with atomic_path(path) as tmp:
        neutralise_formulas(frame).to_csv(tmp, index=False, lineterminator=CSV_LINE_END)
    return Path(path)


def write_geojson(frame: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write a GeoDataFrame as GeoJSON (EPSG:4326) atomically; the collection's ``name`` is
    the target's stem (never the temporary file's), so identical data give identical bytes."""
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.to_crs(CRS).to_file(tmp, driver="GeoJSON", layer=path.stem)
    return path


def json_ready(value):
    """``value`` with numpy scalars as Python numbers, NaN/±inf as ``None`` (strict JSON has
    no such numbers; ``None`` reads as "not available"), dates as ISO text, sets sorted."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(json_ready(v) for v in value)
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def write_json(data, path: str | os.PathLike) -> Path:
    """Write ``data`` as strict UTF-8 JSON (see :func:`json_ready`), indented, atomically."""
    text = json.dumps(json_ready(data), indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)


# --------------------------------------------------------------------------- xlsx

XLSX_MAX_ROWS = 1_048_576
"""Rows of an Excel sheet, header included."""

XLSX_MAX_CELL_CHARS = 32_767
"""Characters of an Excel text cell; longer text is cut to this length."""

FIXED_TIME = dt.datetime(1980, 1, 1)
"""Timestamp written into workbooks (properties and zip members) and GeoPackages, so that
identical tables give identical bytes; the time of a run is in its ``run.json``."""

_SHEET_NAME = re.compile(r"^[^\[\]:*?/\\']{1,31}$")


def _xlsx_values(series: pd.Series) -> list:
    """The cells of one column as Python values openpyxl writes: numbers, booleans, text,
    ``None`` (empty cell) for NaN/NA/±inf."""
    if pd.api.types.is_bool_dtype(series) and not series.hasnans:
        return series.astype(bool).tolist()
    if pd.api.types.is_integer_dtype(series) and not series.hasnans:
        return series.astype("int64").tolist()
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isfinite(values), values, None).tolist()
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.isoformat() for v in series]
    return [_xlsx_cell(v) for v in series.astype(object)]


def _xlsx_cell(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return _xlsx_text(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time | pd.Timestamp):
        return value.isoformat()
    return _xlsx_text(str(value))


def _xlsx_text(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)[:XLSX_MAX_CELL_CHARS]


def _xlsx_rows(sheet, frame: pd.DataFrame):
    """Header and rows of ``frame`` for a write-only sheet; every ``str`` is a string cell
    (openpyxl would make ``"=…"`` a formula and ``"#N/A"`` an error value)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    def cell(value):
        if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
            written = WriteOnlyCell(sheet, value=value)
            written.data_type = "s"
            return written
        return value

    yield [cell(_xlsx_text(str(c))) for c in frame.columns]
    columns = [_xlsx_values(frame[c]) for c in frame.columns]
    for row in zip(*columns, strict=True):
        yield [cell(v) for v in row]


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write DataFrames as the sheets of one Excel workbook (.xlsx), atomically.

    Cells and headers are neutralised like :func:`write_csv` (text starting with ``= + - @``,
    tab or CR gets a leading ``'``) and every text is written as a string cell, never as a
    formula or an error value. Numbers stay numbers and booleans booleans; NaN, NA and ±inf
    are empty cells; dates are ISO text; a geometry column is WKT. Characters XML cannot
    hold (control characters other than tab, CR, LF) become U+FFFD and text is cut at
    :data:`XLSX_MAX_CELL_CHARS` characters (Excel's limits). Workbook properties and zip
    timestamps are :data:`FIXED_TIME`, so identical tables give identical bytes.

    Parameters
    ----------
    sheets
        Sheet name (at most 31 characters, none of ``[]:*?/\\'``) → table, in sheet order.
    path
        The ``.xlsx`` file to write.

    Raises
    ------
    ParameterError
        A bad sheet name, or a table with more rows than a sheet holds
        (:data:`XLSX_MAX_ROWS` with the header): write CSV, Parquet or GeoPackage instead.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    if not sheets:
        raise ParameterError("write_xlsx: no sheet to write")
    for name, frame in sheets.items():
        if not _SHEET_NAME.match(str(name)):
            raise ParameterError(
                f"sheet name {name!r}: expected 1-31 characters, none of []:*?/\\'"
            )
        if len(frame) + 1 > XLSX_MAX_ROWS:
            raise ParameterError(
                f"sheet {name!r}: {len(frame):,} rows do not fit an Excel sheet "
                f"({XLSX_MAX_ROWS - 1:,} at most); write CSV, Parquet or GeoPackage instead"
            )
    book = Workbook(write_only=True)
    book.properties.creator = "relaynet"
    book.properties.created = book.properties.modified = FIXED_TIME
    for name, frame in sheets.items():
        frame = pd.DataFrame(frame)
        if "geometry" in frame:
            frame["geometry"] = gpd.GeoSeries(frame["geometry"]).to_wkt()
        sheet = book.create_sheet(str(name))
        for row in _xlsx_rows(sheet, neutralise_formulas(frame)):
            sheet.append(row)
    path = Path(path)
    with atomic_path(path) as tmp:
        archive = _FixedTimeZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        ExcelWriter(book, archive).save()  # not Workbook.save: it stamps the current time
    return path


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry :data:`FIXED_TIME` (zip members otherwise record the
    time they were written)."""

    def _member(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
        info.compress_type = self.compression
        info.external_attr = 0o644 << 16
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._member(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        name = str(arcname if arcname is not None else filename)
        with open(filename, "rb") as source, self.open(self._member(name), "w") as target:
            shutil.copyfileobj(source, target)


# --------------------------------------------------------------------------- GeoPackage


def write_gpkg(layers: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write tables as the layers of one GeoPackage (pyogrio), atomically.

    A GeoDataFrame becomes a geometry layer in EPSG:4326; a plain DataFrame an attribute
    table (no geometry), as QGIS opens them. Values are written as they are: a GeoPackage
    is a database, nothing in it is evaluated. GDAL's ``last_change`` timestamps are
    :data:`FIXED_TIME`, so identical tables give identical bytes.

    Parameters
    ----------
    layers
        Layer name → table, in layer order.
    path
        The ``.gpkg`` file to write.
    """
    import pyogrio

    if not layers:
        raise ParameterError("write_gpkg: no layer to write")
    path = Path(path)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    with atomic_path(path) as tmp:
        work = tmp.with_name(tmp.name + ".gpkg")  # GDAL wants the .gpkg extension
        try:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
            for name, frame in layers.items():
                if isinstance(frame, gpd.GeoDataFrame):
                    frame = frame.to_crs(CRS)
                pyogrio.write_dataframe(frame, work, layer=str(name), driver="GPKG")
            os.replace(work, tmp)
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
            if work.exists():
                work.unlink()
    return path
