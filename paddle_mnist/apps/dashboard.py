"""The VisualDL dashboard over ``runs/vdl``: ``python -m paddle_mnist dashboard``.

VisualDL 2.5.3 is started (through ``apps/vdl_server.py``, which rounds the
hyper-parameter page's metrics to 4 decimals) with the flags that work here:

* ``--logdir vdl`` relative, from inside the runs folder: run folders read
  ``vdl/<experiment>/<run>`` (each shown under its run name, ``<experiment>/<run>``,
  ``engine.vdl.display_name``). With an absolute logdir the run names are absolute
  paths, and VisualDL builds its cache keys with ``os.path.join(prefix, run, tag)``,
  which drops the prefix for an absolute ``run`` so keys of different API routes
  can collide.
* ``--language en``: without it, a page request with no ``Accept-Language``
  header (curl, scripts, some headless browsers) answers HTTP 500.
* ``--disable-telemetry``: otherwise every start posts to paddlepaddle.org.cn.

The VisualDL child dies with this process, even on SIGKILL (Linux: the
parent-death signal, ``engine.pool.die_with_parent``). A port outside 1-65535 and a
host this machine cannot bind are one-line errors, each named as what it is;
``--host 0.0.0.0`` prints a URL other machines can use, and a warning.

Each run writes to its own folder (``runs/vdl/<experiment>/<run_name>/``)
because VisualDL reads only the newest log file of a folder. Its API answers
HTTP 200 even on errors; the JSON ``status`` is 0 on success and -1 on an error.

    python -m paddle_mnist dashboard --runs-dir runs --port 8040
"""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
import errno
import functools
import os

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.engine.pool import die_with_parent

LOGDIR = "vdl"  # relative to the runs folder, which is the server's working directory
SERVER = Path(__file__).with_name("vdl_server.py")  # VisualDL's own server, its hyper-parameter metrics rounded
API = "/app/api"
# the server is local: never send its requests through an http_proxy from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def dashboard_command(runs_dir="runs", host: str = "127.0.0.1", port: int = 8040) -> tuple[list[str], Path]:
    """The VisualDL command line and the folder to run it in (the runs folder)."""
    argv = [sys.executable, str(SERVER), "--logdir", LOGDIR, "--host", str(host),
            "--port", str(int(port)), "--language", "en", "--disable-telemetry"]
    return argv, Path(runs_dir)


def base_url(host: str = "127.0.0.1", port: int = 8040) -> str:
    """``http://HOST:PORT``; an any-address bind (0.0.0.0, ::) is shown as this machine's loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{int(port)}"


def dashboard_url(host: str = "127.0.0.1", port: int = 8040, page: str = "scalar") -> str:
    """The URL of a dashboard page (scalar, image, histogram, hyper-parameter, text)."""
    return f"{base_url(host, port)}/app/{page}"


_ANY = ("0.0.0.0", "::", "")


def check_bind(host: str, port: int) -> None:
    """A ``PaddleMnistError`` saying what is wrong unless a server can listen on ``host:port`` now:
    a port out of range, a host that does not resolve or is not this machine's, or a port in use."""
    if not 1 <= int(port) <= 65535:
        raise PaddleMnistError(f"--port {port}: out of range (1-65535)")
    try:
        infos = socket.getaddrinfo(host or None, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise PaddleMnistError(f"--host {host}: not an address or a name this machine can resolve ({exc})") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PaddleMnistError(f"port {port} on {host} is already in use; pass --port with another "
                                       "number") from None
            raise PaddleMnistError(f"--host {host}: cannot listen there ({exc.strerror or exc}); use an address "
                                   "of this machine, e.g. 127.0.0.1") from None


def reachable_url(host: str, port: int, page: str = "scalar") -> str:
    """The page's URL as other machines reach it: for an any-address bind, this machine's outward address."""
    if host not in _ANY:
        return dashboard_url(host, port, page)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outward interface
            shown = s.getsockname()[0]
    except OSError:
        shown = socket.gethostname()
    return dashboard_url(shown, port, page)


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (SO_REUSEADDR, as VisualDL's server sets it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, int(port)))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_dashboard(runs_dir="runs", host: str = "127.0.0.1", port: int = 8040, *, log=None) -> subprocess.Popen:
    """Start VisualDL in the background over ``runs_dir/vdl``; returns the process (not yet answering).

    ``log`` is a file object for the server's output (default: discarded).
    """

    runs_dir = Path(runs_dir)
    check_bind(host, port)
    if runs_dir.exists() and not runs_dir.is_dir():
        raise PaddleMnistError(f"--runs-dir {runs_dir}: is a file, not a folder")
    (runs_dir / LOGDIR).mkdir(parents=True, exist_ok=True)
    argv, cwd = dashboard_command(runs_dir, host, port)
    out = log if log is not None else subprocess.DEVNULL
    return subprocess.Popen(argv, cwd=str(cwd), stdout=out, stderr=subprocess.STDOUT if log is not None else out,
                            stdin=subprocess.DEVNULL, preexec_fn=functools.partial(die_with_parent, os.getpid()))


def wait_until_live(proc: subprocess.Popen, host: str, port: int, timeout: float = 60.0) -> None:
    """Block until the server answers ``/alive``; an error if it exits or ``timeout`` passes first."""
    url = f"{base_url(host, port)}/alive"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise PaddleMnistError(f"VisualDL exited with status {proc.returncode} before answering at {url}")
        try:
            with _OPENER.open(url, timeout=2) as resp:
                if resp.status in (200, 204):
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise PaddleMnistError(f"VisualDL did not answer at {url} within {timeout:.0f} s")
        time.sleep(0.25)


def api(server: str, route: str, **params):
    """GET ``/app/api/<route>`` and return its ``data``; an error unless the answer has ``status == 0``.

    ``server`` is ``http://HOST:PORT``. VisualDL answers errors with HTTP 200 and ``status`` -1 (1 for an
    unknown route). Non-JSON routes (``image/image``, ``text/text``) return the raw bytes, which are
    empty on an error.
    """
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    url = f"{server.rstrip('/')}{API}/{route}{query}"
    with _OPENER.open(url, timeout=30) as resp:
        body, ctype, code = resp.read(), resp.headers.get("Content-Type", ""), resp.status
    if code != 200:
        raise PaddleMnistError(f"{url}: HTTP {code}")
    if not ctype.startswith("application/json"):
        return body
    answer = json.loads(body)
    if answer.get("status") != 0:
        raise PaddleMnistError(f"{url}: status {answer.get('status')} ({answer.get('msg')})")
    return answer["data"]


def serve(runs_dir="runs", host: str = "127.0.0.1", port: int = 8040) -> int:
    """Run VisualDL in the foreground until Ctrl+C (or SIGTERM); print the URL once it answers."""
    runs_dir = Path(runs_dir)
    vdl = runs_dir / LOGDIR
    had_logs = vdl.is_dir() and any(vdl.rglob("vdlrecords.*"))
    proc = start_dashboard(runs_dir, host, port, log=sys.stderr)

    def _term(signum, frame):  # a plain kill of this process must not orphan the server
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _term) if main else None
    try:
        wait_until_live(proc, host, port)
        print(f"VisualDL dashboard: {reachable_url(host, port)}  (logs: {vdl}; Ctrl+C to stop)", flush=True)
        if host in _ANY:
            print(f"warning: --host {host} serves the dashboard, without a password, to every machine that can "
                  "reach this one; use 127.0.0.1 to keep it local", file=sys.stderr, flush=True)
        if not had_logs:
            print(f"no runs in {vdl} yet; they appear (within ~20 s) once training writes them, e.g. "
                  f"python -m paddle_mnist train mlp --quick --runs-dir {runs_dir}", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


__all__ = ["dashboard_command", "base_url", "dashboard_url", "check_bind", "reachable_url", "start_dashboard", "wait_until_live", "api", "serve",
           "free_port", "port_free"]
