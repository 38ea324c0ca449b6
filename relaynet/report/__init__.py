"""Batch coverage reports: one folder with HTML, CSV, GeoJSON and JSON, written atomically.

>>> import relaynet as rn                                                      # doctest: +SKIP
>>> rn.write_report("reports/lozere", points="pts.csv", demand="communes.csv",
...                 standard="5km", by="departement")                          # doctest: +SKIP
"""

from __future__ import annotations

from ..maps import comparison_map
from .charts import bar_chart, histogram
from .compare import COMPARISON_FILES, ComparisonReport, write_comparison
from .folder import report_folder
from .outputs import KPIS_SCHEMA, kpis_document
from .pipeline import DEFAULT_STANDARD, CoverageRun, run_coverage
from .run import OPTIMIZE_MODELS, REPORT_FILES, Report, write_report

__all__ = [
    "COMPARISON_FILES",
    "ComparisonReport",
    "comparison_map",
    "write_comparison",
    "DEFAULT_STANDARD",
    "KPIS_SCHEMA",
    "CoverageRun",
    "kpis_document",
    "run_coverage",
    "OPTIMIZE_MODELS",
    "REPORT_FILES",
    "Report",
    "bar_chart",
    "histogram",
    "report_folder",
    "write_report",
]
