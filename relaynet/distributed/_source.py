"""Demand read lazily, in partitions: GeoParquet/Parquet, delimited text, or a frame.

Delimited text (CSV, TXT, TSV, ``.gz``) is read by the local loader's own code, one block
of whole records per partition (blocks are cut after a line end outside double quotes, so
a quoted field holding line ends stays whole: :func:`_record_cuts`);
:func:`relaynet.io.read.read_delimited_block` gives the block's cells and line numbers
as :func:`relaynet.io.read.read_raw` gives them for the whole file, and
:func:`relaynet.io.load_demand` validates them — same column spellings, same numeric
parser, same rejected rows (line number and reason). A partition is then a
:class:`DemandPart`: the rows accepted and the rows rejected. Line numbers are exact: each
block's first line number comes from the line ends counted in the blocks before it (one
cheap task per block, chained).

One difference remains: a ``demand_id`` repeated *within* a block is rejected as the local
loader rejects it ("duplicate demand_id … (first on line …)"), but a repeat in another
block is not seen (each partition checks its own rows), so that place counts twice.
"""

from __future__ import annotations

import glob
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, ParameterError
from ..io.schema import CRS
from ._cluster import require_dask

LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")

DEFAULT_ROWS_PER_PARTITION = 1_000_000
"""Rows per partition when an in-memory frame is split (≈ 100–200 MiB of work per task)."""

_READ_BYTES = 1 << 22
"""Bytes read at a time when counting lines or finishing a block's last line."""


@dataclass(frozen=True)
class DemandPart:
    """One partition of delimited demand, read on a worker.

    ``accepted``: the rows :func:`relaynet.io.load_demand` accepts (canonical schema);
    ``rejected``: the rows it rejects (``file``, ``row`` = line, ``reason``, the cells).
    """

    accepted: gpd.GeoDataFrame
    rejected: pd.DataFrame


@dataclass(frozen=True)
class _Block:
    """Lines of one delimited file whose first byte lies in ``[start, stop)`` (offsets in
    the inflated file); ``first``: ``start`` is where the rows begin, right after the
    header; ``at_end``: ``stop`` is the end of the file."""

    path: str
    start: int
    stop: int
    first: bool
    at_end: bool
    compressed: bool


@dataclass(frozen=True)
class _CsvFile:
    path: str
    layout: Any  # relaynet.io.read.DelimitedLayout
    blocks: tuple[_Block, ...]


@dataclass(frozen=True)
class DemandParts:
    """Demand as partitions for the workers: either a dask (geo)dataframe, or blocks of
    delimited files each read into a :class:`DemandPart`.

    ``columns``: the columns of every accepted partition (geometry last).
    """

    columns: list[str]
    frame: Any = None
    files: tuple[_CsvFile, ...] = ()
    keep: tuple[str, ...] | None = None
    meta: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def select(self, names) -> DemandParts:
        """The same partitions with only ``names`` (those present) and the geometry."""
        have = set(self.columns)
        keep = [c for c in dict.fromkeys(names) if c in have and c != "geometry"]
        columns = [*keep, "geometry"]
        if self.frame is not None:
            return DemandParts(columns, frame=self.frame[columns])
        return DemandParts(columns, files=self.files, keep=tuple(keep), meta=self.meta[columns])

    def tasks(self) -> list:
        """One delayed object per partition: a GeoDataFrame, or a :class:`DemandPart`."""
        if self.frame is not None:
            return list(self.frame.to_delayed())
        dask, _, _ = require_dask()
        count = dask.delayed(_count_newlines, pure=False)  # the file may change between runs
        add = dask.delayed(_plus, pure=False)
        read = dask.delayed(read_block, pure=False)
        keep = None if self.keep is None else list(self.keep)
        out = []
        for csv in self.files:
            before: Any = csv.layout.body_line - 1  # newlines before the first row
            for block in csv.blocks:
                out.append(read(block, csv.layout, before, keep))
                if not block.at_end:
                    before = add(before, count(block))
        return out

    @property
    def npartitions(self) -> int:
        if self.frame is not None:
            return int(self.frame.npartitions)
        return sum(len(f.blocks) for f in self.files)


def read_demand(
    source: Any,
    *,
    columns: list[str] | None = None,
    npartitions: int | None = None,
    blocksize: str | int = "64MB",
):
    """Demand as a lazy dask-geopandas GeoDataFrame, one partition per task.

    Parameters
    ----------
    source
        A (Geo)Parquet file or directory / glob of part files (read with
        ``dask_geopandas.read_parquet``; one partition per file or row group); a delimited
        text file or glob (``.csv``, ``.txt``, ``.tsv``, ``.gz`` too) with latitude and
        longitude in degrees, read in blocks of ``blocksize`` bytes by the local loader's
        own code (:func:`relaynet.io.load_demand`: the same column spellings, delimiters,
        encodings, decimal comma and row checks; a ``.gz`` file is one block); an in-memory
        GeoDataFrame; or a dask (geo)dataframe.
    columns
        Columns to keep besides the geometry.
    npartitions
        This many partitions (delimited text: that many blocks, at least one per file;
        other sources are repartitioned; default: keep the source's partitioning, an
        in-memory frame gets one partition per :data:`DEFAULT_ROWS_PER_PARTITION` rows,
        at least two).
    blocksize
        Delimited text block size in bytes (or ``"64MB"``).

    Returns
    -------
    dask_geopandas.GeoDataFrame in EPSG:4326 (or the source CRS, converted per partition).
    A lazy frame has no room for rejected rows: computing a partition of delimited text
    with rows the loader rejects raises :class:`~relaynet.errors.InputError` naming their
    lines. :func:`relaynet.distributed.assess` and :func:`~relaynet.distributed.nearest`
    read the same partitions and report such rows instead.
    """
    parts = demand_parts(source, npartitions=npartitions, blocksize=blocksize)
    if columns is not None:
        parts = parts.select(columns)
    if parts.frame is not None:
        return parts.frame
    dask, _, _ = require_dask()
    import dask.dataframe as dd

    accepted = dask.delayed(_accepted_only, pure=False)
    return dd.from_delayed([accepted(t) for t in parts.tasks()], meta=parts.meta)


def demand_parts(
    source: Any, *, npartitions: int | None = None, blocksize: str | int = "64MB"
) -> DemandParts:
    """The partitions of a demand source (see :func:`read_demand`), not read yet."""
    _, _, dask_geopandas = require_dask()
    import dask.dataframe as dd

    if npartitions is not None and int(npartitions) < 1:
        raise ParameterError(f"npartitions={npartitions!r}: expected an integer ≥ 1")
    if isinstance(source, gpd.GeoDataFrame):
        n = npartitions or max(2, -(-len(source) // DEFAULT_ROWS_PER_PARTITION))
        ddf = dask_geopandas.from_geopandas(source, npartitions=min(n, max(1, len(source))))
        return _frame_parts(ddf, None)
    if isinstance(source, pd.DataFrame):
        raise ParameterError(
            "demand: a plain DataFrame has no geometry; pass a GeoDataFrame or a file"
        )
    if isinstance(source, dd.DataFrame):
        ddf = source
        if not isinstance(ddf, dask_geopandas.GeoDataFrame):
            ddf = _with_points(ddf, "demand frame")
        return _frame_parts(ddf, npartitions)
    if not isinstance(source, str | os.PathLike):
        raise ParameterError(
            f"demand: expected a path, a GeoDataFrame or a dask dataframe, got "
            f"{type(source).__name__}"
        )
    path = os.fspath(source)
    matches = sorted(glob.glob(path)) if any(ch in path for ch in "*?[") else [path]
    if not matches or not all(Path(m).exists() for m in matches):
        raise InputError(f"{path}: no such demand file or directory")
    if _is_delimited(matches[0]):
        return _csv_parts(matches, npartitions, blocksize)
    try:
        ddf = dask_geopandas.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read as (Geo)Parquet ({exc})") from None
    return _frame_parts(ddf, npartitions)


def _frame_parts(ddf, npartitions: int | None) -> DemandParts:
    if npartitions is not None:
        ddf = ddf.repartition(npartitions=int(npartitions))
    if ddf.crs is None:
        raise InputError("demand: the geometry has no CRS (expected EPSG:4326)")
    columns = [c for c in ddf.columns if c != ddf.geometry.name] + [ddf.geometry.name]
    return DemandParts(list(columns), frame=ddf)


# -- delimited text ---------------------------------------------------------------------------


def _is_delimited(path: str) -> bool:
    from ..io.read import CSV_SUFFIXES

    return path.lower().endswith(CSV_SUFFIXES)


def _csv_parts(paths: list[str], npartitions: int | None, blocksize) -> DemandParts:
    """Blocks of delimited files, each file laid out (header, delimiter, encoding) and its
    columns checked on the client, so that a file the workers cannot read fails here."""
    from dask.utils import parse_bytes

    from ..io.read import decompressed_chunks, delimited_layout

    if not all(_is_delimited(p) for p in paths):
        raise InputError(f"{paths[0]}: demand files mix delimited text with other formats")
    layouts = [delimited_layout(p) for p in paths]
    compressed = [p.lower().endswith(".gz") for p in paths]
    for path, packed in zip(paths, compressed, strict=True):
        if packed:  # gzip cannot be split: a bomb stops here, before the workers
            for _ in decompressed_chunks(path):
                pass
    body = [
        0 if packed else max(Path(p).stat().st_size - layout.body_start, 0)
        for p, layout, packed in zip(paths, layouts, compressed, strict=True)
    ]
    if npartitions is not None:
        counts = _apportion(body, compressed, int(npartitions))
    else:
        size = max(int(parse_bytes(blocksize)), 1)
        counts = [
            1 if packed else max(1, math.ceil(b / size))
            for b, packed in zip(body, compressed, strict=True)
        ]
    files, meta = [], None
    for path, layout, packed, n, b in zip(paths, layouts, compressed, counts, body, strict=True):
        file_meta = _meta(path, layout)
        if meta is None:
            meta = file_meta
        elif list(file_meta.columns) != list(meta.columns):
            raise InputError(
                f"{path}: its columns {list(file_meta.columns)[:20]} differ from those of "
                f"{paths[0]} {list(meta.columns)[:20]}; files read together need the same "
                "columns"
            )
        start = layout.body_start
        cuts = [start + (b * i) // n for i in range(n + 1)]
        if not packed:
            cuts = _record_cuts(path, cuts)
            n = len(cuts) - 1
        blocks = tuple(
            _Block(path, a, z, i == 0, i == n - 1, packed)
            for i, (a, z) in enumerate(zip(cuts[:-1], cuts[1:], strict=True))
        )
        files.append(_CsvFile(path, layout, blocks))
    columns = [c for c in meta.columns if c != "geometry"] + ["geometry"]
    return DemandParts(columns, files=tuple(files), meta=meta[columns])


def _apportion(sizes: list[int], fixed: list[bool], n: int) -> list[int]:
    """Blocks per file: ``n`` in all when possible, in proportion to the sizes, at least one
    per file, one for a file that cannot be split (``fixed``)."""
    counts = [1] * len(sizes)
    free = [i for i, f in enumerate(fixed) if not f and sizes[i] > 0]
    extra = n - len(sizes)
    total = sum(sizes[i] for i in free)
    if extra <= 0 or not total:
        return counts
    shares = {i: extra * sizes[i] / total for i in free}
    for i in free:
        counts[i] += int(shares[i])
    left = extra - sum(int(s) for s in shares.values())
    for i in sorted(free, key=lambda i: shares[i] - int(shares[i]), reverse=True)[:left]:
        counts[i] += 1
    return counts


def _meta(path: str, layout) -> gpd.GeoDataFrame:
    """The accepted columns of a delimited demand file (no row read): the loader's own
    checks of the header run here, on the client."""
    from ..io import load_demand
    from ..io.columns import (
        DEMAND_ALIASES,
        LAT_ALIASES,
        LATLON_ALIASES,
        LON_ALIASES,
        find_column,
        map_columns,
    )
    from ..io.read import read_delimited_block

    raw = read_delimited_block(b"", layout, path, layout.body_line, at_end=True)
    mapped = map_columns(list(raw.frame.columns), DEMAND_ALIASES, None)
    latlon = find_column(mapped, LAT_ALIASES) and find_column(mapped, LON_ALIASES)
    if not (latlon or find_column(mapped, LATLON_ALIASES)):
        raise InputError(
            f"{path}: no latitude/longitude columns (expected lat, latitude / lon, lng, "
            f"longitude, in WGS84 degrees); columns found: {list(raw.frame.columns)[:20]}"
        )
    accepted, _ = load_demand(raw)
    return accepted


def _plus(a: int, b: int) -> int:
    return a + b


def _record_cuts(path: str, cuts: list[int]) -> list[int]:
    """Byte offsets that start records: each inner cut moved to just after the first line
    end at or after it that lies outside double quotes (a quoted field may hold line
    ends), found by counting quotes from the first cut on (one pass over the file). Cuts
    that meet are merged; the first and last are kept."""
    first, last = cuts[0], cuts[-1]
    out = [first]
    pos, quotes = first, 0  # quotes seen in [first, pos); parity even = outside a field
    with open(path, "rb") as handle:
        handle.seek(first)
        for target in cuts[1:-1]:
            while pos < target:  # quotes up to the cut
                chunk = handle.read(min(_READ_BYTES, target - pos))
                if not chunk:
                    break
                quotes += chunk.count(b'"')
                pos += len(chunk)
            found = None
            while found is None:  # the first line end outside quotes from there
                chunk = handle.read(_READ_BYTES)
                if not chunk:
                    break
                at = 0
                while (end := chunk.find(b"\n", at)) >= 0:
                    quotes += chunk.count(b'"', at, end)
                    at = end + 1
                    if quotes % 2 == 0:
                        found = pos + at
                        break
                if found is None:
                    quotes += chunk.count(b'"', at)
                    pos += len(chunk)
            if found is None or found >= last:
                break
            if found > out[-1]:
                out.append(found)
            pos, quotes = found, 0
            handle.seek(found)
    out.append(last)
    return out


def _count_newlines(block: _Block) -> int:
    """Line ends in the bytes ``[start, stop)`` of the block's file."""
    count, left = 0, block.stop - block.start
    with open(block.path, "rb") as handle:
        handle.seek(block.start)
        while left > 0:
            chunk = handle.read(min(left, _READ_BYTES))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count


def _block_lines(block: _Block, layout, before: int) -> tuple[bytes, int]:
    """The block's records (its bytes: blocks start and end on records, see
    :func:`_record_cuts`) and the line number of the first of them (``before``: line ends
    in the file before ``block.start``)."""
    from ..io.read import read_decompressed

    if block.compressed:
        return read_decompressed(block.path)[layout.body_start :], layout.body_line
    with open(block.path, "rb") as handle:  # blocks start and end on records
        handle.seek(block.start)
        data = handle.read(block.stop - block.start)
    return data, before + 1


def read_block(block: _Block, layout, before: int, keep: list[str] | None) -> DemandPart:
    """One block of a delimited demand file, read and validated as
    :func:`relaynet.io.load_demand` reads and validates the whole file (see the module
    docstring)."""
    from ..io import load_demand
    from ..io.read import read_delimited_block

    data, first_line = _block_lines(block, layout, before)
    raw = read_delimited_block(data, layout, block.path, first_line, at_end=block.at_end)
    accepted, rejected = load_demand(raw)
    if keep is not None:
        accepted = accepted[[*keep, accepted.geometry.name]]
    if "file" in rejected.columns:  # an input column of that name keeps its cells
        rejected = rejected.rename(columns={"file": "input_file"})
    rejected.insert(0, "file", block.path)
    return DemandPart(accepted, rejected)


def _accepted_only(part: DemandPart) -> gpd.GeoDataFrame:
    """The accepted rows of a part, for a lazy frame (which has no room for the others)."""
    rejected = part.rejected
    if len(rejected):
        first = rejected.head(5)
        listing = "; ".join(
            f"line {r}: {m}" for r, m in zip(first["row"], first["reason"], strict=True)
        )
        raise InputError(
            f"{rejected['file'].iloc[0]}: {len(rejected)} bad rows in a partition — {listing} "
            "(relaynet.distributed.assess and nearest report them as rejected rows)"
        )
    return part.accepted


# -- frames -----------------------------------------------------------------------------------


def _pick(columns, names: tuple[str, ...], what: str, source: str) -> str:
    lowered = {str(c).lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    raise InputError(f"{source}: no {what} column (expected one of {list(names)})")


def _degrees(column: pd.Series) -> np.ndarray:
    """Coordinates as floats; text cells as the loaders read them (decimal comma)."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(float)
    from ..io.validate import numeric

    return numeric(column)[0]


def _points_partition(part: pd.DataFrame, lat: str, lon: str) -> gpd.GeoDataFrame:
    y = _degrees(part[lat])
    x = _degrees(part[lon])
    frame = part.drop(columns=[lat, lon])
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=CRS)


def _with_points(ddf, source: str, lat: str | None = None, lon: str | None = None):
    """Plain dask DataFrame with lat/lon columns → dask-geopandas frame of Points."""
    _, _, dask_geopandas = require_dask()
    lat = lat or _pick(ddf.columns, LAT_NAMES, "latitude", source)
    lon = lon or _pick(ddf.columns, LON_NAMES, "longitude", source)
    meta = _points_partition(ddf._meta, lat, lon)
    out = ddf.map_partitions(_points_partition, lat, lon, meta=meta)
    return dask_geopandas.from_dask_dataframe(out, geometry="geometry").set_crs(CRS)


__all__ = ["DEFAULT_ROWS_PER_PARTITION", "DemandPart", "DemandParts", "demand_parts", "read_demand"]
