"""``assess``: who is covered by a service standard, overall, per area, per class and per window.

One call answers "who is badly served, where, and when". "Within the standard" comes from
one travel cost source (:mod:`relaynet.costs`), the same that
:func:`relaynet.optimize.solve` uses. For each eligibility mask (the base ``where``, then
each time window):

1. when the source reduces the standard to a straight-line reach (no road graph: road
   distance and drive time *estimated* as straight line × detour at a speed, per density
   class if asked; or a straight-line-only standard), *one* radius query for all masks
   (:func:`relaynet.coverage.reach.evaluate_masks`, chunk by chunk of places so the
   pairs, tens of millions in cities, never all sit in memory): each window, each network
   and the backup count are masks over it; places with nothing in reach get their nearest
   eligible point from a k=1 query;
2. with measured costs (a :class:`relaynet.network.RoadNetwork` or the caller's cost
   table) the *covering pairs* are materialised by the source
   (:meth:`relaynet.costs.TravelCosts.covering_pairs`: straight-line pairs from the
   Locator, road or table pairs from the source, united for ``combine="any"`` or
   intersected for ``"all"``).

The result says where its numbers come from (:attr:`Assessment.drive_time_source`,
:attr:`Assessment.distance_source`: ``"estimated"`` whenever the estimate was used).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..costs import DriveEstimate, EstimatedCosts, Places, TravelCosts, travel_costs
from ..eligibility import Eligibility
from ..eligibility import masks as eligibility_masks
from ..errors import ParameterError
from ..geo import latlon, weights
from ..io.schema import DENSITY_CLASSES
from ..nearest import Locator
from ..standard import Standard
from .density import DEFAULT_THRESHOLDS, DensityThresholds, classify_density
from .kpis import _group_codes, kpi_dict, kpi_table, kpis_with_total
from .networks import network_codes, network_contribution, networks_records
from .reach import (
    SEARCH_LIMIT_M,
    check_search_limit,
    evaluate_masks,
    fill_unreached,
    thread_count,
)
from .windows import TIME_WINDOWS, window_kpis_dict
from .windows import window_table as windows_table

log = logging.getLogger(__name__)

Where = Eligibility | np.ndarray | None


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess` (frozen; tables are pandas objects — do not mutate them).

    Attributes
    ----------
    standard
        The service standard.
    access
        One row per demand place, in demand order: ``demand_id``, ``name``, the ``by``
        column, ``density_class``, ``weight``, ``lat``, ``lon`` (degrees), ``point_id``,
        ``network`` (nearest eligible point by straight line), ``distance_m``
        (great-circle metres; NaN when no point is eligible within the search limit, 100 km
        by default: *unreached*), ``drive_s`` (seconds: road time to the fastest point
        with a road network, else *estimated*), ``road_m`` when measured or asked for
        (metres along roads of that fastest trip — a road-distance standard is decided on
        the *shortest* road distance, so a covered place may show a longer ``road_m``),
        ``covered`` (bool), ``n_points`` (eligible points within the standard),
        ``n_networks`` (distinct networks among them).
    kpis
        One row ``"all"`` with :data:`~relaynet.coverage.kpis.KPI_COLUMNS`.
    by_area, by_density
        Same KPIs per value of ``by`` and per density class.
    windows
        KPIs per time window and density group: columns ``window``, ``description``,
        ``group`` (``"all"``, ``"urban"``, ``"intermediate"``, ``"rural"``) then the KPIs.
    window_access
        Per window, a table aligned with ``access``: ``point_id``, ``distance_m``,
        ``drive_s``, ``covered``, ``backup`` (≥ 2 eligible points within the standard),
        ``n_networks``.
    networks
        Coverage per network alone and marginal contribution (see
        :func:`~relaynet.coverage.networks.network_contribution`).
    by
        Name of the area column.
    where
        Description of the base eligibility.
    drive_time_source
        ``"estimated"`` (straight line × detour at a fixed speed), ``"road_network"`` or
        ``"cost_table"`` (the caller's ``costs``).
    drive_estimate
        Parameters of the estimate (used for the standard when ``"estimated"``).
    distance_source
        What the standard's distance is measured with: ``"straight_line"``,
        ``"estimated"`` (road distance = straight line × detour), ``"road_network"``,
        ``"cost_table"``; ``None`` for a time-only standard.
    travel_costs
        One line describing the travel cost source.
    demand_resolution
        What one demand point stands for, and the bias it implies.
    n_points, n_eligible
        Points given, and eligible under ``where``.
    timings
        Seconds per stage (also in ``run.json``). Each window's own work runs in threads
        beside the ``coverage`` and ``kpis`` stages; ``windows`` is only the wait for them
        after those.
    search_limit_m
        Farthest nearest point that counted as reachable, metres (``None``: no limit).
    """

    standard: Standard
    access: pd.DataFrame
    kpis: pd.DataFrame
    by_area: pd.DataFrame
    by_density: pd.DataFrame
    windows: pd.DataFrame
    window_access: Mapping[str, pd.DataFrame]
    networks: pd.DataFrame
    by: str
    where: str
    drive_time_source: str
    drive_estimate: DriveEstimate
    demand_resolution: str
    n_points: int
    n_eligible: int
    timings: Mapping[str, float] = field(default_factory=dict)
    distance_source: str | None = None
    travel_costs: str = ""
    search_limit_m: float | None = SEARCH_LIMIT_M

    @property
    def share_covered(self) -> float:
        """Share of the total weight covered (0–1)."""
        return float(self.kpis["share_covered"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: standard, parameters, overall / per-class / per-window KPIs."""
        return {
            "standard": self.standard.to_dict(),
            "where": self.where,
            "drive_time_source": self.drive_time_source,
            "distance_source": self.distance_source,
            "drive_time_estimate": self.drive_estimate.describe()
            if "estimated" in (self.drive_time_source, self.distance_source)
            else None,
            "demand_resolution": self.demand_resolution,
            "n_places": int(len(self.access)),
            "n_points": self.n_points,
            "n_eligible_points": self.n_eligible,
            "overall": kpi_dict(self.kpis.iloc[0]),
            "by_density": {str(k): kpi_dict(r) for k, r in self.by_density.iterrows()},
            "windows": window_kpis_dict(self.windows),
            "networks": networks_records(self.networks),
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class _Context:
    lat: np.ndarray
    lon: np.ndarray
    locator: Locator
    net_code: np.ndarray
    n_net: int
    standard: Standard
    source: TravelCosts
    places: Places
    radius_m: float | np.ndarray | None
    search_limit_m: float | None


def _access_costs(ctx: _Context, mask: np.ndarray, distance: np.ndarray) -> dict[str, Any]:
    """``drive_s`` (and ``road_m`` when measured, or estimated for a road standard) of
    every place's nearest eligible point, from the travel cost source."""
    costs = ctx.source.nearest_costs(ctx.places, mask, distance)
    keep_road = ctx.source.road_source != "estimated" or ctx.standard.distance_by == "road"
    if not keep_road:
        costs.pop("road_m", None)
    return costs


def _straight_result(ctx: _Context, mask: np.ndarray, reach) -> dict[str, Any]:
    """Coverage of one mask from its straight-line reach: the places with nothing in
    reach get their nearest eligible point (k=1 query), then the travel costs."""
    r = fill_unreached(reach, ctx.locator, ctx.lat, ctx.lon, mask, ctx.search_limit_m)
    return {
        "nearest_row": r.nearest_row,
        "distance_m": r.distance_m,
        **_access_costs(ctx, mask, r.distance_m),
        "covered": r.covered,
        "backup": r.backup,
        "n_points": r.n_points,
        "n_networks": r.n_networks,
        "covered_by": r.covered_by,
    }


def _evaluate_pairs(ctx: _Context, mask: np.ndarray) -> dict[str, Any]:
    """Coverage from materialised covering pairs (measured costs: road network or table)."""
    n = len(ctx.lat)
    pairs = ctx.source.covering_pairs(ctx.places, ctx.standard, mask)
    place, row = pairs.place, pairs.row
    rows, dist = (
        ctx.locator.query(ctx.lat, ctx.lon, k=1, where=mask)
        if mask.any()
        else (np.full((n, 1), -1), np.full((n, 1), np.nan))
    )
    n_points = np.bincount(place, minlength=n).astype(np.int64)
    covered_by = np.zeros((ctx.n_net, n), dtype=bool)
    for j in range(ctx.n_net):
        covered_by[j] = np.bincount(place[ctx.net_code[row] == j], minlength=n) > 0
    nearest, distance = rows[:, 0], dist[:, 0]
    if ctx.search_limit_m is not None:  # uncovered and nothing within the limit: unreached
        beyond = (n_points == 0) & (distance > ctx.search_limit_m)
        nearest[beyond], distance[beyond] = -1, np.nan
    costs = {
        name: np.where(nearest < 0, np.nan, values)
        for name, values in _access_costs(ctx, mask, distance).items()
    }
    return {
        "nearest_row": nearest,
        "distance_m": distance,
        **costs,
        "covered": n_points > 0,
        "backup": n_points >= 2,
        "n_points": n_points,
        "n_networks": covered_by.sum(axis=0).astype(np.int64),
        "covered_by": covered_by,
    }


def _evaluate(ctx: _Context, masks: list[np.ndarray]) -> list[Callable[[], dict[str, Any]]]:
    """For each eligibility mask, a task giving the nearest point, coverage and counts of
    every place.

    With a straight-line reach, the one radius query for all masks
    (:func:`~relaynet.coverage.reach.evaluate_masks`) runs here and each task only
    completes its mask (numpy and the k-d tree, safe to run in threads). Measured costs
    (road network, cost table) are evaluated here, mask by mask, and the tasks return
    the results.
    """
    if ctx.radius_m is None:
        done = [_evaluate_pairs(ctx, mask) for mask in masks]
        return [functools.partial(_given, result) for result in done]
    reach = evaluate_masks(
        ctx.locator,
        ctx.lat,
        ctx.lon,
        ctx.radius_m,
        masks,
        ctx.net_code,
        ctx.n_net,
        unreached=False,
    )
    return [
        functools.partial(_straight_result, ctx, mask, r)
        for mask, r in zip(masks, reach, strict=True)
    ]


def _given(result: dict[str, Any]) -> dict[str, Any]:
    return result


class _Stopwatch:
    """Seconds per stage, logged; calls ``progress(stage)`` as each stage starts."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._started: dict[str, float] = {}

    def start(self, name: str) -> None:
        if self.progress is not None:
            self.progress(name)
        self._started[name] = time.perf_counter()

    def stop(self, name: str) -> None:
        self.timings[name] = time.perf_counter() - self._started.pop(name)
        log.info("coverage: %s %.3f s", name, self.timings[name])


def _access_table(
    demand: gpd.GeoDataFrame,
    by: str,
    density: np.ndarray,
    weight: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    main: dict[str, Any],
    point_index: pd.Index,
    net_code: np.ndarray,
    net_names: pd.Index,
) -> pd.DataFrame:
    """The per-place table of the base eligibility (:attr:`Assessment.access`)."""
    point_id = point_index.to_numpy(object)
    network_name = net_names.to_numpy(object)[net_code]
    found = main["nearest_row"] >= 0
    safe = np.where(found, main["nearest_row"], 0)
    pad = np.array([None], dtype=object)  # no points at all (every point closed): none found
    found_id = (point_id if len(point_id) else pad)[safe]
    found_net = (network_name if len(point_id) else pad)[safe]
    columns: dict[str, Any] = {"demand_id": pd.array(_demand_ids(demand), dtype="str")}
    if "name" in demand.columns:
        columns["name"] = demand["name"].to_numpy(object)
    columns[by] = demand[by].to_numpy(object)
    for extra in ("area_id", "area_name"):
        if extra != by and extra in demand.columns:
            columns[extra] = demand[extra].to_numpy(object)
    columns.update(
        density_class=density,
        weight=weight,
        lat=lat,
        lon=lon,
        point_id=pd.array(np.where(found, found_id, None), dtype="str"),
        network=pd.array(np.where(found, found_net, None), dtype="str"),
        distance_m=main["distance_m"],
        drive_s=main["drive_s"],
    )
    if "road_m" in main:
        columns["road_m"] = main["road_m"]
    columns.update(
        covered=main["covered"], n_points=main["n_points"], n_networks=main["n_networks"]
    )
    return pd.DataFrame(columns)


def _window_result(
    task: Callable[[], dict[str, Any]],
    weight: np.ndarray,
    class_codes: np.ndarray,
    class_labels: pd.Index,
    order: list[str],
    point_index: pd.Index,
    linear,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-place table and KPIs (``"all"``, then density classes in ``order``) of one window,
    from its evaluation ``task`` (see :func:`_evaluate`)."""
    result = task()
    access = pd.DataFrame(
        {
            "point_id": _point_labels(point_index, result["nearest_row"]),
            "distance_m": result["distance_m"],
            "drive_s": result["drive_s"],
            "covered": result["covered"],
            "backup": result["backup"],
            "n_networks": result["n_networks"],
        }
    )
    # overall and per class (exact weighted quantiles, relaynet.coverage.quantiles)
    both = kpis_with_total(
        weight,
        result["covered"],
        result["distance_m"],
        result["backup"],
        result["n_networks"],
        result["drive_s"],
        class_codes,
        class_labels,
        drive_from_distance=linear,
    )
    return access, pd.concat([both.iloc[:1], both.iloc[1:].reindex(order)])


def _point_labels(point_id: pd.Index, rows: np.ndarray):
    """Point ids of ``rows`` (``-1`` → missing): categorical when ids are unique."""
    if point_id.is_unique:
        return pd.Categorical.from_codes(rows, categories=point_id)
    found = rows >= 0
    values = point_id.to_numpy(object)[np.maximum(rows, 0)]
    return pd.array(np.where(found, values, None), dtype="str")


def _demand_ids(demand: gpd.GeoDataFrame) -> np.ndarray:
    ids = demand["demand_id"] if "demand_id" in demand.columns else demand.index.to_series()
    return ids.astype(str).to_numpy(object)


def _mask_of(locator: Locator, where: Where, what: str) -> np.ndarray:
    if where is not None and not isinstance(where, Eligibility | np.ndarray):
        raise ParameterError(
            f"{what}: expected an Eligibility or a boolean mask over the points, "
            f"got {type(where).__name__}"
        )
    mask = locator.mask(where)
    return np.ones(len(locator), dtype=bool) if mask is None else np.asarray(mask, bool)


def _window_masks(locator: Locator, windows: Mapping[str, Where]) -> list[np.ndarray]:
    """Mask of every window: the hours parsed once and every instant evaluated in one pass
    over the distinct strings (:func:`relaynet.eligibility.masks`)."""
    hourly = {
        name: where
        for name, where in windows.items()
        if isinstance(where, Eligibility) and not where.is_empty
    }
    shared = dict(zip(hourly, eligibility_masks(locator.points_, hourly.values()), strict=True))
    return [
        shared[name] if name in shared else _mask_of(locator, where, f"windows[{name!r}]")
        for name, where in windows.items()
    ]


def _resolution(demand: gpd.GeoDataFrame, weight: np.ndarray) -> str:
    n = len(demand)
    mean = weight.sum() / n if n else 0.0
    source = ""
    if "location_source" in demand.columns:
        counts = demand["location_source"].astype(str).value_counts()
        source = " (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")"
    return (
        f"{n} demand points{source}, mean weight {mean:,.0f}; all the weight of a place "
        "sits at its one point, so coarse places such as communes placed at their town "
        "hall overstate access compared with a finer population grid (e.g. INSEE 200 m "
        "squares), where outlying hamlets are farther from the points"
    )


def assess(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    standard: Standard | str,
    where: Where = None,
    *,
    by: str = "area_id",
    windows: Mapping[str, Eligibility] | None = TIME_WINDOWS,
    network=None,
    costs=None,
    costs_unit: str | None = None,
    drive_estimate: DriveEstimate | None = None,
    density_thresholds: DensityThresholds = DEFAULT_THRESHOLDS,
    locator: Locator | None = None,
    progress: Callable[[str], None] | None = None,
    search_limit_m: float | None = SEARCH_LIMIT_M,
) -> Assessment:
    """Coverage of ``demand`` by the eligible ``points`` under a service ``standard``.

    Parameters
    ----------
    demand
        Demand places (canonical demand schema, Point geometries, any CRS with a CRS set):
        ``weight`` (people; 1 each when absent), ``demand_id`` (else the index), the
        ``by`` column; ``density_class`` is derived from ``weight / area_km2`` where
        missing (:func:`~relaynet.coverage.density.classify_density`).
    points
        Relay points (canonical point schema); ``network`` groups them for the per-network
        table; ``opening_hours`` is needed by the time windows.
    standard
        :class:`~relaynet.standard.Standard` or its text (``"5km|20min"``).
    where
        Base eligibility (Eligibility or boolean mask over ``points``); every window is
        evaluated on top of it.
    by
        Demand column for per-area KPIs (``"area_id"``: département for the bundled data).
    windows
        ``{name: Eligibility}`` time windows (default: the four of
        :data:`~relaynet.coverage.windows.TIME_WINDOWS`); ``None`` or ``{}`` for none.
    network
        Optional :class:`relaynet.network.RoadNetwork`: drive times and road distances
        measured by road. Without it (and without ``costs``), they are estimated with
        ``drive_estimate``.
    costs, costs_unit
        Your own travel costs instead of a network: a table ``demand_id, point_id, cost``
        or a sparse matrix (demand × points), ``costs_unit`` ``"m"`` or ``"s"``; pairs
        absent from it are not within reach (see :class:`relaynet.costs.CostTable`). A
        :class:`relaynet.costs.TravelCosts` source is taken as is.
    drive_estimate
        Detour factor and speed of estimated drive times and road distances (default
        ×1.3 at 50 km/h; per density class if wished, see :mod:`relaynet.costs`).
    density_thresholds
        People per km² for derived density classes.
    locator
        A :class:`~relaynet.nearest.Locator` already built on ``points`` (reused).
    progress
        Called with the name of each stage as it starts (progress bars in the CLI).
    search_limit_m
        Farthest nearest point, in straight-line metres, that still counts as reachable
        (default 100 km): a place with no eligible point that near — on another island
        or continent, e.g. Réunion when every point open on a Sunday evening is in
        mainland France — is *unreached* (no nearest point, distance NaN, counted in
        ``unreached_weight``) instead of lengthening mean distances by thousands of
        kilometres. ``None``: no limit.

    Returns
    -------
    Assessment
    """
    watch = _Stopwatch(progress)
    stage, done = watch.start, watch.stop

    stage("prepare")
    if isinstance(standard, str):
        standard = Standard.parse(standard)
    if not isinstance(standard, Standard):
        raise ParameterError(
            f"standard: expected a Standard or text such as '5km|20min', got {standard!r}"
        )
    if not isinstance(demand, gpd.GeoDataFrame):
        raise ParameterError("demand: expected a GeoDataFrame (see relaynet.load_demand)")
    if not isinstance(points, gpd.GeoDataFrame):
        raise ParameterError("points: expected a GeoDataFrame (see relaynet.load_points)")
    if by not in demand.columns:
        raise ParameterError(
            f"by={by!r}: demand has no such column; columns are {list(demand.columns)}"
        )
    if len(demand) == 0:
        raise ParameterError("demand: no places to assess (the demand table is empty)")
    source = travel_costs(network, costs, costs_unit, drive_estimate)
    estimate = source.estimate
    lat, lon = latlon(demand, "demand")
    weight = weights(demand)
    if locator is None:
        locator = Locator(points)
    elif locator.points_ is not points:
        raise ParameterError("locator: was built on other points than those given")
    base = _mask_of(locator, where, "where")
    net_code, net_names = network_codes(points)
    density = classify_density(demand, density_thresholds).to_numpy(object)
    done("prepare")

    places = Places(_demand_ids(demand), lat, lon, density, locator)
    ctx = _Context(
        lat=lat,
        lon=lon,
        locator=locator,
        net_code=net_code,
        n_net=len(net_names),
        standard=standard,
        source=source,
        places=places,
        radius_m=source.reach_m(standard, density),
        search_limit_m=check_search_limit(search_limit_m),
    )

    windows = dict(windows or {})
    if windows and "opening_hours" not in points.columns:
        raise ParameterError(
            "points have no 'opening_hours' column: time windows cannot be evaluated "
            "(pass windows=None)"
        )
    stage("window masks")
    masks = [base] + [base & mask for mask in _window_masks(locator, windows)]
    done("window masks")

    stage("coverage")
    main_task, *window_tasks = _evaluate(ctx, masks)
    # each window's table and KPIs run beside the main tables (numpy releases the GIL)
    class_codes, class_labels = _group_codes(pd.Categorical(density))  # once for all windows
    order = [c for c in (*DENSITY_CLASSES, "unknown") if c in class_labels]
    uniform = isinstance(source, EstimatedCosts) and estimate.uniform
    linear = estimate.drive_s if uniform else None
    point_index = pd.Index(points["point_id"].astype(str).to_numpy(object))
    with ThreadPoolExecutor(thread_count(locator.workers, len(window_tasks))) as pool:
        window_futures = [
            pool.submit(
                _window_result,
                task,
                weight,
                class_codes,
                class_labels,
                order,
                point_index,
                linear,
            )
            for task in window_tasks
        ]
        main = main_task()
        access = _access_table(
            demand, by, density, weight, lat, lon, main, point_index, net_code, net_names
        )
        done("coverage")

        stage("kpis")
        kpis = kpi_table(access, drive_from_distance=linear)
        by_area = kpi_table(access, by, drive_from_distance=linear)
        by_density = kpi_table(access, "density_class", drive_from_distance=linear)
        by_density = by_density.reindex([c for c in order if c in by_density.index])
        eligible_per_net = np.bincount(net_code[base], minlength=len(net_names))
        networks = network_contribution(main["covered_by"], weight, net_names, eligible_per_net)
        done("kpis")

        stage("windows")
        blocks = []
        window_access: dict[str, pd.DataFrame] = {}
        for (name, eligibility), future in zip(windows.items(), window_futures, strict=True):
            window_access[name], block = future.result()
            blocks.append((name, eligibility, block))
        done("windows")
    window_table = windows_table(blocks, kpis.columns)
    return Assessment(
        standard=standard,
        access=access,
        kpis=kpis,
        by_area=by_area,
        by_density=by_density,
        windows=window_table,
        window_access=MappingProxyType(window_access),
        networks=networks,
        by=by,
        where=where.describe()
        if isinstance(where, Eligibility)
        else ("all points" if where is None else f"custom mask ({int(base.sum())} points)"),
        drive_time_source=source.time_source,
        drive_estimate=estimate,
        demand_resolution=_resolution(demand, weight),
        n_points=len(points),
        n_eligible=int(base.sum()),
        timings=MappingProxyType(dict(watch.timings)),
        distance_source=source.distance_source(standard),
        travel_costs=source.describe(),
        search_limit_m=ctx.search_limit_m,
    )


__all__ = ["Assessment", "assess"]
