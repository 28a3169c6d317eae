"""Records on disk that are always complete or absent: atomic writes, JSON/CSV helpers, file locks.

``run_lock(folder)`` makes a run folder (and an experiment's folder, for the whole
command) owned by one process at a time: a second command on the same runs fails
at once with one line (``RunInUse``).

Links are never followed out of the program's own folders: ``own_folder(folder, root)``
refuses (``LinkRefused``, one line) a folder below ``root`` that is a link or leads out of
its parent before making or using it, and lock files are opened with ``O_NOFOLLOW``
(``O_EXCL`` when new): a lock that is a link, a hard link or not a plain file is refused
and the file it points at is never opened.

Nothing the program did not write is deleted: a fresh start clears a run folder of the names a
run writes (``RUN_FILES`` and their temporary files, plain files only) and refuses a folder that
holds anything else (``clear_run``); a VisualDL folder loses only its ``vdlrecords.*`` files.

    python -m paddle_mnist train mlp --quick     # writes runs/ and reports/results/ through here
"""
from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import os
import stat
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


class LinkRefused(PaddleMnistError):
    """A path the program owns (a run folder, a lock file) that is a link or leads out of its folder."""


RUN_LOCK = ".lock"
_HELD: dict[str, int] = {}  # run folders this process holds (the lock is re-entrant within a process)


def own_folder(folder: str | Path, root: str | Path | None = None, make: bool = True) -> Path:
    """Make ``folder`` (and every folder from ``root`` down to it), refusing any that is a link or not a folder.

    ``root`` (the ``--runs-dir`` the user named) may itself be a link; everything the program makes below
    it may not. Without ``root`` (or outside it) only ``folder`` itself is checked. Nothing is made before the
    check; ``make=False`` only checks.
    """
    folder = Path(folder)
    try:
        below = folder.relative_to(root) if root is not None else Path(folder.name)
    except ValueError:
        below = Path(folder.name)
    path = folder.parents[len(below.parts) - 1] if below.parts else folder  # root itself: the user's choice
    for part in below.parts:
        path = path / part
        _check_own(path)
    if make:
        folder.mkdir(parents=True, exist_ok=True)
        if below.parts:
            _check_own(folder)  # made by someone else between the check and now: check again
    return folder


def _check_own(path: Path) -> None:
    if path.name in ("", ".", ".."):
        raise LinkRefused(f"{path}: not a plain folder name")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise LinkRefused(f"{path}: is a link; the program never follows a link out of its own folders "
                          "(remove the link or choose another --runs-dir)")
    if not stat.S_ISDIR(st.st_mode):
        raise LinkRefused(f"{path}: is not a folder; remove it or choose another --runs-dir")


def _open_lock(path: Path) -> int:
    """A lock file opened without following links: made with ``O_EXCL`` when new; a link, a hard link or
    anything but a plain file is ``LinkRefused`` (and never written)."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise LinkRefused(f"{path}: the lock file is a link; the program never writes through a link "
                                  "(remove it and rerun)") from None
            raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        what = "a hard link to another file" if stat.S_ISREG(st.st_mode) else "not a plain file"
        raise LinkRefused(f"{path}: the lock file is {what}; remove it and rerun")
    return fd


@contextlib.contextmanager
def run_lock(folder: str | Path, *, held_elsewhere: bool = False):
    """Hold ``folder/.lock`` exclusively (without waiting) while the block runs; ``RunInUse`` if another process does.

    ``held_elsewhere=True``: another process holds the lock for this one (in a data-parallel run, ``train --nproc``,
    process 0 holds the locks and the other processes share its folders); the folder is checked, not locked.
    A ``folder`` (or ``.lock``) that is a link is ``LinkRefused`` before anything is made or written.
    """
    folder = own_folder(folder)
    if held_elsewhere:
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
    fd = _open_lock(folder / RUN_LOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise RunInUse(f"{folder}: in use by another command (pid {owner}); wait for it to finish "
                       "or use another --runs-dir") from None
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: str | Path):
    """An exclusive advisory lock on ``path + '.lock'`` (serialises writers across processes; never through a link)."""
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_lock(lock_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


RUN_FILES = ("config.json", "summary.json", "metrics.csv", "best.pdparams", "checkpoint.pdckpt", "error.txt",
             "record.json", RUN_LOCK)  # what a run writes in its folder: all that clearing it ever deletes


def _run_file(name: str) -> bool:
    """A name a run writes: one of ``RUN_FILES`` or the temporary file of one (``.NAME.XXXX.tmp``)."""
    return name in RUN_FILES or (name.endswith(".tmp") and any(name.startswith(f".{f}.") for f in RUN_FILES))


def _foreign(run_dir: Path) -> list[str]:
    """What in ``run_dir`` a run did not write: other names, links, folders (sorted)."""
    out = []
    for child in run_dir.iterdir():
        try:
            plain = stat.S_ISREG(os.lstat(child).st_mode)
        except FileNotFoundError:  # a temporary file renamed meanwhile
            continue
        if not plain or not _run_file(child.name):
            out.append(child.name)
    return sorted(out)


def check_clearable(run_dir: Path) -> None:
    """``LinkRefused`` naming what in ``run_dir`` no run wrote (so a fresh start would not clear it)."""
    foreign = _foreign(run_dir)
    if foreign:
        shown_names = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise LinkRefused(f"{run_dir}: holds {shown_names}, which no run wrote; a fresh start clears only a run's "
                          "own files: move them away, or choose another --runs-dir")


def clear_run(run_dir: Path) -> None:
    """Empty a run folder for a fresh start: only the plain files a run writes (never through a link), keeping
    the lock this process holds; a folder holding anything else is refused and left as it is."""
    check_clearable(run_dir)
    for child in run_dir.iterdir():
        if child.name != RUN_LOCK and _run_file(child.name) and stat.S_ISREG(os.lstat(child).st_mode):
            child.unlink()


def clear_logs(vdl_dir: Path, root) -> None:
    """A run's VisualDL folder emptied of its own ``vdlrecords.*`` files (plain files only; the rest is left)."""
    for child in own_folder(vdl_dir, root).iterdir():
        if child.name.startswith("vdlrecords.") and child.is_file() and not child.is_symlink():
            child.unlink()
