"""Maps rendered to HTML: layers, escaping, popups data, offline assets (no browser here;
tests/test_browser.py drives the same HTML in Chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from relaynet import hours
from relaynet.errors import ParameterError
from relaynet.maps import (
    cdn_assets,
    coverage_map,
    inline_assets,
    map_html,
    network_map,
    radius_px,
    save_map,
)
from relaynet.maps._html import esc
from relaynet.maps.points import view_bounds

ROOT = Path(__file__).resolve().parent.parent
WHEN = "2025-11-26 10:30"
HOSTILE = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"


def make_points(n: int = 6) -> gpd.GeoDataFrame:
    """Tiny synthetic points: two networks, four kinds, hostile names, known hours."""
    frame = pd.DataFrame(
        {
            "point_id": [f"P{i}" for i in range(n)],
            "name": [HOSTILE, HOSTILE_IMG, "Tabac & Presse", 'Say "hi"', "Locker 4", "Hub 5"][:n],
            "network": [
                "la_poste",
                "mondial_relay",
                "la_poste",
                "x<b>net</b>",
                "la_poste",
                "la_poste",
            ][:n],
            "kind": ["counter", "locker", "post_office", "hub", "locker", "weird"][:n],
            "opening_hours": [
                "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00",
                "24/7",
                "",
                "Mo-Sa 08:00-20:00",
                "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00",
                "garbage hours",
            ][:n],
            "hours_source": ["osm", "carrier", "unknown", "osm", "osm", "osm"][:n],
            "services": ["dropoff;pickup;returns", "pickup", "", "pickup", "pickup", ""][:n],
            "max_weight_kg": [30.0, 20.0, np.nan, 30.0, np.nan, np.nan][:n],
            "max_length_cm": [150.0, np.nan, np.nan, np.nan, np.nan, np.nan][:n],
            "address": ['1 rue <b onmouseover="alert(2)">x</b>', "", "2 place", "", "", ""][:n],
            "postcode": ["48000"] * n,
            "city": ["Mende"] * n,
        }
    )
    geometry = gpd.points_from_xy(3.5 + 0.01 * np.arange(n), 44.5 + 0.01 * np.arange(n))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def layer_data(html: str, name: str) -> list:
    """The JSON array assigned to ``var <name> =`` in the first matching layer script."""
    match = re.search(rf"var {name} = (\[.*?\]);\n", html, flags=re.S)
    assert match, f"no {name} array in the page"
    return json.loads(match.group(1))


def point_rows(html: str) -> dict:
    """``{point_id: row}`` over every point layer, coordinates decoded (steps added up)."""
    out = {}
    for block in re.findall(r"var data = (\[.*?\]);\n", html, flags=re.S):
        lat = lon = 0
        for row in json.loads(block):
            lat, lon = lat + row[0], lon + row[1]
            out[row[2]] = [lat / 1e5, lon / 1e5, *row[2:]]
    return out


def dots_columns(html: str) -> list[dict]:
    """Columns of every demand layer (``relaynet.Dots``), coordinates decoded."""
    out = []
    for block in re.findall(r"var d = (\{.*?\});\n", html, flags=re.S):
        columns = json.loads(block)
        if "n" not in columns:
            continue  # the service radius layer: no places of its own
        if "lat" in columns:
            columns["lat"] = (np.cumsum(columns["lat"]) / 1e5).tolist()
            columns["lon"] = (np.cumsum(columns["lon"]) / 1e5).tolist()
        out.append(columns)
    return out


def geo_features(html: str) -> list[dict]:
    """Features of every GeoLayer that carries its own, geometries decoded."""
    from relaynet.maps._layers import decode_shape

    out = []
    for block in re.findall(r"var features = (\[.*?\]);\n", html, flags=re.S):
        for feature in json.loads(block):
            feature["geometry"] = decode_shape(feature["geometry"])
            out.append(feature)
    return out


class TestNetworkMapSynthetic:
    def test_one_layer_per_network_with_its_points(self):
        points = make_points()
        html = map_html(network_map(points, when=WHEN))
        blocks = re.findall(r"var data = (\[.*?\]);\n", html, flags=re.S)
        rows = point_rows(html)
        # one block per network, each point once, at its place (about 1 m)
        assert len(blocks) == points["network"].nunique()
        assert sorted(rows) == sorted(points["point_id"])
        for pid, geom in zip(points["point_id"], points.geometry, strict=True):
            assert rows[pid][0] == pytest.approx(geom.y, abs=1e-5)
            assert rows[pid][1] == pytest.approx(geom.x, abs=1e-5)

    def test_every_data_text_is_escaped(self):
        html = map_html(network_map(make_points(), when=WHEN))
        # nothing from the data appears as live markup anywhere in the page
        assert HOSTILE not in html and HOSTILE_IMG not in html
        assert "<b>net</b>" not in html and "<b onmouseover" not in html
        by_id = point_rows(html)
        assert by_id["P0"][4] == HOSTILE  # raw name only as the marker's DOM title
        assert by_id["P0"][3] == "&lt;script&gt;alert(1)&lt;/script&gt;"
        assert by_id["P1"][3] == "&lt;img src=x onerror=alert(1)&gt;"
        assert by_id["P2"][3] == "Tabac &amp; Presse"
        assert by_id["P3"][3] == "Say &quot;hi&quot;"
        assert by_id["P4"][4] == 0  # title = the name when escaping changes nothing
        assert "&lt;b onmouseover=&quot;alert(2)&quot;&gt;x&lt;/b&gt;" in by_id["P0"][5]
        # layer names (rendered as HTML by Leaflet's layer control) are escaped too
        control = html[html.index("overlays") :]
        assert json.dumps("X&lt;b&gt;net&lt;/b&gt; (1 points)").replace("&", "\\u0026") in control

    def test_popup_hours_match_opening_hours_oracle(self):
        points = make_points()
        html = map_html(network_map(points, when=WHEN))
        texts = layer_data(html, "texts")
        weeks = layer_data(html, "hours")
        days = layer_data(html, "days")
        assert days[0].startswith("Mon 24/11") and days[6].startswith("Sun 30/11")
        rows = point_rows(html)
        monday = pd.Timestamp("2025-11-24")
        for i, pid in enumerate(points["point_id"]):
            week = weeks[rows[pid][7]]
            for k in range(7):
                expected = hours.hours_on(points.iloc[[i]], monday + pd.Timedelta(days=k)).iloc[0]
                shown = texts[week[k]]
                assert shown == str(expected).replace("-", "\u2013").replace(",", ", ")
        assert texts[weeks[rows["P0"][7]][0]] == "09:00\u201312:00, 14:00\u201318:00"
        assert texts[weeks[rows["P2"][7]][0]] == "unknown"

    def test_status_at_the_chosen_time(self):
        points = make_points()
        html = map_html(network_map(points, when=WHEN))
        rows = point_rows(html)
        weeks = layer_data(html, "hours")
        status = layer_data(html, "status")
        open_now = hours.is_open(points, WHEN)
        known = hours.Schedules(points).known
        for i, pid in enumerate(points["point_id"]):
            text = status[weeks[rows[pid][7]][8]]
            if not known[i]:
                assert "unknown" in text
            else:
                assert ("Open at" in text) == bool(open_now[i])
        assert "Wed 26 Nov 2025 10:30 (Europe/Paris time)" in status[0]
        # Sunday 10:30: the 24/7 locker is the only open one
        html = map_html(network_map(points, when="2025-11-30 10:30"))
        rows, weeks = point_rows(html), layer_data(html, "hours")
        assert [pid for pid, row in rows.items() if weeks[row[7]][8] == 0] == ["P1"]

    def test_open_now_in_the_points_time_zone(self):
        """No ``when``: the status is computed at the current time in Europe/Paris, whatever
        the machine's zone; a ``tz`` on the data or the call is used instead."""
        points = make_points()
        now = pd.Timestamp.now(tz="Europe/Paris").tz_localize(None).floor("min")
        status = layer_data(map_html(network_map(points)), "status")
        assert now.strftime("%a %d %b %Y %H:%M") in status[0] or (
            (now + pd.Timedelta(minutes=1)).strftime("%H:%M") in status[0]
        )
        html = map_html(network_map(points, when="2025-11-26 10:30+00:00", tz="Asia/Tokyo"))
        assert "Wed 26 Nov 2025 19:30 (Asia/Tokyo time)" in layer_data(html, "status")[0]
        tagged = points.copy()
        tagged.attrs["tz"] = "America/Cayenne"
        html = map_html(network_map(tagged, when="2025-11-26 10:30+00:00"))
        assert "07:30 (America/Cayenne time)" in layer_data(html, "status")[0]
        with pytest.raises(ParameterError, match="time zone"):
            network_map(points, tz="Mars/Olympus")

    def test_icons_and_colours(self):
        html = map_html(network_map(make_points(), when=WHEN))
        profiles = layer_data(html, "profiles")
        glyphs = {p[3] for p in profiles}
        assert {"store", "box", "envelope", "warehouse", "dot"} <= glyphs
        assert '"#e8a100"' in html and '"#a23336"' in html  # la_poste, mondial_relay
        assert "rn-legend" in html and "Mondial Relay" in html and "La Poste" in html
        # no Font Awesome, jQuery or Bootstrap on a map that does not use them
        assert "fontawesome" not in html and "jquery" not in html and "bootstrap" not in html

    def test_cluster_threshold_and_fit_bounds(self):
        points = make_points()
        html = map_html(network_map(points, when=WHEN))
        assert "L.markerClusterGroup(" not in re.sub(r"<script src=.*?</script>", "", html)
        html = map_html(network_map(points, when=WHEN, cluster=True))
        assert "L.markerClusterGroup(" in html
        bounds = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", html, re.S).group(1)
        assert np.allclose(json.loads(bounds), [[44.5, 3.5], [44.55, 3.55]])

    def test_view_bounds_ignore_far_outliers_only(self):
        rng = np.random.default_rng(0)
        lon, lat = rng.uniform(2, 3, 500), rng.uniform(45, 46, 500)
        assert view_bounds(lon, lat) == pytest.approx((lon.min(), lat.min(), lon.max(), lat.max()))
        lon2, lat2 = np.append(lon, [55.5, -61.5]), np.append(lat, [-21.1, 16.2])
        b = view_bounds(lon2, lat2)
        assert 2 <= b[0] < b[2] <= 3 and 45 <= b[1] < b[3] <= 46

    def test_errors(self):
        with pytest.raises(ParameterError, match="GeoDataFrame"):
            network_map(pd.DataFrame({"point_id": ["a"]}))
        points = make_points()
        with pytest.raises(ParameterError, match="no CRS"):
            network_map(points.set_crs(None, allow_override=True))
        with pytest.raises(ParameterError, match="point_id"):
            network_map(points.drop(columns="point_id"))


class TestNetworkMapReal:
    def test_lozere_points_all_in_layers(self):
        points = gpd.read_parquet(ROOT / "data" / "laposte_points.parquet")
        points = points[points["postcode"].astype(str).str.startswith("48")]
        html = map_html(network_map(points, when=WHEN))
        assert sorted(point_rows(html)) == sorted(points["point_id"])
        assert "L.markerClusterGroup(" in html


@pytest.fixture(scope="module")
def lozere():
    """Lozère points and communes (one hostile commune name), assessed at 5 km."""
    from relaynet.coverage import assess, find_gaps

    points = gpd.read_parquet(ROOT / "data" / "laposte_points.parquet")
    demand = gpd.read_parquet(ROOT / "data" / "communes_demand.parquet")
    points = points[points["postcode"].astype(str).str.startswith("48")]
    demand = demand[demand["area_id"] == "48"].copy()
    demand.iloc[0, demand.columns.get_loc("name")] = HOSTILE
    assessment = assess(demand, points, "5km", windows=None)
    return points, assessment, find_gaps(assessment)


class TestCoverageMap:
    def test_demand_places_split_by_coverage(self, lozere):
        points, assessment, gaps = lozere
        html = map_html(coverage_map(assessment, points=points, gaps=gaps, when=WHEN))
        covered, uncovered = dots_columns(html)
        access = assessment.access
        assert len(covered["n"]) == int(access["covered"].sum())
        assert len(uncovered["n"]) == int((~access["covered"]).sum())
        # every place once, with its (escaped) name and people
        shown = sorted(
            (n, w)
            for cols in (covered, uncovered)
            for n, w in zip(cols["n"], cols["w"], strict=True)
        )
        expected = sorted(
            (esc(n), round(w)) for n, w in zip(access["name"], access["weight"], strict=True)
        )
        assert shown == expected
        first = access[access["covered"]].iloc[0]
        k = covered["n"].index(first["name"]) if first["name"] in covered["n"] else None
        if k is not None:
            assert covered["lat"][k] == pytest.approx(first["lat"], abs=1e-5)
            assert covered["d"][k] == round(first["distance_m"] / 100)
        assert HOSTILE not in html and "&amp;lt;script" not in html
        assert any("&lt;script&gt;" in n for n in covered["n"] + uncovered["n"])
        # uncovered places are drawn above gap zones, gap zones above covered places
        panes = dict(re.findall(r'createPane\("(rn-[a-z]+)"\)\.style\.zIndex = (\d+)', html))
        assert int(panes["rn-uncovered"]) > int(panes["rn-shapes"]) > int(panes["rn-covered"])

    def test_gap_polygons_with_uncovered_population(self, lozere):
        points, assessment, gaps = lozere
        html = map_html(coverage_map(assessment, points=points, gaps=gaps, when=WHEN))
        polygons = [f for f in geo_features(html) if f["properties"].get("h", "").startswith("Gap")]
        assert len(polygons) == len(gaps)
        total = gaps["uncovered_weight"].sum()
        assert f"Gap zones ({len(gaps)}," in html
        assert np.isclose(
            total, (~assessment.access["covered"] * assessment.access["weight"]).sum()
        )
        first = polygons[0]["properties"]
        assert first["h"] == "Gap zone 1" and first["v"][0] == "{:,.0f}".format(
            gaps["uncovered_weight"].iloc[0]
        ).replace(",", "\u202f")
        # outline simplified by at most ~200 m (2e-3 degree)
        shape = shapely.geometry.shape(polygons[0]["geometry"])
        assert shape.hausdorff_distance(gaps.geometry.iloc[0]) < 3e-3

    def test_departement_outlines_and_choropleths(self, lozere):
        points, assessment, gaps = lozere
        html = map_html(coverage_map(assessment, points=points, gaps=gaps, when=WHEN))
        assert "Départements outlines" in html
        assert "Share covered, by département" in html
        assert "People not covered, by département" in html
        share = assessment.by_area["share_covered"].loc["48"]
        assert f"{100 * share:.1f} %" in html
        html = map_html(coverage_map(assessment, areas=False))
        assert "Départements outlines" not in html

    def test_radius_layer_off_and_proposed_sites(self, lozere):
        points, assessment, gaps = lozere

        class FakeSolution:  # the fields coverage_map reads from a Solution
            model = "mclp"
            sites = gpd.GeoDataFrame(
                {
                    "point_id": ["cand:<i>x</i>"],
                    "name": ["Site"],
                    "status": ["new"],
                    "new_weight": [1234.0],
                    "assigned_weight": [2000.0],
                },
                geometry=gpd.points_from_xy([3.6], [44.6]),
                crs="EPSG:4326",
            )

        m = coverage_map(assessment, points=points, solution=FakeSolution(), when=WHEN)
        html = map_html(m)
        radius = [
            c for c in m._children.values() if "Service radius" in str(getattr(c, "layer_name", ""))
        ]
        assert len(radius) == 1 and radius[0].show is False and radius[0].metres == 5000.0
        assert "options.metres = 5000.0" in html
        assert "Proposed sites (1)" in html
        assert "cand:\\u0026lt;i\\u0026gt;x" in html and "<i>x</i>" not in html
        assert "1\u202f234 people newly covered" in html
        html = map_html(coverage_map(assessment, points=points, radius=True, when=WHEN))
        assert "Service radius 5 km" in html

    def test_window_and_errors(self, lozere):
        points, assessment, gaps = lozere
        with pytest.raises(ParameterError, match="window"):
            coverage_map(assessment, window="nope")
        with pytest.raises(ParameterError, match="assess"):
            coverage_map(object())

    def test_isochrones_layer(self, lozere):
        _, assessment, _ = lozere
        iso = gpd.GeoDataFrame(
            {"point_id": ["a", "a"], "minutes": [5.0, 10.0]},
            geometry=[shapely.Point(3.5, 44.5).buffer(0.02), shapely.Point(3.5, 44.5).buffer(0.05)],
            crs="EPSG:4326",
        )
        html = map_html(coverage_map(assessment, isochrones=iso))
        assert "Isochrones (2)" in html and "minutes: 10.0" in html

    def test_scale_bar_metric_and_legend_a_control(self, lozere):
        _, assessment, _ = lozere
        html = map_html(coverage_map(assessment))
        assert "L.control.scale({imperial: false" in html
        assert "L.control.scale()" not in html
        assert 'L.control({position: "bottomleft"})' in html  # stacked above the scale


def test_radius_px_area_proportional_and_capped():
    weight = np.array([0.0, 100.0, 400.0, 1e9])
    r = radius_px(weight)
    assert r[0] == 2.0 and r.max() <= 16.0
    assert (r[2] - 2) == pytest.approx(2 * (r[1] - 2), rel=0.05)


class TestOffline:
    def test_every_linked_asset_has_a_local_copy(self):
        points = make_points()
        html = map_html(network_map(points, when=WHEN, cluster=True))
        links = re.findall(r'<(?:script src|link rel="stylesheet" href)="(https?://[^"]+)"', html)
        assert links and all(url in cdn_assets() for url in links)

    def test_offline_map_has_no_cdn_link(self, tmp_path):
        m = network_map(make_points(), when=WHEN, cluster=True)
        path = save_map(m, tmp_path / "offline.html", offline=True)
        html = path.read_text(encoding="utf-8")
        assert not re.search(r'<script src="http', html)
        assert not re.search(r'<link rel="stylesheet" href="http', html)
        assert "L.MarkerClusterGroup" in html and "relaynet.icon(" in html
        assert HOSTILE not in html

    def test_inline_unknown_asset(self):
        page = '<script src="https://example.org/x.js"></script>'
        with pytest.raises(ParameterError, match="no offline copy"):
            inline_assets(page)
        assert inline_assets(page, strict=False) == page

    def test_save_is_atomic_and_checks_type(self, tmp_path):
        with pytest.raises(ParameterError, match="folium.Map"):
            save_map("not a map", tmp_path / "x.html")
        save_map(folium.Map(), tmp_path / "m.html")
        assert [p.name for p in tmp_path.iterdir()] == ["m.html"]
