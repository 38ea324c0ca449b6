"""The tables of a comparison, built from each scenario's pipeline run: KPIs stacked per
scenario, per-place changes, movers and totals, time windows, networks, travel burden, and
the ``delta_`` columns against the baseline."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..burden import TripAssumptions, travel_burden
from .comparison import (
    BASE,
    BURDEN_COLUMNS,
    DELTA_KPIS,
    STATES,
    _delta,
    _movers,
    compare_burden,
)


def _kpi_rows(runs, names, table_of, key: str | None) -> pd.DataFrame:
    """One KPI table per scenario stacked, with ``scenario`` (and ``key``) columns first."""
    frames = []
    for name in names:
        table = table_of(runs[name].assessment).copy()
        if key is None:
            table = table.reset_index(drop=True)
        else:
            table.index = table.index.astype(str)
            table.index.name = key
            table = table.reset_index()
        table.insert(0, "scenario", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _add_compliance(by_area: pd.DataFrame, runs, area: str) -> pd.DataFrame:
    frames = []
    for name, run in runs.items():
        comp = run.compliance
        frame = pd.DataFrame(
            {"scenario": name, area: comp[area].astype(str), "passes": comp["passes"].astype(bool)}
        )
        if "area_name" in comp.columns:
            frame["area_name"] = comp["area_name"].astype(object).to_numpy()
        frames.append(frame)
    merged = by_area.merge(pd.concat(frames, ignore_index=True), on=["scenario", area], how="left")
    front = ["scenario", area, *(["area_name"] if "area_name" in merged.columns else [])]
    return merged[[*front, *[c for c in merged.columns if c not in front]]]


def _changes(runs, names, area: str) -> pd.DataFrame:
    """Per place and non-baseline scenario: state, coverage and nearest point before/after."""
    base = runs[names[0]].assessment
    access = base.access
    keep = [c for c in ("demand_id", "name", area, "area_name", "density_class") if c in access]
    keep = list(dict.fromkeys(keep))
    frames = []
    for name in names[1:]:
        other = runs[name].assessment
        after = other.access
        frame = access[keep].copy()
        frame.insert(0, "scenario", name)
        frame["weight"] = access["weight"].to_numpy(float)
        before_c = access["covered"].to_numpy(bool)
        after_c = after["covered"].to_numpy(bool)
        frame["state"] = _states(before_c, after_c)
        frame["covered_before"] = before_c
        frame["covered_after"] = after_c
        d0 = access["distance_m"].to_numpy(float)
        d1 = after["distance_m"].to_numpy(float)
        frame["distance_before_m"] = d0
        frame["distance_after_m"] = d1
        frame["delta_distance_m"] = _delta(d0, d1)
        frame["point_before"] = access["point_id"].to_numpy(object)
        frame["point_after"] = after["point_id"].to_numpy(object)
        for window, table in base.window_access.items():
            if window in other.window_access:
                frame[f"state_{window}"] = _states(
                    table["covered"].to_numpy(bool),
                    other.window_access[window]["covered"].to_numpy(bool),
                )
        frames.append(frame)
    if not frames:
        columns = ["scenario", *keep, "weight", "state", "covered_before", "covered_after"]
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def _states(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.where(
        ~before & after, "gained", np.where(before & ~after, "lost", "unchanged")
    ).astype(object)


def _add_movers(by_area: pd.DataFrame, changes, area: str, names) -> pd.DataFrame:
    columns = ["gained_places", "gained_weight", "lost_places", "lost_weight"]
    if changes is None:
        return by_area.assign(**{c: np.nan for c in columns})
    moved = _movers(changes, "state", area)[["scenario", area, *columns]]
    missing = moved[area].isna().to_numpy()
    if missing.any():  # places without an area are the "unknown" row of by_area
        moved[area] = moved[area].astype(object).where(~missing, "unknown")
    out = by_area.merge(moved, on=["scenario", area], how="left")
    out[columns] = out[columns].fillna(0.0)
    for c in ("gained_places", "lost_places"):
        out[c] = out[c].astype(np.int64)
    return out


def _add_totals(kpis: pd.DataFrame, by_area: pd.DataFrame, changes, names) -> pd.DataFrame:
    """Areas passing, and the per-place state totals, on the overall rows."""
    passing = by_area.groupby("scenario", sort=False)["passes"].agg(["sum", "size"])
    kpis = kpis.assign(
        areas_passing=passing.loc[kpis["scenario"], "sum"].astype(np.int64).to_numpy(),
        areas=passing.loc[kpis["scenario"], "size"].astype(np.int64).to_numpy(),
    )
    for state in STATES:
        if changes is None:
            kpis[f"{state}_places"] = np.nan
            kpis[f"{state}_weight"] = np.nan
            continue
        hit = changes["state"] == state
        counts = hit.groupby(changes["scenario"]).sum()
        weights = changes["weight"].where(hit, 0.0).groupby(changes["scenario"]).sum()
        n_base = kpis["n_places"].iloc[0] if state == "unchanged" else 0
        w_base = kpis["weight"].iloc[0] if state == "unchanged" else 0.0
        kpis[f"{state}_places"] = [
            int(counts.get(n, 0)) if n != names[0] else int(n_base) for n in kpis["scenario"]
        ]
        kpis[f"{state}_weight"] = [
            float(weights.get(n, 0.0)) if n != names[0] else float(w_base) for n in kpis["scenario"]
        ]
    return kpis


def _window_rows(runs, names) -> pd.DataFrame:
    frames = []
    for name in names:
        table = runs[name].assessment.windows
        if table is None or not len(table):
            continue
        table = table.copy()
        table.insert(0, "scenario", name)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["scenario", "window", "description", "group"])
    out = pd.concat(frames, ignore_index=True)
    out["window"] = out["window"].astype(str)
    out["group"] = out["group"].astype(str)
    return out


def _network_rows(runs, names) -> pd.DataFrame:
    frames = []
    for name in names:
        table = runs[name].assessment.networks
        if table is None or not len(table):
            continue
        table = pd.DataFrame(table).copy()
        table.insert(0, "scenario", name)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["scenario", "network"])
    out = pd.concat(frames, ignore_index=True)
    out["network"] = out["network"].astype(str)
    return out


def _with_deltas(frame: pd.DataFrame, keys: list[str], baseline: str) -> pd.DataFrame:
    """``delta_<kpi>`` columns: each row minus the baseline's row with the same keys.

    A group the baseline lacks (a network merged in) is compared with zero weight: its
    weights and counts count as 0 in the baseline, its shares and distances as unknown.
    """
    columns = [
        c
        for c in frame.columns
        if c in (*DELTA_KPIS, "marginal_weight", "marginal_share", "passes", "areas_passing")
        and c not in keys
    ]
    if frame.empty or not columns:
        return frame.assign(**{f"delta_{c}": pd.Series(dtype=float) for c in columns})
    base = frame[frame["scenario"] == baseline]
    if keys:
        aligned = frame[["scenario", *keys]].merge(
            base[[*keys, *columns]], on=keys, how="left", suffixes=("", "_base")
        )
    else:
        aligned = pd.DataFrame(
            {c: np.repeat(base[c].to_numpy(), len(frame)) for c in columns}, index=frame.index
        )
    out = frame.copy()
    for column in columns:
        before = aligned[column].astype(float).to_numpy()
        additive = (
            column.endswith("_weight") or column.startswith(("n_", "areas")) or (column == "passes")
        )
        if additive:
            before = np.where(np.isnan(before), 0.0, before)
        out[f"delta_{column}"] = _delta(before, out[column].astype(float).to_numpy())
    return out


def _burden_rows(runs, names, trip: TripAssumptions, engine: str) -> pd.DataFrame:
    """Travel burden per scenario and window (``base`` first), with deltas to the baseline."""
    rows = []
    for name in names:
        assessment = runs[name].assessment
        windows = [BASE, *_window_list(assessment)]
        for window in windows:
            if engine == "local":
                table = travel_burden(assessment, trip, window=None if window == BASE else window)
            else:
                table = _burden_from_kpis(assessment, window, trip)
            row = table.iloc[0]
            rows.append(
                {
                    "scenario": name,
                    "window": window,
                    "weight": float(row["weight"]),
                    "reached_weight": float(row["reached_weight"]),
                    "unreached_weight": float(row["unreached_weight"]),
                    **{c: float(row[c]) for c in BURDEN_COLUMNS},
                    "co2_kg_per_person_year": float(row["co2_kg_per_person_year"]),
                    "distance_source": str(row["distance_source"]),
                }
            )
    frame = pd.DataFrame(rows)
    base = frame[frame["scenario"] == names[0]].set_index("window")
    before = base.reindex(frame["window"]).set_axis(frame.index)
    return pd.concat([frame, compare_burden(before, frame)], axis=1)


def _window_list(assessment) -> list[str]:
    windows = assessment.windows
    if windows is None or not len(windows):
        return []
    return list(dict.fromkeys(windows["window"].astype(str)))


def _burden_from_kpis(assessment, window: str, trip: TripAssumptions) -> pd.DataFrame:
    """:func:`travel_burden` from KPI sums (dask engine, estimated distances).

    The burden is linear in each place's distance within a density class (road = straight
    line × the class's detour factor), so per class two rows — the reached weight at its
    weighted mean distance, and the unreached weight — give exactly the sums of the
    per-place formula.
    """
    if window == BASE:
        table = assessment.by_density.reset_index()
        table = table.rename(columns={table.columns[0]: "density_class"})
    else:
        rows = assessment.windows
        table = rows[(rows["window"] == window) & (rows["group"] != "all")]
        table = table.rename(columns={"group": "density_class"})
    weight = table["weight"].to_numpy(float)
    unreached = table["unreached_weight"].to_numpy(float)
    mean = table["mean_distance_m"].to_numpy(float)
    classes = table["density_class"].astype(str).to_numpy(object)
    access = pd.DataFrame(
        {
            "weight": np.concatenate([weight - unreached, unreached]),
            "distance_m": np.concatenate([mean, np.full(len(mean), np.nan)]),
            "density_class": np.concatenate([classes, classes]),
        }
    )
    pseudo = SimpleNamespace(
        access=access,
        drive_estimate=assessment.drive_estimate,
        drive_time_source="estimated",
        window_access={},
    )
    return travel_burden(pseudo, trip)
