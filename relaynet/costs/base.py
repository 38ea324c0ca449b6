"""What every travel cost source shares: the places it answers for, the (place, point) pairs
it returns, and :class:`TravelCosts`, which combines the parts of a standard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import ParameterError
from ..standard import Standard
from .estimate import DriveEstimate

Part = Literal["straight", "road", "time"]


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
