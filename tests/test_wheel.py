"""Installed use (issue 16 item 5), SLOW (~1 min): build the wheel, install it into a fresh venv, use it from a
temp folder.

The wheel is built from a copy of the source (``pip wheel --no-deps``: pip fetches the build backend from the
package index; the test skips when that is unreachable). The fresh venv sees this interpreter's packages
(Paddle and the rest) through a ``.pth`` file, so only ``paddle_mnist`` itself comes from the wheel.

    python -m pytest -p no:cacheprovider tests/test_wheel.py -q
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_DATA, REPO

pytestmark = pytest.mark.slow
NEEDS = ("paddlepaddle", "visualdl", "numpy", "pandas", "matplotlib", "pillow", "tqdm", "flask")


def _copy_source(dst: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        if (REPO / name).is_file() and not name.startswith(("data/", "notebooks/", "tests/")):
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dst / name)
    return dst


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh venv's python, the wheel)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = _copy_source(tmp / "src")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", src],
                           capture_output=True, text=True, timeout=300)
    if build.returncode != 0 and "Could not find a version" in build.stderr + build.stdout:
        pytest.skip("the package index is unreachable: cannot fetch the build backend")
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("paddle_mnist-*.whl")
    venv.create(tmp / "venv", with_pip=False)
    py = tmp / "venv" / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "host_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q", wheel],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-3000:]
    return py, wheel


def run(py, *args, cwd, env=None):
    env = {**os.environ, "PYTHONPATH": "", **(env or {})}
    return subprocess.run([py, "-m", "paddle_mnist", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=600)


def test_the_wheel_names_its_needs_and_ships_the_models(installed):
    _, wheel = installed
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    for model in ("mlp.pdparams", "mlp.json", "softmax.pdparams", "inference/mlp/inference.pdiparams"):
        assert f"paddle_mnist/models/{model}" in names
    requires = [line.split(":", 1)[1].strip().lower() for line in meta.splitlines() if line.startswith("Requires-Dist")]
    for need in NEEDS:
        assert any(r.startswith(need) for r in requires), need


def test_installed_use_from_any_folder(installed, tmp_path):
    from PIL import Image

    from paddle_mnist.datafile.store import read_arrays

    py, _ = installed
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([py, "-c", "import paddle_mnist; print(paddle_mnist.__file__)"], cwd=work,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""}).stdout
    assert str(REPO) not in where and "site-packages" in where  # the wheel, not this checkout
    assert "mlp" in run(py, "list", cwd=work).stdout
    no_data = run(py, "train", "softmax", "--quick", cwd=work,
                  env={"PADDLE_MNIST_DATA": "", "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert no_data.returncode != 0 and "prepare-data" in no_data.stderr
    assert len(no_data.stderr.strip().splitlines()) == 1
    res = run(py, "train", "softmax", "--quick", "--device", "cpu", cwd=work, env={"PADDLE_MNIST_DATA": str(REAL_DATA)})
    assert res.returncode == 0, res.stderr[-2000:]
    assert (work / "runs" / "quick" / "results" / "softmax.json").is_file()
    x, y = read_arrays(REAL_DATA)["eval"]
    Image.fromarray((np.asarray(x[0]).reshape(28, 28) * 255).astype("uint8")).save(work / "digit.png")
    pred = run(py, "predict", "digit.png", cwd=work)
    assert pred.returncode == 0 and pred.stdout.startswith(f"digit.png: {int(y[0])} "), pred.stderr
    assert not (Path(where).parent / "reports").exists() and not (Path(where).parent / "runs").exists()
