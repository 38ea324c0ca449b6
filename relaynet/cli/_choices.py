"""Choices and defaults that ``relaynet <command> --help`` shows, as plain values.

The registries they copy live in modules that import pandas (``relaynet.formats``,
``relaynet.hours``, ``relaynet.report``, ``relaynet.optimize``); help must not load those,
so the command line reads these copies and ``tests/test_cli_usage.py`` checks that they
equal the registries.
"""

from __future__ import annotations

POINTS_FORMATS = (
    "auto",
    "mondial_relay",
    "inpost",
    "colissimo",
    "chronopost",
    "dpd",
    "osm",
    "generic",
)
"""Values of ``--points-format``: :data:`relaynet.formats.FORMATS`."""

UNKNOWN_HOURS = ("exclude", "include")
"""Values of ``--unknown-hours``: :data:`relaynet.hours.UNKNOWN_POLICIES`."""

DEFAULT_STANDARD = "5km"
"""Default of ``--standard``: :data:`relaynet.report.pipeline.DEFAULT_STANDARD`."""

REPORT_MODELS = ("mclp", "lscp", "pmedian", "backup")
"""Values of ``relaynet report --optimize``: :data:`relaynet.report.OPTIMIZE_MODELS`."""

OPTIMIZE_MODELS = ("lscp", "mclp", "pmedian", "backup")
"""Values of ``relaynet optimize --model``: :data:`relaynet.optimize.MODELS`."""
