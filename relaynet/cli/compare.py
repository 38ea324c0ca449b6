"""``relaynet compare``: a baseline network and scenarios side by side (argument parsing only)."""

from __future__ import annotations

import datetime as dt
import re

import click

from ..errors import ParameterError
from ._common import coverage_options, eligibility_options, library_errors

_SPEC = re.compile(r"^(?P<name>[^=]+)=(?P<op>[+-]?)(?P<path>.+)$")


def parse_scenarios(specs: tuple[str, ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``NAME=FILE``, ``NAME=+FILE``, ``NAME=-FILE`` → ``[(name, [(op, path), …]), …]``
    in order of first appearance; the steps of one name are applied in the order given."""
    out: dict[str, list[tuple[str, str]]] = {}
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if not match:
            raise ParameterError(
                f"--scenario {spec!r}: expected NAME=FILE (a whole network), NAME=+FILE "
                "(baseline plus these points) or NAME=-FILE (baseline without them)"
            )
        name, op, path = match["name"].strip(), match["op"], match["path"].strip()
        steps = out.setdefault(name, [])
        if op == "" and steps:
            raise ParameterError(
                f"--scenario {spec!r}: NAME=FILE replaces the whole network, so it must be "
                f"the first step of {name!r}"
            )
        steps.append((op, path))
    return list(out.items())


def build_scenarios(baseline_points, baseline_name, specs, where, load):
    """Scenario objects from the parsed specs; ``load(path)`` reads one points file."""
    from ..scenarios import Scenario

    base = Scenario(baseline_name, baseline_points, where)
    scenarios = [base]
    for name, steps in specs:
        if name == baseline_name:
            raise ParameterError(f"--scenario {name!r}: that name is the baseline's")
        scenario = base.renamed(name)
        for op, path in steps:
            points = load(path)
            if op == "":
                scenario = Scenario(name, points, where)
            elif op == "+":
                scenario = scenario.add(points, label=f"from {path}")
            else:
                ids = points["point_id"].astype(str).tolist()
                scenario = scenario.close(ids, label=f"listed in {path}")
        scenarios.append(scenario)
    return scenarios


@click.command()
@coverage_options(inputs_required=True, points_option="--baseline")
@click.option(
    "--scenario",
    "scenario_specs",
    multiple=True,
    required=True,
    metavar="NAME=[+|-]FILE",
    help="A scenario, repeatable: NAME=FILE (its whole network), NAME=+FILE (the baseline "
    "plus these points, e.g. proposed_points.csv of `relaynet optimize`), NAME=-FILE (the "
    "baseline without the points listed). Steps with the same NAME apply in order.",
)
@click.option(
    "--baseline-name", default="baseline", show_default=True, help="Name of the baseline."
)
@click.option("--title", default=None, help="Report title.")
@click.option("--offline", is_flag=True, help="Inline the map's JavaScript/CSS (no internet).")
@library_errors
@eligibility_options
def compare(
    points_path,
    demand_path,
    standard_text,
    by,
    threshold,
    where,
    unknown_hours,
    no_windows,
    out_dir,
    quiet,
    scenario_specs,
    baseline_name,
    title,
    offline,
) -> None:
    """Compare scenarios with a baseline network: who gains or loses coverage, where, when.

    Runs the coverage pipeline of `relaynet coverage` (same options and defaults) on the
    baseline (--baseline) and on each --scenario over the same demand, and writes to --out
    (atomically): index.html (headline deltas, per-area table sorted by loss, charts, map),
    map.html, changes.csv (per place: gained / lost / unchanged, distance before and
    after, per time window), deltas.csv (per area × scenario), kpis.json, rejected.csv and
    run.json. The point filters (--open-at, --service …) apply to every scenario.

    \b
    Examples:
      relaynet compare --demand communes.csv --baseline laposte.csv \\
          --scenario "with lockers=+lockers.csv" --by departement --out out/compare
      relaynet optimize --model mclp --p 20 --out out/opt
      relaynet compare --demand D --baseline P --scenario "20 sites=+out/opt/proposed_points.csv" \\
          --out out/compare

    Exit codes: 0 ok, 1 input rows rejected (rejected.csv), 2 unusable input, 3 output
    not writable, 4 internal error.
    """
    import pandas as pd

    from ..coverage.compare import compare as run_compare
    from ..report.compare import write_comparison
    from ..report.folder import check_writable
    from ..report.pipeline import load_input
    from ..report.run import stage_bar
    from ..standard import Standard

    started = dt.datetime.now(dt.UTC)
    standard = Standard.parse(standard_text)
    specs = parse_scenarios(scenario_specs)
    check_writable(out_dir)
    records: list[dict] = []
    rejected: list[pd.DataFrame] = []

    def load(path: str):
        points, bad, record = load_input(path, "points")
        records.append(record)
        if len(bad):
            rejected.append(bad)
        return points

    scenarios = build_scenarios(load(points_path), baseline_name, specs, where, load)
    bar = stage_bar(len(scenarios) * 4 + 2, "compare", quiet)

    def progress(stage: str) -> None:
        bar.set_description(stage)
        bar.update(1)

    try:
        comparison = run_compare(
            demand_path,
            scenarios,
            standard,
            by=by,
            threshold=threshold,
            windows=not no_windows,
            progress=progress,
        )
        report = write_comparison(
            out_dir,
            comparison,
            title=title,
            offline=offline,
            inputs=records,
            rejected=pd.concat(rejected, ignore_index=True) if rejected else None,
            started=started,
            progress=progress,
        )
    finally:
        bar.close()
    if not quiet:
        if report.n_rejected:
            click.echo(f"{report.n_rejected} input rows rejected: see rejected.csv", err=True)
        click.echo(comparison.summary())
    click.echo(str(report.index))
    if report.exit_code:
        raise SystemExit(report.exit_code)
