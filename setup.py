"""Build hook: the wheel ships the headline models (``reports/models``) as ``paddle_mnist/models``.

Everything else is in ``pyproject.toml``. ``predict``, ``export`` and ``demo`` of an
installed package read their default models from there.

    pip wheel --no-deps -w dist .
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("*.pdparams", "*.json", "inference/*/*")


class BuildWithModels(build_py):
    def run(self):
        super().run()
        src, dst = HERE / "reports" / "models", Path(self.build_lib) / "paddle_mnist" / "models"
        for pattern in SHIPPED:
            for path in src.glob(pattern):
                target = dst / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


setup(cmdclass={"build_py": BuildWithModels})
