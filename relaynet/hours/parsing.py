"""One OSM ``opening_hours`` string → a parsed schedule (cached for the process); comment-only
strings and past dated ``off`` rules the parser rejects are handled as :mod:`relaynet.hours`
describes."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import lru_cache

import opening_hours as _oh

from ..errors import ParameterError

_COMMENT = re.compile(r'"[^"]*"')
_RULE_SEPARATOR = re.compile(r";|\|\|")
_OFF_WORDS = re.compile(r"(?:\S.*\s)?(?:off|closed)", re.IGNORECASE)
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = rf"(?:\d{{4}}\s*)?(?:{_MONTH}\s*)?\d{{1,2}}"
_DAYS_ITEM = rf"{_DAY}(?:\s*-\s*{_DAY})?"
_DATED_OFF = re.compile(
    rf"(?P<dates>\d{{4}}\s*{_MONTH}\s*{_DAYS_ITEM}(?:\s*,\s*{_DAYS_ITEM})*)\s+(?:off|closed)"
)
"""A rule closed on explicit dates, the first with a year: ``2022 Mar 09,May 02-06,27 off``."""


@lru_cache(maxsize=200_000)
def _comment_only(text: str) -> bool:
    """True when no rule of ``text`` gives times or days: only comments and ``off`` rules.

    opening-hours-py reads such a string (``'"on appointment"'``) as open 24/7.
    """
    rules = [r.strip() for r in _RULE_SEPARATOR.split(_COMMENT.sub("", text))]
    has_comment_rule = any(not r for r in rules)
    return has_comment_rule and all(not r or _OFF_WORDS.fullmatch(r) for r in rules)


def _is_past_dated_off(rule: str, today: dt.date) -> bool:
    """A rule such as ``"2022 Mar 11,25 off"`` whose every date is before ``today``.

    Every year is explicit in such a rule; an item without a year continues the year
    before it, and a range ending on a month name may run into the next year.
    """
    match = _DATED_OFF.fullmatch(rule.strip())
    if not match:
        return False
    latest = max(int(y) for y in re.findall(r"\d{4}", match["dates"]))
    may_wrap = re.search(rf"-\s*{_MONTH}", match["dates"]) is not None
    return latest + (1 if may_wrap else 0) < today.year


def _drop_past_off_rules(text: str, today: dt.date) -> str | None:
    """``text`` without the past dated ``off`` rules the parser rejects; None if none.

    Such rules (``"Mo-Fr 09:00-12:00; PH off; 2022 Mar 11,25 off"``: a day list after a
    month is not in the grammar opening-hours-py implements) cannot change any answer
    from ``today`` on, so dropping them keeps the meaning of the string for the future.
    """
    if '"' in text:
        return None
    parts = re.split(r"(;|\|\|)", text)
    pairs = list(zip(["", *parts[1::2]], parts[0::2], strict=True))
    kept = [
        (sep, rule)
        for sep, rule in pairs
        if not (_is_past_dated_off(rule, today) and not _oh.validate(rule.strip()))
    ]
    if len(kept) == len(pairs) or not kept:
        return None
    return "".join(sep + rule for sep, rule in kept).lstrip(";|").strip()


@lru_cache(maxsize=200_000)
def _parse(
    text: str, country: str | None, coords: tuple[float, float] | None = None, tz: str = ""
) -> tuple[_oh.OpeningHours | None, bool]:
    """Parse one string (cached for the process).

    Returns
    -------
    (schedule, recovered)
        ``schedule`` is None when the string is not valid; ``recovered`` is True when it
        parsed only after dropping past dated ``off`` rules (:func:`_drop_past_off_rules`).
    """
    options: dict = {"country": country} if country else {}
    if coords is not None:
        options.update(coords=coords, timezone=_zone(tz), auto_country=False)
    try:
        return _oh.OpeningHours(text, **options), False
    except _oh.UnknownCountryError:
        raise ParameterError(
            f"unknown country code {country!r} for public holidays "
            "(expected an ISO 3166 code such as 'FR')"
        ) from None
    except (_oh.ParserError, SyntaxError, ValueError):
        pass
    cleaned = _drop_past_off_rules(text, dt.date.today())
    if cleaned is None:
        return None, False
    try:
        return _oh.OpeningHours(cleaned, **options), True
    except (_oh.ParserError, SyntaxError, ValueError):
        return None, False


def _zone(tz: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParameterError(f"unknown time zone {tz!r} (expected e.g. 'Europe/Paris')") from None


def validate(text: str, country: str | None = "FR") -> bool:
    """True when ``text`` gives known opening hours as relaynet reads them.

    Like ``opening_hours.validate``, and also True for strings recovered by dropping past
    dated ``off`` rules; False for comment-only strings (unknown hours).
    """
    text = str(text).strip()
    return bool(text) and not _comment_only(text) and _parse(text, country)[0] is not None
