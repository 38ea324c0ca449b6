""":class:`Eligibility`: the criteria, evaluated over a point table into a boolean mask (and
a per-criterion report); :func:`masks` for several of them over the same points, the
opening hours parsed once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import hours
from ..errors import ParameterError
from ..io.schema import KIND_ALIASES, KINDS, SERVICE_ALIASES, SERVICES
from .parsing import _number, _tokens, parse_window

_HOUR_CRITERIA = ("open_at", "open_during", "min_weekly_hours")


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


@dataclasses.dataclass(frozen=True)
class Eligibility:
    """Criteria a relay point must meet; :meth:`mask` evaluates them over a point table.

    Parameters
    ----------
    open_at
        Local datetime the point must be open at: a ``datetime`` or a string such as
        ``"2026-11-28 18:30"`` or ``"28/11/2026 18:30"`` (day first, as French users write
        it); a date without a time of day is refused.
    open_during
        A window the point must be open *throughout*: ``"Sa 18:00-19:00"`` (the next
        Saturday on or after ``reference``; also ``samedi``, ``sat``, ``Saturday``),
        ``"Mo-Fr 18:00-19:00"`` (open throughout that window on *each* of the next Monday
        … Friday), ``"2026-12-24 10:00-12:00"``, ``"24/12/2026 10:00-12:00"``, or a
        ``(start, end)`` pair of datetimes; see :func:`parse_window` (reversed windows are
        refused, ``"Fr 22:00-26:00"`` runs past midnight). Stored resolved: the first
        window as a ``(start, end)`` pair, the windows of further days in ``also_during``.
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
    also_during
        Further ``(start, end)`` windows the point must also be open throughout; set from a
        several-day ``open_during`` spec (replaced whenever ``open_during`` is a string).
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
    also_during: tuple[tuple[dt.datetime, dt.datetime], ...] = ()

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
            when = hours.to_local(self.open_at, require_time=True)
            if len(when) != 1:
                raise ParameterError(f"open_at={self.open_at!r}: expected one datetime")
            put(self, "open_at", when[0].to_pydatetime())
        also = tuple(w for pair in self.also_during for w in parse_window(pair))
        if self.open_during is not None:
            windows = parse_window(self.open_during, reference)
            if isinstance(self.open_during, str):
                also = windows[1:]
            put(self, "open_during", windows[0])
        elif also:
            raise ParameterError("also_during needs open_during (the first window)")
        put(self, "also_during", tuple(sorted(set(also) - {self.open_during})))
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
            if f.name
            not in ("unknown_hours", "unknown_attributes", "reference", "country", "also_during")
            and getattr(self, f.name) not in (None, frozenset())
        ]

    # -- evaluation ----------------------------------------------------------------------

    def _criteria(self, points: pd.DataFrame, shared: _SharedHours | None = None):
        """Yield ``(criterion, passes, unknown)`` boolean arrays for every set criterion.

        ``shared`` holds the parsed hours of ``points`` when several Eligibility objects
        are evaluated together (:func:`masks`).
        """
        n = len(points)
        sched = None
        hour_criteria = [name for name in _HOUR_CRITERIA if getattr(self, name) is not None]
        if hour_criteria:
            self._required(points, "opening_hours", hour_criteria[0])
            shared = _SharedHours(points) if shared is None else shared
            sched = shared.schedules(self.country)
            unknown = ~sched.known
        if self.open_at is not None:
            yield "open_at", shared.open_at(self.country, self.open_at), unknown
        if self.open_during is not None:
            ok = hours.open_during(sched, *self.open_during)
            for window in self.also_during:
                ok &= hours.open_during(sched, *window)
            yield "open_during", ok, unknown
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
        ``unknown_attributes``. Several Eligibility objects over the same points:
        :func:`masks` parses the hours once for all of them.
        """
        if not isinstance(points, pd.DataFrame):
            raise ParameterError("Eligibility.mask expects a (Geo)DataFrame of points")
        return self._mask(points, None)

    def _mask(self, points: pd.DataFrame, shared: _SharedHours | None) -> np.ndarray:
        out = np.ones(len(points), dtype=bool)
        for name, passes, unknown in self._criteria(points, shared):
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
            days = ", ".join(f"{a:%a %Y-%m-%d %H:%M}–{b:%H:%M}" for a, b in self.also_during)
            also = f" and on {days}" if days else ""
            parts.append(f"open throughout {start:%a %Y-%m-%d %H:%M}–{end:%H:%M}{also}")
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


class _SharedHours:
    """The opening hours of one point table, shared by several Eligibility objects: one
    :class:`~relaynet.hours.Schedules` per country, the open state at each instant
    computed once (every instant asked for in one pass per distinct schedule after
    :meth:`prepare`)."""

    def __init__(self, points: pd.DataFrame) -> None:
        self.points = points
        self._schedules: dict = {}
        self._open: dict = {}

    def schedules(self, country) -> hours.Schedules:
        if country not in self._schedules:
            self._schedules[country] = hours.Schedules(self.points, country=country)
        return self._schedules[country]

    def prepare(self, items: Iterable[Eligibility]) -> None:
        """Evaluate together every ``open_at`` instant of ``items``, per country."""
        instants: dict = {}
        for item in items:
            if item.open_at is not None and "opening_hours" in self.points.columns:
                instants.setdefault(item.country, set()).add(item.open_at)
        for country, when in instants.items():
            todo = sorted(w for w in when if (country, w) not in self._open)
            if len(todo) > 1:
                state = hours.is_open(self.schedules(country), todo)  # (n, instants)
                for j, instant in enumerate(todo):
                    self._open[(country, instant)] = np.ascontiguousarray(state[:, j])

    def open_at(self, country, when: dt.datetime) -> np.ndarray:
        key = (country, when)
        if key not in self._open:
            self._open[key] = hours.is_open(self.schedules(country), when)
        return self._open[key]


def masks(points: pd.DataFrame, items: Iterable[Eligibility]) -> list[np.ndarray]:
    """Masks of several Eligibility objects over the same points (time windows).

    Equal to ``[item.mask(points) for item in items]``; the opening hours are parsed once
    for all of them (one :class:`~relaynet.hours.Schedules` per country) and every
    ``open_at`` instant is evaluated in one pass over the distinct strings.

    Parameters
    ----------
    points
        Relay points (canonical point schema).
    items
        Eligibility objects.

    Returns
    -------
    One boolean array of shape (n,) per item, in order.
    """
    items = list(items)
    for item in items:
        if not isinstance(item, Eligibility):
            raise ParameterError(f"masks: expected Eligibility objects, got {type(item).__name__}")
    if not isinstance(points, pd.DataFrame):
        raise ParameterError("masks expects a (Geo)DataFrame of points")
    shared = _SharedHours(points)
    shared.prepare(items)
    return [item._mask(points, shared) for item in items]
