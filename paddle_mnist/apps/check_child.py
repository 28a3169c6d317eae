"""Where the student's code runs: a child process with a time and a memory limit (or, for tests, in-process).

The parent starts ``python -m paddle_mnist.apps.check_child``, sends the spec (one JSON line) and
then one check group per line; the child answers each with one JSON line on a private copy of its
stdout (the student's prints go to stderr). A group that outlives its time limit is killed with
the child's whole process group; a crash (a signal, ``os._exit``, out of memory) is reported with
the last line of stderr; either way a fresh child runs the groups that remain. The child dies with
its parent (``engine.pool.die_with_parent``).

    python -m paddle_mnist check my_solution.py --memory-gb 4
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import resource

from paddle_mnist.apps.check_source import error_text, find_pieces, load_namespace
from paddle_mnist.engine.pool import die_with_parent
from paddle_mnist.apps import check_data, check_nets, check_train

LIMITS = {"load": 60.0, "data": 120.0, "nets": 60.0, "train": 240.0}  # seconds per group


class CheckFailure(Exception):
    """The student's code failed a group as a whole: an exception, a crash or a time limit (one line)."""


class _Alarm(BaseException):
    pass


class Worker:
    """The student's namespace and pieces; runs one check group at a time (in the child, or in-process)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.ns = load_namespace(spec["path"])
        self.pieces = find_pieces(self.ns, nets=spec.get("net"), loader=spec.get("loader"))

    def run(self, group: dict) -> dict:
        if group["check"] == "data":
            return check_data.run(self.ns, self.pieces, self.spec)
        if group["check"] == "nets":
            return check_nets.run(self.ns, self.pieces, self.spec, group["net"])
        return check_train.run(self.ns, self.pieces, self.spec, group.get("net"))


class Inline:
    """In-process runner for tests: the same groups, time limits by SIGALRM, no memory limit."""

    def __init__(self, spec: dict, limits: dict):
        self.spec, self.limits, self.worker = spec, limits, None

    def _timed(self, what: str, fn):
        def alarm(signum, frame):
            raise _Alarm()

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, self.limits[what])
        try:
            return fn()
        except _Alarm:
            raise CheckFailure(f"did not finish within {self.limits[what]:g} s (an endless loop?)") from None
        except (CheckFailure, KeyboardInterrupt):
            raise
        except BaseException as exc:  # the student's code, SystemExit included
            raise CheckFailure(error_text(exc)) from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def load(self) -> dict:
        self.worker = self._timed("load", lambda: Worker(self.spec))
        return self.worker.pieces

    def run(self, group: dict) -> dict:
        return self._timed(group["check"], lambda: self.worker.run(group))

    def close(self) -> None:
        self.worker = None


class Isolated:
    """The parent's side: a child process per run of groups, restarted after a time-out or a crash."""

    def __init__(self, spec: dict, limits: dict):
        self.spec, self.limits, self.proc, self.err = spec, limits, None, None

    def _start(self) -> dict:
        self.err = tempfile.TemporaryFile()
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "paddle_mnist.apps.check_child"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, start_new_session=True, env=env)
        return self._ask(dict(self.spec, parent_pid=os.getpid()), self.limits["load"])

    def _ask(self, message: dict, limit: float) -> dict:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died; reading says how
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=limit):
                self.close()
                raise CheckFailure(f"did not finish within {limit:g} s (an endless loop?)")
        raw = self.proc.stdout.readline()
        if not raw:
            raise CheckFailure(self._death())
        reply = json.loads(raw)
        if "error" in reply:
            raise CheckFailure(reply["error"])
        return reply["reply"]

    def _death(self) -> str:
        rc = self.proc.wait()
        self.err.seek(0)
        tail = [t for t in self.err.read().decode(errors="replace").splitlines() if t.strip()]
        self.close()
        how = f"died of {signal.Signals(-rc).name}" if rc < 0 else f"exited with status {rc}"
        gb = self.spec.get("memory_gb")
        return f"the process {how}" + (f" ({tail[-1].strip()[:200]})" if tail else "") + (
            f"; out of memory? the limit is {gb:g} GB" if rc < 0 and gb else "")

    def load(self) -> dict:
        return self._start()

    def run(self, group: dict) -> dict:
        if self.proc is None:
            self._start()
        return self._ask(group, self.limits[group["check"]])

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None


def _limit_memory(gb) -> None:
    if gb:
        size = int(gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))


def main() -> int:
    """The child: limits first, then the student's code; one JSON line back per request."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job inherits an ignored SIGINT
    reply, requests = os.fdopen(os.dup(1), "w", buffering=1), os.fdopen(os.dup(0), "r")
    os.dup2(2, 1)  # the student's prints go to stderr, never into the protocol
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # and an input() of theirs reads nothing of it

    def send(obj):
        reply.write(json.dumps(obj, default=str) + "\n")

    spec = json.loads(requests.readline())
    die_with_parent(spec.get("parent_pid"))  # a SIGKILL of check leaves no student code running
    _limit_memory(spec.get("memory_gb"))
    try:
        worker = Worker(spec)
    except BaseException as exc:  # the student's module, SystemExit included
        send({"error": error_text(exc)})
        return 1
    send({"reply": worker.pieces})
    for raw in requests:
        t0 = time.perf_counter()
        try:
            result = worker.run(json.loads(raw))
            send({"reply": dict(result, seconds=time.perf_counter() - t0)})
        except BaseException as exc:  # the student's code: a failed group, never our traceback
            send({"error": error_text(exc)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
