"""Read a tabular or geographic file into raw values, with source row numbers.

Part of :mod:`relaynet.io`: no validation of values happens here, only of
the file itself (exists, readable, not empty, known format, CRS stated).

Delimited text is read by pyarrow's multi-threaded CSV parser when that gives exactly what
the ``csv`` module would (:func:`_records_arrow`: one record per line, every record as wide
as the header, no cell over :data:`MAX_CELL_CHARS`); anything else — quoted newlines, ragged
rows, a header after blank lines — goes through the ``csv`` module, line by line. Both give
the same cells, line numbers and rejected rows (``tests/test_io_speed_paths.py``).

Readers that split a file into blocks (the dask engine) find its layout once
(:func:`delimited_layout`) and read each block with :func:`read_delimited_block`, the same
code with the header put back in front: every block gives the cells and line numbers the
whole file gives. Every text input is decoded by :func:`decode_bytes`.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io as _stdio
import os
import threading
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from ..errors import InputError
from .text import one_line

CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf")
_DELIMITERS = (";", ",", "\t", "|")

MAX_CELL_CHARS = 131_072
"""Longest cell accepted in delimited text, in characters (128 Ki); longer cells reject their
row ("cell longer than …") instead of making the whole file unreadable."""

MAX_DECOMPRESSED_BYTES = 2 * 1024**3
"""Most bytes a compressed input (``.gz``, ``.bz2``) may inflate to: 2 GiB. Beyond it the
read stops with a one-line :class:`~relaynet.errors.InputError` before memory runs out (a
"gzip bomb": 2 MB of zeros inflate to 2 GiB). The limit is absolute, not a compression
ratio: what exhausts memory is the size, and honest files of repeated values compress
well beyond any ratio worth fixing. A larger genuine file: raise this value
(``relaynet.io.read.MAX_DECOMPRESSED_BYTES = 8 * 1024**3``) or pass it uncompressed."""

_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open}

_FIELD_LIMIT_LOCK = threading.Lock()

_ARROW_MIN_BYTES = 1 << 20
"""Smaller delimited files are read by the csv module: pyarrow's per-column set-up costs more
than it saves there (a 4 000-column header with one row)."""


@dataclass
class RawTable:
    """Values as read, before validation.

    ``frame`` holds the input columns; ``row_numbers`` the source line (CSV: 1-based line
    in the file, the header being line 1) or record number (other formats, 1-based);
    ``geometry`` the geometries when the file has them (already in EPSG:4326), else None.
    Delimited text also gives ``cells_per_row`` (fields found on each row, before padding
    or cutting to the header's width) and ``long_cells`` (per row, the first column whose
    cell was longer than :data:`MAX_CELL_CHARS` and cut to that length, else None).
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    geometry: gpd.GeoSeries | None
    source: str
    row_label: str = "line"
    cells_per_row: np.ndarray | None = None
    long_cells: list[str | None] | None = None


def suffix_of(path: Path) -> str:
    """Lower-case suffix, double for compressed files (``.csv.gz``, ``.osm.pbf``)."""
    name = path.name.lower()
    for suffix in CSV_SUFFIXES + OSM_SUFFIXES + PARQUET_SUFFIXES + GEO_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def read_raw(path: str | os.PathLike, *, layer: str | None = None, crs=None) -> RawTable:
    """Read ``path`` (CSV/TXT/TSV, GeoJSON, GeoPackage, Shapefile, GeoParquet/Parquet)."""
    path = readable_file(path)
    suffix = suffix_of(path)
    if suffix in CSV_SUFFIXES:
        return read_delimited(path)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, crs)
    if suffix in GEO_SUFFIXES:
        return _read_geo(path, layer, crs)
    raise InputError(
        f"{path}: unknown file type {suffix!r}; expected CSV (.csv/.txt/.tsv), GeoJSON, "
        "GeoPackage (.gpkg), GeoParquet (.parquet) or OSM (.osm/.osm.pbf)"
    )


def _gib(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size:,} bytes"


def _too_big(path: Path, limit: int) -> InputError:
    return InputError(
        f"{path}: decompresses to more than {_gib(limit)} (the MAX_DECOMPRESSED_BYTES limit "
        "of relaynet.io.read): a damaged or hostile file, or one to pass uncompressed"
    )


def decompressed_chunks(path: str | os.PathLike, size: int = 1 << 24) -> Iterator[bytes]:
    """The bytes of ``path`` in chunks of up to ``size``, inflated when the name ends in
    ``.gz`` or ``.bz2``, never more than :data:`MAX_DECOMPRESSED_BYTES` in all.

    Raises
    ------
    InputError
        The file inflates past the limit, or its compression is truncated or corrupt.
    """
    path = Path(path)
    opener = _COMPRESSED.get(Path(path.name.lower()).suffix, open)
    limit, total = MAX_DECOMPRESSED_BYTES, 0
    kind = "bzip2" if opener is bz2.open else "gzip"
    try:
        with opener(path, "rb") as handle:
            while chunk := handle.read(size):
                total += len(chunk)
                if total > limit:
                    raise _too_big(path, limit)
                yield chunk
    except (OSError, EOFError, zlib.error) as exc:
        if opener is open:
            raise InputError(f"{path}: cannot read ({one_line(exc)})") from None
        raise InputError(f"{path}: truncated or corrupt {kind} file ({one_line(exc)})") from None


def read_decompressed(path: str | os.PathLike) -> bytes:
    """All the bytes of ``path``, inflated as by :func:`decompressed_chunks` (same limit).

    A ``.gz`` file is inflated in one buffer (zlib's ``max_length`` stops it at the limit),
    member after member, so the memory used is the file and its inflated bytes, once.
    """
    path = Path(path)
    suffix = Path(path.name.lower()).suffix
    if suffix not in _COMPRESSED:
        return path.read_bytes()
    if suffix != ".gz":
        return b"".join(decompressed_chunks(path))
    data, limit, members = path.read_bytes(), MAX_DECOMPRESSED_BYTES, []
    total = 0
    try:
        while data or not members:
            inflate = zlib.decompressobj(wbits=31)  # gzip header and trailer (CRC, size)
            members.append(inflate.decompress(data, limit - total + 1))
            total += len(members[-1])
            if total > limit:
                raise _too_big(path, limit)
            if not inflate.eof:
                raise EOFError("compressed file ended before the end-of-stream marker")
            data = inflate.unused_data
    except (EOFError, zlib.error) as exc:
        raise InputError(f"{path}: truncated or corrupt gzip file ({one_line(exc)})") from None
    return members[0] if len(members) == 1 else b"".join(members)


def decode_bytes(
    data: bytes, source: str | os.PathLike, expected: str = "delimited text (CSV)"
) -> tuple[str, bytes]:
    """The text of ``data`` and its UTF-8 bytes (without a byte-order mark): UTF-8 (with or
    without a BOM), else Windows-1252, else Latin-1 — how every text input is decoded.

    Raises
    ------
    InputError
        ``data`` holds a NUL byte in its first 4 KiB: a binary file, not ``expected``.
    """
    if b"\x00" in data[:4096]:
        raise InputError(f"{source}: looks like a binary file, expected {expected}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return text, data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, text.encode("utf-8")


def delimited_records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Records of delimited ``text`` and the line each starts on (quoted newlines counted),
    read by the ``csv`` module (``excel`` dialect) as every delimited reader reads them.

    The csv module's field size limit (process-wide, 128 KiB by default) is raised for the
    duration of the read, so that a long cell is one bad row, not an unreadable file.
    """
    rows: list[list[str]] = []
    starts: list[int] = []
    with _FIELD_LIMIT_LOCK:
        previous = csv.field_size_limit()
        csv.field_size_limit(max(previous, min(len(text) + 1, 2**31 - 1)))
        try:
            reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
            start = 1
            for row in reader:
                rows.append(row)
                starts.append(start)
                start = reader.line_num + 1
        finally:
            csv.field_size_limit(previous)
    return rows, starts


def _cut_long_cells(body: list[list[str]], names: list[str]) -> list[str | None]:
    """Cut cells longer than :data:`MAX_CELL_CHARS` in place; per row, the first such column."""
    long_cells: list[str | None] = [None] * len(body)
    for i, row in enumerate(body):
        for j, cell in enumerate(row):
            if len(cell) > MAX_CELL_CHARS:
                row[j] = cell[:MAX_CELL_CHARS]
                if long_cells[i] is None:
                    long_cells[i] = names[j] if j < len(names) else f"field {j + 1}"
    return long_cells


def read_delimited(path: str | os.PathLike) -> RawTable:
    """Read a delimited text file (``;``, ``,``, tab or ``|``, see :func:`delimiter_of`;
    UTF-8 or Windows-1252, see :func:`decode_bytes`; ``.gz``/``.bz2`` inflated), whatever
    its name ends with: the cells as text, with their line numbers."""
    return _read_csv(readable_file(path))


def readable_file(
    path: str | os.PathLike, *, kind: str = "a file", content: str = "a header and data rows"
) -> Path:
    """``path`` as a Path, or a one-line :class:`InputError` when it does not exist, is a
    folder (``expected {kind}``) or is empty (``expected {content}``)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected {kind}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty, expected {content}")
    return path


def _read_csv(path: Path) -> RawTable:
    text, data = decode_bytes(read_decompressed(path), path)
    if not text or text.isspace():
        raise InputError(f"{path}: file is empty, expected a header and data rows")
    return _delimited_table(text, data, str(path))


def _ends_with_empty_line(data: bytes) -> bool:
    return data.endswith((b"\n\n", b"\n\r\n"))


def _delimited_table(
    text: str,
    data: bytes,
    source: str,
    *,
    line_shift: int = 0,
    at_end: bool = True,
    rows_required: bool = True,
) -> RawTable:
    """The rows of delimited ``text`` (its UTF-8 bytes: ``data``), its header being the first
    line with a non-blank cell.

    ``line_shift`` is added to every line number (a block of a file, read with its header
    put back in front: see :func:`read_delimited_block`). Empty lines at the end of ``text``
    are not rows when it ends the file (``at_end``), and are rows ("blank line") otherwise.
    No data row at all is an error when ``rows_required``, else an empty table.
    """
    header = _first_line(text.lstrip("\r\n"))
    delimiter = delimiter_of(header, source)
    fast = None
    if at_end or not _ends_with_empty_line(data):
        fast = _records_arrow(data, header, delimiter)
    if fast is not None:
        frame, numbers, cells = fast
        return RawTable(
            frame, numbers + line_shift, None, source, "line", cells, [None] * len(frame)
        )
    del data
    try:
        rows, line_numbers = delimited_records(text, delimiter)
    except csv.Error as exc:
        raise InputError(f"{source}: cannot parse as delimited text ({one_line(exc)})") from None
    # The header is the first line with a non-blank cell.
    first = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if first is None:
        raise InputError(
            f"{source}: no header row: every line is empty or only delimiters, expected a "
            "header and data rows"
        )
    header_row, body = rows[first], rows[first + 1 :]
    numbers = line_numbers[first + 1 :]
    # Empty lines at the end of the file are not rows; any other line (even ";;;") is a row
    # and is accepted or rejected like the others.
    while at_end and body and not body[-1]:
        body.pop()
        numbers.pop()
    if not body and rows_required:
        raise InputError(f"{source}: has a header but no data rows")
    names = [h.strip() for h in header_row]
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)
    if dupes:
        raise InputError(f"{source}: duplicate column names {dupes[:20]}")
    if any(len(n) > MAX_CELL_CHARS for n in names):
        raise InputError(f"{source}: a column name is longer than {MAX_CELL_CHARS} characters")
    long_cells = _cut_long_cells(body, names)
    width = len(names)
    fixed = [(r + [""] * width)[:width] if len(r) != width else r for r in body]
    frame = pd.DataFrame(fixed, columns=names, dtype=object)
    return RawTable(
        frame,
        np.asarray(numbers, dtype=np.int64) + line_shift,
        None,
        source,
        "line",
        cells_per_row=np.asarray([len(r) for r in body], dtype=np.int64),
        long_cells=long_cells,
    )


def delimiter_of(header: str, source: str | os.PathLike = "<text>") -> str:
    """The delimiter of a header line: the most frequent of ``;``, ``,``, tab and ``|``
    (the first of them on a tie), as :func:`read_raw` picks it for every delimited file.

    Raises
    ------
    InputError
        The header holds none of them.
    """
    counts = {d: header.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        raise InputError(
            f"{source}: header {header[:80]!r} has no ';', ',', tab or '|' delimiter; expected "
            "a delimited file with a header row"
        )
    return delimiter


@dataclass(frozen=True)
class DelimitedLayout:
    """Where the rows of a delimited file start, for readers that split it into blocks.

    ``delimiter`` per :func:`delimiter_of`; ``encoding`` of the first lines (``"utf-8"``, a
    byte-order mark skipped, or ``"cp1252"``); ``header`` the header line as text;
    ``body_start`` the offset, in the inflated bytes, of the line after the header, and
    ``body_line`` its line number (the first line of the file being line 1).
    """

    delimiter: str
    encoding: str
    header: str
    body_start: int
    body_line: int


_LAYOUT_HEAD_BYTES = 1 << 22
"""Bytes read at most to find the header of a delimited file split into blocks."""


def delimited_layout(path: str | os.PathLike) -> DelimitedLayout:
    """The layout of a delimited text file (``.gz`` too), found from its first lines as
    :func:`read_raw` finds them: the delimiter from the first non-empty line, the header
    the first line with a non-blank cell.

    For readers that split the file themselves (the dask engine's partitions), so that
    each block is read by :func:`read_delimited_block` as the whole file would be read.

    Raises
    ------
    InputError
        The file is missing, empty, binary or has no header in its first 4 MiB; or the
        header holds a quoted line break (it cannot be put back in front of a block).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file does not exist")
    head, layout = b"", None
    chunks = decompressed_chunks(path, 1 << 16)
    try:
        for chunk in chunks:
            head += chunk
            layout = _layout_of(head, path, at_end=False)
            if layout is not None or len(head) >= _LAYOUT_HEAD_BYTES:
                break
        else:
            layout = _layout_of(head, path, at_end=True)
    finally:
        chunks.close()
    if layout is None:
        raise InputError(
            f"{path}: no header row in the first {_LAYOUT_HEAD_BYTES:,} bytes, expected a "
            "header and data rows"
        )
    return layout


def _layout_of(head: bytes, path: Path, at_end: bool) -> DelimitedLayout | None:
    """The layout found in the first bytes of a file (all of it when ``at_end``), or None
    when they end before the header line does."""
    if b"\x00" in head[:4096]:
        raise InputError(f"{path}: looks like a binary file, expected delimited text (CSV)")
    if at_end and not head.strip():
        raise InputError(f"{path}: file is empty, expected a header and data rows")
    try:
        head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        cut = exc.start > len(head) - 4  # a multi-byte character cut at the end of the head
        encoding = "utf-8" if cut and exc.reason == "unexpected end of data" else "cp1252"
    offset = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    number, delimiter = 1, None
    while True:
        newline = head.find(b"\n", offset)
        if newline < 0 and not at_end:
            return None
        stop = len(head) if newline < 0 else newline + 1
        line = head[offset:stop].decode(encoding, errors="replace").rstrip("\r\n")
        if delimiter is None and line:
            delimiter = delimiter_of(line, path)
        if delimiter is not None and any(
            c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])
        ):
            if line.count('"') % 2:
                raise InputError(
                    f"{path}: header {line[:80]!r} holds a quoted line break; it cannot be "
                    "read in blocks"
                )
            return DelimitedLayout(delimiter, encoding, line, stop, number + 1)
        if newline < 0:
            raise InputError(
                f"{path}: no header row: every line is empty or only delimiters, expected a "
                "header and data rows"
            )
        offset, number = stop, number + 1


def read_delimited_block(
    data: bytes, layout: DelimitedLayout, source: str, first_line: int, at_end: bool
) -> RawTable:
    """The rows of ``data``, whole lines of a delimited file laid out as ``layout`` says,
    read as :func:`read_raw` reads the whole file: same cells, rejected-row inputs and line
    numbers (``first_line`` is the line number of the first line of ``data``).

    ``at_end``: ``data`` ends the file (empty lines at its end are then not rows). Each
    block is decoded by itself (:func:`decode_bytes`). A block with no row gives an empty
    table with the header's columns.
    """
    text, utf8 = decode_bytes(data, source) if data else ("", b"")
    header = layout.header
    return _delimited_table(
        f"{header}\n{text}",
        header.encode("utf-8") + b"\n" + utf8,
        source,
        line_shift=first_line - 2,
        at_end=at_end,
        rows_required=False,
    )


def _first_line(text: str) -> str:
    """``text.splitlines()[0]`` without splitting the whole text."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if size >= len(text) or len(lines) > 1:
            return lines[0]
        size *= 4


def _records_arrow(
    data: bytes, header: str, delimiter: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
    """``(frame, line numbers, cells per row)`` of UTF-8 delimited ``data`` read by pyarrow,
    or None when the ``csv`` module must read it (see the module docstring).

    The result equals the ``csv`` module's (``excel`` dialect: ``"`` quotes, doubled to
    escape) when: the header is the first line and has no quote; every line ends with
    ``\n`` or ``\r\n``; no quoted cell spans lines (every line holds an even number of
    quotes); every non-empty line has exactly the header's number of cells (pyarrow refuses
    the file otherwise); no cell is longer than :data:`MAX_CELL_CHARS`. An empty line is a
    row with no cell, as the ``csv`` module reads it; empty lines at the end are not rows.
    """
    newline = data.find(b"\n")
    first_line = (data if newline < 0 else data[:newline]).rstrip(b"\r")
    try:
        if first_line.decode("utf-8") != header or '"' in header:
            return None
    except UnicodeDecodeError:
        return None
    names = [h.strip() for h in header.split(delimiter)]
    if len(set(names)) < len(names) or not any(names):
        return None
    if any(len(n) > MAX_CELL_CHARS for n in names) or b"\x00" in data:
        return None
    body_start = len(first_line) + 1 + (data[len(first_line) : len(first_line) + 1] == b"\r")
    end = len(data)
    while end > body_start and data[end - 1] in b"\r\n":
        end -= 1
    if end <= body_start or end - body_start < _ARROW_MIN_BYTES:
        return None
    n_lines = data.count(b"\n", body_start, end) + 1
    n_returns = data.count(b"\r", body_start, end)
    if n_returns and n_returns != data.count(b"\r\n", body_start, end):
        return None  # a lone carriage return ends a line for the csv module only
    empty = np.zeros(n_lines, dtype=bool)
    has_quotes = data.find(b'"', body_start, end) >= 0
    has_empty = data[body_start : body_start + 1] in (b"\n", b"\r") or any(
        data.find(gap, body_start, end) >= 0 for gap in (b"\n\n", b"\n\r\n")
    )
    if has_quotes or has_empty:
        raw = np.frombuffer(data, dtype=np.uint8)[body_start:end]
        newlines = np.flatnonzero(raw == 10)
        if has_quotes:
            quotes = np.flatnonzero(raw == 34)
            per_line = np.bincount(np.searchsorted(newlines, quotes), minlength=n_lines)
            if (per_line & 1).any():
                return None  # a quoted cell may hold a line break
        starts = np.concatenate(([0], newlines + 1))
        stops = np.concatenate((newlines, [len(raw)]))
        crlf = (stops > starts) & (raw[np.maximum(stops - 1, 0)] == 13)
        empty = (stops - crlf) == starts
    table = _arrow_table(memoryview(data)[body_start:end], len(names), delimiter)
    if table is None or table.num_rows != n_lines:
        return None
    import pyarrow.compute as pc

    columns = {}
    for i, column in enumerate(table.columns):
        longest = pc.max(pc.binary_length(column)).as_py() or 0  # bytes ≥ characters
        if longest > MAX_CELL_CHARS and pc.max(pc.utf8_length(column)).as_py() > MAX_CELL_CHARS:
            return None
        columns[names[i]] = pd.Series(column, dtype="str")  # no copy, no Python string
    frame = pd.DataFrame(columns, copy=False)
    numbers = np.arange(2, n_lines + 2, dtype=np.int64)
    cells = np.where(empty, 0, len(names)).astype(np.int64)
    return frame, numbers, cells


def _arrow_table(body: bytes, width: int, delimiter: str):
    """The cells of ``body`` (no header) as a pyarrow Table of ``width`` string columns, or
    None when pyarrow cannot read it as such."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    fields = [f"f{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(
                column_names=fields, block_size=max(1 << 20, 4 * MAX_CELL_CHARS * 4)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(fields, pa.large_string()),  # pandas' "str"
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _to_wgs84(geoms: gpd.GeoSeries, path: Path, crs) -> gpd.GeoSeries:
    if geoms.crs is None:
        if crs is None:
            raise InputError(
                f"{path}: geometry has no CRS; pass crs= (e.g. 'EPSG:4326' or 'EPSG:2154')"
            )
        geoms = geoms.set_crs(crs)
    try:
        return geoms.to_crs(4326)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(
            f"{path}: cannot reproject from {geoms.crs} to EPSG:4326 ({one_line(exc)})"
        ) from None


def raw_from_geodataframe(gdf: gpd.GeoDataFrame, path: Path, crs) -> RawTable:
    if len(gdf) == 0:
        raise InputError(f"{path}: has no features")
    geoms = _to_wgs84(gdf.geometry, path, crs)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    frame = frame.astype(object)
    numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, numbers, geoms.reset_index(drop=True), str(path), "record")


def _read_geo(path: Path, layer: str | None, crs) -> RawTable:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        detail = one_line(exc) or type(exc).__name__
        raise InputError(f"{path}: cannot read as a geographic file ({detail})") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise InputError(f"{path}: has no geometry column")
    if gdf.crs is None and suffix_of(path) in (".geojson", ".json"):
        gdf = gdf.set_crs(4326)  # RFC 7946: GeoJSON is WGS84
    return raw_from_geodataframe(gdf, path, crs)


def _read_parquet(path: Path, crs) -> RawTable:
    try:
        gdf = gpd.read_parquet(path)
    except ValueError:
        # Plain Parquet without geo metadata: columns only (lat/lon or x/y expected).
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise InputError(f"{path}: cannot read as Parquet ({one_line(exc)})") from None
        if len(frame) == 0:
            raise InputError(f"{path}: has no rows") from None
        numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
        return RawTable(frame.astype(object), numbers, None, str(path), "record")
    except Exception as exc:
        raise InputError(f"{path}: cannot read as GeoParquet ({one_line(exc)})") from None
    return raw_from_geodataframe(gdf, path, crs)
