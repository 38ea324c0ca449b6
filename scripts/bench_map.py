"""Benchmark: the national coverage map — HTML size, build time, and in headless Chromium
the time to ``load``, the JS heap and the time of a pan with every layer on.

Usage::

    .venv/bin/python scripts/bench_map.py                    # the demo's map (offline)
    .venv/bin/python scripts/bench_map.py --compare OLD.html # the same figures for an old map
    .venv/bin/python scripts/bench_map.py --runs 5 --keep out/bench_map

Builds the map of ``relaynet demo`` (bundled La Poste points × French communes, 5 km, MCLP
p = 20, offline assets inlined), writes it, then opens it ``--runs`` times in
``/usr/bin/chromium`` (Playwright; outside requests — map tiles — are answered with an empty
response so the network does not count) and prints the median of each figure. Figures
depend on the machine's load: the script prints the load average beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

CHROMIUM = os.environ.get("RELAYNET_CHROMIUM", "/usr/bin/chromium")
WHEN = "2025-11-26 10:30"

SHOW_ALL = """() => {
    const m = Object.keys(window).map(k => window[k]).find(v => v && v instanceof L.Map);
    document.querySelectorAll('.leaflet-control-layers-overlays input').forEach(input => {
        if (!input.checked) { input.click(); }
    });
    return !!m;
}"""

PAN = """() => new Promise(resolve => {
    const m = Object.keys(window).map(k => window[k]).find(v => v && v instanceof L.Map);
    const t0 = performance.now();
    let frames = 0, worst = 0, last = t0;
    const tick = now => { worst = Math.max(worst, now - last); last = now; frames++;
        if (now - t0 < 1500) { requestAnimationFrame(tick); } };
    requestAnimationFrame(tick);
    m.panBy([300, 150], {animate: true, duration: 0.5});
    m.once('moveend', () => { const t1 = performance.now();
        m.panBy([-300, -150], {animate: false});
        setTimeout(() => resolve({pan_ms: t1 - t0, worst_frame_ms: worst, frames: frames}), 1600);
    });
})"""


def build(out: Path) -> dict:
    """Run the demo pipeline, build and save the map; sizes and seconds."""
    from relaynet.maps import coverage_map, save_map
    from relaynet.report.pipeline import run_coverage

    clock = time.perf_counter()
    run = run_coverage(None, None, "5km", bundled=True, optimize="mclp", p=20, windows=False)
    pipeline_s = time.perf_counter() - clock
    clock = time.perf_counter()
    m = coverage_map(
        run.assessment, points=run.points, gaps=run.gaps, solution=run.solution, when=WHEN
    )
    build_s = time.perf_counter() - clock
    clock = time.perf_counter()
    save_map(m, out, offline=True)
    write_s = time.perf_counter() - clock
    return {
        "places": len(run.assessment.access),
        "points": len(run.points),
        "gap zones": len(run.gaps),
        "pipeline_s": pipeline_s,
        "map build_s": build_s,
        "render+write_s": write_s,
    }


def measure(path: Path, runs: int) -> dict:
    """Median load time, heap and pan figures of ``runs`` fresh page loads."""
    from playwright.sync_api import sync_playwright

    figures: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route(
                "**/*",
                lambda r: (
                    r.fulfill(status=204) if r.request.url.startswith("http") else r.continue_()
                ),
            )
            clock = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=180_000)
            wall = time.perf_counter() - clock
            nav = page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0];"
                " return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()"
            )
            page.wait_for_timeout(1500)  # clustering finishes in chunks after load
            heap = page.evaluate("performance.memory.usedJSHeapSize") / 1e6
            page.evaluate(SHOW_ALL)
            page.wait_for_timeout(1000)
            pan = page.evaluate(PAN)
            heap_all = page.evaluate("performance.memory.usedJSHeapSize") / 1e6
            for key, value in (
                ("DOMContentLoaded_s", nav[0] / 1000),
                ("load_s", nav[1] / 1000),
                ("load_wall_s", wall),
                ("heap_MB", heap),
                ("heap_all_layers_MB", heap_all),
                ("pan_all_layers_ms", pan["pan_ms"]),
                ("worst_frame_all_layers_ms", pan["worst_frame_ms"]),
            ):
                figures.setdefault(key, []).append(value)
            page.close()
        browser.close()
    return {key: statistics.median(values) for key, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="page loads per map (median)")
    parser.add_argument("--compare", type=Path, help="an older map.html to measure as well")
    parser.add_argument("--keep", type=Path, help="folder to keep the map in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_map."))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "map.html"
    built = build(path)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for key, value in built.items():
        print(f"{key:28s} {value:,.2f}" if isinstance(value, float) else f"{key:28s} {value:,}")
    maps = [("this map", path)] + ([("--compare", args.compare)] if args.compare else [])
    results = {}
    for label, file in maps:
        size = file.stat().st_size / 1e6
        figures = measure(file, args.runs)
        results[label] = {"html_MB": size, **figures}
        print(f"\n{label}: {file}")
        for key, value in results[label].items():
            print(f"  {key:28s} {value:8.2f}")
    if args.compare:
        print("\nratio (compare / this map)")
        for key in results["this map"]:
            new, old = results["this map"][key], results["--compare"][key]
            print(f"  {key:28s} {old / new if new else float('nan'):8.1f}×")


if __name__ == "__main__":
    main()
