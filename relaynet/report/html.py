"""``index.html`` of a report: KPIs, charts, tables and the embedded map.

Tables go through ``DataFrame.to_html(escape=True)`` and every other value through
``html.escape``: a name from a data file can never inject markup. The page has no script.
Charts are inline SVG (matplotlib, :mod:`relaynet.report.charts`), so the folder stays
self-contained. Everything a person reads is in words and units (:mod:`relaynet.maps.labels`):
column headers, window and network names, %, percentage points, km; the machine names stay
in the CSV and JSON files. A print stylesheet lays the page out on A4 without the map.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import PurePath

import numpy as np
import pandas as pd

from ..io.schema import DENSITY_CLASSES
from ..maps import labels
from . import charts

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2933;background:#f7f7f5}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#52606d;font-size:13px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.kpi{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 3px #0002;min-width:150px}
.kpi b{display:block;font-size:22px}.kpi span{color:#52606d;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:18px}
.charts figure{background:#fff;margin:0;padding:10px;border-radius:8px;box-shadow:0 1px 3px #0002}
table.data{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}
table.data th,table.data td{border:1px solid #e1e4e8;padding:3px 8px;text-align:left;
 vertical-align:top}
table.data th{background:#f0f2f4}
table.data .num{text-align:right}table.data td.num{white-space:nowrap}
.scroll{max-height:420px;overflow:auto;display:inline-block}
.fail{color:#b42318;font-weight:600}.pass{color:#1a7f37}
iframe.map{width:100%;height:620px;border:1px solid #ccc;border-radius:8px;background:#fff}
.note{color:#52606d;font-size:13px;max-width:900px}
.charts svg{max-width:100%;height:auto}
.print-only{display:none}
@media print{
 @page{size:A4;margin:14mm 12mm}
 body{background:#fff;font-size:10.5pt}
 main{max-width:none;padding:0}
 .kpi,.charts figure{box-shadow:none;border:1px solid #ccc}
 .charts figure,table.data tr,.kpi{break-inside:avoid}
 table.data thead{display:table-header-group}
 .scroll{max-height:none;overflow:visible;display:block}
 h2{break-after:avoid}
 iframe.map,.screen-only{display:none}
 .print-only{display:block}
 a{color:inherit;text-decoration:none}
}
"""


def esc(value: object) -> str:
    """``html.escape`` of ``str(value)`` (``""`` for None/NaN)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return html.escape(str(value), quote=True)


def _num(value, digits: int = 0) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if not np.isfinite(number):
        return "—"
    return f"{number:,.{digits}f}".replace(",", "\u202f")


def _pct(value, digits: int = 1) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if not np.isfinite(number) else f"{100 * number:.{digits}f} %"


def reach_text(assessment) -> str:
    """``"within 100.0 km"`` (the assessment's search limit), or ``"at all"``."""
    from ..coverage.reach import SEARCH_LIMIT_M

    limit = getattr(assessment, "search_limit_m", SEARCH_LIMIT_M)
    return f"within {_km(limit)}" if limit else "at all"


def _km(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if not np.isfinite(number) else f"{number / 1000:.1f} km"


def table(
    frame: pd.DataFrame,
    formats: dict | None = None,
    max_rows: int | None = None,
    headers: dict | None = None,
) -> str:
    """An escaped HTML table; ``formats`` maps columns to value → text functions and
    ``headers`` columns to the words shown above them.

    Columns of numbers (before formatting) are right-aligned, text left-aligned; every
    cell and header goes through :func:`esc`, missing values show as ``—``.
    """
    frame = frame.head(max_rows) if max_rows else frame
    formats = formats or {}
    headers = headers or {}
    columns = list(frame.columns)
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in columns
    ]
    align = [' class="num"' if num else "" for num in numeric]
    head = "".join(
        f"<th{a}>{esc(headers.get(c, c))}</th>" for c, a in zip(columns, align, strict=True)
    )
    body = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for c, a, value in zip(columns, align, values, strict=True):
            shown = esc(formats[c](value) if c in formats else value)
            cells.append(f"<td{a}>{shown or '—'}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _kpi(value: str, label: str) -> str:
    return f'<div class="kpi"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


HEADERS = {
    "density_class": "Density class",
    "n_places": "Places",
    "weight": "People",
    "covered_weight": "People covered",
    "uncovered_weight": "People not covered",
    "share_covered": "Share covered",
    "mean_distance_m": "Mean distance",
    "p50_distance_m": "Median distance",
    "p90_distance_m": "90th percentile distance",
    "backup_share": "Share with two points or more",
    "window": "Time window",
    "description": "Meaning",
    "network": "Network",
    "n_points": "Points",
    "marginal_weight": "People only it covers",
    "marginal_share": "Share only it covers",
    "area_id": "Code",
    "area_name": "Name",
    "passes": "Meets the target",
    "shortfall": "People missing to the target",
    "uncovered_places": "Uncovered places",
    "closing_places": "Places that would close the gap",
    "rank": "Rank",
    "gap_id": "Zone",
    "rural_share": "Rural share",
    "nearest_point_m": "Nearest point",
    "nearest_point_id": "Nearest point id",
    "areas": "Départements",
    "places": "Largest places",
    "point_id": "Site",
    "name": "Name",
    "status": "Status",
    "new_weight": "People newly covered",
    "assigned_weight": "People assigned",
    "n_demand": "Places in reach",
    "year": "Year",
    "published_share": "Published share",
    "measured_share": "Measured here",
    "difference": "Difference",
    "published_departements_compliant": "Départements meeting 90 % (published)",
    "measured_departements_compliant": "Départements meeting 90 % (measured)",
    "source": "Source",
    "reason": "Reason",
    "rows": "Rows",
}
"""Column headers as people read them (the CSV/JSON keep the machine names)."""

_KPI_FORMATS = {
    "weight": _num,
    "covered_weight": _num,
    "uncovered_weight": _num,
    "share_covered": _pct,
    "mean_distance_m": _km,
    "p50_distance_m": _km,
    "p90_distance_m": _km,
    "backup_share": _pct,
    "density_class": labels.density_name,
}
_KPI_SHOWN = [
    "n_places",
    "weight",
    "covered_weight",
    "uncovered_weight",
    "share_covered",
    "mean_distance_m",
    "p90_distance_m",
    "backup_share",
]


def _by_density(assessment) -> pd.DataFrame:
    frame = assessment.by_density.reset_index()
    frame = frame.rename(columns={frame.columns[0]: "density_class"})
    return frame[["density_class", *[c for c in _KPI_SHOWN if c in frame.columns]]]


def _windows_table(assessment) -> pd.DataFrame:
    windows = assessment.windows
    if windows is None or windows.empty:
        return pd.DataFrame()
    pivot = windows.pivot_table(
        index=["window", "description"], columns="group", values="share_covered", sort=False
    ).reset_index()
    ordered = [c for c in ("all", *DENSITY_CLASSES) if c in pivot.columns]
    pivot = pivot[["window", "description", *ordered]]
    pivot.columns.name = None
    return pivot.rename(columns={c: f"Covered: {labels.density_name(c).lower()}" for c in ordered})


def _figure(fig, title: str, caption: str, note_html: str = "") -> str:
    """A chart with its caption (``note_html``: escaped HTML added to the caption)."""
    more = f" {note_html}" if note_html else ""
    return (
        f"<figure>{charts.to_svg(fig, title)}"
        f'<figcaption class="note">{esc(caption)}{more}</figcaption></figure>'
    )


def _charts(assessment, solution=None, shapes=None, area_note: str = "") -> list[str]:
    """The report's figures: each one with the sentence it carries (``area_note``: what the
    choropleth leaves out, escaped HTML)."""
    out = []
    density = assessment.by_density
    classes = [c for c in DENSITY_CLASSES if c in density.index]
    out.append(
        "<figure>"
        + charts.bar_chart(
            [labels.density_name(c) for c in classes],
            density.loc[classes, "share_covered"].to_numpy(float),
            title="Population covered by density class",
            maximum=1.0,
            color="#1a9850",
            value_format=labels.percent,
        )
        + "</figure>"
    )
    access = assessment.access
    standard_m = getattr(assessment.standard, "distance_m", None)
    out.append(
        _figure(
            charts.distance_cdf_figure(
                access["distance_m"].to_numpy(float),
                access["weight"].to_numpy(float),
                standard_m,
            ),
            "How far people live from a point",
            "Read a point of the curve as: this share of the population lives within that "
            "distance of the nearest eligible point (log scale, so the rural tail shows).",
        )
    )
    windows = assessment.windows
    if windows is not None and not windows.empty:
        out.append(
            _figure(
                charts.window_density_figure(windows, labels.window_name, labels.density_name),
                "Who is covered when",
                "Share of each density class with an eligible point open in each window of "
                "the reference week; rural places lose coverage first.",
            )
        )
    networks = assessment.networks
    if networks is not None and (networks["network"] != "all networks").sum() >= 2:
        out.append(
            _figure(
                charts.network_figure(networks, labels.network_name),
                "What each network contributes",
                "Blue: population a network covers on its own; orange: population that only "
                "it covers, which would lose coverage without it.",
            )
        )
    if shapes is not None and len(shapes):
        from ..maps.areas import SHARE_CLASSES

        out.append(
            _figure(
                charts.choropleth_figure(
                    shapes, SHARE_CLASSES, "share_covered", "Share covered, by département"
                ),
                "Share covered, by département",
                "Share of each département's population within the standard (the map has "
                "the same layer, and one of the people not covered).",
                area_note,
            )
        )
    if solution is not None:
        total = float(access["weight"].sum())
        out.append(
            _figure(
                charts.before_after_figure(
                    float(solution.covered_weight_before),
                    float(solution.covered_weight_after),
                    total,
                    len(solution.sites),
                    str(solution.model).upper(),
                ),
                "Optimisation before and after",
                "People covered today and with the proposed sites added.",
            )
        )
    return out


def _area_shapes(assessment):
    """Département outlines with their coverage, when the areas are départements."""
    from ..maps.areas import area_shapes

    by = getattr(assessment, "by", None)
    if by is None or by not in assessment.access.columns:
        return None
    try:
        return area_shapes(assessment.access, by)
    except Exception:  # a missing bundled file must not stop the report
        return None


def demand_text(access: pd.DataFrame, demand=None) -> str:
    """What one demand place stands for, in words (plain text): ``"34 852 places (34 620
    at the town hall, 232 at the polygon centroid), 1 909 people per place on average"``.

    Built here from the counts (``location_source`` of the demand when it has one), so
    the page never shows the machine words of :attr:`Assessment.demand_resolution`.
    """
    n = len(access)
    weight = float(pd.to_numeric(access["weight"], errors="coerce").sum()) if n else 0.0
    text = f"{labels.count(n)} places"
    if demand is not None and "location_source" in getattr(demand, "columns", ()):
        counts = demand["location_source"].astype(str).value_counts()
        text += (
            " ("
            + ", ".join(f"{labels.count(v)} {labels.location_source(k)}" for k, v in counts.items())
            + ")"
        )
    if n:
        text += f", {labels.count(weight / n)} people per place on average"
    return text


DEMAND_BIAS = (
    "All the people of a place count at its one point, so coarse places such as communes "
    "placed at their town hall overstate access compared with a finer population grid "
    "(e.g. INSEE 200 m squares), where outlying hamlets are farther from the points."
)
"""The caveat that goes with :func:`demand_text`."""


def _area_note(
    assessment, compliance: pd.DataFrame, area: str, shapes, inputs, *, table: bool = False
) -> str:
    """Escaped HTML: the areas the figure of France leaves out (no outline), and the
    overseas départements with no place in the demand (Mayotte in the bundled data);
    ``table``: the note goes with the table of areas rather than the figure."""
    from ..maps.areas import OVERSEAS_CODES, unmapped_areas

    if shapes is None or area not in compliance.columns:
        return ""
    missing = unmapped_areas(compliance, area, shapes)
    parts = []
    if len(missing):
        shown = ", ".join(
            f"{esc(n)} ({esc(c)})" if str(n) != str(c) else esc(c)
            for c, n in zip(missing["area_id"][:8], missing["area_name"][:8], strict=True)
        )
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        if table:
            parts.append(
                f"{shown}{more}: in this table, not on the figure “Share covered, by "
                "département” (no outline in the bundled data)."
            )
        else:
            parts.append(
                f"Not drawn, for want of an outline in the bundled data: {shown}{more}; "
                "their figures are in the table “Coverage by area” below."
            )
    present = set(compliance[area].astype(str))
    overseas = {code: name for name, code in OVERSEAS_CODES.items()}
    absent = [c for c in sorted(overseas) if c not in present]
    if absent and len(absent) < len(overseas):
        names = ", ".join(f"{esc(overseas[c])} ({esc(c)})" for c in absent)
        bundled = any(
            str(r.get("path", "")).startswith("bundled:") and r.get("role") == "demand"
            for r in inputs
        )
        why = (
            ": the bundled commune data have no population figures for it"
            if bundled
            else ": the demand has no place there"
        )
        parts.append(f"{names} {'is' if len(absent) == 1 else 'are'} absent{why}.")
    return " ".join(parts)


_FILES = {
    "map.html": "the map, full screen",
    "access.csv": "one row per place: nearest point, distance, covered or not",
    "access.parquet": "one row per place: nearest point, distance, covered or not",
    "compliance.csv": "coverage and target by area",
    "gaps.geojson": "gap zones as polygons (for GIS)",
    "gaps.csv": "gap zones as a table",
    "kpis.json": "the figures of this page, for programs",
    "rejected.csv": "input rows not used, with the reason",
    "run.json": "inputs with SHA-256, parameters, version, timings",
    "sites.csv": "proposed sites",
}
"""What each file of a report folder holds, in words (for the "Files" list)."""


def _files_section(files: list[str]) -> list[str]:
    items = [
        f'<li><a href="{esc(name)}">{esc(name)}</a>'
        + (f" — {esc(_FILES[name])}" if name in _FILES else "")
        + "</li>"
        for name in files
    ]
    return ["<h2>Files</h2><ul>", *items, "</ul>"]


def _input_name(record: dict) -> str:
    """What the Method section says about an input: its file name, never a local path."""
    where = record.get("path")
    if not where:
        return "in-memory table"
    where = str(where)
    if where.startswith("bundled:"):
        return f"{where.removeprefix('bundled:')} (bundled with relaynet)"
    return PurePath(where).name


def render_index(
    *,
    assessment,
    compliance: pd.DataFrame,
    gaps,
    solution,
    rejected: pd.DataFrame,
    inputs: list[dict],
    area: str,
    threshold: float,
    title: str | None,
    generated: dt.datetime,
    offline: bool,
    published: pd.DataFrame | None = None,
    demand=None,
    files: list[str] | None = None,
) -> str:
    """The report's ``index.html`` as a string (self-contained except the linked map).

    ``demand``: the demand places as loaded (their ``location_source`` counts go into
    the method); ``files``: the files of the folder, listed at the end (default: those
    every report has).
    """
    from .run import REPORT_FILES

    kpis = assessment.kpis.iloc[0]
    standard = assessment.standard.label
    title = title or f"Relay coverage report — {standard}"
    n_fail = int((~compliance["passes"]).sum())
    shapes = _area_shapes(assessment)
    area_note = _area_note(assessment, compliance, area, shapes, inputs)
    table_note = _area_note(assessment, compliance, area, shapes, inputs, table=True)
    demand_line = demand_text(assessment.access, demand)
    distance = getattr(assessment.standard, "distance_m", None)
    circles = (
        f", with the {labels.km(distance, 0 if float(distance) % 1000 == 0 else 1)} circles "
        "around the points"
        if distance
        else ""
    )
    if files is None:
        files = [f for f in REPORT_FILES if f != "index.html"]
        files += ["sites.csv"] if solution is not None else []
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{esc(title)}</h1>",
        f'<div class="meta">Standard: {esc(standard)} · eligible points: '
        f"{esc(assessment.where)} · generated {esc(generated.strftime('%Y-%m-%d %H:%M UTC'))}"
        "</div>",
        '<section class="kpis" id="kpis">',
        _kpi(_pct(kpis["share_covered"]), f"of the population within {standard}"),
        _kpi(_num(kpis["covered_weight"]), "people covered"),
        _kpi(_num(kpis["uncovered_weight"]), "people not covered"),
        _kpi(_num(kpis["n_places"]), "demand places"),
        _kpi(
            f"{assessment.n_eligible:,}".replace(",", "\u202f"),
            f"eligible points of {assessment.n_points:,}".replace(",", "\u202f"),
        ),
        _kpi(_km(kpis["p90_distance_m"]), "90 % of people live closer than this"),
        *(
            [
                _kpi(
                    _num(kpis["unreached_weight"]),
                    f"people with no eligible point {reach_text(assessment)} "
                    "(left out of distances)",
                )
            ]
            if kpis["unreached_weight"] > 0
            else []
        ),
        _kpi(_num(len(gaps)), "gap zones"),
        _kpi(f"{n_fail} / {len(compliance)}", f"areas below {_pct(threshold, 0)}"),
        "</section>",
        '<h2>Charts</h2><div class="charts">',
        *_charts(assessment, solution, shapes, area_note),
        "</div>",
        "<h2>Map</h2>",
        '<p class="note screen-only"><a href="map.html" target="_blank">Open the map full '
        "screen</a>. Circles are demand places (area ∝ people; green covered, red not, red on "
        "top), purple polygons the gap zones"
        + (", stars the proposed sites" if solution is not None else "")
        + "; département outlines and two choropleths (share covered, people not covered) "
        f"are in the layer control at the top right{esc(circles)}."
        + (
            ""
            if offline
            else " The map loads Leaflet from the internet (use --offline for a "
            "map that works without it)."
        )
        + "</p>",
        '<p class="note print-only">The interactive map is in map.html next to this page; '
        "the figure “Share covered by département” above gives its summary on paper.</p>",
        '<iframe class="map" src="map.html" title="Coverage map" loading="lazy"></iframe>',
        *_published_section(published, demand_line),
        "<h2>Coverage by density class</h2>",
        table(_by_density(assessment), _KPI_FORMATS | {"n_places": _num}, headers=HEADERS),
    ]
    windows = _windows_table(assessment)
    if not windows.empty:
        fmt = {c: _pct for c in windows.columns if c.startswith("Covered")}
        fmt["window"] = labels.window_name
        parts += ["<h2>Time windows</h2>", table(windows, fmt, headers=HEADERS)]
    networks = assessment.networks
    if networks is not None and not networks.empty:
        fmt = {c: (_pct if "share" in c else _num) for c in networks.columns if c != "network"}
        fmt["network"] = labels.network_name
        parts += ["<h2>Networks</h2>", table(networks, fmt, headers=HEADERS)]
    comp = compliance.copy()
    comp["passes"] = comp["passes"].map(lambda x: "yes" if x else "NO")
    comp_cols = [
        c
        for c in (
            area,
            "area_name",
            "weight",
            "covered_weight",
            "share_covered",
            "passes",
            "shortfall",
            "uncovered_places",
            "closing_places",
        )
        if c in comp.columns
    ]
    parts += [
        f"<h2>Coverage by area ({esc('départements' if shapes is not None else area)}), "
        f"target {_pct(threshold, 0)}</h2>",
        f"<p class='note'>{n_fail} of {len(comp)} areas miss the target; failing areas first."
        + (f" {table_note}" if table_note else "")
        + "</p>",
        '<div class="scroll">',
        table(
            comp[comp_cols],
            {
                "weight": _num,
                "covered_weight": _num,
                "share_covered": _pct,
                "shortfall": _num,
                "uncovered_places": _num,
            },
            headers=HEADERS,
        ),
        "</div>",
    ]
    if len(gaps):
        gap_cols = [
            c
            for c in (
                "rank",
                "uncovered_weight",
                "n_places",
                "rural_share",
                "nearest_point_m",
                "areas",
                "places",
            )
            if c in gaps.columns
        ]
        gap_table = pd.DataFrame(gaps[gap_cols])
        if "areas" in gap_table.columns:
            gap_table["areas"] = gap_table["areas"].astype(str).str.replace(";", ", ")
        parts += [
            f"<h2>Gap zones ranked ({_num(len(gaps))}, top 50)</h2>",
            "<p class='note'>Nearest point: distance from the zone's closest place to the "
            "nearest eligible point, rounded up to the next 0.1 km (every place of a zone "
            "is beyond the standard).</p>",
            '<div class="scroll">',
            table(
                gap_table,
                {
                    "uncovered_weight": _num,
                    "n_places": _num,
                    "rural_share": lambda v: _pct(v, 0),
                    # the zone's places are all beyond the standard: rounded up, never
                    # "5.0 km" under a 5 km standard
                    "nearest_point_m": lambda v: labels.km(v, up=True),
                },
                max_rows=50,
                headers=HEADERS | {"n_places": "Places"},
            ),
            "</div>",
        ]
    else:
        parts += ["<h2>Gap zones</h2><p>No uncovered demand: no gap zone.</p>"]
    if solution is not None:
        parts += _solution_section(solution, assessment.access)
    parts += _rejected_section(rejected)
    parts += [
        "<h2>Method and inputs</h2><ul class='note'>",
        f"<li>Drive times: {esc(assessment.drive_time_source)}.</li>",
        f"<li>Demand: {esc(demand_line)}. {esc(DEMAND_BIAS)}</li>",
    ]
    for record in inputs:
        digest = f" · SHA-256 {esc(record['sha256'][:16])}…" if record.get("sha256") else ""
        parts.append(f"<li>{esc(record['role'])}: {esc(_input_name(record))}{digest}</li>")
    parts += [
        "<li>Full paths, parameters and timings: <a href='run.json'>run.json</a>.</li>",
        "</ul>",
        *_files_section(files),
        "</main></body></html>",
    ]
    return "\n".join(parts)


_MODEL_WORDS = {
    "mclp": "the {p} sites that bring the most people within the standard, existing points "
    "staying open",
    "lscp": "the fewest sites that bring every place (or the target share) within the standard",
    "pmedian": "the {p} sites that make people's distance to their nearest point smallest",
    "backup": "sites that put people within the standard of two points",
}
"""What each siting model chooses, in words (``{p}``: the number of sites)."""


def _site_table(sites: pd.DataFrame, access: pd.DataFrame | None) -> pd.DataFrame:
    """Proposed sites as people read them: the place's name and code (candidates made
    from the demand places are ``"cand:" + demand_id``), its area, and the figures."""
    ids = sites["point_id"].astype(str) if "point_id" in sites else pd.Series([], dtype=str)
    out = pd.DataFrame(index=sites.index)
    names = sites["name"].astype(object) if "name" in sites else pd.Series(None, index=sites.index)
    codes = ids.str.removeprefix("cand:")
    places = None
    if access is not None and "demand_id" in access.columns:
        places = access.drop_duplicates("demand_id").set_index(access["demand_id"].astype(str))
        places = places[~places.index.duplicated()]
    known = codes.isin(places.index) if places is not None else pd.Series(False, index=ids.index)
    if places is not None and "name" in places.columns:
        names = names.where(names.notna() & names.astype(str).ne(""), codes.map(places["name"]))
    out["name"] = names.where(names.notna() & names.astype(str).ne(""), ids)
    if len(sites) and known.all():
        out["demand_id"] = codes
        if "area_name" in places.columns:
            out["area_name"] = codes.map(places["area_name"])
    else:
        out["point_id"] = ids
    for column in ("status", "new_weight", "assigned_weight", "n_demand"):
        if column in sites.columns:
            out[column] = sites[column]
    if "status" in out:
        out["status"] = out["status"].map(lambda v: str(v).replace("_", " ").capitalize())
    return out


def _solution_section(solution, access: pd.DataFrame | None = None) -> list[str]:
    sites = pd.DataFrame(solution.sites.drop(columns="geometry", errors="ignore"))
    before, after = solution.covered_weight_before, solution.covered_weight_after
    sites = sites.sort_values("new_weight", ascending=False) if "new_weight" in sites else sites
    gap = "not proven" if solution.gap is None else _pct(solution.gap, 2)
    model = str(solution.model)
    chooses = _MODEL_WORDS.get(model.lower(), "").format(p=len(sites))
    return [
        f"<h2>Proposed sites: {len(sites)}, by {esc(labels.model_name(model))}</h2>",
        f"<p class='note'>Model: {esc(labels.model_name(model))}"
        + (f" — {esc(chooses)}" if chooses else "")
        + f". Status {esc(solution.status)}, solver {esc(solution.solver)}, "
        f"optimality gap {esc(gap)}. People covered {_num(before)} → {_num(after)} "
        f"(+{_num(after - before)}).</p>",
        '<div class="scroll">',
        table(
            _site_table(sites, access),
            {"new_weight": _num, "assigned_weight": _num, "n_demand": _num},
            headers=HEADERS
            | {"name": "Site", "demand_id": "Place code", "area_name": "Area", "point_id": "Id"},
        ),
        "</div>",
    ]


def _rejected_section(rejected: pd.DataFrame) -> list[str]:
    if rejected.empty:
        return ["<h2>Rejected input rows</h2><p>Every input row was used.</p>"]
    reasons = (
        rejected.assign(reason=rejected["reason"].astype(str).str.split("; "))
        .explode("reason")
        .groupby(["source", "reason"], sort=False)
        .size()
        .rename("rows")
        .reset_index()
        .sort_values("rows", ascending=False)
    )
    return [
        f"<h2>Rejected input rows ({len(rejected)})</h2>",
        "<p class='note'>Listed with their line numbers in <a href='rejected.csv'>rejected.csv"
        "</a>.</p>",
        '<div class="scroll">',
        table(reasons, {"rows": _num}, max_rows=30, headers=HEADERS | {"source": "Input"}),
        "</div>",
    ]


def _published_section(published: pd.DataFrame | None, demand_line: str = "") -> list[str]:
    """Measured coverage beside La Poste's published figures, with the caveats."""
    if published is None or published.empty:
        return []
    first = published.iloc[0]
    shown = published[
        [
            "year",
            "published_share",
            "measured_share",
            "difference",
            "published_departements_compliant",
            "measured_departements_compliant",
            "source",
        ]
    ]
    return [
        "<h2>Compared with La Poste's published figures</h2>",
        table(
            shown,
            {
                "published_share": _pct,
                "measured_share": _pct,
                "difference": labels.points_diff,
                "published_departements_compliant": lambda v: _num(v),
            },
            headers=HEADERS,
        ),
        "<p class='note'>Difference in percentage points (pp). Measured over "
        f"{esc(first['scope'])} with the standard {esc(first['standard'])} "
        f"(drive time: {esc(first['drive_time'])}). Demand: {esc(demand_line)}. "
        f"{esc(DEMAND_BIAS)} Expect the measured share to be above the published one for "
        "that reason.</p>",
    ]
