"""Source 001's save/restore: a whole saved net vs a net rebuilt from its saved parameters, on real eval images.

001 saves a whole PyTorch net (``torch.save(net)``, i.e. pickling the module) and, apart,
its parameters (``net.state_dict()``). Our safe loader refuses pickled Layers, so the
"whole net" here is Paddle's whole-net format: the exported static inference model
(``reports/models/inference/mlp``, program + weights); the "parameters" are
``reports/models/mlp.pdparams`` loaded into a freshly built dygraph net. The record
(``reports/results/save_restore.json``) feeds the claims ledger.

    python -c "from paddle_mnist.apps.persistence import measure_save_restore; print(measure_save_restore())"
"""
from __future__ import annotations

import json

import numpy as np

from paddle_mnist.apps.export import InferenceModel
from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.checkpoint import load_model
from paddle_mnist.paths import MODELS, RESULTS
# deferred: paddle (loaded on first use, so importing this module stays light)

TOLERANCE = 1e-5


def measure_save_restore(n_images: int = 300, name: str = "mlp", out=None) -> dict:
    """Max |output difference| of the two restored nets on the first ``n_images`` eval images; writes the record."""
    import paddle

    x = np.ascontiguousarray(read_arrays()["eval"][0][:n_images], dtype=np.float32).reshape(n_images, -1)
    whole = InferenceModel(MODELS / "inference" / name).logits(x)
    net = load_model(MODELS / f"{name}.pdparams")
    with paddle.no_grad():
        params = net(paddle.to_tensor(x)).numpy()
    analysis = {"model": name, "n_images": int(n_images), "max_abs_diff": float(np.abs(whole - params).max()),
                "same_predictions": bool((whole.argmax(1) == params.argmax(1)).all()), "tolerance": TOLERANCE}
    record = {"name": "save_restore", "analysis": analysis}
    path = out if out is not None else RESULTS / "save_restore.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record
