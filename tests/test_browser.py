"""Real-browser checks of the generated maps and report (headless Debian Chromium).

Run with ``-m browser``. Nothing is mocked: the HTML written by relaynet is served from a
local HTTP server on 127.0.0.1 and driven with Playwright. CI has no internet, so the
CDN files folium links (Leaflet, markercluster, jQuery, Bootstrap, awesome-markers, Font
Awesome) are answered from the folium-offline package (:func:`relaynet.maps.cdn_assets`)
and map tiles with an empty PNG; any other outside request is recorded and fails the test.

Chromium comes from ``scripts/ensure_chromium.sh`` (run by ``make test``); when it is
missing these tests fail with that instruction rather than skip.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from relaynet import hours
from relaynet.maps import cdn_assets, network_map, save_map

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("RELAYNET_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
WHEN = "2025-11-26 10:30"  # a Wednesday
XSS_NAMES = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
EMPTY_PNG = base64.b64decode(  # a 1×1 light grey tile
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGN48+bJfwAJQAO8SiDDAAAAAABJRU5ErkJggg=="
)
MARKER = ".leaflet-marker-pane > *"
TILE_HOSTS = ("tile.openstreetmap.org", "basemaps.cartocdn.com", "tile.opentopomap.org")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ----------------------------------------------------------------------------- fixtures


def lozere_points() -> gpd.GeoDataFrame:
    """La Poste points of Lozère (48) plus two hostile names and a second network."""
    points = gpd.read_parquet(ROOT / "data" / "laposte_points.parquet")
    sub = points[points["postcode"].astype(str).str.startswith("48")].copy()
    sub = sub.reset_index(drop=True)
    sub.loc[0, "name"] = XSS_NAMES[0]
    sub.loc[1, "name"] = XSS_NAMES[1]
    sub.loc[1, "address"] = '<b onmouseover="alert(2)">x</b>'
    extra = sub.iloc[2:14].copy()
    extra["point_id"] = "MR" + extra["point_id"].astype(str)
    extra["network"] = "mondial_relay"
    extra["kind"] = "locker"
    extra["name"] = "Locker " + extra["name"].astype(str)
    extra["geometry"] = extra.geometry.translate(0.01, 0.01)
    return gpd.GeoDataFrame(pd.concat([sub, extra], ignore_index=True), crs=sub.crs)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def serve():
    """Serve folders over HTTP on 127.0.0.1; yields ``serve(folder) -> base URL``."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/ensure_chromium.sh` (make test does)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[test]'", pytrace=False)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser page with CDN routing and every error, dialog and stray request recorded."""

    def __init__(self, browser) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc} {exc.stack}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.context.route("**/*", self._route)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        host = urlparse(url).hostname or ""
        assets = cdn_assets()
        if host == "127.0.0.1" or url.startswith("data:"):
            route.continue_()
        elif url in assets:
            kind = "text/css" if url.endswith(".css") else "application/javascript"
            route.fulfill(status=200, body=assets[url], content_type=kind)
        elif host.endswith(TILE_HOSTS):
            route.fulfill(status=200, body=EMPTY_PNG, content_type="image/png")
        else:
            self.outside.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.outside == [], f"unexpected outside requests: {self.outside}"


@pytest.fixture
def page(browser):
    wrapper = Page(browser)
    yield wrapper
    wrapper.close()


@pytest.fixture(scope="module")
def map_site(tmp_path_factory, serve):
    points = lozere_points()
    folder = tmp_path_factory.mktemp("map")
    save_map(network_map(points, when=WHEN), folder / "map.html")
    save_map(network_map(points, when=WHEN), folder / "offline.html", offline=True)
    return points, serve(folder)


# ----------------------------------------------------------------------------- helpers

FIND_MAP = """() => Object.keys(window).map(k => window[k])
    .find(v => v && window.L && v instanceof L.Map)"""

LAYER_COUNTS = (
    "() => { const m = ("
    + FIND_MAP
    + """)(); const out = {};
    m.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) {
        const first = l.getLayers()[0];
        out[first.options.relaynetId.startsWith('MR') ? 'mondial_relay' : 'la_poste']
            = l.getLayers().length; } });
    return out; }"""
)

VISIBLE_MARKERS = """() => {
    let n = 0;
    document.querySelectorAll('.leaflet-marker-pane .marker-cluster').forEach(
        c => { n += parseInt(c.textContent, 10); });
    n += document.querySelectorAll(
        '.leaflet-marker-pane > :not(.marker-cluster)').length;
    return n; }"""

SHOW_MARKER = (
    "(id) => new Promise(resolve => { const m = ("
    + FIND_MAP
    + """)(); let done = false;
    m.eachLayer(l => { if (!done && l instanceof L.MarkerClusterGroup) {
        const hit = l.getLayers().find(x => x.options.relaynetId === id);
        if (hit) { done = true; l.zoomToShowLayer(hit, () => resolve(true)); } } });
    if (!done) resolve(false); })"""
)


def open_popup(page, point_id: str, name: str) -> str:
    """Zoom to a marker, click it like a user, return the popup's text."""
    assert page.evaluate(SHOW_MARKER, point_id), f"marker {point_id} not on the map"
    page.wait_for_timeout(400)  # let the zoom animation settle
    marker = page.locator(f'.leaflet-marker-pane > [title="{_css_string(name)}"]')
    marker.first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5000)
    return popup.inner_text()


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def expected_week(points: gpd.GeoDataFrame, i: int) -> list[str]:
    monday = pd.Timestamp(hours.week_start_of(pd.Timestamp(WHEN)))
    row = points.iloc[[i]]
    return [
        str(hours.hours_on(row, monday + pd.Timedelta(days=k)).iloc[0])
        .replace("-", "\u2013")
        .replace(",", ", ")
        for k in range(7)
    ]


# ----------------------------------------------------------------------------- tests


class TestNetworkMap:
    @pytest.mark.parametrize("file", ["map.html", "offline.html"])
    def test_loads_clean_with_all_markers(self, page, map_site, file):
        points, base = map_site
        page.page.goto(f"{base}/{file}")
        page.page.wait_for_selector(MARKER)
        counts = page.page.evaluate(LAYER_COUNTS)
        assert counts == points["network"].value_counts().to_dict()
        # every point is inside the fitted view: cluster numbers + single markers = all
        assert page.page.evaluate(VISIBLE_MARKERS) == len(points)
        page.check_clean()

    def test_popup_shows_hours_and_status(self, page, map_site):
        points, base = map_site
        page.page.goto(f"{base}/map.html")
        page.page.wait_for_selector(MARKER)
        known = hours.Schedules(points).known
        i = int(np.flatnonzero(known & points["network"].eq("la_poste").to_numpy())[5])
        row = points.iloc[i]
        text = open_popup(page.page, row["point_id"], row["name"])
        assert row["name"] in text and row["point_id"] in text
        for day, expected in zip(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), expected_week(points, i), strict=True
        ):
            assert any(
                line.startswith(day) and line.endswith(expected) for line in text.splitlines()
            ), (day, expected, text)
        is_open = bool(hours.is_open(points.iloc[[i]], WHEN)[0])
        assert ("Open at" if is_open else "Closed at") in text
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.wait_for_timeout(300)  # popup fade-in
        page.page.screenshot(path=str(ARTIFACTS / "network_map_popup.png"))
        page.check_clean()

    def test_hostile_names_render_as_text(self, page, map_site):
        points, base = map_site
        page.page.goto(f"{base}/map.html")
        page.page.wait_for_selector(MARKER)
        for i, name in enumerate(XSS_NAMES):
            text = open_popup(page.page, points.loc[i, "point_id"], name)
            assert name in text
            content = page.page.locator(".leaflet-popup-content")
            assert content.locator("img, script, b").count() == 0
            page.page.locator(".leaflet-popup-close-button").click()
        assert '<b onmouseover="alert(2)">x</b>' in text
        page.page.mouse.move(600, 450)
        page.check_clean()

    def test_layer_control_hides_a_network(self, page, map_site):
        points, base = map_site
        page.page.goto(f"{base}/map.html")
        page.page.wait_for_selector(MARKER)
        n_relay = int(points["network"].eq("mondial_relay").sum())
        control = page.page.locator(".leaflet-control-layers-overlays label", has_text="Mondial")
        checkbox = control.locator("input")
        assert checkbox.is_checked()
        checkbox.uncheck()
        page.page.wait_for_timeout(300)
        assert page.page.evaluate(VISIBLE_MARKERS) == len(points) - n_relay
        checkbox.check()
        page.page.wait_for_timeout(300)
        assert page.page.evaluate(VISIBLE_MARKERS) == len(points)
        page.check_clean()


class TestReport:
    def test_report_page_and_embedded_map(self, page, serve, tmp_path_factory):
        from relaynet.report import write_report

        folder = tmp_path_factory.mktemp("report")
        points = lozere_points()
        demand = gpd.read_parquet(ROOT / "data" / "communes_demand.parquet")
        demand = demand[demand["area_id"] == "48"].copy()
        demand.iloc[0, demand.columns.get_loc("name")] = XSS_NAMES[1]
        result = write_report(
            folder / "out",
            points=points,
            demand=demand,
            standard="5km",
            threshold=0.99,
            when=WHEN,
            windows=False,
        )
        base = serve(folder / "out")
        page.page.goto(f"{base}/index.html")
        assert page.page.locator("svg.chart").count() >= 2
        share = result.assessment.share_covered
        assert f"{100 * share:.1f} %" in page.page.locator("#kpis").inner_text()
        frame = page.page.frame_locator("iframe.map")
        frame.locator(MARKER).first.wait_for(timeout=15000)
        uncovered = frame.locator(".leaflet-control-layers-overlays label", has_text="Uncovered")
        assert uncovered.count() == 1
        page.page.locator("iframe.map").scroll_into_view_if_needed()
        page.page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        page.check_clean()
