"""Service standards: how close a point must be to count as serving a place."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from .errors import ParameterError


@dataclass(frozen=True)
class Standard:
    """A service standard: a distance (straight line or by road), a travel time, or both.

    Parameters
    ----------
    distance_m
        Maximum distance to the nearest eligible point, in metres.
    drive_s
        Maximum travel time to the nearest eligible point, in seconds.
    combine
        When both are given: ``"any"`` (covered if within either — the French postal rule
        "5 km or 20 minutes") or ``"all"`` (covered only if within both).
    distance_by
        ``"straight"`` (great circle, default) or ``"road"``: the distance along roads, as
        the French postal rule states it. Measured on a road network when one is given
        (door to door: access legs in metres plus the shortest length along roads), else
        *estimated* as straight line × detour factor (see :mod:`relaynet.costs`).
    """

    distance_m: float | None = None
    drive_s: float | None = None
    combine: Literal["any", "all"] = "any"
    distance_by: Literal["straight", "road"] = "straight"

    def __post_init__(self) -> None:
        if self.distance_m is None and self.drive_s is None:
            raise ParameterError("Standard needs distance_m (metres) or drive_s (seconds)")
        for name in ("distance_m", "drive_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ParameterError(f"Standard.{name} must be a positive number, got {value!r}")
        if self.combine not in ("any", "all"):
            raise ParameterError(f"Standard.combine must be 'any' or 'all', got {self.combine!r}")
        if self.distance_by not in ("straight", "road"):
            raise ParameterError(
                f"Standard.distance_by must be 'straight' or 'road', got {self.distance_by!r}"
            )

    @classmethod
    def parse(cls, text: str) -> Standard:
        """Build a standard from ``"5km"``, ``"800m"``, ``"20min"``, ``"1200s"`` or
        ``"5km|20min"`` / ``"5km&20min"`` (either / both); ``"5km road"`` (or
        ``"5km by road"``) measures the distance along roads.

        At most one distance and one time: ``"5km|6km"`` raises :class:`ParameterError`.
        """
        distance_m = drive_s = None
        distance_by = "straight"
        combine = "all" if re.search(r"&| and ", text.lower()) else "any"
        for part in re.split(r"[|&,+]| or | and ", text.strip().lower()):
            part = part.strip()
            match = re.fullmatch(
                r"([0-9]*\.?[0-9]+)\s*(km|m|min|mn|s|h)(?:\s+(?:by\s+)?(road))?", part
            )
            if not match or (match.group(3) and match.group(2) not in ("km", "m")):
                raise ParameterError(
                    f"cannot read standard {text!r}: expected e.g. '5km', '5km road', "
                    "'800m', '20min', '5km|20min'"
                )
            value, unit = float(match.group(1)), match.group(2)
            if match.group(3):
                distance_by = "road"
            if unit in ("km", "m"):
                if distance_m is not None:
                    raise ParameterError(
                        f"standard {text!r} gives two distances: give one distance and/or "
                        "one time, e.g. '5km|20min'"
                    )
                distance_m = value * (1000 if unit == "km" else 1)
            else:
                if drive_s is not None:
                    raise ParameterError(
                        f"standard {text!r} gives two times: give one distance and/or "
                        "one time, e.g. '5km|20min'"
                    )
                drive_s = value * {"min": 60, "mn": 60, "s": 1, "h": 3600}[unit]
        return cls(distance_m=distance_m, drive_s=drive_s, combine=combine, distance_by=distance_by)

    @property
    def label(self) -> str:
        """Short human label: ``"5 km or 20 min"``, ``"5 km by road"``."""
        parts = []
        if self.distance_m is not None:
            road = " by road" if self.distance_by == "road" else ""
            parts.append(f"{self.distance_m / 1000:g} km{road}")
        if self.drive_s is not None:
            parts.append(f"{self.drive_s / 60:g} min")
        return (" or " if self.combine == "any" else " and ").join(parts)

    def to_dict(self) -> dict:
        """JSON form: ``label``, ``distance_m`` (metres), ``drive_s`` (seconds), ``combine``,
        ``distance_by`` (the one serialisation used by every ``kpis.json``, ``run.json`` and
        summary)."""
        return {
            "label": self.label,
            "distance_m": self.distance_m,
            "drive_s": self.drive_s,
            "combine": self.combine,
            "distance_by": self.distance_by,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Standard:
        """The standard written by :meth:`to_dict` (``label`` is ignored)."""
        if not isinstance(data, dict):
            raise ParameterError(f"Standard.from_dict expects a dict, got {type(data).__name__}")
        return cls(
            distance_m=data.get("distance_m"),
            drive_s=data.get("drive_s"),
            combine=data.get("combine", "any"),
            distance_by=data.get("distance_by", "straight"),
        )
