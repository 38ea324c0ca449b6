"""The comparison report folder: scenarios side by side, written atomically.

``index.html`` (headline deltas, scenarios and their edits, charts, a map of the places
that gain or lose coverage and of the points that changed, the per-area table sorted by
loss, time windows, networks, travel burden), ``map.html``, ``changes.csv`` (per place),
``deltas.csv`` (per area × scenario), ``kpis.json`` (:data:`COMPARE_SCHEMA`),
``rejected.csv`` and ``run.json``. Every data text reaches the pages through
:func:`relaynet.maps._html.esc` (HTML-escaped, braces as character references) or, in the
map's layers, :func:`~relaynet.maps._html.page_json`; CSV cells through
:func:`relaynet.io.write_csv` (formulas neutralised).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..coverage.compare import BASE, Comparison
from ..io import write_csv, write_json
from ..maps import comparison_map, esc
from ..maps.comparison import GAINED, LOST
from . import charts
from .folder import check_writable, report_folder
from .html import _CSS, _km, _num, _pct
from .outputs import write_run_record

COMPARISON_FILES = (
    "index.html",
    "map.html",
    "changes.csv",
    "deltas.csv",
    "kpis.json",
    "rejected.csv",
    "run.json",
)
"""Files of a comparison folder (``map.html`` and ``changes.csv`` need the local engine)."""


@dataclass(frozen=True)
class ComparisonReport:
    """What :func:`write_comparison` wrote: the folder, its files and the input rows left
    out (``exit_code`` 1 when some were rejected)."""

    folder: Path
    files: tuple[str, ...]
    n_rejected: int

    @property
    def index(self) -> Path:
        """Path of ``index.html``."""
        return self.folder / "index.html"

    @property
    def exit_code(self) -> int:
        """0 when every input row was used, 1 when some were rejected."""
        return 1 if self.n_rejected else 0


def write_comparison(
    out: str | os.PathLike,
    comparison: Comparison,
    *,
    title: str | None = None,
    offline: bool = False,
    inputs: list[dict] | None = None,
    rejected: pd.DataFrame | None = None,
    parameters: dict | None = None,
    started: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> ComparisonReport:
    """Write the comparison report folder of a :func:`relaynet.compare` result.

    Parameters
    ----------
    out
        Folder; checked for writing first, built next to it and swapped into place.
    comparison
        Result of :func:`relaynet.compare`.
    title
        Page title (default: "Scenario comparison — <standard>").
    offline
        Inline the map's JavaScript/CSS.
    inputs, rejected
        Further input records (e.g. the scenario points files read by the CLI) and their
        rejected rows, listed beside the comparison's own.
    parameters
        Extra parameters for ``run.json``.
    started
        Start of the run (UTC; default now).

    Returns
    -------
    ComparisonReport
    """
    started = started or dt.datetime.now(dt.UTC)
    check_writable(out)
    parts = [r for r in (comparison.rejected, rejected) if r is not None and len(r)]
    all_rejected = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["source", "file", "row", "reason"])
    )
    records = [*comparison.inputs, *(inputs or [])]
    local = comparison.changes is not None
    with report_folder(out) as tmp:
        files = ["index.html", "deltas.csv", "kpis.json", "rejected.csv"]
        if progress is not None:
            progress("tables")
        write_csv(comparison.by_area, tmp / "deltas.csv")
        write_csv(all_rejected, tmp / "rejected.csv")
        write_json(comparison.to_dict(), tmp / "kpis.json")
        if local:
            write_csv(comparison.changes, tmp / "changes.csv")
            files.append("changes.csv")
            if progress is not None:
                progress("map")
            from ..maps import save_map

            save_map(comparison_map(comparison), tmp / "map.html", offline=offline)
            files.append("map.html")
        page = render_comparison(
            comparison, title=title, generated=started, inputs=records, has_map=local
        )
        (tmp / "index.html").write_text(page, encoding="utf-8")
        run = SimpleNamespace(
            inputs=records,
            parameters={
                "standard": comparison.standard.to_dict(),
                "by": comparison.by,
                "threshold": comparison.threshold,
                "engine": comparison.engine,
                "windows": comparison.window_names,
                "baseline": comparison.baseline.name,
                "scenarios": {s.name: s.describe() for s in comparison.scenarios},
                "offline_map": offline,
                **(parameters or {}),
            },
            timings=dict(comparison.timings),
            rejected=all_rejected,
        )
        write_run_record(tmp, run, started=started, files=files)
    return ComparisonReport(
        folder=Path(out), files=tuple(sorted({*files, "run.json"})), n_rejected=len(all_rejected)
    )


# -- page -----------------------------------------------------------------------------------


def _table(frame: pd.DataFrame, formats: dict | None = None, max_rows: int | None = None) -> str:
    """An HTML table with every header and cell through :func:`esc`."""
    frame = frame.head(max_rows) if max_rows else frame
    formats = formats or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            fmt = formats.get(column)
            text = fmt(value) if fmt is not None else value
            cells.append(f"<td>{esc(text) if text is not None else '—'}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _signed(value, digits: int = 0) -> str:
    text = _num(value, digits)
    try:
        positive = float(value) > 0
    except (TypeError, ValueError):
        return text
    return f"+{text}" if positive else text


def _signed_pct(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if not np.isfinite(number):
        return "—"
    return f"{100 * number:+.2f} pts"


def _card(value: str, label: str) -> str:
    return f'<div class="kpi"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


def _headline(comparison: Comparison) -> list[str]:
    parts = []
    rows = comparison.kpis.set_index("scenario")
    burden = comparison.burden[comparison.burden["window"] == BASE].set_index("scenario")
    for name in comparison.names[1:]:
        row = rows.loc[name]
        base = rows.loc[comparison.baseline.name]
        parts += [
            f"<h3>{esc(name)} vs {esc(comparison.baseline.name)}</h3>",
            '<section class="kpis">',
            _card(_signed(row["delta_covered_weight"]), "people covered (net)"),
            _card(_num(row["gained_weight"]), "people gaining coverage"),
            _card(_num(row["lost_weight"]), "people losing coverage"),
            _card(_signed_pct(row["delta_share_covered"]), "share covered"),
            _card(
                f"{int(base['areas_passing'])} → {int(row['areas_passing'])}",
                f"areas passing {_pct(comparison.threshold, 0)}",
            ),
            _card(_signed(burden.loc[name, "delta_co2_t_per_year"]), "t CO2 a year (trips)"),
            "</section>",
        ]
    return parts


def _scenario_list(comparison: Comparison) -> list[str]:
    items = []
    for scenario in comparison.scenarios:
        where = scenario.where_text
        edits = "".join(f"<li>{esc(e.description)}</li>" for e in scenario.edits)
        items.append(
            f"<li><b>{esc(scenario.name)}</b>: {len(scenario.points):,} points, eligible: "
            f"{esc(where)}" + (f"<ol>{edits}</ol>" if edits else "") + "</li>"
        )
    return ["<h2>Scenarios</h2><ul class='note'>", *items, "</ul>"]


def _charts(comparison: Comparison) -> list[str]:
    out = [
        charts.bar_chart(
            comparison.kpis["scenario"].astype(str).tolist(),
            comparison.kpis["share_covered"].to_numpy(float),
            title="Population covered, by scenario",
            maximum=1.0,
            reference=comparison.threshold,
            color="#1a9850",
        )
    ]
    windows = comparison.windows
    if len(windows):
        overall = windows[windows["group"] == "all"]
        labels = (overall["window"].astype(str) + " · " + overall["scenario"].astype(str)).tolist()
        out.append(
            charts.bar_chart(
                labels,
                overall["share_covered"].to_numpy(float),
                title="Population covered, by time window and scenario",
                maximum=1.0,
                color="#2b8cbe",
                width=640,
            )
        )
    moved = comparison.by_area[comparison.by_area["scenario"] != comparison.baseline.name]
    for column, title, color in (
        ("lost_weight", "People losing coverage, largest areas", LOST),
        ("gained_weight", "People gaining coverage, largest areas", GAINED),
    ):
        top = moved[moved[column] > 0].nlargest(10, column)
        if len(top):
            labels = (top["scenario"].astype(str) + " · " + top[comparison.by].astype(str)).tolist()
            out.append(
                charts.bar_chart(
                    labels,
                    top[column].to_numpy(float),
                    title=title,
                    value_format="{:,.0f}",
                    color=color,
                    width=640,
                )
            )
    return out


_AREA_FORMATS = {
    "weight": _num,
    "share_covered": _pct,
    "delta_share_covered": _signed_pct,
    "delta_covered_weight": _signed,
    "gained_weight": _num,
    "lost_weight": _num,
    "mean_distance_m": _km,
    "delta_mean_distance_m": lambda v: _signed(v),
}


def _area_table(comparison: Comparison) -> list[str]:
    area = comparison.by
    frame = comparison.by_area[comparison.by_area["scenario"] != comparison.baseline.name]
    if frame.empty:
        return ["<h2>By area</h2><p>Only the baseline: nothing to compare.</p>"]
    frame = frame.sort_values(
        ["lost_weight", "delta_covered_weight", "scenario", area],
        ascending=[False, True, True, True],
        na_position="last",
        kind="stable",
    )
    frame = frame.assign(passes=frame["passes"].map({True: "yes", False: "NO"}))
    columns = [
        c
        for c in (
            "scenario",
            area,
            "area_name",
            "weight",
            "share_covered",
            "delta_share_covered",
            "delta_covered_weight",
            "gained_weight",
            "lost_weight",
            "mean_distance_m",
            "delta_mean_distance_m",
            "passes",
        )
        if c in frame.columns
    ]
    return [
        f"<h2>By area ({esc(area)}), largest loss first</h2>",
        "<p class='note'>Gained/lost: people whose place changes side of the standard with "
        "the base eligibility; deltas are scenario minus baseline. All areas in "
        "<a href='deltas.csv'>deltas.csv</a>.</p>",
        '<div class="scroll">',
        _table(frame[columns], _AREA_FORMATS, max_rows=200),
        "</div>",
    ]


def _windows_table(comparison: Comparison) -> list[str]:
    windows = comparison.windows
    if windows.empty:
        return []
    overall = windows[windows["group"] == "all"]
    frame = overall[
        ["window", "description", "scenario", "share_covered", "delta_share_covered"]
        + ["delta_covered_weight"]
    ]
    parts = [
        "<h2>Time windows</h2>",
        _table(
            frame,
            {
                "share_covered": _pct,
                "delta_share_covered": _signed_pct,
                "delta_covered_weight": _signed,
            },
        ),
    ]
    if comparison.changes is not None:
        for window in comparison.window_names:
            movers = comparison.movers(window)
            losers = movers[movers["lost_weight"] > 0]
            if len(losers):
                parts += [
                    f"<h3>Who loses access in the window {esc(window)}</h3>",
                    '<div class="scroll">',
                    _table(
                        losers,
                        {"gained_weight": _num, "lost_weight": _num, "net_weight": _signed},
                        max_rows=30,
                    ),
                    "</div>",
                ]
    return parts


def _networks_table(comparison: Comparison) -> list[str]:
    networks = comparison.networks
    if networks.empty:
        return []
    columns = [
        c
        for c in (
            "scenario",
            "network",
            "n_points",
            "covered_weight",
            "share_covered",
            "marginal_weight",
            "delta_covered_weight",
            "delta_marginal_weight",
        )
        if c in networks.columns
    ]
    formats = {c: (_pct if "share" in c else _signed if "delta" in c else _num) for c in columns}
    formats.pop("scenario"), formats.pop("network")
    return ["<h2>Networks</h2>", _table(networks[columns], formats)]


def _burden_table(comparison: Comparison) -> list[str]:
    frame = comparison.burden[
        [
            "scenario",
            "window",
            "road_km_per_trip",
            "person_km_per_year",
            "co2_t_per_year",
            "delta_person_km_per_year",
            "delta_co2_t_per_year",
            "distance_source",
        ]
    ]
    source = ", ".join(sorted(set(frame["distance_source"].astype(str))))
    return [
        "<h2>Travel burden</h2>",
        "<p class='note'>Yearly trips to the nearest eligible point (6 trips a person, 60 % "
        f"by car, 190 g CO2/km, round trips; distance: {esc(source)}). Places with no "
        "eligible point at all are left out.</p>",
        _table(
            frame.drop(columns=["distance_source"]),
            {
                "road_km_per_trip": lambda v: _num(v, 2),
                "person_km_per_year": _num,
                "co2_t_per_year": _num,
                "delta_person_km_per_year": _signed,
                "delta_co2_t_per_year": _signed,
            },
        ),
    ]


def render_comparison(
    comparison: Comparison,
    *,
    title: str | None = None,
    generated: dt.datetime | None = None,
    inputs: list[dict] | None = None,
    has_map: bool = True,
) -> str:
    """The comparison's ``index.html`` as a string (no script; the map is linked)."""
    generated = generated or dt.datetime.now(dt.UTC)
    standard = comparison.standard.label
    title = title or f"Scenario comparison — {standard}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{esc(title)}</h1>",
        f'<div class="meta">Standard: {esc(standard)} · baseline: '
        f"{esc(comparison.baseline.name)} · engine: {esc(comparison.engine)} · generated "
        f"{esc(generated.strftime('%Y-%m-%d %H:%M UTC'))}</div>",
        "<h2>Headline</h2>",
        *_headline(comparison),
        *_scenario_list(comparison),
        '<h2>Charts</h2><div class="charts">',
        *[f"<figure>{svg}</figure>" for svg in _charts(comparison)],
        "</div>",
    ]
    if has_map:
        parts += [
            "<h2>Map</h2>",
            '<p class="note"><a href="map.html" target="_blank">Open the map full screen</a>. '
            "Places that gain coverage (green), lose it (red) or both in different windows "
            "(orange), per scenario; points closed (grey), added (purple) or with new hours "
            "(blue).</p>",
            '<iframe class="map" src="map.html" title="Comparison map" loading="lazy"></iframe>',
        ]
    parts += _area_table(comparison)
    parts += _windows_table(comparison)
    parts += _networks_table(comparison)
    parts += _burden_table(comparison)
    parts += ["<h2>Inputs</h2><ul class='note'>"]
    for record in inputs or comparison.inputs:
        where = record.get("path") or "in-memory table"
        label = f" ({record['scenario']})" if record.get("scenario") else ""
        digest = f" · SHA-256 {esc(str(record['sha256'])[:16])}…" if record.get("sha256") else ""
        parts.append(f"<li>{esc(record.get('role'))}{esc(label)}: {esc(where)}{digest}</li>")
    files = [f for f in COMPARISON_FILES if has_map or f not in ("map.html", "changes.csv")]
    parts += [
        "</ul><h2>Files</h2><ul>",
        *[f'<li><a href="{name}">{name}</a></li>' for name in files if name != "index.html"],
        "</ul></main></body></html>",
    ]
    return "\n".join(parts)


__all__ = [
    "COMPARISON_FILES",
    "ComparisonReport",
    "render_comparison",
    "write_comparison",
]
