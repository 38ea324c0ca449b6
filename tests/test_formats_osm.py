"""OSM relay points: kinds, normalised network names, services and hours from the tags
(``tests/fixtures/osm_relay_networks.osm``: illustrative objects, not real data)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import relaynet as rn
from relaynet.io.osm import network_of

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def points():
    accepted, rejected = rn.load_points(FIXTURES / "osm_relay_networks.osm")
    assert len(rejected) == 0
    return accepted.set_index("point_id")


class TestOsmTags:
    def test_kept_objects_and_kinds(self, points):
        assert "n110" not in points.index  # a bakery without parcel tags
        assert points["kind"].to_dict() == {
            "n101": "locker",
            "n102": "locker",
            "n103": "counter",  # amenity=post_partner
            "n104": "counter",  # shop + post_office:parcel_to
            "n105": "counter",  # shop + parcel_pickup=yes
            "n106": "counter",
            "n107": "locker",
            "n108": "locker",
            "n109": "counter",  # shop + post_office=post_partner
            "n111": "locker",
            "n112": "counter",  # shop + post_office:parcel_from
            "n113": "locker",
        }

    def test_networks_normalised(self, points):
        assert points["network"].fillna("").to_dict() == {
            "n101": "mondial_relay",
            "n102": "amazon",
            "n103": "la_poste",
            "n104": "relais_colis",  # the relay service, not the shop chain
            "n105": "pickup",
            "n106": "",  # a shop's own brand is not a relay network
            "n107": "dpd_pickup",
            "n108": "ups_access_point",
            "n109": "chronopost",
            "n111": "vinted_go",  # unknown brand: kept as a token
            "n112": "dhl",
            "n113": "inpost",
        }

    def test_services(self, points):
        assert points.loc["n103", "services"] == "dropoff;pickup"  # parcel_from=yes
        assert points.loc["n104", "services"] == "pickup"
        assert points.loc["n107", "services"] == "dropoff;pickup"  # parcel_mail_in=yes
        assert points.loc["n112", "services"] == "dropoff"  # parcel_to=no

    def test_lockers_are_24_7_only_when_tagged_so(self, points):
        assert points.loc["n102", "opening_hours"] == "24/7"
        assert points.loc["n102", "hours_source"] == "osm"
        for untagged in ("n101", "n108", "n111"):
            assert pd.isna(points.loc[untagged, "opening_hours"])
            assert points.loc[untagged, "hours_source"] == "unknown"
        # Sunday 03:00: only the 24/7 locker is open; unknown hours are not "always open"
        where = rn.Eligibility(open_at="2026-11-29 03:00", kinds={"locker"})
        open_now = points.loc[where.mask(points.reset_index())].index
        assert list(open_now) == ["n102"]

    @pytest.mark.parametrize(
        ("tags", "network"),
        [
            ({"operator": "InPost Paczkomaty"}, "inpost"),
            ({"brand": "Chronopost Pickup"}, "chronopost"),  # carrier before "pickup"
            ({"brand": "Relais Pickup"}, "pickup"),
            ({"operator": "Groupe La Poste"}, "la_poste"),
            ({"brand": "Pickups Express"}, "pickups_express"),  # whole words only
            ({"shop": "kiosk", "post_office:parcel_to": "DHL; Hermes"}, "dhl"),
            ({"shop": "kiosk", "post_office:brand": "yes", "brand": "Relay"}, ""),
            ({}, ""),
        ],
    )
    def test_network_of(self, tags, network):
        assert network_of(tags) == network


def test_io_never_imports_formats():
    """relaynet.formats sits on top of relaynet.io: no module of io imports it."""
    found = []
    for path in sorted((Path(rn.__file__).parent / "io").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                name = ("." * node.level) + (node.module or "")
                if "formats" in name or any("formats" in a.name for a in node.names):
                    found.append(f"{path.name}: {name}")
            elif isinstance(node, ast.Import):
                found += [f"{path.name}: {a.name}" for a in node.names if "formats" in a.name]
    assert found == []
