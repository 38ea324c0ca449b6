"""``compare``: scenarios side by side — who gains, who loses, what it costs in travel.

Each :class:`~relaynet.scenarios.Scenario` goes through the one coverage pipeline
(:func:`relaynet.report.pipeline.run_coverage`: assess with the scenario's eligibility and
the time windows under its unknown-hours policy, compliance, travel burden), on the same
demand and standard; the first scenario is the baseline. Differences are *scenario minus
baseline* and computed from the pipeline's own tables, so a KPI delta is the difference
of two KPIs as every other front end reports them.

Per place (local engine), the state of a place in a scenario is

``gained``
    not covered in the baseline, covered in the scenario;
``lost``
    covered in the baseline, not in the scenario;
``unchanged``
    same state in both;

for the base eligibility and for each time window. So ``gained_weight - lost_weight`` of
an area is exactly its ``delta_covered_weight``.

With ``engine="dask"`` every scenario runs :func:`relaynet.distributed.assess` (additive
sums per partition) on one cluster: the KPI tables and their deltas are the same, the
per-place states need the local engine (``changes`` is ``None``, gained/lost are NaN).
"""

from __future__ import annotations

from .comparison import (
    BASE,
    BURDEN_COLUMNS,
    COMPARE_SCHEMA,
    DELTA_KPIS,
    STATES,
    Comparison,
    compare_burden,
)
from .run import compare

__all__ = [
    "BASE",
    "BURDEN_COLUMNS",
    "COMPARE_SCHEMA",
    "DELTA_KPIS",
    "STATES",
    "Comparison",
    "compare",
    "compare_burden",
]
