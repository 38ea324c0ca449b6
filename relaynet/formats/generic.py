"""Generic tables: any CSV or spreadsheet whose columns the user maps (Amazon Locker /
Counter style lists, a planning office's own sheet).

Nothing is assumed: columns are found under their usual spellings (``lat``/``latitude``,
``nom``, ``code_postal`` …) or mapped with ``columns={"GPS_LAT": "latitude", …}``, and
values the file lacks come from ``defaults={"network": "amazon", "kind": "locker"}``. CSV
and the geographic formats go straight to :func:`relaynet.io.load_points`; spreadsheets are
read here (python-calamine) and keep their sheet row numbers in ``rejected``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._base import table_records

NAME = "generic"


def read_table(path: Path, layer: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """A spreadsheet's sheet as a DataFrame of text cells, and its sheet row numbers."""
    records = table_records(path, layer)
    return pd.DataFrame(records.items, dtype=object), records.rows
