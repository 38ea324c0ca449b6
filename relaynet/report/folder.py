"""Report folders written all at once: built in a temporary folder, renamed into place."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ParameterError


@contextmanager
def report_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``target``; on success it becomes ``target``.

    The temporary folder lives in ``target``'s parent (same filesystem, so the final
    rename is atomic). If the block raises — or the process is interrupted — the temporary
    folder is removed and an existing ``target`` is left untouched, so a reader never sees
    a half-written report. An existing ``target`` folder is replaced by renaming it aside
    first, then renaming the new folder in, then deleting the old one.

    Raises
    ------
    ParameterError
        When ``target`` exists and is not a folder.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ParameterError(f"--out {target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _swap_into_place(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_into_place(new: Path, target: Path) -> None:
    if not target.exists():
        os.rename(new, target)
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)  # put the previous report back
        raise
    shutil.rmtree(old, ignore_errors=True)
