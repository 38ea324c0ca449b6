"""The analyst notebooks run top to bottom on the bundled data, and are committed clean.

Each notebook is executed with nbclient in a fresh ``python3`` kernel — the interpreter
running the tests (checked) — with ``notebooks/`` as working directory. Any cell error
fails the test with the cell's source and traceback. Select with ``-m notebooks``.
"""

from __future__ import annotations

import ast
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nbclient.exceptions import CellExecutionError  # noqa: E402

pytestmark = pytest.mark.notebooks

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["01_find_points", "02_rural_gaps", "03_new_sites", "04_drive_times", "05_scenarios"]
OFFLINE_WITH_FIGURES = NAMES
"""Notebooks checked for offline maps and at least one figure (issue 15): all of them."""
BUDGET_S = 30.0
"""Each notebook runs top to bottom in at most this many seconds here. The README promises
≤ 10 s on an idle machine (issue 15); the test leaves room for a shared one and prints
the time it measured."""
CELL_TIMEOUT_S = 300
PROBE = "import sys\nprint(repr(sys.prefix))"

_runs: dict[str, tuple[nbformat.NotebookNode, float]] = {}


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed (stdout, text/plain and text/html)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
            parts.append(out.data.get("text/html", ""))
    return "".join(parts)


def _execute(name: str) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook once per session (a probe cell first reports the kernel's prefix)."""
    if name not in _runs:
        nb = _read(name)
        nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
        client = nbclient.NotebookClient(
            nb,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as error:
            pytest.fail(f"{name}.ipynb: a cell failed\n{error}", pytrace=False)
        _runs[name] = (nb, time.perf_counter() - start)
    return _runs[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name):
    nb, elapsed = _execute(name)
    probe, *cells = nb.cells
    # the kernel is the interpreter running the tests (the venv's python)
    assert _text(probe).strip() == repr(sys.prefix)
    errors = [o for c in cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    code = [c for c in cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    # every notebook shows at least one folium map (rendered to Leaflet HTML), offline:
    # Leaflet inlined, so it works in a Jupyter without internet
    maps = [c for c in code if "leaflet" in _text(c).lower() and "folium" in _text(c).lower()]
    assert maps
    print(f"{name}.ipynb ran in {elapsed:.1f} s")
    assert elapsed <= BUDGET_S, f"{name}.ipynb took {elapsed:.1f} s (budget {BUDGET_S:g} s)"
    if name not in OFFLINE_WITH_FIGURES:
        return
    assert all("https://cdn.jsdelivr.net/npm/leaflet@" not in _text(c) for c in maps)
    # and at least one figure (inline SVG) with a title that says what it shows
    figures = [
        o.data["image/svg+xml"]
        for c in code
        for o in c.get("outputs", [])
        if "data" in o and "image/svg+xml" in o.data
    ]
    assert figures and all("aria-label=" in svg for svg in figures)


@pytest.mark.slow
def test_notebook_claims_hold():
    """What the prose says the numbers show, checked on the executed outputs."""
    outputs = {name: "\n".join(_text(c) for c in _execute(name)[0].cells) for name in NAMES}
    # 01: the question is the one the prose asks (date pinned to the reference week)
    assert "open throughout Sat 2024-06-15 18:00–19:00; offers returns" in outputs["01_find_points"]
    # 02: "with every point counted at any hour, every département passes"
    passing = re.search(r"(\d+) of (\d+) départements pass", outputs["02_rural_gaps"])
    assert passing and passing[1] == passing[2]
    # 03: after opening the LSCP offices on Saturday, no département fails
    after = re.search(r"after: [\d.]+%, (\d+) failing", outputs["03_new_sites"])
    assert after and after[1] == "0"
    # 04: the road and the estimate disagree somewhere (the point of the notebook)
    change = re.search(r"(\d+) of (\d+) places change side", outputs["04_drive_times"])
    assert change and 0 < int(change[1]) < int(change[2])


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code), (
        f"{name}.ipynb has outputs: run scripts/strip_notebooks.py"
    )
    # one story with prose: a title first, and text between the steps
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_notebook_uses_public_api(name):
    """``import relaynet as rn`` and documented subpackages only: nothing private."""
    source = "\n".join(c.source for c in _read(name).cells if c.cell_type == "code")
    tree = ast.parse(source)
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append(node.module or "")
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
    assert "relaynet" in modules
    private = [m for m in modules if m.startswith("relaynet") and "._" in m]
    assert private == []
    attributes = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "rn"
    ]
    assert attributes and not [a for a in attributes if a.startswith("_")]
