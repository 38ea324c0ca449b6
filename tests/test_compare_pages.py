"""What a person reads in the comparison folder: human headers and values with units (no
machine names, no "nan"), every chart label in full, changes of a share in percentage points
that never read as zero, one number format, a labelled target line; on the map, outlines,
layer names that agree with the report, and a tooltip on every circle of every layer
(checked in headless Chromium with ``-m browser``). Also the main report's figure titles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import relaynet as rn
from relaynet.maps.comparison import window_label
from relaynet.report import charts
from relaynet.report.compare import change_count, change_pp, render_comparison, write_comparison
from relaynet.scenarios import Scenario

STARTED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
HOURS = ["Mo-Sa 08:00-20:00", "Mo-Fr 09:00-12:00; PH off", "Mo-Fr 09:00-18:00; Sa 09:00-12:00"]
LONG_NAME = "a scenario with a rather long name: fourteen new sites in Lozère and Aveyron"


def _demand(n: int = 80, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "name": [f"place {i}" for i in range(n)],
            "weight": rng.integers(1, 500, n).astype(float),
            "area_id": rng.choice(["48", "12", "30"], n),  # département codes
            "density_class": rng.choice(["urban", "intermediate", "rural"], n),
        },
        geometry=[Point(x, y) for x, y in zip(rng.uniform(3, 3.6, n), rng.uniform(44, 44.4, n))],
        crs="EPSG:4326",
    )


def _points(n: int = 25, seed: int = 2, prefix: str = "p") -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "point_id": [f"{prefix}{i}" for i in range(n)],
            "name": [f"point {prefix}{i}" for i in range(n)],
            "network": rng.choice(["la_poste", "mondial_relay"], n),
            "kind": "counter",
            "opening_hours": [HOURS[i % 3] for i in range(n)],
            "services": "pickup",
        },
        geometry=[Point(x, y) for x, y in zip(rng.uniform(3, 3.6, n), rng.uniform(44, 44.4, n))],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def comparison():
    today = Scenario("today", _points())
    fewer = today.close(["p0", "p3", "p7", "p11"], name="fewer")
    more = today.add(_points(4, seed=11, prefix="n"), name=LONG_NAME)
    return rn.compare(_demand(), [today, fewer, more], "5km", by="area_id")


@pytest.fixture(scope="module")
def folder(comparison, tmp_path_factory):
    out = tmp_path_factory.mktemp("pages") / "cmp"
    write_comparison(out, comparison, offline=True, started=STARTED)
    return out


def _visible_text(page: str) -> str:
    """Text of a page as shown (no tags, no style, links' targets dropped)."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


MACHINE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


class TestReportPage:
    def test_headers_are_words(self, folder):
        page = (folder / "index.html").read_text(encoding="utf-8")
        headers = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", page)]
        assert headers, "no table on the page"
        assert not [h for h in headers if MACHINE.search(h)]
        for word in ("Scenario", "People", "Share covered (change)", "People losing coverage"):
            assert word in headers
        assert "Département" in headers  # the areas are département codes

    def test_no_machine_names_or_missing_values_shown(self, folder):
        text = _visible_text((folder / "index.html").read_text(encoding="utf-8"))
        text = re.sub(r"\b\w+\.(csv|json|html|parquet)\b", " ", text)  # file names
        assert not MACHINE.findall(text), sorted(set(MACHINE.findall(text)))[:10]
        for word in ("nan", "NaN", "None", "inf", "in-memory"):
            assert not re.search(rf"\b{word}\b", text), word
        assert window_label("weekday_evening") in text and "Weekday evening" in text
        assert "Any time (opening hours not checked)" in text  # the base row of the burden
        assert "La Poste" in text and "Mondial Relay" in text

    def test_one_number_format(self, folder):
        text = _visible_text((folder / "index.html").read_text(encoding="utf-8"))
        assert not re.search(r"\d,\d{3}", text), "English thousands separator on the page"
        assert " pts" not in text and "pp" in text

    def test_chart_labels_in_full(self, folder, comparison):
        page = (folder / "index.html").read_text(encoding="utf-8")
        svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
        labels = []
        for svg in svgs:
            for x, body in re.findall(
                r'<text x="([\d.]+)"[^>]*text-anchor="end"[^>]*>(.*?)</text>', svg
            ):
                lines = re.findall(r"<tspan[^>]*>(.*?)</tspan>", body) or [body]
                for line in lines:
                    assert charts.text_width(html.unescape(line)) <= float(x), line
                labels.append(" ".join(html.unescape(line) for line in lines))
        assert LONG_NAME in labels  # wrapped onto lines, nothing dropped
        for name in comparison.names:
            assert name in labels
        text = _visible_text(page)
        for window in comparison.window_names:
            assert window_label(window) in text

    def test_target_line_labelled(self, folder):
        page = (folder / "index.html").read_text(encoding="utf-8")
        chart = re.search(r'<svg [^>]*aria-label="Population covered, by scenario".*?</svg>', page)
        assert chart and "stroke-dasharray" in chart.group(0)
        assert "90 % (area target)" in chart.group(0)

    def test_inputs_in_words(self, folder):
        text = _visible_text((folder / "index.html").read_text(encoding="utf-8"))
        assert "Points of each scenario" in text and "fewer: 21 points" in text

    def test_pages_are_identical_from_run_to_run(self, comparison, folder, tmp_path):
        write_comparison(tmp_path / "again", comparison, offline=True, started=STARTED)
        again = tmp_path / "again" / "index.html"
        assert again.read_bytes() == (folder / "index.html").read_bytes()
        # the map's data and layers in the same order (folium's element ids aside)
        maps = [
            re.sub(
                r"_[0-9a-f]{32}(?![0-9a-f])", "_ID", (f / "map.html").read_text(encoding="utf-8")
            )
            for f in (folder, tmp_path / "again")
        ]
        assert maps[0] == maps[1]

    def test_page_without_map(self, comparison):
        page = render_comparison(comparison, generated=STARTED, has_map=False)
        assert "map.html" not in page and "<iframe" not in page


class TestNumbers:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (0.0, "0.00 pp"),
            (0.0212, "+2.12 pp"),
            (-0.0012, "−0.12 pp"),
            (0.0000389, "+0.004 pp"),
            (-0.00000389, "−0.0004 pp"),
            (1e-9, "< +0.0001 pp"),
            (-1e-9, "> −0.0001 pp"),
            (np.nan, "—"),
            (None, "—"),
        ],
    )
    def test_change_pp(self, value, text):
        assert change_pp(value) == text

    def test_change_pp_never_reads_as_zero(self):
        for value in np.geomspace(1e-6, 0.5, 200):
            assert change_pp(value) != "+0.00 pp" and change_pp(-value) != "−0.00 pp"

    def test_change_count(self):
        assert change_count(2593) == "+2\u202f593"
        assert change_count(-80608.4) == "−80\u202f608"
        assert change_count(0) == "0" and change_count(np.nan) == "—"
        assert change_count(-23, "t") == "−23 t"

    def test_small_share_change_on_card(self, comparison):
        kpis = comparison.kpis.copy()
        kpis.loc[1, "delta_share_covered"] = 0.0000389
        page = render_comparison(dataclasses.replace(comparison, kpis=kpis), generated=STARTED)
        assert "+0.004 pp" in page


class TestMapFile:
    def test_layers_share_one_canvas_and_carry_tooltips(self, folder, comparison):
        page = (folder / "map.html").read_text(encoding="utf-8")
        assert "L.canvas(" not in page.split("window.relaynet")[0]
        assert page.count("relaynet.canvas(pane)") >= 3
        lost = comparison.changes[
            (comparison.changes["scenario"] == "fewer") & (comparison.changes["state"] == "lost")
        ]
        assert len(lost)
        for name in lost["name"]:
            assert f"\\u003cb\\u003e{name}\\u003c/b\\u003e" in page  # its tooltip

    def test_outlines_and_names_agree_with_report(self, folder, comparison):
        page = (folder / "map.html").read_text(encoding="utf-8")
        assert "Département outlines" in page
        n_lost = int(comparison.kpis.set_index("scenario").loc["fewer", "lost_places"])
        assert re.search(rf"fewer: {n_lost} places lose coverage(,|\")", page)
        index = (folder / "index.html").read_text(encoding="utf-8")
        assert f"({n_lost} places)" in index

    def test_points_under_places(self, folder):
        page = (folder / "map.html").read_text(encoding="utf-8")
        page = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
        added = page.index(f"{LONG_NAME}: 4 points added")
        gained = page.index(f"{LONG_NAME}: 5 places gain coverage")
        assert added < gained  # the rings' layer is created (and drawn) first
        assert "bringToFront" in page  # and the places are put back on top when toggled


def test_figure_titles_inside_the_figure():
    windows = pd.DataFrame(
        {
            "window": np.repeat(["weekday_daytime", "weekday_evening"], 4),
            "group": ["urban", "intermediate", "rural", "all"] * 2,
            "share_covered": np.linspace(0.2, 1.0, 8),
        }
    )
    from relaynet.maps import labels

    fig = charts.window_density_figure(windows, labels.window_name, labels.density_name)
    fig.draw_without_rendering()
    title = fig.get_suptitle()
    assert title == "Share covered by time window and density class"
    box = fig._suptitle.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1


def test_bar_chart_groups_and_callable_format():
    svg = charts.bar_chart(
        ["today", "fewer"],
        [0.5, 0.25],
        title="t",
        value_format=lambda v: f"{v:.0%} shown",
        groups=["Weekday evening (Tue 19:00)", "Weekday evening (Tue 19:00)"],
    )
    assert svg.count("Weekday evening (Tue 19:00)") == 1  # one heading for the group
    assert "50% shown" in svg and "25% shown" in svg


# -- in a browser ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
def test_hover_shows_tooltips_of_every_layer(folder, comparison):
    """Hover a place that loses coverage and an added point in headless Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure_chromium.sh`")
    from playwright.sync_api import sync_playwright

    changes = comparison.changes
    lost = changes[(changes["scenario"] == "fewer") & (changes["state"] == "lost")]
    lost = lost.sort_values("weight", ascending=False).iloc[0]
    demand = _demand().set_index("demand_id")
    place = demand.loc[lost["demand_id"], "geometry"]
    added = _points(4, seed=11, prefix="n").geometry.iloc[0]
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route(
            "http*://**/*",
            lambda route: (outside.append(route.request.url), route.abort()),
        )
        page.goto((folder / "map.html").as_uri())
        page.wait_for_function("Object.keys(window).some(k => k.startsWith('map_'))")
        name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
        tips = {}
        for key, where in (("lost", place), ("added", added)):
            page.evaluate(
                f"void window['{name}'].setView([{where.y}, {where.x}], 13, {{animate: false}})"
            )
            page.wait_for_timeout(300)
            xy = page.evaluate(f"window['{name}'].latLngToContainerPoint([{where.y}, {where.x}])")
            box = page.locator(f"#{name}").bounding_box()
            page.mouse.move(box["x"] + xy["x"] + 40, box["y"] + xy["y"] + 40)
            page.wait_for_timeout(100)  # Leaflet drops hover events 32 ms apart
            page.mouse.move(box["x"] + xy["x"], box["y"] + xy["y"])
            page.wait_for_timeout(300)
            tips[key] = " ".join(page.locator(".leaflet-tooltip").all_inner_texts())
        browser.close()
    assert not errors, errors
    assert all("tile.openstreetmap.org" in url for url in outside), outside  # no CDN
    assert lost["name"] in tips["lost"] and "loses coverage" in tips["lost"], tips
    assert "Point added: point n0" in tips["added"], tips
