"""Output folders written all at once: built in a temporary folder, swapped into place.

A reader (a person, a web server, the next batch step) sees either the previous complete
folder or the new complete one, never a half-written one and never none, even if the
process is killed at any moment:

* the new folder is built next to the target (same filesystem), named
  ``.NAME.PID.RANDOM.tmp``;
* on Linux it replaces an existing target with one ``renameat2(RENAME_EXCHANGE)`` call —
  an atomic swap — and the old content, now in the temporary name, is deleted afterwards;
  where the kernel or filesystem cannot exchange, the old folder is renamed aside first
  (a kill between the two renames then leaves the previous report in ``.NAME.PID.*.old``,
  and the next run puts it back before anything else);
* leftovers of killed runs (their process is gone) are removed at the start of the next
  run on the same target.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError, ParameterError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.lru_cache(maxsize=1)
def _renameat2():
    """libc's ``renameat2`` (glibc ≥ 2.28), or ``None`` where there is none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    func = getattr(libc, "renameat2", None)
    if func is None:
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; ``False`` when the OS cannot (then nothing moved)."""
    func = _renameat2()
    if func is None:
        return False
    if func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove the temporary folders that killed runs left next to ``target``.

    A folder ``.NAME.PID.*.old`` holds a previous complete report that was renamed aside;
    when ``target`` is missing it is put back, not deleted. Folders of live processes are
    left alone. Returns the paths removed or restored.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.[0-9a-z_]+\.(tmp|old)$")
    done = []
    if not target.parent.is_dir():
        return done
    for entry in sorted(target.parent.iterdir()):
        match = pattern.match(entry.name)
        if not match or _pid_alive(int(match.group(1))):
            continue
        if match.group(2) == "old" and not target.exists():
            os.rename(entry, target)
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        done.append(entry)
    return done


def check_writable(target: str | os.PathLike) -> Path:
    """Fail early, before any work, when an output folder cannot be written.

    Creates ``target``'s parent when needed and writes (then removes) a probe file in it.

    Raises
    ------
    OutputError
        One line naming the folder and the operating system's reason.
    ParameterError
        When ``target`` exists and is not a folder.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ParameterError(f"--out {target}: exists and is not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write the output folder ({exc.strerror})") from None
    return target


@contextmanager
def report_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``target``; on success it becomes ``target``.

    If the block raises — or the process is killed — ``target`` keeps its previous content
    (or stays absent), and the temporary folder is removed now or by the next run.

    Raises
    ------
    ParameterError
        When ``target`` exists and is not a folder.
    OutputError
        When the folder cannot be written (read-only, disk full …).
    """
    target = check_writable(target)
    clean_stale(target)
    stem = f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp = target.parent / f"{stem}.tmp"
    try:
        tmp.mkdir()
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _swap_into_place(tmp, target, target.parent / f"{stem}.old")
    except OSError as exc:
        where = exc.filename or target
        raise OutputError(f"{where}: cannot write the output ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_into_place(new: Path, target: Path, aside: Path) -> None:
    if not target.exists():
        os.rename(new, target)
        return
    if exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous content
        return
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)  # put the previous report back
        raise
    shutil.rmtree(aside, ignore_errors=True)
