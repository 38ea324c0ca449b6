"""DriveEstimate: road distance and drive time estimated from the straight line (detour
factor and speed, per density class if wished); where the defaults come from is in the notes
of :mod:`relaynet.costs`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError

DETOUR_FACTOR = 1.3
"""Default road/straight-line distance ratio (dimensionless)."""

SPEED_KMH = 50.0
"""Default average door-to-door car speed for estimated drive times, km/h."""


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
