"""Travel costs: where "within the standard" comes from — one source for assess and solve.

A service standard (:class:`~relaynet.standard.Standard`) has up to three parts: a
straight-line distance, a road distance and a travel time. A *travel cost source* says which
(place, point) pairs are within each part; :func:`relaynet.coverage.assess` and
:func:`relaynet.optimize.solve` both ask the same source, so "covered" means one thing in a
coverage report and in a siting model. Three sources:

:class:`EstimatedCosts` (the default, no road data)
    Straight-line distances are exact (great circle, :class:`~relaynet.nearest.Locator`
    radius queries). Road distance and drive time are **estimated** from the straight line
    with :class:`DriveEstimate` (detour factor and speed, per density class if wished), and
    every output says ``"estimated"``.
:class:`RoadCosts` (a :class:`relaynet.network.RoadNetwork`)
    Drive time and road distance measured on the graph (bounded multi-source searches);
    the straight-line part still comes from the Locator.
:class:`CostTable` (your own router's output, or a published cost matrix)
    A long table ``demand_id, point_id, cost`` or a scipy sparse matrix (demand × points),
    in metres or seconds, as the caller says. Pairs absent from the table are *not within
    reach*. A table in metres answers the standard's distance (whether it says "straight"
    or "road": your metres are the distance you mean); a table in seconds answers its
    time, and a straight-line distance part still comes from the Locator.

Estimate defaults and where they come from
------------------------------------------
``detour_factor = 1.3``
    Ratio of road distance to straight-line distance. Published circuity factors for road
    travel in Western Europe are about 1.2–1.4 (Ballou, Rahardja & Sakai, 2002,
    *Transportation Research A* 36: "Selected country circuity factors for road travel
    distance estimation"); rural trips to the nearest village sit in the upper half.
``speed_kmh = 50``
    Average door-to-door speed of a short car trip (village streets at 30–50 km/h,
    departmental roads at 80 km/h, start/stop). With both defaults, 20 minutes of driving
    is about 16.7 km of road, i.e. **12.8 km straight-line**, and 5 km by road is
    **3.85 km straight-line**.

The same values apply to every density class by default: we know of no published source
giving French detour factors or short-trip speeds per urban/intermediate/rural class, so
relaynet does not invent them. Give your own with ``DriveEstimate(by_class={"rural":
(1.4, 45.0)})`` (detour factor, km/h) — e.g. calibrated on a :class:`RoadNetwork` of a
sample area — and the estimate then depends on each place's ``density_class``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .errors import InputError, ParameterError
from .geo import haversine_m
from .standard import Standard

log = logging.getLogger(__name__)

DETOUR_FACTOR = 1.3
"""Default road/straight-line distance ratio (dimensionless)."""

SPEED_KMH = 50.0
"""Default average door-to-door car speed for estimated drive times, km/h."""

Part = Literal["straight", "road", "time"]


def _check_pair(detour: float, speed: float, what: str) -> None:
    if not (np.isfinite(detour) and detour >= 1.0):
        raise ParameterError(f"{what}: detour factor must be a number ≥ 1, got {detour!r}")
    if not (np.isfinite(speed) and speed > 0):
        raise ParameterError(f"{what}: speed must be a positive number of km/h, got {speed!r}")


@dataclass(frozen=True)
class DriveEstimate:
    """Estimated car travel from straight-line distance::

        road_m = distance_m * detour_factor
        drive_s = road_m / (speed_kmh / 3.6)

    Parameters
    ----------
    detour_factor
        Road distance / great-circle distance (≥ 1), default 1.3 (see the module notes).
    speed_kmh
        Average speed over the road distance, km/h, default 50.
    by_class
        Optional ``{density_class: (detour_factor, speed_kmh)}`` for classes that differ
        (``"urban"``, ``"intermediate"``, ``"rural"``); other classes use the two defaults.
        Stored as a sorted tuple, so the estimate stays hashable and picklable.
    """

    detour_factor: float = DETOUR_FACTOR
    speed_kmh: float = SPEED_KMH
    by_class: Any = ()

    def __post_init__(self) -> None:
        _check_pair(self.detour_factor, self.speed_kmh, "DriveEstimate")
        # {class: (detour, km/h)}, or the stored form: (class, detour, km/h) triples
        items = (
            [(k, *v) for k, v in self.by_class.items()]
            if isinstance(self.by_class, Mapping)
            else self.by_class
        )
        try:
            rows = tuple(sorted((str(k), float(d), float(s)) for k, d, s in items))
        except (TypeError, ValueError):
            raise ParameterError(
                "DriveEstimate.by_class: expected {density_class: (detour_factor, speed_kmh)}, "
                f"got {self.by_class!r}"
            ) from None
        for name, detour, speed in rows:
            _check_pair(detour, speed, f"DriveEstimate.by_class[{name!r}]")
        object.__setattr__(self, "by_class", rows)

    @property
    def uniform(self) -> bool:
        """True when every density class uses the same detour factor and speed."""
        return all(d == self.detour_factor and s == self.speed_kmh for _, d, s in self.by_class)

    @property
    def speed_ms(self) -> float:
        """Default speed in metres per second."""
        return self.speed_kmh / 3.6

    def _per_place(self, density, index: int, default: float):
        if density is None or not self.by_class:
            return default
        labels = np.asarray(density, dtype=object)
        out = np.full(labels.shape, default, dtype=float)
        for row in self.by_class:
            out[labels == row[0]] = row[index]
        return out

    def detour(self, density=None):
        """Detour factor: the default, or one per place from its density class labels."""
        return self._per_place(density, 1, self.detour_factor)

    def speeds_ms(self, density=None):
        """Speed in m/s: the default, or one per place from its density class labels."""
        return self._per_place(density, 2, self.speed_kmh) / 3.6

    def road_m(self, distance_m, density=None):
        """Estimated road distance in metres for straight-line ``distance_m`` (metres)."""
        return np.asarray(distance_m, dtype=float) * self.detour(density)

    def drive_s(self, distance_m, density=None):
        """Estimated drive time in seconds for straight-line ``distance_m`` (metres)."""
        return self.road_m(distance_m, density) / self.speeds_ms(density)

    def max_distance_m(self, drive_s: float, density=None):
        """Straight-line distance (metres) reachable within ``drive_s`` seconds."""
        out = float(drive_s) * self.speeds_ms(density) / self.detour(density)
        return float(out) if np.ndim(out) == 0 else out

    def straight_m(self, road_m: float, density=None):
        """Straight-line distance (metres) whose estimated road distance is ``road_m``."""
        out = float(road_m) / self.detour(density)
        return float(out) if np.ndim(out) == 0 else out

    def describe(self) -> str:
        """``"straight line × 1.3 at 50 km/h"`` (then any per-class values)."""
        text = f"straight line × {self.detour_factor:g} at {self.speed_kmh:g} km/h"
        extra = [f"{name} × {d:g} at {s:g} km/h" for name, d, s in self.by_class]
        return text + (f" ({'; '.join(extra)})" if extra else "")

    def to_dict(self) -> dict:
        """JSON form: ``detour_factor``, ``speed_kmh``, ``by_class`` ({class: [detour, km/h]})."""
        return {
            "detour_factor": self.detour_factor,
            "speed_kmh": self.speed_kmh,
            "by_class": {name: [d, s] for name, d, s in self.by_class},
        }


@dataclass(frozen=True)
class Places:
    """The places a source answers for, and the points it measures to.

    Attributes
    ----------
    demand_ids
        Place ids (str), in demand order.
    lat, lon
        Place coordinates in degrees.
    density
        Density class label of every place (``None`` when the estimate does not need it).
    locator
        :class:`~relaynet.nearest.Locator` over the points (straight-line queries).
    """

    demand_ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    density: np.ndarray | None
    locator: Any

    @property
    def points(self):
        return self.locator.points_

    @property
    def point_ids(self) -> np.ndarray:
        return self.locator.points_["point_id"].astype(str).to_numpy(object)


@dataclass(frozen=True)
class Pairs:
    """(place, point) pairs within a standard: positions, sorted by place then point.

    ``drive_s`` / ``road_m`` hold the measured (or estimated) cost of each pair where the
    source knows it, NaN elsewhere; ``None`` when the source has no such cost at all.
    """

    place: np.ndarray
    row: np.ndarray
    drive_s: np.ndarray | None = None
    road_m: np.ndarray | None = None


def _keys(place, row, n_points: int) -> np.ndarray:
    return np.asarray(place, np.int64) * np.int64(max(n_points, 1)) + np.asarray(row, np.int64)


def _lookup(keys: np.ndarray, known_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Value of each key in (sorted, unique) ``known_keys``, NaN when absent."""
    out = np.full(len(keys), np.nan)
    if len(known_keys) and len(keys):
        at = np.minimum(np.searchsorted(known_keys, keys), len(known_keys) - 1)
        hit = known_keys[at] == keys
        out[hit] = values[at[hit]]
    return out


class TravelCosts:
    """Base of the travel cost sources (see the module docstring).

    Subclasses answer :meth:`part_pairs` for the parts they measure; this class combines
    the parts of a standard (``any`` = union, ``all`` = intersection) in
    :meth:`covering_pairs`, which is what assess and the optimizer call.
    """

    time_source = "estimated"
    """What drive times come from: ``"estimated"``, ``"road_network"`` or ``"cost_table"``."""

    estimate: DriveEstimate

    def distance_source(self, standard: Standard) -> str | None:
        """What the standard's distance part is measured with (``None``: it has none)."""
        if standard.distance_m is None:
            return None
        return "straight_line" if standard.distance_by == "straight" else self.road_source

    road_source = "estimated"

    def reach_m(self, standard: Standard, density=None) -> np.ndarray | float | None:
        """Straight-line radius (metres, per place or one) equivalent to the whole standard,
        or ``None`` when the source needs the pairs themselves (measured costs)."""
        if standard.drive_s is None and standard.distance_by == "straight":
            return float(standard.distance_m)
        return None

    def part_pairs(
        self, places: Places, part: Part, limit: float, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(place, point row, cost or None)`` of every eligible pair within ``limit`` of
        one part (``"straight"``/``"road"`` metres, ``"time"`` seconds)."""
        if part == "straight":
            place, row, dist = places.locator.within_arrays(
                places.lat, places.lon, limit, where=mask
            )
            return place, row, dist
        raise ParameterError(f"{type(self).__name__} cannot measure the {part} part")

    def covering_pairs(self, places: Places, standard: Standard, mask: np.ndarray) -> Pairs:
        """Eligible (place, point) pairs within ``standard``, per this source."""
        n_pts = len(places.locator)
        step = np.int64(max(n_pts, 1))
        reach = self.reach_m(standard, places.density)
        if reach is not None:  # one radius query: the same predicate as assess's nearest test
            if not (mask.any() and len(places.lat)):
                return Pairs(np.empty(0, np.int64), np.empty(0, np.int64))
            place, row, _ = places.locator.within_arrays(places.lat, places.lon, reach, mask)
            keys = np.sort(_keys(place, row, n_pts))
            return Pairs(keys // step, keys % step)
        parts: list[tuple[Part, float]] = []
        if standard.distance_m is not None:
            kind: Part = "straight" if standard.distance_by == "straight" else "road"
            parts.append((kind, float(standard.distance_m)))
        if standard.drive_s is not None:
            parts.append(("time", float(standard.drive_s)))
        empty = np.empty(0, np.int64)
        key_sets, costs = [], {}
        for kind, limit in parts:
            if mask.any() and len(places.lat):
                place, row, cost = self.part_pairs(places, kind, limit, mask)
            else:
                place, row, cost = empty, empty, np.empty(0)
            keys, first = np.unique(_keys(place, row, n_pts), return_index=True)
            key_sets.append(keys)
            if cost is not None and kind != "straight":
                costs["drive_s" if kind == "time" else "road_m"] = (
                    keys,
                    np.asarray(cost, float)[first],
                )
        if len(key_sets) == 2:
            combine = np.union1d if standard.combine == "any" else np.intersect1d
            keys = combine(key_sets[0], key_sets[1])
        else:
            keys = key_sets[0]
        place, row = keys // step, keys % step
        out = {name: _lookup(keys, *known) for name, known in costs.items()}
        return Pairs(place, row, out.get("drive_s"), out.get("road_m"))

    def nearest_costs(
        self, places: Places, mask: np.ndarray, distance_m: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Per place, the travel cost to its nearest eligible point for the access table:
        ``drive_s`` (seconds) and, where known, ``road_m`` (metres)."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class EstimatedCosts(TravelCosts):
    """Straight line exact; road distance and drive time estimated with ``estimate``."""

    time_source = "estimated"
    road_source = "estimated"

    def __init__(self, estimate: DriveEstimate | None = None) -> None:
        self.estimate = estimate if estimate is not None else DriveEstimate()

    def reach_m(self, standard: Standard, density=None):
        est = self.estimate
        reach = None
        if standard.distance_m is not None:
            reach = (
                float(standard.distance_m)
                if standard.distance_by == "straight"
                else est.straight_m(standard.distance_m, density)
            )
        if standard.drive_s is not None:
            by_time = est.max_distance_m(standard.drive_s, density)
            if reach is None:
                reach = by_time
            else:
                pick = np.maximum if standard.combine == "any" else np.minimum
                reach = pick(reach, by_time)
        return float(reach) if np.ndim(reach) == 0 else np.asarray(reach, float)

    def part_pairs(self, places, part, limit, mask):
        if part == "straight":
            return super().part_pairs(places, part, limit, mask)
        est = self.estimate
        radius = (
            est.straight_m(limit, places.density)
            if part == "road"
            else est.max_distance_m(limit, places.density)
        )
        place, row, dist = places.locator.within_arrays(places.lat, places.lon, radius, where=mask)
        density = None if places.density is None else places.density[place]
        cost = est.road_m(dist, density) if part == "road" else est.drive_s(dist, density)
        return place, row, cost

    def covering_pairs(self, places, standard, mask):
        pairs = super().covering_pairs(places, standard, mask)
        # every pair has an estimated cost, whichever part admitted it
        loc = places.locator
        dist = haversine_m(
            places.lat[pairs.place],
            places.lon[pairs.place],
            loc.lat_[pairs.row],
            loc.lon_[pairs.row],
        )
        density = None if places.density is None else places.density[pairs.place]
        road_m = self.estimate.road_m(dist, density) if standard.distance_by == "road" else None
        drive_s = self.estimate.drive_s(dist, density) if standard.drive_s is not None else None
        return Pairs(pairs.place, pairs.row, drive_s, road_m)

    def nearest_costs(self, places, mask, distance_m):
        out = {"drive_s": self.estimate.drive_s(distance_m, places.density)}
        out["road_m"] = self.estimate.road_m(distance_m, places.density)
        return out

    def describe(self) -> str:
        return self.estimate.describe()


class RoadCosts(TravelCosts):
    """Drive time and road distance measured on a :class:`relaynet.network.RoadNetwork`."""

    time_source = "road_network"
    road_source = "road_network"

    def __init__(self, network, estimate: DriveEstimate | None = None) -> None:
        if not hasattr(network, "within") or not hasattr(network, "nearest"):
            raise ParameterError(
                f"network: expected a relaynet RoadNetwork, got {type(network).__name__}"
            )
        if getattr(network, "mode", "drive") != "drive":
            log.warning("network mode is %r: 'drive_s' holds its travel times", network.mode)
        self.network = network
        self.estimate = estimate if estimate is not None else DriveEstimate()
        self._by_length = None

    def length_network(self):
        """The same graph with edge lengths as weights: road-distance searches (built once)."""
        if self._by_length is None:
            from .network import RoadNetwork

            G = self.network.to_networkx()
            nodes = list(G.nodes)
            index = {node: i for i, node in enumerate(nodes)}
            edges = np.array(
                [(index[a], index[b], d["length"]) for a, b, d in G.edges(data=True)], float
            ).reshape(-1, 3)
            length = np.maximum(edges[:, 2], 1e-3)  # a zero-length edge still costs a step
            self._by_length = RoadNetwork(
                np.asarray(nodes),
                np.array([G.nodes[x]["y"] for x in nodes], float),
                np.array([G.nodes[x]["x"] for x in nodes], float),
                edges[:, 0].astype(np.int64),
                edges[:, 1].astype(np.int64),
                length,
                length,
                mode=self.network.mode,
                max_snap_m=self.network.max_snap_m,
            )
        return self._by_length

    def part_pairs(self, places, part, limit, mask):
        if part == "straight":
            return super().part_pairs(places, part, limit, mask)
        net = self.network if part == "time" else self.length_network()
        sub = places.points[mask]
        table = net.within((places.lat, places.lon), sub, limit)
        place = table["demand_id"].astype(np.int64).to_numpy()
        ids = pd.Index(places.point_ids)
        row = ids.get_indexer(table["point_id"].astype(str)).astype(np.int64)
        return place, row, table[net.time_column].to_numpy(float)

    def nearest_costs(self, places, mask, distance_m):
        n = len(places.lat)
        if not mask.any():
            return {"drive_s": np.full(n, np.nan), "road_m": np.full(n, np.nan)}
        road = self.network.nearest((places.lat, places.lon), places.points[mask], k=1)
        return {
            "drive_s": road[self.network.time_column].to_numpy(float),
            "road_m": road["road_m"].to_numpy(float),
        }

    def describe(self) -> str:
        return f"road network ({self.network.n_nodes} nodes)"


class CostTable(TravelCosts):
    """Your own travel costs: a long table or a sparse matrix, in metres or seconds.

    Parameters
    ----------
    costs
        A DataFrame with columns ``demand_id, point_id, cost`` (ids matched as text), or a
        ``scipy.sparse`` matrix/array of shape (demand places × points) in the order of the
        demand and points (sites: existing first, then candidates, for
        :func:`relaynet.optimize.solve`) given alongside — every *stored* entry is a pair
        in reach at that cost, explicit zeros included. Absent pairs are not within reach.
    unit
        ``"m"`` (metres: the table answers the standard's distance, straight or road) or
        ``"s"`` (seconds: it answers the standard's time).
    """

    time_source = "cost_table"
    road_source = "cost_table"

    def __init__(self, costs, unit: str) -> None:
        if unit not in ("m", "s"):
            raise ParameterError(f"costs unit must be 'm' (metres) or 's' (seconds), got {unit!r}")
        self.unit = unit
        self.estimate = DriveEstimate()  # not used for coverage: the table is the measure
        if sparse.issparse(costs):
            coo = sparse.coo_array(costs)
            self._sparse = coo
            self.table = None
            values = np.asarray(coo.data, float)
        elif isinstance(costs, pd.DataFrame):
            missing = {"demand_id", "point_id", "cost"} - set(costs.columns)
            if missing:
                raise InputError(
                    f"costs table lacks columns {sorted(missing)} (expected demand_id, "
                    f"point_id, cost), has {list(costs.columns)[:10]}"
                )
            self._sparse = None
            values = pd.to_numeric(costs["cost"], errors="coerce").to_numpy(float)
            self.table = pd.DataFrame(
                {
                    "demand_id": costs["demand_id"].astype(str).to_numpy(object),
                    "point_id": costs["point_id"].astype(str).to_numpy(object),
                    "cost": values,
                }
            )
        else:
            raise ParameterError(
                "costs: expected a DataFrame demand_id, point_id, cost or a scipy sparse "
                f"matrix, got {type(costs).__name__}"
            )
        bad = ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            raise InputError(
                f"costs: cost missing, negative or not a number on rows "
                f"{np.flatnonzero(bad)[:5].tolist()} (expected {self._unit_name} ≥ 0)"
            )

    @property
    def _unit_name(self) -> str:
        return "metres" if self.unit == "m" else "seconds"

    @property
    def measures(self) -> Part:
        return "road" if self.unit == "m" else "time"

    def distance_source(self, standard):
        if standard.distance_m is None:
            return None
        return "cost_table" if self.unit == "m" else "straight_line"

    def reach_m(self, standard, density=None):
        if self.unit == "s":
            return super().reach_m(standard, density)
        return None

    def _arrays(self, places: Places) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, m = len(places.lat), len(places.locator)
        if self._sparse is not None:
            if self._sparse.shape != (n, m):
                raise InputError(
                    f"costs: sparse matrix has shape {self._sparse.shape}, expected "
                    f"({n}, {m}) = (demand places, points) in their given order"
                )
            coo = self._sparse
            return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(float)
        place = pd.Index(places.demand_ids).get_indexer(self.table["demand_id"])
        row = pd.Index(places.point_ids).get_indexer(self.table["point_id"])
        unknown = (place < 0) | (row < 0)
        if unknown.all() and len(self.table):
            raise InputError(
                "costs: no row of the table names a known demand_id and point_id "
                f"(e.g. {self.table['demand_id'].iloc[0]!r} → {self.table['point_id'].iloc[0]!r})"
            )
        if unknown.any():
            log.info("costs: %d rows name unknown places or points, ignored", int(unknown.sum()))
        keep = ~unknown
        cost = self.table["cost"].to_numpy(float)
        return place[keep].astype(np.int64), row[keep].astype(np.int64), cost[keep]

    def part_pairs(self, places, part, limit, mask):
        if self.unit == "s" and part == "straight":
            return super().part_pairs(places, part, limit, mask)
        if (part == "time") != (self.unit == "s"):  # metres answer straight or road distance
            what, needs = ("time", "seconds") if part == "time" else ("road distance", "metres")
            raise ParameterError(
                f"the standard has a {what} part but the costs table is in "
                f"{self._unit_name}: give a table in {needs}, or drop that part"
            )
        place, row, cost = self._arrays(places)
        keep = mask[row] & (cost <= limit)
        return place[keep], row[keep], cost[keep]

    def covering_pairs(self, places, standard, mask):
        pairs = super().covering_pairs(places, standard, mask)
        if self.unit == "m" and standard.distance_by == "straight" and standard.distance_m:
            # the straight part was answered by the table too: carry its metres
            place, row, cost = self._arrays(places)
            n_pts = len(places.locator)
            keys, first = np.unique(_keys(place, row, n_pts), return_index=True)
            road = _lookup(_keys(pairs.place, pairs.row, n_pts), keys, cost[first])
            return Pairs(pairs.place, pairs.row, pairs.drive_s, road)
        return pairs

    def nearest_costs(self, places, mask, distance_m):
        n = len(places.lat)
        place, row, cost = self._arrays(places)
        keep = mask[row]
        best = np.full(n, np.inf)
        np.minimum.at(best, place[keep], cost[keep])
        best[~np.isfinite(best)] = np.nan
        if self.unit == "s":
            return {"drive_s": best}
        return {"drive_s": np.full(n, np.nan), "road_m": best}

    def describe(self) -> str:
        size = self._sparse.nnz if self._sparse is not None else len(self.table)
        return f"cost table ({size} pairs, {self._unit_name})"


def travel_costs(
    network=None,
    costs=None,
    costs_unit: str | None = None,
    estimate: DriveEstimate | None = None,
) -> TravelCosts:
    """The travel cost source for ``network=`` / ``costs=`` / ``drive_estimate=`` arguments.

    ``costs`` may be a :class:`TravelCosts` already (returned as is), a DataFrame
    ``demand_id, point_id, cost`` or a sparse matrix (then ``costs_unit`` ``"m"`` or ``"s"``
    is required). ``network`` and ``costs`` exclude each other; with neither, the estimate.
    """
    if network is not None and costs is not None:
        raise ParameterError("give network= or costs=, not both: one travel cost source")
    if isinstance(costs, TravelCosts):
        return costs
    if costs is not None:
        if costs_unit is None:
            raise ParameterError(
                "costs: say what the costs are with costs_unit='m' (metres) or 's' (seconds)"
            )
        return CostTable(costs, costs_unit)
    if network is not None:
        return RoadCosts(network, estimate)
    return EstimatedCosts(estimate)


def straight_reach_m(standard: Standard, estimate: DriveEstimate | None = None) -> float:
    """One straight-line radius (metres) equivalent to ``standard`` under a uniform
    estimate (the dask engine's reach; see :meth:`EstimatedCosts.reach_m`)."""
    estimate = estimate if estimate is not None else DriveEstimate()
    if not estimate.uniform:
        raise ParameterError(
            "this engine takes one detour factor and speed for every density class; "
            "drop DriveEstimate.by_class or use the local engine"
        )
    return float(EstimatedCosts(estimate).reach_m(standard))


def read_costs(path, unit: str) -> CostTable:
    """A :class:`CostTable` from a CSV or Parquet file with ``demand_id, point_id, cost``."""
    from pathlib import Path

    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={"demand_id": str, "point_id": str})
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the costs table ({exc})") from None
    try:
        return CostTable(frame, unit)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


__all__ = [
    "DETOUR_FACTOR",
    "SPEED_KMH",
    "CostTable",
    "DriveEstimate",
    "EstimatedCosts",
    "Pairs",
    "Places",
    "RoadCosts",
    "TravelCosts",
    "read_costs",
    "straight_reach_m",
    "travel_costs",
]
