"""Records on disk that are always complete or absent: atomic writes, JSON/CSV helpers, file locks.

``run_lock(folder)`` makes a run folder (and an experiment's folder, for the whole
command) owned by one process at a time: a second command on the same runs fails
at once with one line (``RunInUse``).

    python -m paddle_mnist train mlp --quick     # writes runs/ and reports/results/ through here
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import tempfile
from pathlib import Path

from paddle_mnist.errors import PaddleMnistError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in the same folder, fsync it, then rename over ``path``.

    A folder, device node or FIFO at ``path`` is refused (one line), never replaced; a failed
    write (a full or read-only disk) removes the temporary file and leaves ``path`` as it was.
    """
    path = Path(path)
    check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_output_path(path: str | Path) -> None:
    """An output path must be empty of anything but a regular file (a folder or a device is a ``PaddleMnistError``)."""
    path = Path(path)
    if str(path) in ("", "."):
        raise PaddleMnistError("empty output path; name a file")
    if path.exists() and not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file (a device, FIFO or socket)"
        raise PaddleMnistError(f"{path}: is {what}; name a file to write")


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=True) + "\n")


def read_json(path: str | Path):
    """Read a JSON record; a corrupted or truncated file is a clear error naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PaddleMnistError(f"{path}: corrupted JSON ({exc})") from None


def write_csv(path: str | Path, columns: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    atomic_write_text(path, buf.getvalue())


class RunInUse(PaddleMnistError):
    """A run folder another process holds."""


RUN_LOCK = ".lock"
_HELD: dict[str, int] = {}  # run folders this process holds (the lock is re-entrant within a process)


@contextlib.contextmanager
def run_lock(folder: str | Path):
    """Hold ``folder/.lock`` exclusively (without waiting) while the block runs; ``RunInUse`` if another process does.

    In a data-parallel run (``train --nproc``) process 0 holds the locks; the other processes share its folders.
    """
    from paddle_mnist.engine.distributed import is_main

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not is_main():
        yield
        return
    key = str(folder.resolve())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    fh = open(folder / RUN_LOCK, "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        owner = fh.read().strip() or "?"
        fh.close()
        raise RunInUse(f"{folder}: in use by another command (pid {owner}); wait for it to finish "
                       "or use another --runs-dir") from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
    except OSError:
        pass
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


@contextlib.contextmanager
def file_lock(path: str | Path):
    """An exclusive advisory lock on ``path + '.lock'`` (serialises writers across processes)."""
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
