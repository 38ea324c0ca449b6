"""Coverage analysis: who is badly served by a relay network, where, and when.

>>> from relaynet.coverage import assess, find_gaps, compliance_table   # doctest: +SKIP
>>> a = assess(demand, points, "5km|20min", by="area_id")              # doctest: +SKIP
>>> a.kpis, a.by_density, a.windows, a.networks                        # doctest: +SKIP
>>> compliance_table(a, 0.9), find_gaps(a), travel_burden(a)           # doctest: +SKIP
"""

from __future__ import annotations

from .assess import Assessment, assess
from .burden import TripAssumptions, travel_burden
from .compare import Comparison, compare, compare_burden
from .compliance import (
    PUBLISHED_REFERENCE,
    compliance_table,
    published_comparison,
    published_reference,
)
from .density import (
    DEFAULT_THRESHOLDS,
    DensityThresholds,
    classify_density,
    density_agreement,
)
from .estimate import DriveEstimate
from .gaps import GAP_COLUMNS, find_gaps
from .kpis import KPI_COLUMNS, kpi_table, weighted_quantile
from .networks import network_contribution
from .windows import REFERENCE_WEEK, TIME_WINDOWS, time_windows

__all__ = [
    "DEFAULT_THRESHOLDS",
    "GAP_COLUMNS",
    "KPI_COLUMNS",
    "PUBLISHED_REFERENCE",
    "REFERENCE_WEEK",
    "TIME_WINDOWS",
    "Assessment",
    "Comparison",
    "DensityThresholds",
    "DriveEstimate",
    "TripAssumptions",
    "assess",
    "classify_density",
    "compare",
    "compare_burden",
    "compliance_table",
    "density_agreement",
    "find_gaps",
    "kpi_table",
    "network_contribution",
    "published_comparison",
    "published_reference",
    "time_windows",
    "travel_burden",
    "weighted_quantile",
]
