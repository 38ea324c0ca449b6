"""``relaynet optimize``: propose new sites (LSCP, MCLP, p-median, backup coverage)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..errors import ParameterError
from ._choices import DEFAULT_STANDARD, OPTIMIZE_MODELS
from ._common import (
    costs_options,
    echo_table,
    library_errors,
    note_rejected,
    plain,
    point_files,
    points_format_flags,
    read_points,
    within_option,
)


def _demand(source: str, area: str | None):
    if source == "bundled":
        from ..datasets import load_demo

        demand = load_demo().demand
    else:
        from ..io import load_demand

        demand, rejected = load_demand(source)
        if len(rejected):
            click.echo(f"{source}: {len(rejected)} demand rows rejected", err=True)
            note_rejected(len(rejected))
    if area is not None:
        demand = demand[demand["area_id"].astype(str) == area].reset_index(drop=True)
        if demand.empty:
            raise ParameterError(f"--area {area!r}: no demand point has this area_id")
    return demand


def _points(sources: tuple[str, ...], points_format="auto", columns=None, defaults=None):
    if sources in ((), ("none",)):
        return None
    if sources == ("bundled",):
        from ..datasets import load_demo

        return load_demo().points
    points, rejected = read_points(point_files(sources, points_format, columns, defaults))
    if len(rejected):
        source = ", ".join(sources)
        click.echo(f"{source}: {len(rejected)} point rows rejected", err=True)
        note_rejected(len(rejected))
    return points


def _keep_within(demand, existing, within: str):
    """Demand and existing points inside ``--within`` (``demand:<distance>``: the points near
    the demand, which is kept whole); counts left out go to standard error."""
    import pandas as pd

    from ..io import as_within, parse_within, reject_outside

    spec = parse_within(within)
    if not isinstance(spec, tuple):
        demand, outside = reject_outside(demand, pd.DataFrame(), spec)
        if len(outside):
            click.echo(f"--within {within}: {len(outside)} demand rows outside, left out", err=True)
        if demand.empty:
            raise ParameterError(f"--within {within}: no demand point inside")
    if existing is not None:
        existing, outside = reject_outside(existing, pd.DataFrame(), as_within(spec, demand=demand))
        if len(outside):
            click.echo(f"--within {within}: {len(outside)} points outside, left out", err=True)
    return demand, existing


def _candidates(spec: str, demand):
    from ..optimize import candidates_from_demand, candidates_from_grid, candidates_from_points

    if spec == "communes":
        return candidates_from_demand(demand)
    match = re.fullmatch(r"(grid|hex|square):([0-9.]+)\s*(km|m)", spec.strip().lower())
    if match:
        spacing = float(match.group(2)) * (1000 if match.group(3) == "km" else 1)
        shape = "square" if match.group(1) == "square" else "hex"
        return candidates_from_grid(demand, spacing, shape=shape)
    if not Path(spec).exists():
        raise ParameterError(
            f"--candidates {spec!r}: expected 'communes', 'grid:5km' (hex), 'square:5km' or an "
            "existing point file"
        )
    return candidates_from_points(spec)


@click.command()
@click.option(
    "--demand",
    "demand_src",
    default="bundled",
    show_default=True,
    help="Demand file, or 'bundled' (French communes, population weights).",
)
@click.option(
    "--points",
    "points_src",
    multiple=True,
    default=("bundled",),
    show_default=True,
    help="Existing points file or folder (repeatable), 'bundled' (La Poste) or 'none'.",
)
@points_format_flags
@click.option(
    "--candidates",
    "cand_spec",
    default="communes",
    show_default=True,
    help="'communes' (demand locations), 'grid:5km' (hex lattice), 'square:5km', or a point file.",
)
@click.option(
    "--standard",
    default=DEFAULT_STANDARD,
    show_default=True,
    help="Service standard: '5km', '20min', '5km|20min' (same meaning as in coverage).",
)
@click.option("--model", type=click.Choice(OPTIMIZE_MODELS), default="mclp", show_default=True)
@click.option("--p", "p", type=int, default=None, help="Number of new sites (mclp/pmedian/backup).")
@click.option("--budget", type=float, default=None, help="Total site cost instead of --p.")
@click.option(
    "--alpha",
    type=float,
    default=1.0,
    show_default=True,
    help="LSCP: required covered share of demand weight (per --alpha-by group).",
)
@click.option("--alpha-by", default=None, help="LSCP: demand column for per-group shares.")
@click.option(
    "--existing-mode",
    type=click.Choice(["fixed", "closable"]),
    default="fixed",
    show_default=True,
    help="Existing points stay open, or may be closed.",
)
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs", show_default=True)
@click.option("--time-limit", type=float, default=120.0, show_default=True, help="Seconds.")
@click.option(
    "--gap",
    type=float,
    default=1e-4,
    show_default=True,
    help="Relative MIP gap target (0.005 = 0.5 %).",
)
@click.option("--area", default=None, help="Keep only demand with this area_id (e.g. 48).")
@click.option(
    "--capacity",
    type=float,
    default=None,
    help="Capacity of every new candidate site (e.g. parcels/day); default: the candidates "
    "file's capacity column, else unlimited. Any capacity makes the model capacitated.",
)
@click.option(
    "--existing-capacity",
    type=float,
    default=None,
    help="Capacity of existing points that have none in their file (same unit).",
)
@click.option(
    "--demand-rate",
    type=float,
    default=1.0,
    show_default=True,
    help="Load per unit of demand weight (e.g. parcels/day per inhabitant) for capacities.",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder."
)
@click.option("--verbose", is_flag=True, help="Show the solver's own log while it runs.")
@within_option(extra=", or 'demand:20km' (existing points within 20 km of a demand place)")
@library_errors
@costs_options
def optimize(
    demand_src,
    points_src,
    cand_spec,
    standard,
    model,
    p,
    budget,
    alpha,
    alpha_by,
    existing_mode,
    solver,
    time_limit,
    gap,
    area,
    capacity,
    existing_capacity,
    demand_rate,
    out_dir,
    verbose,
    costs=None,
    points_format="auto",
    columns=None,
    point_defaults=None,
    within=None,
) -> None:
    """Propose new relay sites and write them with a before/after coverage table.

    Writes to OUT: proposed_sites.csv / .geojson, proposed_points.csv (the new sites as a
    points file: `relaynet compare --scenario "NAME=+OUT/proposed_points.csv"`; with
    --existing-mode closable also closed_points.csv, for "NAME=-OUT/closed_points.csv"),
    kpi_before_after.csv (overall and by area_id), solver.log, summary.json and run.json
    (seconds: the only file that differs between identical runs).

    Coverage means what it means in `relaynet coverage`: the same standard ('5km',
    '5km road', '20min' …) and travel costs (estimated from the straight line, or --costs:
    a table whose point_id names existing points and candidates, 'cand:<demand_id>' for
    --candidates communes).
    """
    from .. import __version__
    from ..io import atomic_path, write_csv, write_geojson, write_json
    from ..optimize import solve
    from ..report.folder import check_writable
    from ..report.outputs import solution_timings
    from ..standard import Standard

    std = Standard.parse(standard)
    check_writable(out_dir)
    demand = _demand(demand_src, area)
    existing = _points(points_src, points_format, columns, point_defaults)
    if within:
        demand, existing = _keep_within(demand, existing, within)
    candidates = _candidates(cand_spec, demand)
    for label, value in (("--capacity", capacity), ("--existing-capacity", existing_capacity)):
        if value is not None and not value >= 0:
            raise ParameterError(f"{label} must be a number ≥ 0, got {value!r}")
    if capacity is not None:
        candidates = candidates.assign(capacity=float(capacity))
    if existing_capacity is not None and existing is not None:
        if "capacity" in existing:
            existing = existing.assign(capacity=existing["capacity"].fillna(existing_capacity))
        else:
            existing = existing.assign(capacity=float(existing_capacity))
    sol = solve(
        demand,
        candidates,
        std,
        model=model,
        existing=existing,
        existing_mode=existing_mode,
        p=p,
        budget=budget,
        alpha=alpha,
        alpha_by=alpha_by,
        solver=solver,
        time_limit=time_limit,
        gap=gap,
        demand_rate=demand_rate,
        verbose=verbose,
        costs=costs,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(sol.sites, out / "proposed_sites.csv")
    write_geojson(sol.sites, out / "proposed_sites.geojson")
    _write_scenario_points(sol, existing, out)
    kpi = sol.kpi_table().rename(columns={"scope": "area_id"})
    kpi = kpi.iloc[0:0] if kpi.empty else kpi
    import pandas as pd

    table = pd.concat([kpi, sol.kpi_table(by="area_id")], ignore_index=True)
    write_csv(table, out / "kpi_before_after.csv")
    with atomic_path(out / "solver.log") as tmp:
        tmp.write_text(sol.log)
    summary = {
        "model": sol.model,
        "status": sol.status,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "greedy_objective": sol.greedy_objective,
        "solver": sol.solver,
        "time_limit_s": sol.time_limit_s,
        "sites": len(sol.sites),
        "standard": std.to_dict(),
        "travel_costs": costs.describe() if costs is not None else "estimated",
        "stats": {k: v for k, v in sol.stats.items() if not k.endswith("_s")},
    }
    # a bound or gap that is not known (time limit before any bound) is null, not Infinity
    write_json(summary, out / "summary.json")
    # seconds differ between identical runs: they go to run.json, not summary.json
    write_json(
        {"relaynet_version": __version__, "timings_s": {"optimization": solution_timings(sol)}},
        out / "run.json",
    )
    if sol.stats.get("capacitated"):
        click.echo(
            f"capacitated: {sol.stats['capacitated_sites']} site(s) in reach have a capacity; "
            f"load = {demand_rate:g} × demand weight"
        )
    click.echo(sol.summary())
    _echo_before_after(kpi)
    click.echo(f"\nwritten to {out}/")


def _echo_before_after(kpi) -> None:
    """The before/after table in words and units (kpi_before_after.csv keeps the columns)."""
    import pandas as pd

    from ..maps import labels

    echo_table(
        pd.DataFrame(
            {
                "Area": kpi["area_id"].map(lambda a: "All" if a == "all" else str(a)),
                "Places": kpi["demand"],
                "People": kpi["weight"].map(lambda v: plain(labels.count(v))),
                "Covered before": kpi["share_before"].map(lambda v: plain(labels.percent(v, 2))),
                "Covered after": kpi["share_after"].map(lambda v: plain(labels.percent(v, 2))),
                "Gain": kpi["gain"].map(lambda v: plain(labels.points_diff(v, 2))),
                "People newly covered": (
                    kpi["covered_weight_after"] - kpi["covered_weight_before"]
                ).map(lambda v: plain(labels.count(v))),
            }
        )
    )


def _write_scenario_points(sol, existing, out: Path) -> None:
    """The new sites as a points file `compare --scenario NAME=+FILE` reads (network: the
    existing points' one when they have a single network, else "proposed"); the closed
    existing points as another, when the solution closes some."""
    from ..io import write_csv
    from ..scenarios import points_table, solution_points

    networks = (
        existing["network"].dropna().astype(str).unique()
        if existing is not None and "network" in existing
        else []
    )
    network = networks[0] if len(networks) == 1 else "proposed"
    write_csv(points_table(solution_points(sol, network=network)), out / "proposed_points.csv")
    if len(sol.closed):
        write_csv(points_table(sol.closed), out / "closed_points.csv")
