"""Travel burden: person-km to the nearest eligible point and the CO2 of those trips.

For every place, the trip to its nearest eligible point is::

    road_km     = road distance (road network) or straight line × detour factor (estimate)
    person_km   = weight × trips_per_person_year × road_km × (2 if round_trip else 1)
    car_km      = person_km × car_share            (one person per car trip)
    co2_kg      = car_km × co2_g_per_km / 1000

Defaults (override them; they are orders of magnitude for comparing two scenarios, not an
inventory):

``trips_per_person_year = 6``
    About 400 million parcels a year collected out of home in France (relay points,
    lockers, post offices) for ~66 million inhabitants.
``car_share = 0.6``
    Share of those trips made by car (surveys of French out-of-home delivery customers
    report 50–70 %, higher in rural areas).
``co2_g_per_km = 190``
    Average French passenger car, tank-to-wheel plus upstream, g CO2e per km (ADEME Base
    Carbone order of magnitude for the 2020s fleet).
``round_trip = True``
    Out and back.

Every trip is counted as dedicated to the parcel; chained trips would lower the figures.
Places with no eligible point within the search limit (100 km by default) are left out
and counted in ``unreached_weight``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .assess import Assessment


@dataclass(frozen=True)
class TripAssumptions:
    """Parameters of :func:`travel_burden` (see the module docstring for sources)."""

    trips_per_person_year: float = 6.0
    car_share: float = 0.6
    co2_g_per_km: float = 190.0
    round_trip: bool = True

    def __post_init__(self) -> None:
        for name in ("trips_per_person_year", "co2_g_per_km"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ParameterError(f"TripAssumptions.{name} must be a number ≥ 0, got {value!r}")
        if not (np.isfinite(self.car_share) and 0 <= self.car_share <= 1):
            raise ParameterError(
                f"TripAssumptions.car_share must be in [0, 1], got {self.car_share!r}"
            )


def travel_burden(
    assessment: Assessment,
    assumptions: TripAssumptions | None = None,
    *,
    by: str | None = None,
    window: str | None = None,
) -> pd.DataFrame:
    """Yearly person-km and CO2 of trips to the nearest eligible point.

    Parameters
    ----------
    assessment
        Result of :func:`~relaynet.coverage.assess`.
    assumptions
        Trip rates, car share and emission factor (default :class:`TripAssumptions`).
    by
        Optional grouping column of the access table (``"density_class"``, ``"area_id"``).
    window
        Use the nearest point of this time window instead of the base eligibility.

    Returns
    -------
    DataFrame indexed by group (``"all"`` when ``by`` is None) with ``weight``,
    ``reached_weight``, ``unreached_weight``, ``road_km_per_trip`` (weighted mean, one
    way), ``person_km_per_year``, ``car_km_per_year``, ``co2_t_per_year``,
    ``co2_kg_per_person_year``, plus the assumptions as columns and ``distance_source``.
    """
    trip = assumptions or TripAssumptions()
    access = assessment.access
    if window is None:
        distance = access["distance_m"].to_numpy(float)
        road = access["road_m"].to_numpy(float) if "road_m" in access.columns else None
    else:
        if window not in assessment.window_access:
            raise ParameterError(
                f"window={window!r}: expected one of {list(assessment.window_access)}"
            )
        distance = assessment.window_access[window]["distance_m"].to_numpy(float)
        road = None
    measured = {"road_network": "road network", "cost_table": "cost table"}
    if road is not None and assessment.drive_time_source in measured:
        road_m, source = road, measured[assessment.drive_time_source]
    else:
        estimate = assessment.drive_estimate
        road_m = estimate.road_m(distance, access["density_class"].to_numpy(object))
        source = (
            f"straight line × {estimate.detour_factor:g}"
            if estimate.uniform
            else f"straight line × detour per density class ({estimate.describe()})"
        )
    weight = access["weight"].to_numpy(float)
    reached = np.isfinite(road_m)
    legs = 2.0 if trip.round_trip else 1.0
    person_km = weight * trip.trips_per_person_year * np.where(reached, road_m, 0.0) / 1000 * legs
    if by is None:
        group = pd.Series("all", index=access.index, name="group")
    else:
        if by not in access.columns:
            raise ParameterError(f"by={by!r}: not a column of the access table")
        group = access[by].astype(object).fillna("unknown").rename(by)
    frame = pd.DataFrame(
        {
            "weight": weight,
            "reached_weight": weight * reached,
            "weighted_road_km": weight * np.where(reached, road_m, 0.0) / 1000,
            "person_km_per_year": person_km,
        }
    )
    out = frame.groupby(group.to_numpy()).sum()
    out.index.name = group.name
    out["unreached_weight"] = out["weight"] - out["reached_weight"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["road_km_per_trip"] = out.pop("weighted_road_km") / out["reached_weight"].where(
            out["reached_weight"] > 0
        )
        out["car_km_per_year"] = out["person_km_per_year"] * trip.car_share
        out["co2_t_per_year"] = out["car_km_per_year"] * trip.co2_g_per_km / 1e6
        out["co2_kg_per_person_year"] = (
            out["co2_t_per_year"] * 1000 / out["reached_weight"].where(out["reached_weight"] > 0)
        )
    for key, value in asdict(trip).items():
        out[key] = value
    out["distance_source"] = source
    return out


__all__ = ["TripAssumptions", "travel_burden"]
