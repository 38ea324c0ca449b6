"""On-disk cache of what relaynet derives from an input file, kept between runs.

The command line answers a one-place query (``relaynet nearest --at Mende``) in a fresh
process; without a cache every run re-reads and re-validates the points, re-evaluates
the opening hours of every distinct string for the filter and rebuilds the commune
lookup. This module keeps those results in files keyed by the *content* of the input:

* the key is a BLAKE2b hash of the input files' bytes, the options that change what is
  read from them, relaynet's version and :data:`FORMAT` — editing the input, upgrading
  relaynet or changing the cache layout gives a new key, so a stale entry is never read
  (old entries are pruned, oldest first, beyond :data:`MAX_ENTRIES`);
* entries are files relaynet wrote itself: NumPy ``.npz`` read with
  ``allow_pickle=False`` and GeoParquet (WKB geometries); nothing is ever unpickled;
* writes are atomic (:func:`relaynet.io.atomic_path`); a missing, corrupt or unwritable
  cache never fails a run: the value is computed as without a cache and the problem is
  logged once (``relaynet -v`` shows it).

Location: ``$RELAYNET_CACHE_DIR`` if set, else the platform's user cache folder
(``$XDG_CACHE_HOME/relaynet`` or ``~/.cache/relaynet`` on Linux, ``~/Library/Caches/
relaynet`` on macOS, ``%LOCALAPPDATA%\\relaynet\\Cache`` on Windows).
``RELAYNET_CACHE=off`` disables it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1
"""Layout version of the cache files; part of every key."""

MAX_ENTRIES = 256
"""Files kept in the cache folder; the least recently written beyond this are removed."""

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """Folder of the cache: ``$RELAYNET_CACHE_DIR``, else the user cache folder."""
    given = os.environ.get("RELAYNET_CACHE_DIR")
    if given:
        return Path(given).expanduser()
    if sys.platform == "win32":  # pragma: no cover - not the CI platform
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "relaynet" / "Cache"
    if sys.platform == "darwin":  # pragma: no cover - not the CI platform
        return Path.home() / "Library" / "Caches" / "relaynet"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "relaynet"


def enabled() -> bool:
    """False when ``RELAYNET_CACHE`` is ``off`` (or ``0``, ``no``, ``false``)."""
    return os.environ.get("RELAYNET_CACHE", "").strip().lower() not in ("off", "0", "no", "false")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relaynet")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path]


def content_key(paths: Iterable[str | os.PathLike], *parts: object) -> str:
    """Key of an input: hash of the files' bytes (folders: every file below, by relative
    name), of ``parts`` (options, as JSON), of relaynet's version and of :data:`FORMAT`."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(json.dumps([FORMAT, _version(), *parts], default=str).encode())
    for given in paths:
        root = Path(given)
        for file in _files(root):
            name = file.relative_to(root).as_posix() if root.is_dir() else ""
            digest.update(f"\x00{name}\x00{file.stat().st_size}\x00".encode())
            with open(file, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()


def derived_key(key: str, *parts: object) -> str:
    """Key of something computed from the input of ``key`` and ``parts`` (JSON)."""
    text = json.dumps([key, *parts], default=str, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def array_digest(values: np.ndarray) -> str:
    """Hash of an array's dtype, shape and bytes (for keys that depend on data in memory)."""
    values = np.ascontiguousarray(values)
    digest = hashlib.blake2b(f"{values.dtype.str}{values.shape}".encode(), digest_size=20)
    digest.update(values.tobytes())
    return digest.hexdigest()


def _path(key: str, suffix: str) -> Path:
    return cache_dir() / f"{key}{suffix}"


def read_arrays(key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or None (missing, unreadable or disabled)."""
    if not enabled():
        return None
    path = _path(key, ".npz")
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception as exc:  # noqa: BLE001 - a broken cache file must never fail a run
        log.info("cache: ignoring unreadable %s (%s)", path, type(exc).__name__)
        return None


def write_arrays(key: str, **arrays: np.ndarray) -> None:
    """Store ``arrays`` under ``key`` (atomic; failures are logged, never raised)."""
    _write(key, ".npz", lambda tmp: _savez(tmp, arrays))


def _savez(tmp: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)


def read_frame(key: str, *, geo: bool = True):
    """The (Geo)DataFrame stored under ``key`` (GeoParquet; Parquet if not ``geo``), or
    None."""
    if not enabled():
        return None
    path = _path(key, ".parquet")
    if not path.is_file():
        return None
    try:
        if not geo:
            import pandas as pd

            return pd.read_parquet(path)
        import geopandas as gpd

        return gpd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - a broken cache file must never fail a run
        log.info("cache: ignoring unreadable %s (%s)", path, type(exc).__name__)
        return None


def write_frame(key: str, frame) -> None:
    """Store a (Geo)DataFrame under ``key`` as (Geo)Parquet (atomic; failures logged)."""
    _write(key, ".parquet", lambda tmp: frame.to_parquet(tmp, index=False))


def _write(key: str, suffix: str, save: Callable[[Path], None]) -> None:
    if not enabled():
        return
    from .io.write import atomic_path

    path = _path(key, suffix)
    try:
        with atomic_path(path) as tmp:
            save(tmp)
        _prune(path.parent)
    except Exception as exc:  # noqa: BLE001 - an unwritable cache must never fail a run
        log.info("cache: not written to %s (%s: %s)", path, type(exc).__name__, exc)


def _prune(folder: Path) -> None:
    entries = [p for p in folder.iterdir() if p.suffix in (".npz", ".parquet")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for stale in entries[: len(entries) - MAX_ENTRIES]:
        stale.unlink(missing_ok=True)


def cached_arrays(key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict:
    """The arrays under ``key``, computed by ``compute()`` and stored when missing."""
    found = read_arrays(key)
    if found is not None:
        return found
    arrays = compute()
    write_arrays(key, **arrays)
    return arrays


def points_key(paths: Iterable[str | os.PathLike], *options: object) -> str:
    """Key of a points input: its files' content and the options it is read with."""
    return content_key(paths, "points", *options)


def cached_points(key: str, load: Callable):
    """``(points, n_rejected)``: the accepted points of the input of ``key`` and how many
    rows were rejected, from the cache or from ``load()`` (``(accepted, rejected)``, then
    stored)."""
    meta_key = derived_key(key, "points meta")
    meta = read_arrays(meta_key)
    found = read_frame(key) if meta is not None else None
    if found is not None and {"n_rejected", "object_columns"} <= set(meta):
        for column in meta["object_columns"].tolist():  # Parquet reads text back as "str"
            if column in found.columns:
                values = found[column].astype(object)
                found[column] = values.where(values.notna(), None)
        return found, int(meta["n_rejected"])
    points, rejected = load()
    write_frame(key, points)
    text = [str(c) for c in points.columns if points[c].dtype == object]
    write_arrays(meta_key, n_rejected=np.asarray(len(rejected)), object_columns=np.array(text))
    return points, len(rejected)


def eligibility_key(where) -> list:
    """A :class:`~relaynet.eligibility.Eligibility` as JSON-ready values (sets sorted), with
    what else its mask depends on: today's date (past dated rules are dropped by date) and
    the opening-hours parser's version (its grammar and public holidays)."""
    import dataclasses
    import datetime as dt
    from importlib.metadata import PackageNotFoundError, version

    try:
        parser = version("opening-hours-py")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        parser = "?"
    values = []
    for field in dataclasses.fields(where):
        value = getattr(where, field.name)
        if isinstance(value, (set, frozenset)):
            value = sorted(map(str, value))
        values.append([field.name, value])
    return ["eligibility", values, dt.date.today().isoformat(), parser]


def cached_mask(key: str, where, points) -> np.ndarray:
    """``where.mask(points)`` for the points of ``key`` (any filter; kept per filter)."""
    mask_key = derived_key(key, *eligibility_key(where))
    found = read_arrays(mask_key)
    n = len(points)
    if found is not None and "bits" in found and found.get("n", np.asarray(-1)) == n:
        return np.unpackbits(found["bits"], count=n).astype(bool)
    mask = np.asarray(where.mask(points), dtype=bool)
    write_arrays(mask_key, bits=np.packbits(mask), n=np.asarray(n))
    return mask


__all__ = [
    "FORMAT",
    "MAX_ENTRIES",
    "array_digest",
    "cache_dir",
    "cached_arrays",
    "cached_mask",
    "cached_points",
    "content_key",
    "derived_key",
    "eligibility_key",
    "enabled",
    "points_key",
    "read_arrays",
    "read_frame",
    "write_arrays",
    "write_frame",
]
