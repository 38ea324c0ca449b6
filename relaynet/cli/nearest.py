"""``relaynet nearest``: the k nearest eligible relay points of a place or of many places."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

import click

from ..distributed.cli import engine_options
from ..errors import ParameterError
from ._common import (
    echo_table,
    eligibility_options,
    library_errors,
    note_rejected,
    point_files,
    points_format_flags,
    read_points,
    within_option,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from ..eligibility import Eligibility


def _points_key(source) -> str:
    """Cache key of the points input (bundled points, one file, or files with options)."""
    from .. import cache, datasets

    if source is None:
        return cache.points_key([datasets.path("laposte_points.parquet")], "bundled")
    if isinstance(source, str):
        return cache.points_key([source])
    return cache.points_key(source.paths, source.format, source.columns, source.defaults)


def _load_points(source, key: str | None = None) -> gpd.GeoDataFrame:
    """The points of ``--points`` (default: the bundled La Poste points); a file's accepted
    rows come from the cache (:mod:`relaynet.cache`) when it has them."""
    import geopandas as gpd

    from .. import cache, datasets

    if source is None:
        return gpd.read_parquet(datasets.path("laposte_points.parquet"))
    key = key or _points_key(source)
    points, n_rejected = cache.cached_points(key, lambda: read_points(source))
    if n_rejected:
        name = source if isinstance(source, str) else ", ".join(source.paths)
        click.echo(f"{name}: {n_rejected} rows rejected (see `relaynet validate`)", err=True)
        note_rejected(n_rejected)
    return points


def _keep_within(points: gpd.GeoDataFrame, within: str | None, places=None):
    """The points inside ``--within`` (``demand:<distance>``: near the places); the count
    of those left out goes to standard error."""
    import pandas as pd

    from ..io import as_within, reject_outside

    if not within:
        return points
    points, outside = reject_outside(points, pd.DataFrame(), as_within(within, demand=places))
    if len(outside):
        click.echo(f"--within {within}: {len(outside)} points outside, left out", err=True)
    return points


def _places(at: str | None, lat: float | None, lon: float | None, places_path: str | None):
    given = sum(x is not None for x in (at, places_path)) + (lat is not None or lon is not None)
    if given != 1:
        raise click.UsageError("give exactly one of --at, --lat/--lon or --places")
    if at is not None:
        from ..places import resolve_place

        return resolve_place(at)
    import geopandas as gpd

    if places_path is not None:
        from ..io import load_demand

        demand, rejected = load_demand(places_path)
        if len(rejected):
            click.echo(f"{places_path}: {len(rejected)} rows rejected", err=True)
            note_rejected(len(rejected))
        return demand
    if lat is None or lon is None:
        raise click.UsageError("--lat and --lon go together")
    return gpd.GeoDataFrame(
        {"demand_id": ["here"], "name": [f"{lat:.5f}, {lon:.5f}"]},
        geometry=gpd.points_from_xy([lon], [lat]),
        crs="EPSG:4326",
    )


@click.command()
@click.option(
    "--points",
    "points_path",
    type=click.Path(exists=True),
    multiple=True,
    help="Relay points file or folder, repeatable (default: bundled La Poste points).",
)
@points_format_flags
@click.option("--at", default=None, help="French commune, district or postcode: 'Lyon 3e'.")
@click.option("--lat", type=float, default=None, help="Latitude of the place (degrees).")
@click.option("--lon", type=float, default=None, help="Longitude of the place (degrees).")
@click.option(
    "--places",
    "places_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Demand file: one query per row.",
)
@click.option(
    "-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Points per place."
)
@click.option(
    "--max-distance",
    "max_distance_m",
    type=float,
    default=None,
    help="Ignore points farther than this (metres).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "geojson"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write csv/geojson to this file instead of standard output.",
)
@within_option(extra=", or 'demand:20km' (points within 20 km of the places)")
@library_errors
@eligibility_options
@engine_options
def nearest(
    points_path,
    at,
    lat,
    lon,
    places_path,
    k,
    where,
    unknown_hours,
    max_distance_m,
    fmt,
    output,
    engine="local",
    cluster=None,
    points_format="auto",
    columns=None,
    point_defaults=None,
    within=None,
) -> None:
    """The K nearest relay points that work for you, as the crow flies.

    \b
    Examples:
      relaynet nearest --at "Lyon 3e" -k 5 --open "Sa 18:00-19:00" --service returns
      relaynet nearest --lat 45.75 --lon 4.85 --open-at "2026-11-28 18:30" --weight 25
      relaynet nearest --places communes.csv -k 1 --format csv -o access.csv
      relaynet nearest --places big.parquet -k 1 --engine dask --format csv -o access.csv
      relaynet nearest --points mr.xml --points inpost.json --at Lille --service returns

    With --engine dask (or --scheduler ADDRESS) the --places file is read in partitions
    on a dask cluster; the output is the same access table (csv or geojson).
    """
    points_source = point_files(points_path, points_format, columns, point_defaults)
    if engine == "dask":
        if not places_path or fmt == "table":
            raise ParameterError("--engine dask needs --places FILE and --format csv|geojson")
        from ..distributed import nearest as dask_nearest

        points = _keep_within(_load_points(points_source), within)
        access, rejected = dask_nearest(
            places_path,
            points,
            k=k,
            where=where,
            max_distance_m=max_distance_m,
            cluster=cluster,
            return_rejected=True,
        )
        if len(rejected):
            click.echo(f"{places_path}: {len(rejected)} rows rejected", err=True)
            note_rejected(len(rejected))
        if fmt == "csv":
            _emit_csv(access, output)
        else:
            _emit_geojson(access, points, output)
        return
    from .. import cache
    from ..nearest import Locator

    places = _places(at, lat, lon, places_path)
    key = _points_key(points_source)
    points = _keep_within(_load_points(points_source, key), within, places)
    if within:  # the points kept depend on the area (and, for demand:…, on the places)
        near = within.startswith("demand") and cache.array_digest(
            places.geometry.get_coordinates().to_numpy()
        )
        key = cache.derived_key(key, "within", within, near)
    mask = None if where.is_empty else cache.cached_mask(key, where, points)
    locator = Locator(points)
    access = locator.nearest(places, k=k, where=mask, max_distance_m=max_distance_m)
    if fmt == "csv":
        _emit_csv(access, output)
        return
    if fmt == "geojson":
        _emit_geojson(access, points, output)
        return
    _emit_table(access, places, points, where, mask)


def _emit_csv(access: pd.DataFrame, output: str | None) -> None:
    from ..io import CSV_LINE_END, neutralise_formulas, write_csv

    if output:
        write_csv(access, output)
        click.echo(f"{len(access)} rows written to {output}", err=True)
    else:
        neutralise_formulas(access).to_csv(sys.stdout, index=False, lineterminator=CSV_LINE_END)


def _emit_geojson(access: pd.DataFrame, points: gpd.GeoDataFrame, output: str | None) -> None:
    import geopandas as gpd
    import pandas as pd

    from ..io import write_geojson

    geometry = points.geometry.reset_index(drop=True)
    found = access.dropna(subset=["point_id"]).copy()
    positions = pd.Index(points["point_id"].astype(str)).get_indexer(found["point_id"])
    frame = gpd.GeoDataFrame(found, geometry=geometry.iloc[positions].to_numpy(), crs=points.crs)
    for column in ("network", "kind"):
        frame[column] = frame[column].astype(str)
    if output:
        write_geojson(frame, output)
        click.echo(f"{len(frame)} features written to {output}", err=True)
    else:
        click.echo(frame.to_crs("EPSG:4326").to_json(drop_id=True))


def _emit_table(access, places, points, where: Eligibility, mask) -> None:
    import pandas as pd

    from .. import hours

    when = where.open_at or (where.open_during[0] if where.open_during else None)
    when = when or dt.datetime.now().replace(second=0, microsecond=0)
    eligible = len(points) if mask is None else int(mask.sum())
    click.echo(f"Filter: {where.describe()} — {eligible} of {len(points)} points eligible")
    found = access.dropna(subset=["point_id"])
    rows = pd.Index(points["point_id"].astype(str)).get_indexer(found["point_id"])
    if (rows < 0).any():
        raise ParameterError("points: duplicate or missing point_id values")
    subset = points.iloc[rows]
    table = pd.DataFrame(
        {
            "place": found["demand_id"].to_numpy(),
            "rank": found["rank"].to_numpy(),
            "point_id": found["point_id"].to_numpy(),
            "name": found["name"].to_numpy(),
            "kind": found["kind"].astype(str).to_numpy(),
            "distance": [f"{d / 1000:.2f} km" for d in found["distance_m"]],
            f"hours {when:%a %d %b}": hours.hours_on(subset, when.date()).to_numpy(),
            f"open {when:%a %H:%M}": _open_labels(subset, when),
            "city": subset["city"].to_numpy() if "city" in subset.columns else "",
        }
    )
    if len(places) == 1:
        label = places["name"].iloc[0] if "name" in places.columns else places.index[0]
        click.echo(
            f"Nearest points to {label} ({places['demand_id'].iloc[0]})"
            if "demand_id" in places.columns
            else f"Nearest points to {label}"
        )
        table = table.drop(columns="place")
    missing = int(access["point_id"].isna().sum())
    echo_table(table, max_rows=max(50, len(table) if len(table) <= 200 else 200))
    if missing:
        click.echo(f"({missing} ranks without an eligible point within the limits)")


def _open_labels(points: pd.DataFrame, when: dt.datetime) -> np.ndarray:
    import numpy as np

    from .. import hours

    sched = hours.Schedules(points)
    state = hours.is_open(sched, when)
    return np.where(~sched.known, "unknown", np.where(state, "open", "closed"))
