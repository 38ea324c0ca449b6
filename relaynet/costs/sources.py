"""The three travel cost sources — estimated, road network, your own cost table — and the
functions that pick or read one."""

from __future__ import annotations

import logging
import threading
import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import InputError, ParameterError
from ..geo import haversine_m
from ..standard import Standard
from .base import Pairs, Part, Places, TravelCosts, _keys, _lookup
from .estimate import DriveEstimate

log = logging.getLogger(__package__)  # one logger for the package: "relaynet.costs"


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
        """The same roads with metres as costs (:meth:`RoadNetwork.by_length`; built once):
        a road-distance pair costs door-to-door metres, access legs included."""
        if self._by_length is None:
            self._by_length = self.network.by_length()
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
    row_numbers
        The source line of each row of a table read from a file (:func:`read_costs` passes
        them): messages then name lines instead of 0-based positions.

    Attributes
    ----------
    repeated_rows : int
        Rows dropped because they repeat an earlier row exactly (same ``demand_id``,
        ``point_id`` and cost; for a sparse matrix, a stored entry repeated at the same
        cost).
    unknown_demand_rows, unknown_point_rows : int
        Rows naming a ``demand_id`` not in the demand, and rows naming a ``point_id`` not
        among the points, the last time the table was matched to demand and points; such
        rows are ignored.

    Raises
    ------
    InputError
        One line naming the first bad rows (0-based positions in the table, lines of a
        file, or entries of the matrix), when a cost is missing, negative or not a number,
        or when one ``(demand_id, point_id)`` pair is given several *different* costs.

    Warns
    -----
    UserWarning
        Exact repeats (see Notes); rows naming places that are not in the demand (how
        many, and the first ids), once per demand and points the table is matched to.

    Notes
    -----
    A pair given twice is a problem in the table, not a choice for relaynet to make: with
    different costs there is no telling which one the router meant (keeping the lowest, as
    earlier versions did, silently made places look closer), so the table is refused, like
    a table with a bad cost, naming the pairs, their rows and their costs. Exact repeats
    (e.g. the same batch of router output appended twice) carry no contradiction: they are
    collapsed to one row, counted in :attr:`repeated_rows`, reported by a ``UserWarning``
    and in :meth:`describe`.

    Rows naming ids the run does not have are ignored, and reported the same way, a
    ``UserWarning`` and :meth:`describe` (never at info level only: a table whose ids are
    written differently from the demand's, ``"1001"`` for ``"01001"``, would otherwise
    quietly leave places uncovered). Rows naming an unknown *place* get the warning (how
    many, the first ids); rows naming an unknown *point* are counted in
    :attr:`unknown_point_rows` and :meth:`describe` only, since one table legitimately
    covers more sites than one run uses: ``relaynet coverage --costs … --optimize``
    assesses the existing points with the table that also prices every candidate site
    (``cand:<demand_id>``), and ``within=`` leaves points out. A table naming no known pair
    at all is an :class:`~relaynet.errors.InputError`.
    """

    time_source = "cost_table"
    road_source = "cost_table"

    def __init__(self, costs, unit: str, *, row_numbers=None) -> None:
        if unit not in ("m", "s"):
            raise ParameterError(f"costs unit must be 'm' (metres) or 's' (seconds), got {unit!r}")
        self.unit = unit
        self.estimate = DriveEstimate()  # not used for coverage: the table is the measure
        self.unknown_demand_rows = 0
        self.unknown_point_rows = 0
        self._matched: tuple | None = None  # (demand ids, locator, arrays): last match
        self._lock = threading.Lock()
        self._rows = None if row_numbers is None else np.asarray(row_numbers, np.int64)
        if self._rows is not None and (sparse.issparse(costs) or len(self._rows) != len(costs)):
            raise ParameterError("row_numbers: expected one number per row of a costs table")
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
            values = _numbers(costs["cost"])
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
                f"costs: cost missing, negative or not a number on "
                f"{self._where(np.flatnonzero(bad)[:5])} (expected {self._unit_name} ≥ 0)"
            )
        self.repeated_rows = self._drop_repeats()

    def _where(self, positions: np.ndarray) -> str:
        """``"rows [0, 4]"`` (positions in the table) or ``"lines [2, 6]"`` (in its file)."""
        positions = np.asarray(positions, np.int64)
        if self._rows is None:
            return f"rows {positions.tolist()}"
        return f"lines {self._rows[positions].tolist()}"

    def _pair_codes(self) -> np.ndarray:
        """One integer per row, equal for rows of the same (place, point) pair."""
        if self._sparse is not None:
            coo = self._sparse
            return coo.row.astype(np.int64) * max(coo.shape[1], 1) + coo.col.astype(np.int64)
        place = pd.factorize(self.table["demand_id"])[0].astype(np.int64)
        point = pd.factorize(self.table["point_id"])[0].astype(np.int64)
        return place * (int(point.max(initial=0)) + 1) + point

    def _drop_repeats(self) -> int:
        """Refuse pairs given different costs; drop exact repeats and count them."""
        codes = self._pair_codes()
        if len(np.unique(codes)) == len(codes):
            return 0
        values = self._sparse.data if self._sparse is not None else self.table["cost"].to_numpy()
        frame = pd.DataFrame({"pair": codes, "cost": np.asarray(values, float)})
        spread = frame.groupby("pair", sort=False)["cost"].nunique()
        conflicting = spread.index[spread.to_numpy() > 1]
        if len(conflicting):
            shown = [self._describe_pair(frame, code) for code in conflicting[:3]]
            more = f" and {len(conflicting) - 3} more" if len(conflicting) > 3 else ""
            raise InputError(
                f"costs: {len(conflicting)} (demand_id, point_id) pairs given different "
                f"costs: {'; '.join(shown)}{more} (expected one cost per pair)"
            )
        repeat = frame.duplicated(keep="first").to_numpy()
        first = self._where(np.flatnonzero(repeat)[:5])
        if self._sparse is not None:
            coo = self._sparse
            self._sparse = sparse.coo_array(
                (coo.data[~repeat], (coo.row[~repeat], coo.col[~repeat])), shape=coo.shape
            )
        else:
            self.table = self.table.loc[~repeat].reset_index(drop=True)
            if self._rows is not None:
                self._rows = self._rows[~repeat]
        count = int(repeat.sum())
        warnings.warn(
            f"costs: {count} rows repeat an earlier row exactly (same pair and cost), "
            f"counted once: {first}{' …' if count > 5 else ''}",
            UserWarning,
            stacklevel=3,
        )
        return count

    def _describe_pair(self, frame: pd.DataFrame, code: int) -> str:
        rows = np.flatnonzero(frame["pair"].to_numpy() == code)
        costs = ", ".join(f"{c:g}" for c in frame["cost"].to_numpy()[rows[:4]])
        if self._sparse is not None:
            coo = self._sparse
            where = (
                f"matrix entry ({coo.row[rows[0]]}, {coo.col[rows[0]]}) stored {len(rows)} times"
            )
        else:
            pair = (self.table["demand_id"].iat[rows[0]], self.table["point_id"].iat[rows[0]])
            where = f"{pair!r} on {self._where(rows[:4])}"
        return f"{where}, costs {costs}"

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
        with self._lock:  # window threads of assess share the table: one match, one warning
            return self._match(places)

    def _match(self, places: Places) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        matched = self._matched
        if matched is not None and matched[0] is places.demand_ids and matched[1] is places.locator:
            return matched[2]
        place = pd.Index(places.demand_ids).get_indexer(self.table["demand_id"])
        row = pd.Index(places.point_ids).get_indexer(self.table["point_id"])
        unknown = (place < 0) | (row < 0)
        if unknown.all() and len(self.table):
            raise InputError(
                "costs: no row of the table names a known demand_id and point_id "
                f"(e.g. {self.table['demand_id'].iloc[0]!r} → {self.table['point_id'].iloc[0]!r})"
            )
        self.unknown_demand_rows = int((place < 0).sum())
        self.unknown_point_rows = int((row < 0).sum())
        if self.unknown_demand_rows:
            ids = pd.unique(self.table["demand_id"].to_numpy(object)[place < 0])
            shown = ", ".join(repr(i) for i in ids[:3]) + (" …" if len(ids) > 3 else "")
            lines = f" ({self._where(np.flatnonzero(place < 0)[:3])})"
            warnings.warn(
                f"costs: {self.unknown_demand_rows} rows name a demand_id that is not in the "
                f"demand ({len(ids)} ids: {shown}){lines}; they are ignored",
                UserWarning,
                stacklevel=5,
            )
        if self.unknown_point_rows:
            log.info("costs: %d rows name points not among these, ignored", self.unknown_point_rows)
        keep = ~unknown
        cost = self.table["cost"].to_numpy(float)
        arrays = place[keep].astype(np.int64), row[keep].astype(np.int64), cost[keep]
        self._matched = (places.demand_ids, places.locator, arrays)
        return arrays

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
        notes = [f"{size} pairs", self._unit_name]
        if self.repeated_rows:
            notes.append(f"{self.repeated_rows} repeated rows counted once")
        if self.unknown_demand_rows:
            notes.append(f"{self.unknown_demand_rows} rows naming unknown places ignored")
        if self.unknown_point_rows:
            notes.append(f"{self.unknown_point_rows} rows naming other points ignored")
        return f"cost table ({', '.join(notes)})"


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


def _numbers(series: pd.Series) -> np.ndarray:
    """Costs as floats: numbers as they are, text as the loaders read numbers (decimal
    comma, spaces; :func:`relaynet.io.validate.numeric`), NaN when not a number."""
    numbers = pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.infer_dtype(
        series, skipna=True
    ) in ("floating", "integer", "mixed-integer-float", "decimal", "empty")
    if numbers and not pd.api.types.is_bool_dtype(series.dtype):
        return pd.to_numeric(series, errors="coerce").to_numpy(float, na_value=np.nan)
    from ..io.validate import numeric

    return numeric(series)[0]


def read_costs(path, unit: str) -> CostTable:
    """A :class:`CostTable` from a file with columns ``demand_id, point_id, cost``.

    Delimited text is read as every input file is (:func:`relaynet.io.read.read_delimited`:
    ``;``, ``,``, tab or ``|`` delimiter, UTF-8 or Windows-1252, ``.gz``), whatever its
    name ends with; ``.parquet`` files as Parquet. Column names are matched as the
    loaders match them (``Demand ID`` is ``demand_id``), ids are text without surrounding
    spaces, costs are numbers with a decimal point or comma (``"812,5"``). Errors name the
    file and its lines.

    Raises
    ------
    InputError
        One line: the file cannot be read, lacks a column, has a row whose number of
        fields differs from the header's (or a blank line), a missing id, or a cost that
        is missing, negative or not a number (see :class:`CostTable` for pairs).
    """
    from pathlib import Path

    from ..io.columns import COST_ALIASES, map_columns
    from ..io.read import PARQUET_SUFFIXES, read_delimited, read_raw, suffix_of
    from ..io.validate import text_values

    path = Path(path)
    raw = read_raw(path) if suffix_of(path) in PARQUET_SUFFIXES else read_delimited(path)
    frame = raw.frame
    mapping = map_columns([str(c) for c in frame.columns], COST_ALIASES, None)
    frame = frame.set_axis([mapping[str(c)] for c in frame.columns], axis=1)
    missing = [c for c in COST_ALIASES if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: costs table lacks columns {missing} (expected demand_id, point_id, "
            f"cost), has {[str(c) for c in raw.frame.columns][:10]}"
        )
    label = f"{raw.row_label}s"
    problems = []
    if raw.cells_per_row is not None:
        ragged = raw.cells_per_row != len(raw.frame.columns)
        if ragged.any():
            problems.append(
                f"{label} {raw.row_numbers[ragged][:5].tolist()} do not have the header's "
                f"{len(raw.frame.columns)} fields"
            )
    long = [i for i, c in enumerate(raw.long_cells or []) if c is not None]
    if long:
        problems.append(f"{label} {raw.row_numbers[long][:5].tolist()} have a cell too long")
    ids = {c: text_values(frame[c]) for c in ("demand_id", "point_id")}
    for column, values in ids.items():
        blank = (values == "").to_numpy(bool)
        if blank.any():
            problems.append(f"{column} missing on {label} {raw.row_numbers[blank][:5].tolist()}")
    if problems:
        raise InputError(f"{path}: {'; '.join(problems)}")
    table = pd.DataFrame({**ids, "cost": frame["cost"]})
    try:
        return CostTable(table, unit, row_numbers=raw.row_numbers)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
