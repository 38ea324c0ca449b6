"""What runs on the workers: one Locator per worker, and the work on one demand partition.

Nothing here computes a distance or a KPI itself: a partition calls
:meth:`relaynet.nearest.Locator.nearest` (access table) or, for coverage, the local
engine's own :func:`relaynet.coverage.reach.evaluate_masks` (one radius query, every
eligibility a mask over it), :func:`relaynet.coverage.kpis.kpi_sums` and
:func:`relaynet.coverage.networks.network_sums` — on a Locator built from the broadcast
points, with the eligibility masks evaluated once by
:meth:`relaynet.eligibility.Eligibility.mask` on the client.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..coverage.density import DensityThresholds, classify_density
from ..coverage.estimate import DriveEstimate
from ..coverage.kpis import SUM_COLUMNS, kpi_sums
from ..coverage.networks import NETWORK_SUM_COLUMNS, network_codes, network_sums
from ..coverage.reach import SEARCH_LIMIT_M, evaluate_masks
from ..eligibility import Eligibility
from ..geo import weights
from ..nearest import Locator, places_latlon
from ._source import DemandPart

POINT_COLUMNS = ("point_id", "name", "network", "kind")
"""Point columns shipped to the workers (with the geometry)."""

_CACHE_SIZE = 4
_LOCATORS: OrderedDict[str, Locator] = OrderedDict()
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Broadcast:
    """Everything a partition needs about the points; scattered once to every worker.

    Attributes
    ----------
    fingerprint
        Digest of the point ids and coordinates: key of the per-worker Locator cache.
    points
        Slim points (``point_id``, ``name``, ``network``, ``kind``, geometry).
    mask
        Eligible points under the base eligibility (``None``: all), evaluated once on the
        client by ``Eligibility.mask``.
    masks
        ``(window, mask)`` per evaluated eligibility: window ``""`` is the base, then one
        per time window (base & window).
    network_code
        Network code of every point.
    network_names
        Network names by code.
    threads
        Threads per tree query on a worker.
    """

    fingerprint: str
    points: gpd.GeoDataFrame
    mask: np.ndarray | None
    masks: tuple[tuple[str, np.ndarray], ...] = field(default=())
    network_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    network_names: tuple[str, ...] = field(default=())
    threads: int = 1


def fingerprint(locator: Locator) -> str:
    """Digest of the points' ids and unit vectors (hex)."""
    digest = hashlib.blake2b(digest_size=16)
    ids = locator.points_["point_id"].astype(str).to_numpy(object)
    digest.update("\x1f".join(ids).encode())
    digest.update(np.ascontiguousarray(locator.xyz_).tobytes())
    return digest.hexdigest()


def make_broadcast(
    points: gpd.GeoDataFrame,
    where: Eligibility | np.ndarray | None,
    windows: Mapping[str, Eligibility | np.ndarray] | None = None,
    threads: int = 1,
) -> Broadcast:
    """Validate the points, evaluate every eligibility once, and pack what workers need."""
    locator = Locator(points)
    base = locator.mask(where)
    codes, names = network_codes(points)
    everything = np.ones(len(points), dtype=bool)
    full = everything if base is None else base
    masks = [("", full)]
    for name, eligibility in dict(windows or {}).items():
        window = locator.mask(eligibility)
        masks.append((str(name), full if window is None else full & window))
    slim = points[[c for c in POINT_COLUMNS if c in points.columns] + [points.geometry.name]]
    return Broadcast(
        fingerprint(locator),
        slim,
        base,
        tuple(masks),
        codes,
        tuple(str(x) for x in names),
        int(threads),
    )


def worker_locator(broadcast: Broadcast) -> Locator:
    """The Locator of these points on this worker, built on first use and then reused."""
    with _LOCK:
        locator = _LOCATORS.get(broadcast.fingerprint)
        if locator is None:
            locator = Locator(broadcast.points, workers=broadcast.threads)
            _LOCATORS[broadcast.fingerprint] = locator
            while len(_LOCATORS) > _CACHE_SIZE:
                _LOCATORS.popitem(last=False)
        else:
            _LOCATORS.move_to_end(broadcast.fingerprint)
        return locator


# -- nearest ----------------------------------------------------------------------------------


def _split(piece: gpd.GeoDataFrame | DemandPart) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """The accepted rows of a partition and its rejected rows (None: a frame's partition)."""
    if isinstance(piece, DemandPart):
        return piece.accepted, piece.rejected
    return piece, None


def nearest_of(
    piece: gpd.GeoDataFrame | DemandPart, *args
) -> tuple[pd.DataFrame | int, pd.DataFrame | None]:
    """:func:`nearest_partition` of a partition's accepted rows, and its rejected rows."""
    accepted, rejected = _split(piece)
    return nearest_partition(accepted, *args), rejected


def nearest_partition(
    part: gpd.GeoDataFrame,
    broadcast: Broadcast,
    k: int,
    max_distance_m: float | None,
    output: str | None = None,
    number: int = 0,
) -> pd.DataFrame | int:
    """Access table of one partition (or its row count, once written to ``output``)."""
    locator = worker_locator(broadcast)
    table = locator.nearest(part, k=k, where=broadcast.mask, max_distance_m=max_distance_m)
    if output is None:
        return table
    path = Path(output) / f"part.{number:05d}.parquet"
    table.to_parquet(path, index=False)
    return len(table)


# -- coverage partial sums --------------------------------------------------------------------


@dataclass(frozen=True)
class Partials:
    """Additive results of some partitions.

    ``sums[(window, key)]``: DataFrame indexed by group label with the
    :data:`~relaynet.coverage.kpis.SUM_COLUMNS` of :func:`~relaynet.coverage.kpis.kpi_sums`, for
    window ``""`` (the base eligibility) or a time window name, and grouping ``key``
    (``"all"``, the ``by`` column, ``"density_class"``).
    ``hist[(window, key)]``: DataFrame ``group, bin, weight`` — weight of places whose
    nearest distance lies in ``((bin - 1) · resolution, bin · resolution]`` metres;
    ``bin = -1`` for places with no eligible point.
    ``networks``: :func:`~relaynet.coverage.networks.network_sums` of the base
    eligibility, indexed by network code.
    ``rejected``: the input rows the partitions' reader rejected (``None``: none read by
    it), in partition order.
    """

    sums: dict[tuple[str, str], pd.DataFrame]
    hist: dict[tuple[str, str], pd.DataFrame]
    networks: pd.DataFrame
    rejected: pd.DataFrame | None = None


def partials_of(piece: gpd.GeoDataFrame | DemandPart, *args) -> Partials:
    """:func:`partials_partition` of a partition's accepted rows, carrying its rejected rows."""
    accepted, rejected = _split(piece)
    return replace(partials_partition(accepted, *args), rejected=rejected)


def partials_partition(
    part: gpd.GeoDataFrame,
    broadcast: Broadcast,
    radius_m: float,
    by: str,
    resolution_m: float,
    drive: DriveEstimate,
    thresholds: DensityThresholds,
    search_limit_m: float | None = SEARCH_LIMIT_M,
) -> Partials:
    """Coverage sums and distance histograms of one demand partition, for every mask.

    Per-place coverage is the local engine's (:func:`~relaynet.coverage.reach.evaluate_masks`
    with ``radius_m``, the standard's straight-line reach); drive times are ``drive``'s
    estimate of the nearest distance.
    """
    locator = worker_locator(broadcast)
    _, lat, lon = places_latlon(part)
    weight = weights(part)
    n = len(lat)
    groups = {"all": (np.zeros(n, dtype=np.int64), pd.Index(["all"], dtype=object))}
    density = classify_density(part.assign(weight=weight), thresholds)
    for key, values in ((by, part[by]), ("density_class", density)):
        labels = values.astype(object).where(values.notna(), "unknown")
        codes, uniques = pd.factorize(labels)
        groups[key] = (codes, pd.Index(uniques.astype(object), dtype=object))
    sums, hist = {}, {}
    network_table = pd.DataFrame(columns=list(NETWORK_SUM_COLUMNS), dtype=float)
    n_networks = len(broadcast.network_names)
    reach = evaluate_masks(
        locator,
        lat,
        lon,
        radius_m,
        [mask for _, mask in broadcast.masks],
        broadcast.network_code,
        n_networks,
        search_limit_m=search_limit_m,
    )
    for (window, _), result in zip(broadcast.masks, reach, strict=True):
        nearest_m = result.distance_m
        reached = np.isfinite(nearest_m)
        drive_s = drive.drive_s(nearest_m)
        bins = np.full(n, -1, dtype=np.int64)
        bins[reached] = np.ceil(nearest_m[reached] / resolution_m).astype(np.int64)
        keys = ("all", by, "density_class") if window == "" else ("all", "density_class")
        for key in keys:
            codes, labels = groups[key]
            values = kpi_sums(
                weight,
                result.covered,
                nearest_m,
                result.backup,
                result.n_networks,
                drive_s,
                codes,
                len(labels),
            )
            sums[(window, key)] = pd.DataFrame(values, index=labels, columns=list(SUM_COLUMNS))
            hist[(window, key)] = _histogram(codes, labels, bins, weight)
        if window == "" and n:  # a partition whose every row was rejected has no place
            network_table = network_sums(result.covered_by, weight)
    return Partials(sums, hist, network_table)


def _histogram(codes, labels: pd.Index, bins: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    span = np.int64(bins.max() + 2) if len(bins) else np.int64(1)
    keys, inverse = np.unique(codes * span + (bins + 1), return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=weight, minlength=len(keys))
    return pd.DataFrame(
        {
            "group": labels.take(keys // span).to_numpy(object),
            "bin": (keys % span) - 1,
            "weight": summed,
        }
    )


def merge_partials(*parts: Partials) -> Partials:
    """Sum partial results (associative: used in a tree reduction)."""
    if len(parts) == 1:
        return parts[0]
    sums, hist = {}, {}
    for key in parts[0].sums:
        sums[key] = pd.concat([p.sums[key] for p in parts]).groupby(level=0, sort=False).sum()
        hist[key] = (
            pd.concat([p.hist[key] for p in parts], ignore_index=True)
            .groupby(["group", "bin"], sort=False, as_index=False)["weight"]
            .sum()
        )
    networks = pd.concat([p.networks for p in parts]).groupby(level=0).sum()
    rejected = [p.rejected for p in parts if p.rejected is not None]
    return Partials(
        sums, hist, networks, pd.concat(rejected, ignore_index=True) if rejected else None
    )


__all__ = [
    "Broadcast",
    "Partials",
    "make_broadcast",
    "merge_partials",
    "nearest_of",
    "nearest_partition",
    "partials_of",
    "partials_partition",
    "worker_locator",
]
