"""The report's pages as a person reads them: the same run gives the same files, distances of
places that are not covered never read as within the standard, every number in words and
units, and the map's interactions in a real browser (``-m browser``)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from relaynet.maps import coverage_map, labels, map_html, network_map, save_map
from relaynet.maps.points import AT_VIEW
from relaynet.report import write_report
from relaynet.report.html import demand_text, table
from relaynet.report.run import title_with_label

ROOT = Path(__file__).resolve().parent.parent
WHEN = "2025-11-26 10:30"  # a Wednesday
RANDOM_ID = re.compile(r"_[0-9a-f]{32}\b")
STAMP = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


@pytest.fixture(scope="module")
def lozere():
    """Lozère's La Poste points and communes (plus the communes of Guadeloupe, an overseas
    département), assessed at 5 km, with their gap zones."""
    from relaynet.coverage import assess, find_gaps

    points = gpd.read_parquet(ROOT / "data" / "laposte_points.parquet")
    demand = gpd.read_parquet(ROOT / "data" / "communes_demand.parquet")
    points = points[points["postcode"].astype(str).str.startswith(("48", "971"))]
    demand = demand[demand["area_id"].isin(["48", "971"])].copy()
    assessment = assess(demand, points, "5km", windows=None)
    return points, demand, assessment, find_gaps(assessment)


def gap_features(html: str) -> list[dict]:
    """Properties of the gap zones drawn on a map page."""
    out = []
    for block in re.findall(r"var features = (\[.*?\]);\n", html, flags=re.S):
        out += [f["properties"] for f in json.loads(block)]
    return [p for p in out if str(p.get("h", "")).startswith("Gap zone")]


def dots_columns(html: str) -> list[dict]:
    """Columns of the demand layers (covered, then uncovered) of a map page."""
    blocks = [json.loads(b) for b in re.findall(r"var d = (\{.*?\});\n", html, flags=re.S)]
    return [b for b in blocks if "n" in b]


class TestSameRunSameFiles:
    def test_map_page_identical_twice(self, lozere):
        points, _, assessment, gaps = lozere
        pages = [
            map_html(coverage_map(assessment, points=points, gaps=gaps, when=when))
            for when in (WHEN, WHEN, AT_VIEW, AT_VIEW)
        ]
        assert pages[0] == pages[1] and pages[2] == pages[3]
        assert not RANDOM_ID.search(pages[0]) and not RANDOM_ID.search(pages[2])
        # the names the page uses are the ones its elements declare
        assert re.search(r'<div class="folium-map" id="map_0_\d+"', pages[0])

    def test_rendering_a_map_again_changes_nothing(self, lozere, tmp_path):
        points, _, assessment, gaps = lozere
        m = coverage_map(assessment, points=points, gaps=gaps, when=WHEN)
        first = map_html(m)
        save_map(m, tmp_path / "a.html")
        assert (tmp_path / "a.html").read_text(encoding="utf-8") == first == map_html(m)
        # a plain folium map written by relaynet is named the same way
        import folium

        plain = folium.Map(location=[44.5, 3.5])
        folium.Marker([44.5, 3.5]).add_to(plain)
        assert map_html(plain) == map_html(plain) and not RANDOM_ID.search(map_html(plain))

    def test_report_folder_identical_twice(self, lozere, tmp_path):
        points, demand, _, _ = lozere
        folders = []
        for name in ("a", "b"):
            write_report(
                tmp_path / name,
                points=points,
                demand=demand,
                standard="5km",
                windows=False,
                optimize="mclp",
                p=2,
                time_limit=20,
                title="Lozère and Guadeloupe (5km)",
            )
            folders.append(tmp_path / name)
        a, b = folders
        assert (a / "map.html").read_bytes() == (b / "map.html").read_bytes()
        index_a = (a / "index.html").read_text(encoding="utf-8")
        index_b = (b / "index.html").read_text(encoding="utf-8")
        # the time the report was made is the one thing that may differ (as in run.json)
        assert STAMP.search(index_a)
        assert STAMP.sub("", index_a) == STAMP.sub("", index_b)
        for name in ("access.csv", "compliance.csv", "gaps.csv", "gaps.geojson", "sites.csv"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


class TestDistancesOfUncoveredPlaces:
    def test_km_rounds_up_for_places_not_covered(self):
        assert labels.km(5004, up=True) == "5.1 km"
        assert labels.km(5004) == "5.0 km"
        assert labels.km(5100, up=True) == "5.1 km"
        assert labels.km(5100.4, up=True) == "5.2 km"
        assert labels.km(float("nan"), up=True) == "—"

    def test_gap_popups_and_place_tips_never_read_within_the_standard(self, lozere):
        points, _, assessment, gaps = lozere
        html = map_html(coverage_map(assessment, points=points, gaps=gaps, when=WHEN))
        features = gap_features(html)
        assert len(features) == len(gaps)
        names = dict(zip(points["point_id"], points["name"], strict=True))
        for props, (_, gap) in zip(features, gaps.iterrows(), strict=True):
            nearest = props["v"][-1]
            shown = float(re.search(r"([\d.]+) km$", nearest).group(1))
            assert shown == math.ceil(gap["nearest_point_m"] / 100) / 10
            assert shown > 5.0
            # the point by its name and id, as the point popups show it
            pid = gap["nearest_point_id"]
            assert f"({pid})" in nearest and names[pid].split()[0] in nearest
        covered, uncovered = dots_columns(html)
        access = assessment.access
        far = access.loc[~access["covered"], "distance_m"].to_numpy()
        assert sorted(uncovered["d"]) == sorted(np.ceil(far / 100).astype(int).tolist())
        assert min(uncovered["d"]) > 50
        # the nearest point by id; the browser adds its name from the point layers
        assert sorted(uncovered["p"]) == sorted(access.loc[~access["covered"], "point_id"])

    def test_report_gap_table_rounds_up(self, tmp_path, lozere):
        points, demand, _, gaps = lozere
        write_report(tmp_path / "r", points=points, demand=demand, windows=False)
        html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
        section = html[html.index("Gap zones ranked") :]
        shown = re.findall(
            r'<td class="num">(\d+\.\d) km</td>', section[: section.index("</table>")]
        )
        expected = [labels.km(v, up=True) for v in gaps["nearest_point_m"].head(50)]
        assert [f"{s} km" for s in shown] == expected
        assert "5.0 km" not in shown


@pytest.fixture(scope="module")
def page(lozere, tmp_path_factory):
    """A report on Lozère and Guadeloupe with two proposed sites: its folder and index."""
    points, demand, _, _ = lozere
    out = tmp_path_factory.mktemp("words") / "report"
    write_report(
        out,
        points=points,
        demand=demand,
        standard="5km",
        windows=False,
        optimize="mclp",
        p=2,
        time_limit=20,
        title="Lozère and Guadeloupe (5km)",
    )
    return out, (out / "index.html").read_text(encoding="utf-8")


class TestIndexInWords:
    def test_files_list_names_every_file_of_the_folder(self, page):
        out, html = page
        listed = re.findall(r'<li><a href="([^"]+)">', html[html.index("<h2>Files</h2>") :])
        on_disk = sorted(p.name for p in out.iterdir() if p.name != "index.html")
        assert sorted(listed) == on_disk
        assert "compliance.csv" in listed and "run.json" in listed

    def test_method_says_what_a_place_is_in_words(self, page, lozere):
        _, html = page
        method = html[html.index("Method and inputs") : html.index("<h2>Files")]
        assert "town_hall" not in method and "centroid:" not in method
        assert "mean weight" not in method and not re.search(r"\d,\d{3}", method)
        demand = lozere[1]
        n = labels.count(len(demand))
        assert f"Demand: {n} places (" in method and "at the town hall" in method
        assert "people per place on average" in method

    def test_demand_text_from_counts(self):
        access = pd.DataFrame({"weight": [1000.0, 2500.0, 200.0, 50000.0]})
        demand = pd.DataFrame({"location_source": ["town_hall"] * 3 + ["centroid"]})
        text = demand_text(access, demand)
        assert text == (
            "4 places (3 at the town hall, 1 at the polygon centroid), "
            "13\u202f425 people per place on average"
        )
        assert demand_text(access) == "4 places, 13\u202f425 people per place on average"

    def test_title_uses_the_standard_label(self, page):
        _, html = page
        assert "<h1>Lozère and Guadeloupe (5 km)</h1>" in html and "(5km)" not in html
        assert title_with_label("Cover 25km (5km)", "5km", "5 km") == "Cover 25km (5 km)"
        assert title_with_label(None, "5km", "5 km") is None

    def test_proposed_sites_by_name_and_model_in_words(self, page, lozere):
        out, html = page
        section = html[html.index("Proposed sites") : html.index("Rejected input rows")]
        assert "maximal covering (MCLP)" in section
        sites = pd.read_csv(out / "sites.csv", dtype=str)
        demand = lozere[1].set_index("demand_id")
        for pid in sites["point_id"]:
            code = pid.removeprefix("cand:")
            assert f"<td>{demand.loc[code, 'name']}</td><td>{code}</td>" in section
            assert pid not in section

    def test_overseas_and_mayotte_said_on_the_page(self, page):
        _, html = page
        assert "Guadeloupe (971)" in html and "not on the figure" in html
        # Mayotte has no place in the demand (nor Martinique, Guyane, La Réunion here)
        assert re.search(r"Mayotte \(976\) are absent: the demand has no place there", html)

    def test_text_left_numbers_right(self, page):
        _, html = page
        section = html[html.index("Gap zones ranked") :]
        head = section[section.index("<thead>") : section.index("</thead>")]
        assert '<th class="num">People not covered</th>' in head
        assert "<th>Largest places</th>" in head and "<th>Départements</th>" in head
        frame = pd.DataFrame({"name": ["A & B", None], "weight": [1234.0, np.nan]})
        html = table(frame, {"weight": labels.count}, headers={"name": "Name"})
        assert '<th>Name</th><th class="num">weight</th>' in html
        assert '<td>A &amp; B</td><td class="num">1\u202f234</td>' in html
        assert '<td>—</td><td class="num">—</td>' in html

    def test_no_machine_words_on_the_page(self, page):
        _, html = page
        text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        for word in ("nan", "None", "inf", "town_hall", "cand:", "mclp"):
            assert not re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text), word


class TestMapLabels:
    def test_base_layer_named_as_people_write_it(self, lozere):
        points = lozere[0]
        html = map_html(network_map(points, when=WHEN))
        assert '"OpenStreetMap"' in html and '"openstreetmap"' not in html

    def test_status_says_when_it_was_worked_out(self, lozere):
        points = lozere[0]
        html = map_html(network_map(points))  # no time given: the time the map was made
        assert "when the map was made (" in html
        html = map_html(network_map(points, when=AT_VIEW))
        assert "when the map was made" not in html and "Closed at" not in html
        assert "Hours of a usual week" in html

    def test_legend_says_where_overseas_areas_are(self, lozere):
        _, _, assessment, gaps = lozere
        html = map_html(coverage_map(assessment, gaps=gaps, when=WHEN))
        assert "Overseas départements (971) are drawn where they lie" in html
        assert "Share covered, by département" in html and "covered by départements" not in html


# ----------------------------------------------------------------------------- browser


CHROMIUM = "/usr/bin/chromium"
FIND_MAP = (
    "(() => { for (const k of Object.keys(window)) { try { if (window[k] instanceof L.Map)"
    " return window[k]; } catch (e) {} } })()"
)
TIPS = "() => Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent)"
POPUPS = (
    "() => Array.from(document.querySelectorAll('.leaflet-popup-content')).map(t => t.textContent)"
)


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure_chromium.sh`", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def open_page(chromium, path: Path, *, clock: str | None = None, width: int = 1200):
    """A page on ``path`` (offline map: nothing but tiles leaves, and tiles are refused)."""
    page = chromium.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("http*://**", lambda route: route.abort())
    if clock:
        page.clock.set_fixed_time(clock)
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, errors


def view(page, lat: float, lon: float, zoom: int = 12) -> tuple[float, float]:
    """Centre the map on a place; its position on the screen."""
    page.evaluate(
        f"([a, b, z]) => {{ {FIND_MAP}.setView([a, b], z, {{animate: false}}); return 0; }}",
        [lat, lon, zoom],
    )
    page.wait_for_timeout(600)
    return tuple(
        page.evaluate(
            f"([a, b]) => {{ const p = {FIND_MAP}.latLngToContainerPoint([a, b]);"
            " return [p.x, p.y]; }",
            [lat, lon],
        )
    )


@pytest.mark.browser
class TestInBrowser:
    def test_a_place_wins_over_its_gap_zone(self, chromium, lozere, tmp_path):
        import shapely

        points, _, assessment, gaps = lozere
        path = save_map(
            coverage_map(assessment, points=points, gaps=gaps, when=WHEN),
            tmp_path / "map.html",
            offline=True,
        )
        access = assessment.access
        uncovered = access[~access["covered"] & access["area_id"].eq("48")]
        places = gpd.GeoDataFrame(
            uncovered, geometry=gpd.points_from_xy(uncovered["lon"], uncovered["lat"]), crs=4326
        )
        inside = gpd.sjoin(places, gaps[["rank", "geometry"]].to_crs(4326), predicate="within")
        place = inside.sort_values("weight", ascending=False).iloc[0]
        page, errors = open_page(chromium, path)
        page.wait_for_selector(".leaflet-marker-icon", timeout=30_000)
        x, y = view(page, place["lat"], place["lon"])
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        tips = page.evaluate(TIPS)
        assert len(tips) == 1 and place["name"] in tips[0] and "Gap zone" not in tips[0]
        nearest = points.set_index("point_id").loc[place["point_id"], "name"]
        assert f", {nearest} ({place['point_id']}) · not covered" in tips[0]
        page.mouse.click(x, y)
        page.wait_for_timeout(300)
        popups = page.evaluate(POPUPS)
        assert len(popups) == 1 and place["name"] in popups[0] and "not covered" in popups[0]
        # away from any place, the zone answers
        zone = gaps.to_crs(4326).geometry[gaps["rank"] == place["rank"]].iloc[0]
        xy = np.c_[access["lon"], access["lat"]]
        x0, y0, x1, y1 = zone.bounds
        grid = [
            shapely.Point(gx, gy)
            for gx in np.linspace(x0, x1, 15)
            for gy in np.linspace(y0, y1, 15)
            if zone.contains(shapely.Point(gx, gy))
        ]
        best = max(grid, key=lambda q: np.min(np.hypot(xy[:, 0] - q.x, xy[:, 1] - q.y)))
        page.evaluate(f"() => {{ {FIND_MAP}.closePopup(); return 0; }}")
        x, y = view(page, best.y, best.x)
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        assert [t for t in page.evaluate(TIPS) if t.startswith("Gap zone")]
        page.mouse.click(x, y)
        page.wait_for_timeout(300)
        popups = page.evaluate(POPUPS)
        assert len(popups) == 1 and popups[0].startswith("Gap zone")
        assert errors == []
        page.close()

    @pytest.mark.parametrize(
        ("clock", "expected"),
        [
            ("2025-11-26T09:30:00Z", "Open now (Wed 10:30, Europe/Paris time)"),
            ("2025-11-30T09:30:00Z", "Closed now (Sun 10:30, Europe/Paris time)"),
        ],
    )
    def test_open_now_when_the_popup_opens(self, chromium, lozere, tmp_path, clock, expected):
        points = lozere[0]
        office = points[points["point_id"] == "08870A"]  # Mende, Mon–Fri 08:30–12:00 …
        path = save_map(
            network_map(office, when=AT_VIEW, cluster=False), tmp_path / "m.html", offline=True
        )
        page, errors = open_page(chromium, path, clock=clock)
        marker = page.locator(".leaflet-marker-icon").first
        marker.wait_for(timeout=30_000)
        marker.click()
        page.wait_for_timeout(300)
        text = page.evaluate(POPUPS)[0]
        assert expected in text and "Hours of a usual week" in text
        assert errors == []
        page.close()

    def test_layer_panel_folds_inside_another_page(self, chromium, lozere, tmp_path):
        points = lozere[0]
        save_map(network_map(points, when=WHEN), tmp_path / "map.html", offline=True)
        (tmp_path / "index.html").write_text(
            '<!DOCTYPE html><iframe src="map.html" style="width:1100px;height:620px"></iframe>',
            encoding="utf-8",
        )
        page, errors = open_page(chromium, tmp_path / "map.html")
        page.wait_for_selector(".leaflet-control-layers", timeout=30_000)
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
        page.close()
        page, errors = open_page(chromium, tmp_path / "index.html")
        frame = page.frame_locator("iframe")
        frame.locator(".leaflet-control-layers").wait_for(timeout=30_000)
        page.wait_for_timeout(300)
        assert frame.locator(".leaflet-control-layers-expanded").count() == 0
        frame.locator(".leaflet-control-layers").hover()
        page.wait_for_timeout(300)
        assert frame.locator(".leaflet-control-layers-expanded").count() == 1
        assert errors == []
        page.close()
