"""Scenarios: a relay network and the edits that made it, in the words planners use.

A :class:`Scenario` is a name, a points table (canonical point schema) and an optional
base eligibility. Edits return a *new* scenario whose points table is changed and whose
:attr:`Scenario.edits` says what was done::

    today = rn.Scenario("today", points)
    later = today.add_hours_rule("Mo-Fr 09:00-19:00", where=mornings, label="mornings-only offices",
                                 name="open until 19:00")
    fewer = today.close(where=rn.Eligibility(kinds={"counter"}), name="no counters")
    more = today.add(solution, name="20 proposed sites")           # an optimizer Solution
    both = today.merge(mondial_relay_points, name="La Poste + Mondial Relay")

:func:`relaynet.compare` runs the coverage pipeline on each scenario and reports the
differences to the first one.

Opening-hours edits work on the OSM ``opening_hours`` text: a later rule overrides an
earlier one for the days it names, so :meth:`Scenario.add_hours_rule` puts the new rule
after the point's own opening rules and before its ``off`` exceptions (``PH off``, dated
closures), which keep applying. Points with unknown hours stay unknown: an edit never
invents hours for them (use :meth:`Scenario.set_hours`). Edited points get
``hours_source = "illustrative"`` (the hours are a hypothesis, not a published schedule).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .eligibility import Eligibility
from .errors import ParameterError
from .io.schema import CRS

Selection = Eligibility | np.ndarray | pd.Series | Sequence[bool] | Callable | None
"""A filter over a points table: an :class:`Eligibility` (the points it accepts), a boolean
mask aligned with the points, or a function ``points -> mask``."""

EDITED_HOURS_SOURCE = "illustrative"
"""``hours_source`` of points whose hours an edit changed."""

_MAX_IDS = 10_000


@dataclass(frozen=True)
class Edit:
    """One edit of a scenario: what was done, in words, and to which points.

    Attributes
    ----------
    action
        ``"close"``, ``"add"``, ``"set_hours"``, ``"add_hours_rule"`` or ``"merge"``.
    description
        One sentence a planner can read (``"closed 40 points: counters of Lozère"``).
    point_ids
        Ids of the points touched (closed, added or changed).
    """

    action: str
    description: str
    point_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe record (ids listed up to 10 000, their count always)."""
        return {
            "action": self.action,
            "description": self.description,
            "n_points": len(self.point_ids),
            "point_ids": list(self.point_ids[:_MAX_IDS]),
        }


@dataclass(frozen=True, eq=False)
class Scenario:
    """A named relay network: points, base eligibility and the edits that produced it.

    Parameters
    ----------
    name
        Label shown in tables and reports (any text; it is escaped wherever shown).
    points
        Relay points, canonical point schema (``point_id`` unique, Point geometries).
    where
        Base eligibility of the points in this scenario (``None``: every point); the time
        windows of :func:`relaynet.compare` follow its ``unknown_hours`` policy.
    edits
        Edits already applied (set by the edit methods).
    """

    name: str
    points: gpd.GeoDataFrame
    where: Eligibility | None = None
    edits: tuple[Edit, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError(f"Scenario name: expected non-empty text, got {self.name!r}")
        if not isinstance(self.points, gpd.GeoDataFrame):
            raise ParameterError(
                f"Scenario {self.name!r}: points must be a GeoDataFrame (see relaynet.load_points)"
            )
        if "point_id" not in self.points.columns:
            raise ParameterError(f"Scenario {self.name!r}: points have no 'point_id' column")
        if self.where is not None and not isinstance(self.where, Eligibility):
            raise ParameterError(
                f"Scenario {self.name!r}: where must be an Eligibility or None, "
                f"got {type(self.where).__name__}"
            )
        ids = self.points["point_id"].astype(str)
        duplicated = ids[ids.duplicated()].unique()[:5].tolist()
        if duplicated:
            raise ParameterError(f"Scenario {self.name!r}: duplicate point_id {duplicated}")

    # -- reading ----------------------------------------------------------------------

    @property
    def point_ids(self) -> pd.Index:
        """``point_id`` of the points, as text."""
        return pd.Index(self.points["point_id"].astype(str))

    @property
    def where_text(self) -> str:
        """The base eligibility in words (``"all points"`` without a criterion)."""
        if self.where is None or self.where.is_empty:
            return "all points"
        return self.where.describe()

    def describe(self) -> str:
        """One paragraph: name, size, eligibility, then each edit in order."""
        text = f"{self.name}: {len(self.points)} points ({self.where_text})"
        if self.edits:
            steps = "; ".join(f"{k}. {e.description}" for k, e in enumerate(self.edits, 1))
            text += f"; edits: {steps}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description: name, number of points, eligibility and the edits."""
        return {
            "name": self.name,
            "n_points": int(len(self.points)),
            "where": self.where_text,
            "unknown_hours": self.where.unknown_hours if self.where is not None else "exclude",
            "edits": [e.to_dict() for e in self.edits],
        }

    def renamed(self, name: str) -> Scenario:
        """The same scenario under another name."""
        return Scenario(name, self.points, self.where, self.edits)

    # -- edits ------------------------------------------------------------------------

    def close(
        self,
        ids: Iterable[str] | None = None,
        *,
        where: Selection = None,
        label: str | None = None,
        name: str | None = None,
    ) -> Scenario:
        """Remove points, chosen by id and/or by a filter.

        Parameters
        ----------
        ids
            ``point_id`` values; every one must exist.
        where
            Filter (see :data:`Selection`); with ``ids`` too, the points matching both.
        label
            Words for the filter in the description (default: the filter's own).
        name
            Name of the new scenario (default: this one's).
        """
        if ids is None and where is None:
            raise ParameterError("close: give ids= and/or where= (which points to close)")
        chosen, words = self._select(ids, where, label, "close")
        closed = self.point_ids[chosen]
        edit = Edit("close", f"closed {len(closed)} points: {words}", tuple(closed))
        return self._derive(self.points.loc[~chosen], edit, name)

    def add(
        self,
        points,
        *,
        defaults: dict[str, object] | None = None,
        label: str | None = None,
        name: str | None = None,
    ) -> Scenario:
        """Add points: a GeoDataFrame, a points file, or an optimizer ``Solution`` (its new
        sites, see :func:`solution_points`).

        Parameters
        ----------
        points
            New points (canonical schema; ``point_id`` not already in the scenario).
        defaults
            Values for columns the new points lack or leave empty, e.g.
            ``{"network": "la_poste", "opening_hours": "Mo-Sa 08:00-20:00"}``. Points
            without hours have *unknown* hours: they count in the base coverage but not in
            the time windows (unless ``unknown_hours="include"``).
        label, name
            Words for the description (default: the source), name of the new scenario.
        """
        new, words = _new_points(points, label)
        for column, value in (defaults or {}).items():
            if column not in new.columns:
                new[column] = value
            else:
                missing = new[column].isna() | (new[column].astype(str).str.strip() == "")
                new[column] = new[column].astype(object).where(~missing, value)
        clash = new["point_id"].astype(str).isin(self.point_ids)
        if clash.any():
            shown = new.loc[clash, "point_id"].astype(str).tolist()[:5]
            raise ParameterError(
                f"add: point_id already in scenario {self.name!r}: {shown} "
                "(give the new points other ids)"
            )
        ids = tuple(new["point_id"].astype(str))
        edit = Edit("add", f"added {len(ids)} points: {words}", ids)
        return self._derive(_concat(self.points, new), edit, name)

    def merge(self, other, *, label: str | None = None, name: str | None = None) -> Scenario:
        """Add another network's points (a :class:`Scenario` or a GeoDataFrame).

        The networks merged are named in the description; ids must not collide.
        """
        frame = other.points if isinstance(other, Scenario) else other
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ParameterError("merge: expected a Scenario or a GeoDataFrame of points")
        networks = (
            sorted(frame["network"].dropna().astype(str).unique())
            if "network" in frame.columns
            else []
        )
        words = label or (
            f"network {other.name!r}" if isinstance(other, Scenario) else "points given"
        )
        if networks:
            words += f" ({', '.join(networks[:8])}{' …' if len(networks) > 8 else ''})"
        merged = self.add(frame, label=words, name=name)
        edit = merged.edits[-1]
        merged_edit = Edit("merge", edit.description.replace("added", "merged", 1), edit.point_ids)
        return Scenario(merged.name, merged.points, merged.where, (*self.edits, merged_edit))

    def set_hours(
        self,
        opening_hours: str | None,
        *,
        ids: Iterable[str] | None = None,
        where: Selection = None,
        label: str | None = None,
        name: str | None = None,
    ) -> Scenario:
        """Replace the opening hours of the chosen points (all points when no filter).

        ``opening_hours`` is an OSM string (checked with :func:`relaynet.hours.validate`);
        ``None`` or ``""`` makes the hours unknown.
        """
        text = "" if opening_hours is None else str(opening_hours).strip()
        if text:
            _check_hours(text, "set_hours")
        chosen, words = self._select(ids, where, label, "set_hours")
        points = self.points.copy()
        points["opening_hours"] = _hours_column(points).where(~chosen, text)
        points["hours_source"] = _source_column(points).where(
            ~chosen, EDITED_HOURS_SOURCE if text else "unknown"
        )
        shown = f"'{text}'" if text else "unknown"
        edit = Edit(
            "set_hours",
            f"set hours to {shown} for {int(chosen.sum())} points: {words}",
            tuple(self.point_ids[chosen]),
        )
        return self._derive(points, edit, name)

    def add_hours_rule(
        self,
        rule: str,
        *,
        ids: Iterable[str] | None = None,
        where: Selection = None,
        label: str | None = None,
        name: str | None = None,
    ) -> Scenario:
        """Add an OSM rule to the hours of the chosen points (all points when no filter).

        ``"Mo-Fr 09:00-19:00"`` makes them open 09:00–19:00 on weekdays (it overrides
        their own weekday rules; their ``PH off`` and dated closures still apply);
        ``"Mo off"`` closes them on Mondays. Points whose hours are unknown are left as
        they are (counted in the description).
        """
        rule = str(rule).strip()
        _check_hours(rule, "add_hours_rule")
        new_rules = _split_rules(rule)
        chosen, words = self._select(ids, where, label, "add_hours_rule")
        hours = _hours_column(self.points)
        known = hours.str.strip().ne("") & hours.notna()
        change = chosen & known.to_numpy()
        distinct = pd.unique(hours[change])
        edited = {text: _with_rules(text, new_rules) for text in distinct}
        points = self.points.copy()
        points["opening_hours"] = hours.where(~change, hours.map(edited))
        points["hours_source"] = _source_column(points).where(~change, EDITED_HOURS_SOURCE)
        skipped = int((chosen & ~change).sum())
        note = f" ({skipped} with unknown hours left unknown)" if skipped else ""
        edit = Edit(
            "add_hours_rule",
            f"added the rule '{rule}' to the hours of {int(change.sum())} points: {words}{note}",
            tuple(self.point_ids[change]),
        )
        return self._derive(points, edit, name)

    def close_on(
        self,
        days: str | Iterable[str] = (),
        *,
        public_holidays: bool = False,
        ids: Iterable[str] | None = None,
        where: Selection = None,
        label: str | None = None,
        name: str | None = None,
    ) -> Scenario:
        """Close the chosen points on some weekdays and/or public holidays.

        ``close_on("Mo", public_holidays=True)`` is ``add_hours_rule("Mo off; PH off")``.
        ``days`` are OSM weekday tokens or ranges (``"Mo"``, ``"Sa-Su"``).
        """
        days = [days] if isinstance(days, str) else list(days)
        rules = [f"{d.strip()} off" for d in days if d.strip()]
        if public_holidays:
            rules.append("PH off")
        if not rules:
            raise ParameterError("close_on: give days= and/or public_holidays=True")
        return self.add_hours_rule("; ".join(rules), ids=ids, where=where, label=label, name=name)

    # -- helpers ----------------------------------------------------------------------

    def _derive(self, points: gpd.GeoDataFrame, edit: Edit, name: str | None) -> Scenario:
        points = points.reset_index(drop=True)
        return Scenario(name or self.name, points, self.where, (*self.edits, edit))

    def _select(self, ids, where, label, what: str) -> tuple[np.ndarray, str]:
        """Boolean mask over the points and the words describing it."""
        n = len(self.points)
        chosen = np.ones(n, dtype=bool)
        words = []
        if ids is not None:
            wanted = pd.Index([str(i) for i in ([ids] if isinstance(ids, str) else ids)])
            missing = wanted.difference(self.point_ids)
            if len(missing):
                raise ParameterError(
                    f"{what}: point_id not in scenario {self.name!r}: {missing[:5].tolist()}"
                )
            chosen &= self.point_ids.isin(wanted)
            words.append(f"{len(wanted)} points by id")
        if where is not None:
            mask, text = _mask(self.points, where, what)
            chosen &= mask
            words.append(text)
        return chosen, label or (" and ".join(words) if words else "all points")


def _mask(points: gpd.GeoDataFrame, where: Selection, what: str) -> tuple[np.ndarray, str]:
    n = len(points)
    if isinstance(where, Eligibility):
        return where.mask(points), where.describe() or "every point"
    if callable(where):
        value = where(points)
        text = f"filter {getattr(where, '__name__', 'function')}"
    else:
        value, text = where, None
    if isinstance(value, pd.Series):
        if not value.index.equals(points.index):
            raise ParameterError(f"{what}: the filter's index differs from the points' index")
        value = value.to_numpy()
    mask = np.asarray(value)
    if mask.shape != (n,) or mask.dtype != bool:
        raise ParameterError(
            f"{what}: where= must be an Eligibility, a function or a boolean mask of "
            f"{n} values, got {mask.dtype} of shape {mask.shape}"
        )
    return mask, text or f"{int(mask.sum())} points chosen by a mask"


def _new_points(points, label: str | None) -> tuple[gpd.GeoDataFrame, str]:
    """Points to add as a GeoDataFrame in EPSG:4326, and words for their source."""
    if hasattr(points, "sites") and hasattr(points, "model"):
        frame = solution_points(points)
        return frame, label or f"{len(frame)} new sites of the {points.model} solution"
    if isinstance(points, str | os.PathLike):
        from .formats import load_points

        path = Path(points)
        if not path.exists():
            raise ParameterError(f"add: {path}: points file not found")
        frame, rejected = load_points(path)
        note = f", {len(rejected)} rows rejected" if len(rejected) else ""
        return frame, label or f"from {path.name}{note}"
    if not isinstance(points, gpd.GeoDataFrame):
        raise ParameterError(
            "add: expected a GeoDataFrame of points, a points file or an optimizer Solution, "
            f"got {type(points).__name__}"
        )
    if "point_id" not in points.columns:
        raise ParameterError("add: the new points have no 'point_id' column")
    if points.crs is not None and points.crs != CRS:
        points = points.to_crs(CRS)
    return points.copy(), label or "points given"


def _concat(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    b = b.rename_geometry(a.geometry.name) if b.geometry.name != a.geometry.name else b
    if b.crs is None and a.crs is not None:
        b = b.set_crs(a.crs)
    frame = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry=a.geometry.name, crs=a.crs or CRS)


def solution_points(
    solution, *, network: str = "proposed", defaults: dict[str, object] | None = None
) -> gpd.GeoDataFrame:
    """The new sites of an optimizer :class:`~relaynet.optimize.Solution` as relay points.

    Parameters
    ----------
    solution
        Result of :func:`relaynet.solve`; its sites with status ``"new"`` are taken (kept
        closable sites are already in the existing network).
    network
        ``network`` of the new points (default ``"proposed"``, so the per-network tables
        show them apart).
    defaults
        Further column values (``{"kind": "locker", "opening_hours": "24/7"}``); without
        ``opening_hours`` the new points have unknown hours.

    Returns
    -------
    GeoDataFrame (EPSG:4326): ``point_id, name, network, kind, opening_hours,
    hours_source, services, capacity`` then the solution's ``status, cost, new_weight,
    assigned_weight`` and ``geometry``.
    """
    sites = solution.sites
    if "status" in sites.columns:
        sites = sites[sites["status"].astype(str) == "new"]
    sites = sites.to_crs(CRS) if sites.crs is not None and sites.crs != CRS else sites
    values = {"network": network, "kind": "", "opening_hours": "", "services": ""}
    values.update(defaults or {})
    frame = pd.DataFrame(
        {
            "point_id": sites["point_id"].astype(str).to_numpy(),
            "name": (sites["name"] if "name" in sites else sites["point_id"]).to_numpy(),
        }
    )
    for column, value in values.items():
        frame[column] = value
    frame["hours_source"] = np.where(
        frame["opening_hours"].astype(str).str.strip() != "", EDITED_HOURS_SOURCE, "unknown"
    )
    for column in ("capacity", "status", "cost", "new_weight", "assigned_weight"):
        if column in sites.columns:
            frame[column] = sites[column].to_numpy()
    return gpd.GeoDataFrame(frame, geometry=sites.geometry.to_numpy(), crs=CRS)


def points_table(points: gpd.GeoDataFrame) -> pd.DataFrame:
    """Points as a flat table for a CSV file :func:`relaynet.load_points` reads back:
    ``lat``/``lon`` (degrees, EPSG:4326) instead of the geometry."""
    points = points.to_crs(CRS) if points.crs is not None and points.crs != CRS else points
    frame = pd.DataFrame(points.drop(columns=points.geometry.name))
    frame["lat"] = points.geometry.y.to_numpy()
    frame["lon"] = points.geometry.x.to_numpy()
    return frame


# -- opening-hours text -----------------------------------------------------------------


def _check_hours(text: str, what: str) -> None:
    from . import hours

    if not hours.validate(text):
        raise ParameterError(f"{what}: {text!r} is not an OSM opening_hours string relaynet reads")


def _hours_column(points: pd.DataFrame) -> pd.Series:
    if "opening_hours" not in points.columns:
        return pd.Series([""] * len(points), index=points.index, dtype=object)
    return points["opening_hours"].astype(object).where(points["opening_hours"].notna(), "")


def _source_column(points: pd.DataFrame) -> pd.Series:
    if "hours_source" not in points.columns:
        return pd.Series(["unknown"] * len(points), index=points.index, dtype=object)
    return points["hours_source"].astype(object)


_RULE_SPLIT = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$)')
_OFF = re.compile(r'(?:^|\s)(off|closed)(?:\s+"[^"]*")?\s*$', re.IGNORECASE)


def _split_rules(text: str) -> list[str]:
    """OSM rules of ``text`` (``;`` outside quoted comments), stripped, empty ones dropped."""
    return [part.strip() for part in _RULE_SPLIT.split(text) if part.strip()]


def _is_off(rule: str) -> bool:
    return bool(_OFF.search(rule))


def _with_rules(text: str, new_rules: list[str]) -> str:
    """``text`` with ``new_rules`` added: opening rules after the point's own opening rules
    (before its ``off`` exceptions), ``off`` rules last. Fallback rules (``||``) are kept
    whole: the new rules go at the end."""
    rules = _split_rules(text)
    opening = [r for r in new_rules if not _is_off(r)]
    closing = [r for r in new_rules if _is_off(r)]
    if "||" in text:
        return "; ".join([*rules, *opening, *closing])
    last_open = max((k for k, r in enumerate(rules) if not _is_off(r)), default=len(rules) - 1)
    return "; ".join([*rules[: last_open + 1], *opening, *rules[last_open + 1 :], *closing])


__all__ = [
    "EDITED_HOURS_SOURCE",
    "Edit",
    "Scenario",
    "Selection",
    "points_table",
    "solution_points",
]
