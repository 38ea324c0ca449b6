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

from .base import Pairs, Places, TravelCosts
from .base import Part as Part  # public type, outside __all__
from .estimate import DETOUR_FACTOR, SPEED_KMH, DriveEstimate
from .sources import (
    CostTable,
    EstimatedCosts,
    RoadCosts,
    read_costs,
    straight_reach_m,
    travel_costs,
)

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
