"""Which relay points work for a given customer need: one frozen object → a boolean mask.

``Eligibility(open_at="2026-11-28 18:30", services={"returns"}, parcel_weight_kg=25)``
is the same object for nearest queries, coverage, maps, reports and the CLI.

Missing values
--------------
A criterion on a value the data does not give is *unknown*, never silently satisfied:

* hours missing/unparseable: excluded from hour criteria unless ``unknown_hours="include"``;
* other attributes (services, parcel limits, rating, parking, step-free, capacity) with a
  missing value (NaN/NA/empty): excluded unless ``unknown_attributes="include"``;
* an optional attribute column (``rating``, ``parking`` …) absent from the points
  altogether: every point is unknown for it, and a :class:`UserWarning` says so (the
  canonical loaders always create the columns, so this only happens with hand-built
  tables);
* an ``opening_hours``, ``services``, ``kind`` or ``network`` column absent under a filter
  that needs it: :class:`ParameterError` naming the column and the filter.

``services`` may hold the canonical ``';'``-joined text (``"pickup;returns"``) or Python
sets, lists or tuples of names (hand-built tables).

:meth:`Eligibility.report` counts, per criterion, the points that pass, fail and are unknown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import hours
from .errors import ParameterError
from .schema import (
    KIND_ALIASES,
    KINDS,
    SERVICE_ALIASES,
    SERVICES,
    normalize_network,
    normalize_token,
)

_HOUR_CRITERIA = ("open_at", "open_during", "min_weekly_hours")
_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_WINDOW = re.compile(
    r"^\s*(?P<day>[A-Za-z]{2}|\d{4}-\d{2}-\d{2})\s+"
    r"(?P<h0>\d{1,2}):(?P<m0>\d{2})\s*-\s*(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*$"
)


def _tokens(
    value, aliases: dict[str, str] | None, known: tuple[str, ...] | None, what: str
) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else list(value)
    out: set[str] = set()
    bad: list[str] = []
    for item in items:
        for raw in re.split(r"[;,]", str(item)):
            token = normalize_token(raw) if aliases is not None else normalize_network(raw)
            if not token:
                continue
            if aliases is not None:
                if token not in aliases:
                    bad.append(raw.strip())
                    continue
                token = aliases[token]
            out.add(token)
    if bad:
        raise ParameterError(f"{what}: unknown value(s) {bad}; expected some of {list(known)}")
    return frozenset(out)


def _services_text(values: pd.Series) -> pd.Series:
    """A services column as ``';'``-joined text: strings kept, sets/lists/tuples joined.

    Missing values and empty collections become ``""`` (unknown).
    """

    def join(value) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, set | frozenset | list | tuple | np.ndarray):
            return ";".join(str(item) for item in value if not _is_missing(item))
        return "" if _is_missing(value) else str(value)

    return values.astype(object).map(join).astype(str)


def _is_missing(value) -> bool:
    return value is None or (np.ndim(value) == 0 and bool(pd.isna(value)))


def _number(value, name: str, *, minimum: float = 0.0) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r}: expected a number") from None
    if not np.isfinite(number) or number < minimum:
        raise ParameterError(f"{name}={value!r}: expected a finite number ≥ {minimum:g}")
    return number


def parse_window(spec, reference=None) -> tuple[dt.datetime, dt.datetime]:
    """A time window from ``"Sa 18:00-19:00"``, ``"2026-11-28 18:00-19:00"`` or a pair.

    A weekday spec means the *next* such day on or after ``reference`` (default: today),
    so that holidays and dated exceptions of that date apply. An end at or before the
    start runs past midnight (``"Fr 22:00-02:00"``).

    Returns
    -------
    (start, end)
        Naive local datetimes.
    """
    if not isinstance(spec, str):
        try:
            start, end = spec
        except (TypeError, ValueError):
            raise ParameterError(
                f"open_during={spec!r}: expected 'Sa 18:00-19:00' or a "
                "(start, end) pair of datetimes"
            ) from None
        bounds = hours.to_local([start, end])
        if bounds[1] <= bounds[0]:
            raise ParameterError(f"open_during={spec!r}: end is not after start")
        return bounds[0].to_pydatetime(), bounds[1].to_pydatetime()
    match = _WINDOW.match(spec)
    if not match:
        raise ParameterError(
            f"open_during={spec!r}: expected a day and a time range such as "
            "'Sa 18:00-19:00' or '2026-12-24 10:00-12:00'"
        )
    day_text = match["day"]
    if "-" in day_text:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            raise ParameterError(f"open_during={spec!r}: {day_text!r} is not a date") from None
    else:
        if day_text.lower() not in _DAYS:
            raise ParameterError(
                f"open_during={spec!r}: day must be one of Mo Tu We Th Fr Sa Su or an ISO date"
            )
        ref = pd.Timestamp(dt.date.today() if reference is None else reference).date()
        day = ref + dt.timedelta(days=(_DAYS.index(day_text.lower()) - ref.weekday()) % 7)
    h0, m0, h1, m1 = (int(match[k]) for k in ("h0", "m0", "h1", "m1"))
    if h0 > 24 or h1 > 24 or m0 > 59 or m1 > 59 or (h0 == 24 and m0) or (h1 == 24 and m1):
        raise ParameterError(f"open_during={spec!r}: invalid time")
    midnight = dt.datetime.combine(day, dt.time())
    start = midnight + dt.timedelta(hours=h0, minutes=m0)
    end = midnight + dt.timedelta(hours=h1, minutes=m1)
    if end <= start:
        end += dt.timedelta(days=1)
    return start, end


@dataclasses.dataclass(frozen=True)
class Eligibility:
    """Criteria a relay point must meet; :meth:`mask` evaluates them over a point table.

    Parameters
    ----------
    open_at
        Local datetime (or ISO string ``"2026-11-28 18:30"``) the point must be open at.
    open_during
        A window the point must be open *throughout*: ``"Sa 18:00-19:00"`` (the next
        Saturday on or after ``reference``), ``"2026-12-24 10:00-12:00"``, or a
        ``(start, end)`` pair of datetimes. Stored resolved as a pair of datetimes.
    services
        Services the point must all offer (``{"returns"}``; aliases such as ``"retour"``).
    kinds, networks
        Allowed kinds (``{"locker"}``) / networks (``{"mondial_relay"}``); empty = any.
    parcel_weight_kg, parcel_length_cm
        Parcel the point must accept (``max_weight_kg`` ≥ weight, ``max_length_cm`` ≥ length).
    min_weekly_hours
        Minimum opening hours in the week containing ``reference``.
    min_rating
        Minimum customer rating (``rating`` column).
    parking, step_free
        Required value of the ``parking`` / ``step_free`` columns (``True`` usually).
    min_free_capacity
        Minimum free capacity (``free_capacity`` column when present, else ``capacity``).
    unknown_hours, unknown_attributes
        ``"exclude"`` (default) or ``"include"`` points whose value is unknown.
    reference
        Date used to resolve weekday windows and the week of ``min_weekly_hours``
        (default: today, at construction).
    country
        ISO code for public holidays in opening hours.
    """

    open_at: dt.datetime | None = None
    open_during: tuple[dt.datetime, dt.datetime] | None = None
    services: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()
    parcel_weight_kg: float | None = None
    parcel_length_cm: float | None = None
    min_weekly_hours: float | None = None
    min_rating: float | None = None
    parking: bool | None = None
    step_free: bool | None = None
    min_free_capacity: float | None = None
    unknown_hours: str = "exclude"
    unknown_attributes: str = "exclude"
    reference: dt.date | None = None
    country: str | None = "FR"

    def __post_init__(self) -> None:
        put = object.__setattr__
        for name in ("unknown_hours", "unknown_attributes"):
            if getattr(self, name) not in hours.UNKNOWN_POLICIES:
                raise ParameterError(
                    f"{name}={getattr(self, name)!r}: expected one of {hours.UNKNOWN_POLICIES}"
                )
        reference = self.reference
        if reference is not None:
            try:
                reference = pd.Timestamp(reference).date()
            except (TypeError, ValueError):
                raise ParameterError(f"reference={self.reference!r}: expected a date") from None
        put(self, "reference", reference)
        if self.open_at is not None:
            put(self, "open_at", hours.to_local(self.open_at)[0].to_pydatetime())
        if self.open_during is not None:
            put(self, "open_during", parse_window(self.open_during, reference))
        put(self, "services", _tokens(self.services, SERVICE_ALIASES, SERVICES, "services"))
        put(self, "kinds", _tokens(self.kinds, KIND_ALIASES, KINDS, "kinds"))
        put(self, "networks", _tokens(self.networks, None, None, "networks"))
        for name in (
            "parcel_weight_kg",
            "parcel_length_cm",
            "min_weekly_hours",
            "min_rating",
            "min_free_capacity",
        ):
            put(
                self,
                name,
                _number(
                    getattr(self, name), name, minimum=-np.inf if name == "min_rating" else 0.0
                ),
            )
        for name in ("parking", "step_free"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool | np.bool_):
                raise ParameterError(f"{name}={value!r}: expected True, False or None")

    # -- construction from CLI strings -------------------------------------------------

    @classmethod
    def parse_cli(
        cls,
        *,
        open_at: str | None = None,
        open_window: str | None = None,
        services: Iterable[str] = (),
        kinds: Iterable[str] = (),
        networks: Iterable[str] = (),
        weight: float | None = None,
        length: float | None = None,
        unknown_hours: str = "exclude",
        reference=None,
    ) -> Eligibility:
        """Build from command-line option values (``--open-at``, ``--open``, ``--service`` …)."""
        return cls(
            open_at=open_at,
            open_during=open_window,
            services=frozenset(services),
            kinds=frozenset(kinds),
            networks=frozenset(networks),
            parcel_weight_kg=weight,
            parcel_length_cm=length,
            unknown_hours=unknown_hours,
            reference=reference,
        )

    @property
    def is_empty(self) -> bool:
        """True when no criterion is set (every point is eligible)."""
        return not self._names()

    def _names(self) -> list[str]:
        return [
            f.name
            for f in dataclasses.fields(self)
            if f.name not in ("unknown_hours", "unknown_attributes", "reference", "country")
            and getattr(self, f.name) not in (None, frozenset())
        ]

    # -- evaluation ----------------------------------------------------------------------

    def _criteria(self, points: pd.DataFrame):
        """Yield ``(criterion, passes, unknown)`` boolean arrays for every set criterion."""
        n = len(points)
        sched = None
        hour_criteria = [name for name in _HOUR_CRITERIA if getattr(self, name) is not None]
        if hour_criteria:
            self._required(points, "opening_hours", hour_criteria[0])
            sched = hours.Schedules(points, country=self.country)
            unknown = ~sched.known
        if self.open_at is not None:
            yield "open_at", hours.is_open(sched, self.open_at), unknown
        if self.open_during is not None:
            yield "open_during", hours.open_during(sched, *self.open_during), unknown
        if self.min_weekly_hours is not None:
            summary = hours.weekly_summary(sched, hours.week_start_of(self.reference))
            weekly = summary["weekly_hours"].to_numpy(float)
            yield "min_weekly_hours", np.nan_to_num(weekly) >= self.min_weekly_hours, unknown
        if self.services:
            text = _services_text(self._required(points, "services", "services"))
            padded = ";" + text.str.replace(" ", "", regex=False).str.lower() + ";"
            ok = np.ones(n, bool)
            for service in self.services:
                ok &= padded.str.contains(f";{service};", regex=False).to_numpy(bool)
            yield "services", ok, (text.str.strip() == "").to_numpy(bool)
        for name, column in (("kinds", "kind"), ("networks", "network")):
            allowed = getattr(self, name)
            if allowed:
                values = self._required(points, column, name)
                yield name, values.isin(list(allowed)).to_numpy(bool), values.isna().to_numpy()
        for name, column in (
            ("parcel_weight_kg", "max_weight_kg"),
            ("parcel_length_cm", "max_length_cm"),
            ("min_rating", "rating"),
            ("min_free_capacity", self._capacity_column(points)),
        ):
            threshold = getattr(self, name)
            if threshold is not None:
                yield (name, *self._at_least(points, column, threshold))
        for name in ("parking", "step_free"):
            wanted = getattr(self, name)
            if wanted is not None:
                values = self._column(points, name)
                if values is None:
                    yield name, np.zeros(n, bool), np.ones(n, bool)
                else:
                    values = values.astype("boolean")
                    yield (
                        name,
                        (values == wanted).fillna(False).to_numpy(bool),
                        values.isna().to_numpy(),
                    )

    @staticmethod
    def _capacity_column(points: pd.DataFrame) -> str:
        return "free_capacity" if "free_capacity" in points.columns else "capacity"

    def _at_least(self, points, column: str, threshold: float):
        values = self._column(points, column)
        n = len(points)
        if values is None:
            return np.zeros(n, bool), np.ones(n, bool)
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
        unknown = ~np.isfinite(numbers)
        return np.where(unknown, False, numbers >= threshold), unknown

    @staticmethod
    def _required(points: pd.DataFrame, column: str, criterion: str) -> pd.Series:
        """The ``column`` a criterion cannot do without; ParameterError when absent."""
        if column not in points.columns:
            raise ParameterError(
                f"points have no {column!r} column, needed by the {criterion!r} filter "
                f"(columns: {list(points.columns)[:12]})"
            )
        return points[column]

    @staticmethod
    def _column(points: pd.DataFrame, column: str) -> pd.Series | None:
        if column not in points.columns:
            warnings.warn(
                f"points have no {column!r} column: its criterion treats every point as unknown",
                UserWarning,
                stacklevel=5,
            )
            return None
        return points[column]

    def _include(self, criterion: str) -> bool:
        policy = self.unknown_hours if criterion in _HOUR_CRITERIA else self.unknown_attributes
        return policy == "include"

    def mask(self, points: pd.DataFrame) -> np.ndarray:
        """Boolean array, shape (n,): the points meeting every criterion.

        All True when no criterion is set. Unknown values follow ``unknown_hours`` /
        ``unknown_attributes``.
        """
        if not isinstance(points, pd.DataFrame):
            raise ParameterError("Eligibility.mask expects a (Geo)DataFrame of points")
        out = np.ones(len(points), dtype=bool)
        for name, passes, unknown in self._criteria(points):
            out &= (passes | unknown) if self._include(name) else (passes & ~unknown)
        return out

    def report(self, points: pd.DataFrame) -> pd.DataFrame:
        """Per criterion: points that pass, fail and are unknown, and the policy applied.

        Returns
        -------
        DataFrame with columns ``criterion, passing, failing, unknown, unknown_policy``
        and a last row ``all`` (``passing`` = eligible points).
        """
        rows = []
        for name, passes, unknown in self._criteria(points):
            rows.append(
                {
                    "criterion": name,
                    "passing": int((passes & ~unknown).sum()),
                    "failing": int((~passes & ~unknown).sum()),
                    "unknown": int(unknown.sum()),
                    "unknown_policy": "include" if self._include(name) else "exclude",
                }
            )
        eligible = int(self.mask(points).sum())
        rows.append(
            {
                "criterion": "all",
                "passing": eligible,
                "failing": len(points) - eligible,
                "unknown": 0,
                "unknown_policy": "",
            }
        )
        return pd.DataFrame(rows)

    def describe(self) -> str:
        """Human-readable summary, e.g. ``"open at Sat 2026-11-28 18:30; offers returns"``."""
        parts = []
        if self.open_at is not None:
            parts.append(f"open at {self.open_at:%a %Y-%m-%d %H:%M}")
        if self.open_during is not None:
            start, end = self.open_during
            parts.append(f"open throughout {start:%a %Y-%m-%d %H:%M}–{end:%H:%M}")
        if self.min_weekly_hours is not None:
            parts.append(f"open ≥ {self.min_weekly_hours:g} h/week")
        if self.services:
            parts.append("offers " + ", ".join(sorted(self.services)))
        if self.kinds:
            parts.append("kind " + " or ".join(sorted(self.kinds)))
        if self.networks:
            parts.append("network " + " or ".join(sorted(self.networks)))
        if self.parcel_weight_kg is not None:
            parts.append(f"takes {self.parcel_weight_kg:g} kg")
        if self.parcel_length_cm is not None:
            parts.append(f"takes {self.parcel_length_cm:g} cm")
        if self.min_rating is not None:
            parts.append(f"rating ≥ {self.min_rating:g}")
        if self.parking is not None:
            parts.append("parking" if self.parking else "no parking")
        if self.step_free is not None:
            parts.append("step-free" if self.step_free else "not step-free")
        if self.min_free_capacity is not None:
            parts.append(f"free capacity ≥ {self.min_free_capacity:g}")
        if not parts:
            return "all points"
        names = self._names()
        if set(_HOUR_CRITERIA) & set(names):
            parts.append(f"unknown hours {self.unknown_hours}d")
        if set(names) - set(_HOUR_CRITERIA):
            parts.append(f"unknown attributes {self.unknown_attributes}d")
        return "; ".join(parts)


__all__ = ["Eligibility", "parse_window"]
