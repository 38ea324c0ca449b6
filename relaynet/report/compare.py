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
from ..maps import comparison_map, esc, labels
from ..maps.comparison import GAINED, LOST, window_label
from . import charts
from .folder import check_writable, report_folder
from .html import _CSS, _input_name
from .html import HEADERS as REPORT_HEADERS
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

_EXTRA_CSS = """
.scroll{max-width:100%}
.wide{max-width:100%;overflow-x:auto}
.charts{align-items:flex-start}
table.data th{vertical-align:bottom;max-width:11em}
table.data td.text,table.data th.text{text-align:left}
table.data td.fail{color:#b42318;font-weight:600}
ul.inputs{padding-left:18px}
@media print{
 table.data{font-size:8pt;width:100%}
 table.data th,table.data td{padding:2px 4px}
 table.data th{max-width:none}
 .scroll,.wide{max-width:none;overflow:visible}
 .charts{display:block}
 .charts figure{margin:0 0 8px}
}
"""
"""Styles of the comparison page on top of the report's: tables never wider than the page
(a wide one scrolls inside its box on screen, wraps on paper), text columns on the left."""

HEADERS = REPORT_HEADERS | {
    "scenario": "Scenario",
    "area": "Area",
    "weight": "People",
    "share_change": "Share covered (change)",
    "delta_share_covered": "Change in share covered",
    "delta_covered_weight": "Change in people covered",
    "gained_weight": "People gaining coverage",
    "lost_weight": "People losing coverage",
    "gained_places": "Places gaining coverage",
    "lost_places": "Places losing coverage",
    "distance_change": "Mean distance to a point (change)",
    "passes": "Meets the target",
    "window": "Time window",
    "delta_marginal_weight": "Change in people only it covers",
    "road_km_per_trip": "Mean trip (road, one way)",
    "person_km_per_year": "Travel a year (person-km)",
    "co2_t_per_year": "CO₂ a year (t)",
    "delta_person_km_per_year": "Change in travel (person-km a year)",
    "delta_co2_t_per_year": "Change in CO₂ (t a year)",
}
"""Column headers of the comparison page (the report's, and the comparison's own); the
CSV and JSON files keep the machine names."""


def change_pp(difference) -> str:
    """A difference of two shares in percentage points, signed, with the decimals it needs
    not to read as zero: ``0.0212`` → ``"+2.12 pp"``, ``0.00004`` → ``"+0.004 pp"``,
    ``0`` → ``"0.00 pp"``; closer to 0 than 0.0001 pp: ``"< +0.0001 pp"`` or
    ``"> −0.0001 pp"``."""
    try:
        number = 100 * float(difference)
    except (TypeError, ValueError):
        return "—"
    if not np.isfinite(number):
        return "—"
    if number == 0:
        return "0.00 pp"
    size = abs(number)
    if size < 1e-4:
        return "< +0.0001 pp" if number > 0 else "> −0.0001 pp"
    digits = min(max(2, -int(np.floor(np.log10(size)))), 4)
    return labels.points_diff(difference, digits).replace("-", "−")


def change_count(value, unit: str = "") -> str:
    """A signed whole number with thin spaces: ``2593`` → ``"+2 593"``, ``0`` → ``"0"``."""
    text = labels.count(value)
    if text == "—":
        return text
    number = float(value)
    sign = "+" if round(number) > 0 else "−" if round(number) < 0 else ""
    return f"{sign}{text.lstrip('-')}" + (f" {unit}" if unit else "")


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return esc(value)


def _table(
    frame: pd.DataFrame,
    columns: list[str],
    formats: dict | None = None,
    *,
    headers: dict | None = None,
    text: tuple[str, ...] = ("scenario", "area", "window", "network"),
    max_rows: int | None = None,
) -> str:
    """An HTML table of ``columns`` with the words of :data:`HEADERS` (and ``headers``)
    above them; every header and cell through :func:`esc`, missing values as "—"."""
    frame = frame.head(max_rows) if max_rows else frame
    formats = formats or {}
    words = HEADERS | (headers or {})

    def klass(column: str) -> str:
        return ' class="text"' if column in text else ""

    # a unit never alone on a line: "90 %", not "90" above "%"
    head = "".join(
        f"<th{klass(c)}>{esc(words.get(c, c)).replace(' %', '&nbsp;%')}</th>" for c in columns
    )
    rows = []
    for record in frame[columns].itertuples(index=False, name=None):
        cells = []
        for column, value in zip(columns, record, strict=True):
            fmt = formats.get(column)
            shown = fmt(value) if fmt is not None else value
            if column not in text and isinstance(shown, str):
                shown = shown.replace(" ", "\u00a0")  # "97.4 % (−0.79 pp)" on one line
            css = ' class="fail"' if column == "passes" and shown == "NO" else klass(column)
            cells.append(f"<td{css}>{_cell(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _card(value: str, label: str) -> str:
    return f'<div class="kpi"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


def _places(n) -> str:
    number = int(n) if pd.notna(n) else 0
    return f"{labels.count(number)} place" + ("" if number == 1 else "s")


def _headline(comparison: Comparison) -> list[str]:
    parts = []
    rows = comparison.kpis.set_index("scenario")
    burden = comparison.burden[comparison.burden["window"] == BASE].set_index("scenario")
    local = comparison.changes is not None
    for name in comparison.names[1:]:
        row = rows.loc[name]
        base = rows.loc[comparison.baseline.name]
        gained = "people gaining coverage" + (
            f" ({_places(row['gained_places'])})" if local else ""
        )
        lost = "people losing coverage" + (f" ({_places(row['lost_places'])})" if local else "")
        parts += [
            f"<h3>{esc(name)} vs {esc(comparison.baseline.name)}</h3>",
            '<section class="kpis">',
            _card(change_count(row["delta_covered_weight"]), "people covered (net change)"),
            _card(labels.count(row["gained_weight"]), gained),
            _card(labels.count(row["lost_weight"]), lost),
            _card(change_pp(row["delta_share_covered"]), "share of the population covered"),
            _card(
                f"{int(base['areas_passing'])} → {int(row['areas_passing'])}",
                f"areas meeting {labels.percent(comparison.threshold, 0)}",
            ),
            _card(
                change_count(burden.loc[name, "delta_co2_t_per_year"], "t"),
                "CO₂ a year (trips to the nearest point)",
            ),
            "</section>",
        ]
    if len(comparison.names) > 1:
        parts.append(
            "<p class='note'>Changes are scenario minus baseline; pp: percentage points. "
            "Gaining and losing coverage: with the base eligibility (opening hours not "
            "checked); the time windows are below.</p>"
        )
    return parts


def _scenario_list(comparison: Comparison) -> list[str]:
    items = []
    for scenario in comparison.scenarios:
        where = scenario.where_text
        edits = "".join(f"<li>{esc(e.description)}</li>" for e in scenario.edits)
        items.append(
            f"<li><b>{esc(scenario.name)}</b>: {esc(labels.count(len(scenario.points)))} "
            f"points, eligible: {esc(where)}" + (f"<ol>{edits}</ol>" if edits else "") + "</li>"
        )
    return ["<h2>Scenarios</h2><ul class='note'>", *items, "</ul>"]


def _people(value) -> str:
    return f"{labels.count(value)} people"


def _area_kind(comparison: Comparison) -> str:
    """``"Département"`` when the areas are département codes, else ``"Area"``."""
    ids = comparison.by_area[comparison.by].astype(str)
    if not len(ids):
        return "Area"
    try:
        from ..maps.areas import departements

        codes = departements()["area_id"]
    except Exception:  # a missing bundled file must not stop the report
        return "Area"
    return "Département" if ids.isin(codes).mean() >= 0.5 else "Area"


def _area_names(frame: pd.DataFrame, area: str) -> pd.Series:
    """``"Seine-Maritime (76)"`` per row (the code alone when the name is unknown)."""
    codes = frame[area].astype(object).map(lambda v: "" if pd.isna(v) else str(v))
    if "area_name" not in frame.columns:
        return codes
    names = frame["area_name"].astype(object).map(lambda v: "" if pd.isna(v) else str(v))
    return pd.Series(
        [f"{n} ({c})" if n and n != c else c for n, c in zip(names, codes, strict=True)],
        index=frame.index,
    )


def _charts(comparison: Comparison) -> list[str]:
    target = labels.percent(comparison.threshold, 0)
    out = [
        charts.bar_chart(
            comparison.kpis["scenario"].astype(str).tolist(),
            comparison.kpis["share_covered"].to_numpy(float),
            title="Population covered, by scenario",
            value_format=labels.percent,
            maximum=1.0,
            reference=comparison.threshold,
            reference_label=f"{target} (area target)",
            color="#1a9850",
            width=560,
        )
    ]
    windows = comparison.windows
    if len(windows):
        overall = windows[windows["group"] == "all"]
        rank = {w: k for k, w in enumerate(comparison.window_names)}
        overall = overall.iloc[np.argsort(overall["window"].map(rank), kind="stable")]
        out.append(
            charts.bar_chart(
                overall["scenario"].astype(str).tolist(),
                overall["share_covered"].to_numpy(float),
                title="Population covered, by time window and scenario",
                value_format=labels.percent,
                maximum=1.0,
                color="#2b8cbe",
                width=560,
                groups=overall["window"].map(window_label).tolist(),
            )
        )
    moved = comparison.by_area[comparison.by_area["scenario"] != comparison.baseline.name]
    for column, title, color in (
        ("lost_weight", "People losing coverage, largest areas", LOST),
        ("gained_weight", "People gaining coverage, largest areas", GAINED),
    ):
        top = pd.concat(
            [
                moved[(moved["scenario"] == name) & (moved[column] > 0)].nlargest(10, column)
                for name in comparison.names[1:]
            ]
        )
        if len(top):
            out.append(
                charts.bar_chart(
                    _area_names(top, comparison.by).tolist(),
                    top[column].to_numpy(float),
                    title=title,
                    value_format=_people,
                    color=color,
                    width=560,
                    groups=top["scenario"].astype(str).tolist(),
                )
            )
    return out


def _area_table(comparison: Comparison) -> list[str]:
    area = comparison.by
    kind = _area_kind(comparison)
    frame = comparison.by_area[comparison.by_area["scenario"] != comparison.baseline.name]
    heading = "By département" if kind == "Département" else f"By area ({esc(area)})"
    if frame.empty:
        return [f"<h2>{heading}</h2><p>Only the baseline: nothing to compare.</p>"]
    frame = frame.sort_values(
        ["lost_weight", "delta_covered_weight", "scenario", area],
        ascending=[False, True, True, True],
        na_position="last",
        kind="stable",
    )
    frame = frame.assign(
        area=_area_names(frame, area),
        passes=frame["passes"].map({True: "yes", False: "NO"}),
        share_change=[
            f"{labels.percent(s)} ({change_pp(d)})"
            for s, d in zip(frame["share_covered"], frame["delta_share_covered"], strict=True)
        ],
        distance_change=[
            f"{labels.km(m)} ({change_count(d)} m)" if np.isfinite(d) and d else labels.km(m)
            for m, d in zip(
                frame["mean_distance_m"].astype(float),
                frame["delta_mean_distance_m"].astype(float),
                strict=True,
            )
        ],
    )
    columns = [
        "scenario",
        "area",
        "weight",
        "share_change",
        "gained_weight",
        "lost_weight",
        "distance_change",
        "passes",
    ]
    if comparison.changes is None:  # dask: no per-place states
        columns = [c for c in columns if c not in ("gained_weight", "lost_weight")]
    headers = {"area": kind, "passes": f"Meets {labels.percent(comparison.threshold, 0)}"}
    return [
        f"<h2>{heading}, largest loss first</h2>",
        "<p class='note'>People gaining or losing coverage: people whose place changes side "
        "of the standard with the base eligibility; changes are scenario minus baseline "
        "(pp: percentage points). The first 200 rows; all areas, with every column, in "
        "<a href='deltas.csv'>deltas.csv</a>.</p>",
        '<div class="scroll">',
        _table(
            frame,
            columns,
            {"weight": labels.count, "gained_weight": labels.count, "lost_weight": labels.count},
            headers=headers,
            max_rows=200,
        ),
        "</div>",
    ]


def _windows_table(comparison: Comparison) -> list[str]:
    windows = comparison.windows
    if windows.empty:
        return []
    overall = windows[windows["group"] == "all"]
    described = overall.drop_duplicates("window")
    parts = [
        "<h2>Time windows</h2>",
        '<div class="wide">',
        _table(
            overall,
            ["window", "scenario", "share_covered", "delta_share_covered", "delta_covered_weight"],
            {
                "window": window_label,
                "share_covered": labels.percent,
                "delta_share_covered": change_pp,
                "delta_covered_weight": change_count,
            },
        ),
        "</div>",
        "<ul class='note'>",
        *[
            f"<li>{esc(window_label(w))}: {esc(d)}</li>"
            for w, d in zip(described["window"], described["description"], strict=True)
        ],
        "</ul>",
    ]
    if comparison.changes is not None:
        kind = _area_kind(comparison)
        for window in comparison.window_names:
            movers = comparison.movers(window)
            losers = movers[movers["lost_weight"] > 0]
            if len(losers):
                losers = losers.assign(area=_area_names(losers, comparison.by))
                shown = min(len(losers), 30)
                parts += [
                    f"<h3>Who loses access: {esc(window_label(window))}</h3>",
                    f"<p class='note'>{shown} of {len(losers)} areas, largest loss first.</p>",
                    '<div class="scroll">',
                    _table(
                        losers,
                        [
                            "scenario",
                            "area",
                            "lost_places",
                            "lost_weight",
                            "gained_places",
                            "gained_weight",
                        ],
                        {
                            "gained_weight": labels.count,
                            "lost_weight": labels.count,
                            "gained_places": labels.count,
                            "lost_places": labels.count,
                        },
                        headers={"area": kind},
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
    formats = {
        c: (labels.percent if "share" in c else change_count if "delta" in c else labels.count)
        for c in columns
    }
    formats["network"] = labels.network_name
    del formats["scenario"]
    table = _table(networks, columns, formats)
    return ["<h2>Networks</h2>", '<div class="wide">', table, "</div>"]


def _burden_table(comparison: Comparison) -> list[str]:
    frame = comparison.burden
    source = ", ".join(sorted(set(frame["distance_source"].astype(str))))
    columns = [
        "scenario",
        "window",
        "road_km_per_trip",
        "person_km_per_year",
        "co2_t_per_year",
        "delta_person_km_per_year",
        "delta_co2_t_per_year",
    ]
    return [
        "<h2>Travel burden</h2>",
        "<p class='note'>Yearly trips to the nearest eligible point (6 trips a person, 60 % "
        f"by car, 190 g CO₂/km, round trips; distance: {esc(source)}). Places with no "
        "eligible point at all are left out.</p>",
        '<div class="wide">',
        _table(
            frame,
            columns,
            {
                "window": window_label,
                "road_km_per_trip": lambda v: labels.km(1000 * float(v), 2),
                "person_km_per_year": labels.count,
                "co2_t_per_year": labels.count,
                "delta_person_km_per_year": change_count,
                "delta_co2_t_per_year": change_count,
            },
        ),
        "</div>",
    ]


def _inputs(comparison: Comparison, inputs: list[dict]) -> list[str]:
    """Files read (by file name; full paths in run.json) and each scenario's points."""
    files, tables = [], []
    for record in inputs:
        role = str(record.get("role") or "input")
        if record.get("path"):
            digest = (
                f" · SHA-256 {esc(str(record['sha256'])[:16])}…" if record.get("sha256") else ""
            )
            rows = record.get("rows_read", record.get("rows"))
            count = f" · {esc(labels.count(rows))} rows" if rows is not None else ""
            files.append(
                f"<li>{esc(role.capitalize())}: {esc(_input_name(record))}{count}{digest}</li>"
            )
        elif record.get("scenario") is not None:
            rows = record.get("rows")
            count = f"{labels.count(rows)} points" if rows is not None else "points"
            tables.append(f"<li>{esc(record['scenario'])}: {esc(count)}</li>")
        else:
            files.append(f"<li>{esc(role.capitalize())}: a table given in Python</li>")
    parts = ["<h2>Inputs</h2>"]
    if files:
        parts += ["<p class='note'>Files read:</p><ul class='note inputs'>", *files, "</ul>"]
    if tables:
        parts += [
            "<p class='note'>Points of each scenario (tables built from the files above or "
            "given in Python; the edits are listed under Scenarios):</p>",
            "<ul class='note inputs'>",
            *tables,
            "</ul>",
        ]
    parts.append(
        "<p class='note'>Full paths, parameters and timings: <a href='run.json'>run.json</a>.</p>"
    )
    return parts


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
        f"<title>{esc(title)}</title><style>{_CSS}{_EXTRA_CSS}</style></head><body><main>",
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
            '<p class="note screen-only"><a href="map.html" target="_blank">Open the map full '
            "screen</a>. Per scenario, places that gain coverage (green), lose it (red) or "
            "both in different time windows (orange), circle area ∝ people; the points "
            "closed (grey rings), added (purple rings) or with new hours (blue rings) "
            "underneath. Hover or click a circle for its name and what changed.</p>",
            '<p class="note print-only">The interactive map is in map.html next to this page.</p>',
            '<iframe class="map" src="map.html" title="Comparison map" loading="lazy"></iframe>',
        ]
    parts += _area_table(comparison)
    parts += _windows_table(comparison)
    parts += _networks_table(comparison)
    parts += _burden_table(comparison)
    parts += _inputs(comparison, inputs or comparison.inputs)
    files = [f for f in COMPARISON_FILES if has_map or f not in ("map.html", "changes.csv")]
    parts += [
        "<h2>Files</h2><ul>",
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
