"""Comparison map: places that gain or lose coverage between scenarios, and the points
that were closed, added or given other hours (one layer per scenario and kind of change).
Every data text goes through :func:`relaynet.maps._html.esc`."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from ..errors import ParameterError
from . import _html
from ._layers import CircleLayer
from .coverage import radius_px
from .points import base_map, view_bounds

GAINED = "#1a9850"
LOST = "#d73027"
MIXED = "#fdae61"
CLOSED = "#4d4d4d"
ADDED = "#7b3294"
HOURS = "#2166ac"


def _place_rows(changes: pd.DataFrame, access: pd.DataFrame, states: list[str]):
    """Per place with any change: (lat, lon, weight, flag, tooltip) for one scenario."""
    values = changes[states].to_numpy(object)
    gained = (values == "gained").any(axis=1)
    lost = (values == "lost").any(axis=1)
    moved = np.flatnonzero(gained | lost)
    radius = radius_px(changes["weight"].to_numpy(float))
    label = changes["name"] if "name" in changes.columns else changes["demand_id"]
    rows = {"gained": [], "lost": [], "mixed": []}
    lat = access["lat"].to_numpy(float)
    lon = access["lon"].to_numpy(float)
    for i in moved[np.argsort(-radius[moved], kind="stable")]:
        flag = "mixed" if gained[i] and lost[i] else "gained" if gained[i] else "lost"
        where = [
            f"{'base' if s == 'state' else s.removeprefix('state_')}: {values[i, k]}"
            for k, s in enumerate(states)
            if values[i, k] != "unchanged"
        ]
        people = _html.format_number(changes["weight"].iloc[i])
        tip = f"{_html.esc(label.iloc[i])} · {people} people · {_html.esc(', '.join(where))}"
        if not (np.isfinite(lat[i]) and np.isfinite(lon[i])):
            continue
        rows[flag].append([round(float(lat[i]), 5), round(float(lon[i]), 5), flag, radius[i], tip])
    return rows


def _point_changes(baseline, scenario) -> dict[str, pd.DataFrame]:
    """Points closed, added, and with other opening hours, between two scenarios."""
    before = baseline.points.set_index(baseline.point_ids)
    after = scenario.points.set_index(scenario.point_ids)
    closed = before.loc[before.index.difference(after.index, sort=False)]
    added = after.loc[after.index.difference(before.index, sort=False)]
    both = before.index.intersection(after.index, sort=False)
    if "opening_hours" in before.columns and "opening_hours" in after.columns and len(both):
        old = before.loc[both, "opening_hours"].astype(object).fillna("")
        new = after.loc[both, "opening_hours"].astype(object).fillna("")
        hours = after.loc[both[(old != new).to_numpy()]].assign(
            old_hours=old[(old != new).to_numpy()]
        )
    else:
        hours = after.iloc[0:0]
    return {"closed": closed, "added": added, "hours": hours}


def comparison_map(comparison, *, tiles: str | None = "OpenStreetMap", offline: bool = False):
    """Folium map of a comparison: places gaining/losing coverage and points that changed,
    one layer per scenario and kind of change (local engine).

    Parameters
    ----------
    comparison
        Result of :func:`relaynet.coverage.compare`.
    tiles
        Folium tiles; ``None`` for no background.
    offline
        Inline Leaflet and the other JavaScript/CSS (works without internet).
    """
    if comparison.changes is None:
        raise ParameterError("comparison_map: per-place changes need the local engine")
    access = comparison.runs[comparison.baseline.name].assessment.access
    bounds = view_bounds(access["lon"].to_numpy(float), access["lat"].to_numpy(float))
    m = base_map(bounds, tiles, offline=offline)
    styles = {
        name: {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.6}
        for name, color in (
            ("gained", GAINED),
            ("lost", LOST),
            ("mixed", MIXED),
            ("closed", CLOSED),
            ("added", ADDED),
            ("hours", HOURS),
        )
    }
    order = list(styles)
    style_list = [styles[k] for k in order]
    states = ["state", *[c for c in comparison.changes.columns if c.startswith("state_")]]
    for scenario in comparison.scenarios[1:]:
        mask = (comparison.changes["scenario"] == scenario.name).to_numpy()
        changes = comparison.changes.loc[mask].reset_index(drop=True)
        rows = _place_rows(changes, access, states)
        for flag, text in (("gained", "gain"), ("lost", "lose"), ("mixed", "gain and lose")):
            if rows[flag]:
                data = [[r[0], r[1], order.index(r[2]), float(r[3]), r[4]] for r in rows[flag]]
                name = f"{_html.esc(scenario.name)}: {len(data)} places {text} coverage"
                CircleLayer(data, style_list, name).add_to(m)
        for flag, points in _point_changes(comparison.baseline, scenario).items():
            if not len(points):
                continue
            data = []
            for pid, row in zip(points.index, points.to_dict("records"), strict=True):
                geom = row.get("geometry")
                if geom is None or geom.is_empty:
                    continue
                tip = f"{_html.esc(flag)}: {_html.esc(row.get('name'))} ({_html.esc(pid)})"
                if flag == "hours":
                    old, new = row.get("old_hours"), row.get("opening_hours")
                    tip += f" · {_html.esc(old)} → {_html.esc(new)}"
                data.append([round(geom.y, 5), round(geom.x, 5), order.index(flag), 5.0, tip])
            label = {"closed": "points closed", "added": "points added", "hours": "new hours"}
            name = f"{_html.esc(scenario.name)}: {len(data)} {label[flag]}"
            CircleLayer(data, style_list, name).add_to(m)
    legend = [
        (
            "Places (circle area ∝ people)",
            [
                (GAINED, "gain coverage", "circle"),
                (LOST, "lose coverage", "circle"),
                (MIXED, "gain in one window, lose in another", "circle"),
            ],
        ),
        (
            "Points",
            [
                (CLOSED, "closed", "circle"),
                (ADDED, "added", "circle"),
                (HOURS, "new opening hours", "circle"),
            ],
        ),
    ]
    m.add_child(_html.Legend(legend))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


__all__ = ["comparison_map"]
