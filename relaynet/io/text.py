"""Text for messages: one printable line. Imports nothing heavy, so the command line can use
it at start-up."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: object, limit: int = 300) -> str:
    """``text`` as one printable line for an error message: control characters and line
    breaks become single spaces, runs of spaces collapse, and more than ``limit``
    characters are cut with ``"…"``.

    Library messages (pyarrow, GDAL, zlib, libosmium) can span lines or carry control bytes
    copied from the file; every :class:`~relaynet.errors.InputError` about reading a file
    passes them through this function.
    """
    line = " ".join(_UNPRINTABLE.sub(" ", str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
