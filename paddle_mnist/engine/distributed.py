"""Data-parallel training on ``paddle.distributed``: ``train EXPERIMENT --nproc N``.

``launch`` re-runs the same ``train`` command under ``python -m paddle.distributed.launch
--nproc_per_node N`` (gloo on the CPU, NCCL on GPUs). In each process ``engine.fit``
wraps the model in ``paddle.DataParallel`` (gradients are averaged over the
processes after ``backward``), gives every process its equal share of each global
batch of ``load_data('train')``, and averages the logged loss; process 0 alone
writes the run's records, checkpoints and VisualDL logs (the others write into a
scratch folder that is removed). ``--resume`` reads the same checkpoint in every process.

Network: the processes meet on loopback. ``launch`` names ``127.0.0.1`` and a free port to
the launcher (``--ips 127.0.0.1 --start_port PORT``: the store's address, ``PADDLE_MASTER``)
and gloo's interface (``GLOO_SOCKET_IFNAME=lo``). Paddle's rank-0 TCP store binds every
interface whatever address it is given (its C++ ``tcp_listen("", port)``), so on Linux the
launcher and its processes run in a private network namespace holding only loopback: nothing
outside the command can reach the store. Where the system refuses one (unprivileged user
namespaces disabled) a one-line note says the store listens on all interfaces for that run.
A user who names a host for a multi-node run (``PADDLE_MASTER``, ``PADDLE_NNODES`` or
``MASTER_ADDR`` in the environment) gets Paddle's own choices, untouched.

Scratch: a process other than 0 trains into ``scratch()``, a ``paddle_mnist-rankN-*`` folder
under the temporary folder holding a marker with its pid; one a killed run left behind (its
pid gone) is removed by the next ``launch`` or ``scratch()`` (``clean_stale_scratch``).
Nothing without that marker is touched.

    python -m paddle_mnist train mlp --seeds 0 --nproc 2
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
import ctypes
import signal
import fcntl
import struct

import numpy as np

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import REPO
# deferred: paddle (loaded on first use, so importing this module stays light)

_READY = {"init": False}


def world_size() -> int:
    """How many training processes share each batch (1 outside ``paddle.distributed.launch``)."""
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1") or 1)


def rank() -> int:
    return int(os.environ.get("PADDLE_TRAINER_ID", "0") or 0)


def is_main() -> bool:
    """Whether this process writes records (process 0, or the only one)."""
    return rank() == 0


def die_with_parent() -> None:
    """In a launched process: be killed when the launcher dies (Linux ``PR_SET_PDEATHSIG``), so no orphan trains on."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the launcher died before the call
        os._exit(1)


def wrap(model):
    """``paddle.DataParallel(model)`` after joining the process group (once per process)."""
    import paddle
    import paddle.distributed as dist

    if not _READY["init"]:
        die_with_parent()
        dist.init_parallel_env()
        _READY["init"] = True
    return paddle.DataParallel(model)


def shard(batches, batch_size: int):
    """This process's equal, contiguous share of every global batch of the generator function ``batches``."""
    world, me = world_size(), rank()
    if batch_size % world:
        raise PaddleMnistError(f"batch size {batch_size} does not split into {world} equal shares; "
                               f"choose a multiple of --nproc")

    def data_generator():
        for x, y in batches():
            k = len(y) // world
            if k * world != len(y):  # a short last batch: the same rule, on what divides evenly
                cut = k * world
                x, y = x[:cut], y[:cut]
            if k:
                yield np.ascontiguousarray(x[me * k:(me + 1) * k]), np.ascontiguousarray(y[me * k:(me + 1) * k])

    return data_generator


def mean_value(batch_loss) -> float:
    """The batch loss averaged over the processes (each holds the mean of its share)."""
    import paddle.distributed as dist

    total = batch_loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / world_size()


USER_NAMED_HOST = ("PADDLE_MASTER", "PADDLE_NNODES", "MASTER_ADDR")  # a multi-node run the user set up


def launch_command(train_args: list[str], nproc: int, log_dir: Path, device: str = "auto",
                   environ=None) -> tuple[list[str], dict, bool]:
    """``(command, environment, private network)`` that runs ``train <train_args>`` in ``nproc`` processes."""
    if nproc < 2:
        raise PaddleMnistError("--nproc needs at least 2 processes (1 is a plain run)")
    env = dict(os.environ if environ is None else environ)
    gpu = device.startswith("gpu") or (device == "auto" and _cuda())
    if not gpu:
        env.setdefault("PADDLE_DISTRI_BACKEND", "gloo")  # the CPU backend
    package_root = str(REPO)  # the folder that holds the paddle_mnist package
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("PADDLE_MNIST_THREADS", "1")  # the cores are shared out among the processes
    main = str(REPO / "paddle_mnist" / "__main__.py")
    where = []
    local = not any(env.get(k) for k in USER_NAMED_HOST)
    if local:  # one machine: every address is loopback
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
        env.setdefault("NCCL_SOCKET_IFNAME", "lo")
        where = ["--ips", "127.0.0.1", "--start_port", str(_free_ports(nproc))]
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(nproc), *where,
           "--log_dir", str(log_dir), main, "train", *train_args]
    return cmd, env, local


def launch(train_args: list[str], nproc: int, log_dir: Path, device: str = "auto") -> int:
    """Run ``python -m paddle_mnist train <train_args>`` in ``nproc`` processes; return the exit code."""
    cmd, env, local = launch_command(train_args, nproc, log_dir, device)
    clean_stale_scratch()
    private = local and private_network_works()
    if local and not private:
        print("note: this system refuses a private network namespace; Paddle's store of this run listens on all "
              "interfaces", file=sys.stderr)
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    start = _start_private if private else die_with_parent
    return subprocess.call(cmd, env=env, preexec_fn=start)  # the launcher dies with this command


def _free_ports(n: int) -> int:
    """A loopback port ``p`` with ``p .. p+n-1`` free now (the launcher's endpoints)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + n <= 65535 and all(_free(port + i) for i in range(1, n)):
            return port
    raise PaddleMnistError("no free loopback ports for the data-parallel processes")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def private_network() -> None:
    """Move this (single-threaded, about to exec) process into new user and network namespaces whose only
    interface is loopback, keeping its user and group ids; ``OSError`` where the system refuses."""
    uid, gid = os.getuid(), os.getgid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.unshare(0x10000000 | 0x40000000) != 0:  # CLONE_NEWUSER | CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # bring lo up (SIOCGIFFLAGS, SIOCSIFFLAGS)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))


def _start_private() -> None:
    die_with_parent()
    private_network()


def private_network_works() -> bool:
    """Whether ``private_network`` succeeds here (a throwaway process tries it)."""
    if not sys.platform.startswith("linux") or not Path("/bin/true").exists():
        return False
    try:
        return subprocess.call(["/bin/true"], preexec_fn=private_network) == 0
    except (OSError, subprocess.SubprocessError):
        return False


SCRATCH_PREFIX = "paddle_mnist-rank"
SCRATCH_MARK = ".paddle_mnist-scratch"  # holds the pid of the process that made the folder


@contextlib.contextmanager
def scratch():
    """A scratch folder for this process (removed on exit; a killed run's is removed by the next start)."""
    clean_stale_scratch()
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{rank()}-"))
    try:
        (folder / SCRATCH_MARK).write_text(str(os.getpid()))
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_scratch(where=None) -> list[Path]:
    """Remove the scratch folders of killed runs: ours by name and marker, owned by this user, whose process is
    gone. Returns what was removed."""
    removed = []
    for folder in Path(where or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        try:
            st = os.lstat(folder)
            pid = int((folder / SCRATCH_MARK).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours (no marker), or gone already
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _cuda() -> bool:
    import paddle

    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
