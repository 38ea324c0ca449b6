"""Standard.parse: hand-computed metres and seconds; ambiguous strings refused."""

from __future__ import annotations

import pytest

from relaynet.errors import ParameterError
from relaynet.standard import Standard


@pytest.mark.parametrize(
    "text, distance_m, drive_s, combine",
    [
        ("5km", 5000.0, None, "any"),
        ("800m", 800.0, None, "any"),
        ("20min", None, 1200.0, "any"),
        ("5km|20min", 5000.0, 1200.0, "any"),
        ("5 km and 20 min", 5000.0, 1200.0, "all"),
        ("5 km or 20 min", 5000.0, 1200.0, "any"),
        ("5km&1h", 5000.0, 3600.0, "all"),
    ],
)
def test_parse(text, distance_m, drive_s, combine):
    standard = Standard.parse(text)
    assert (standard.distance_m, standard.drive_s, standard.combine) == (
        distance_m,
        drive_s,
        combine,
    )


@pytest.mark.parametrize(
    "text, match",
    [
        ("5km|6km", "two distances"),
        ("800m&5km", "two distances"),
        ("20min|30min", "two times"),
        ("5km|20min|1200s", "two times"),
    ],
)
def test_two_distances_or_two_times_refused(text, match):
    with pytest.raises(ParameterError, match=match):
        Standard.parse(text)
