"""``write_report``: the whole batch coverage report, one public function (the CLI calls it).

It runs :func:`relaynet.report.pipeline.run_coverage` — the same pipeline as
``relaynet coverage`` — and writes its tables plus ``index.html`` and ``map.html``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..eligibility import Eligibility
from ..standard import Standard
from .folder import check_writable, report_folder
from .outputs import write_run_record, write_tables
from .pipeline import DEFAULT_STANDARD, OPTIMIZE_MODELS, run_coverage

log = logging.getLogger(__name__)

REPORT_FILES = (
    "index.html",
    "map.html",
    "access.csv",
    "compliance.csv",
    "gaps.geojson",
    "gaps.csv",
    "kpis.json",
    "rejected.csv",
    "run.json",
)
"""Files every report folder holds (plus ``sites.csv`` when optimizing)."""


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    folder
        The report folder.
    n_rejected
        Input rows not used (listed in ``rejected.csv``).
    assessment, gaps, compliance, solution
        The results shown in the report (``solution`` is ``None`` without ``optimize``).
    timings
        Seconds per stage.
    """

    folder: Path
    n_rejected: int
    assessment: Any
    gaps: gpd.GeoDataFrame
    compliance: pd.DataFrame
    solution: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def index(self) -> Path:
        """Path of ``index.html``."""
        return self.folder / "index.html"

    @property
    def exit_code(self) -> int:
        """0 when every input row was used, 1 when some were rejected."""
        return 1 if self.n_rejected else 0


def title_with_label(title: str | None, standard: object, label: str) -> str | None:
    """``title`` with the standard as it was typed (``"5km"``) written as its label
    (``"5 km"``), so the page speaks of one standard in one spelling."""
    if not title or not isinstance(standard, str) or not standard.strip():
        return title
    typed = re.escape(standard.strip())
    return re.sub(rf"(?<![\w.]){typed}(?![\w])", lambda _: label, title)


def stage_bar(total: int, desc: str, quiet: bool):
    """A progress bar on stderr, drawn only on a terminal (batch logs stay clean)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        disable=quiet or not sys.stderr.isatty(),
        file=sys.stderr,
        leave=False,
    )


def write_report(
    out: str | os.PathLike,
    *,
    points,
    demand,
    standard: Standard | str = DEFAULT_STANDARD,
    by: str = "area_id",
    where: Eligibility | None = None,
    threshold: float = 0.9,
    optimize: str | None = None,
    p: int | None = None,
    time_limit: float = 60.0,
    when=None,
    offline: bool = False,
    windows: bool = True,
    title: str | None = None,
    quiet: bool = True,
    progress: Callable[[str], None] | None = None,
    bundled: bool = False,
    within=None,
) -> Report:
    """Run the coverage pipeline and write a complete report folder.

    Parameters
    ----------
    out
        Report folder. Checked for writing before any work; written to a temporary folder
        next to it, then swapped into place (see :mod:`relaynet.report.folder`).
    points, demand
        File paths (read leniently: unusable rows go to ``rejected.csv``) or GeoDataFrames
        already in the canonical schema (``None`` with ``bundled=True``: the bundled data).
    standard
        Service standard (``"5km"``, ``"20min"``, ``"5km|20min"``); default ``"5km"``.
    by
        Demand column for per-area tables (``"departement"`` is an alias of ``area_id``).
    where
        Base eligibility of the points (filters and the unknown-hours policy, which the
        time windows follow too); ``None`` for every point.
    threshold
        Share of each area's weight that must be covered (0.9: the French postal rule).
    optimize, p
        Optional siting model (``"mclp"`` …) and number of new sites; candidates are the
        demand places themselves, existing points stay open.
    time_limit
        Solver time limit, seconds.
    when
        Datetime of the open/closed status in map popups; default: "open now" is worked
        out in the browser when a popup is opened, from a usual week's hours (the map does
        not depend on the time it was made: identical runs give identical pages).
    offline
        Inline the map's JavaScript/CSS so ``map.html`` works without internet.
    windows
        Compute the four standard time windows.
    title
        Report title; the standard as typed in it (``"(5km)"``) is shown as its label
        (``"(5 km)"``).
    quiet
        No progress bar (the library default; the CLI shows one on a terminal).
    progress
        Called with each stage name (in addition to the progress bar).
    within
        Reject rows outside an area (``"FR"``, a boundary file, ``("demand", metres)`` …):
        see :func:`relaynet.report.pipeline.run_coverage`.

    Returns
    -------
    Report
        Paths, counts and results; ``exit_code`` is 1 when input rows were rejected.

    Raises
    ------
    InputError
        An input is unusable (unreadable, no usable rows).
    ParameterError
        Bad parameters (unknown model, missing ``p`` …).
    OutputError
        The report folder cannot be written.
    """
    from ..maps import coverage_map, save_map
    from ..maps.points import AT_VIEW
    from .html import render_index

    started = dt.datetime.now(dt.UTC)
    check_writable(out)
    stages = 5 + (1 if optimize else 0)
    bar = stage_bar(stages, "report", quiet)

    def stage(name: str) -> None:
        bar.set_description(name or "report")
        bar.update(1)
        if progress is not None and name:
            progress(name)

    try:
        run = run_coverage(
            points,
            demand,
            standard,
            by=by,
            where=where,
            threshold=threshold,
            windows=windows,
            optimize=optimize,
            p=p,
            time_limit=time_limit,
            bundled=bundled,
            within=within,
            progress=stage,
        )
        stage("map")
        clock = time.perf_counter()
        m = coverage_map(
            run.assessment,
            points=run.points,
            gaps=run.gaps,
            solution=run.solution,
            when=AT_VIEW if when is None else when,
        )
        run.timings["map"] = round(time.perf_counter() - clock, 3)
        stage("write")
        clock = time.perf_counter()
        with report_folder(out) as tmp:
            save_map(m, tmp / "map.html", offline=offline)
            files = write_tables(tmp, run)
            # the index lists every file of the folder (run.json is written last)
            listed = ["map.html", *[f for f in REPORT_FILES if f in files]]
            listed += [*sorted(f for f in files if f not in listed), "run.json"]
            index = render_index(
                assessment=run.assessment,
                compliance=run.compliance,
                gaps=run.gaps,
                solution=run.solution,
                rejected=run.rejected,
                inputs=run.inputs,
                area=run.area,
                threshold=run.threshold,
                title=title_with_label(title, standard, run.assessment.standard.label),
                generated=started,
                offline=offline,
                published=run.published,
                demand=run.demand,
                files=listed,
            )
            (tmp / "index.html").write_text(index, encoding="utf-8")
            extra = {
                "offline_map": offline,
                "when": str(when) if when is not None else None,
            }
            run.timings["write"] = round(time.perf_counter() - clock, 3)
            write_run_record(
                tmp, run, started=started, files=[*files, "index.html", "map.html"], extra=extra
            )
    finally:
        bar.close()
    return Report(
        folder=Path(out),
        n_rejected=int(len(run.rejected)),
        assessment=run.assessment,
        gaps=run.gaps,
        compliance=run.compliance,
        solution=run.solution,
        timings=run.timings,
    )


__all__ = ["OPTIMIZE_MODELS", "REPORT_FILES", "Report", "stage_bar", "write_report"]
