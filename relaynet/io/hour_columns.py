"""Per-day opening-hour columns (carrier API style) → one OSM ``opening_hours`` string.

Carrier APIs and exports (Mondial Relay ``Horaires_Lundi`` …) give one column per day
whose value holds ``HHMMHHMM`` pairs: ``"09001200 14001900"`` is 09:00–12:00 and
14:00–19:00; ``"00000000"`` or an empty cell means closed that day.
"""

from __future__ import annotations

import re

import pandas as pd

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")

_DAY_NAMES = {
    "Mo": ("lundi", "monday", "mon", "lun"),
    "Tu": ("mardi", "tuesday", "tue", "mar"),
    "We": ("mercredi", "wednesday", "wed", "mer"),
    "Th": ("jeudi", "thursday", "thu", "jeu"),
    "Fr": ("vendredi", "friday", "fri", "ven"),
    "Sa": ("samedi", "saturday", "sat", "sam"),
    "Su": ("dimanche", "sunday", "sun", "dim"),
}
_PREFIX = r"(?:horaires?_|hours?_|opening_hours_|open_)?"


def find_day_columns(normalized_columns: list[str]) -> dict[str, str]:
    """Map OSM day code → column name for per-day hour columns (normalized names).

    Only returned when at least five distinct days are found, so that an unrelated
    column called ``mar`` or ``sun`` is never taken for hours.
    """
    found: dict[str, str] = {}
    for day, names in _DAY_NAMES.items():
        pattern = re.compile(_PREFIX + "(" + "|".join(names) + ")$")
        for column in normalized_columns:
            if pattern.fullmatch(column):
                found[day] = column
                break
    return found if len(found) >= 5 else {}


def parse_day_value(value: object) -> str | None:
    """One day's cell → OSM time spans (``"09:00-12:00,14:00-19:00"``), ``""`` for closed.

    Raises
    ------
    ValueError
        When the cell is not a sequence of valid ``HHMMHHMM`` pairs.
    """
    text = "" if value is None or value is pd.NA else str(value).strip()
    if text.lower() in ("", "nan", "closed", "ferme", "fermé", "off"):
        return ""
    digits = re.sub(r"[^0-9]", "", text)
    if not digits or len(digits) % 8 or re.search(r"[^0-9\s:\-hH,;/]", text):
        raise ValueError(f"expected HHMMHHMM pairs, got {text!r}")
    spans = []
    for i in range(0, len(digits), 8):
        chunk = digits[i : i + 8]
        if chunk == "00000000":
            continue
        oh, om, ch, cm = (int(chunk[j : j + 2]) for j in (0, 2, 4, 6))
        if oh > 23 or ch > 24 or om > 59 or cm > 59 or (ch == 24 and cm):
            raise ValueError(f"invalid time in {text!r}")
        if (ch, cm) <= (oh, om):
            raise ValueError(f"closing time before opening time in {text!r}")
        spans.append(f"{oh:02d}:{om:02d}-{ch:02d}:{cm:02d}")
    return ",".join(spans)


def days_to_osm(spans_by_day: dict[str, str]) -> str | None:
    """``{"Mo": "09:00-12:00", …}`` → ``"Mo-Fr 09:00-12:00; Sa 09:00-12:00"``.

    Consecutive days with identical spans are merged into a range; days missing or
    closed are left out (closed in OSM syntax). ``None`` when no day has hours.
    """
    rules: list[tuple[list[str], str]] = []
    for day in OSM_DAYS:
        spans = spans_by_day.get(day, "")
        if not spans:
            continue
        if (
            rules
            and rules[-1][1] == spans
            and OSM_DAYS.index(rules[-1][0][-1]) + 1 == (OSM_DAYS.index(day))
        ):
            rules[-1][0].append(day)
        else:
            rules.append(([day], spans))
    if not rules:
        return None
    parts = []
    for days, spans in rules:
        label = days[0] if len(days) == 1 else f"{days[0]}-{days[-1]}"
        if len(days) == 2:
            label = f"{days[0]},{days[1]}"
        parts.append(f"{label} {spans}")
    return "; ".join(parts)
