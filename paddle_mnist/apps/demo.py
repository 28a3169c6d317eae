"""A local web page to try the models: draw a digit (mouse, pen or finger) or upload a photo.

A Flask app serves ``demo_static/`` (the page) and ``POST /api/predict``: the body
is an image (the page sends its canvas as PNG, or the uploaded file as it is); the
server runs ``paddle_mnist.apps.predict.preprocess_image`` on it -- the same MNIST-style
preprocessing as ``predict`` -- and both exported models (``mlp`` and ``softmax``
under ``--model-dir``, see ``paddle_mnist.apps.export``) through ``paddle.inference``.
The answer is JSON: the 28x28 input the models received, each model's ten class
probabilities and ``server_ms`` (preprocessing plus both models). A bad upload
(empty, not an image, over ``MAX_UPLOAD_BYTES``, too many pixels) is a JSON
``{"error": ...}`` with HTTP 400 or 413; the server keeps serving.

    python -m paddle_mnist demo --port 8050      # then open http://127.0.0.1:8050
"""
from __future__ import annotations

import io
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import MODELS

STATIC = Path(__file__).resolve().parent / "demo_static"
DEFAULT_MODEL_DIR = MODELS / "inference"
DEMO_MODELS = ("mlp", "softmax")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 5 MB PNG can still decode to gigabytes; refuse before decoding
ANY_ADDRESS = {"0.0.0.0", "::", ""}


class UploadError(PaddleMnistError):
    """An upload the demo cannot use; ``status`` is the HTTP status of the answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _title(meta: dict) -> str:
    info = meta["source"]["info"]
    if info.get("model") == "mlp":
        hidden = info.get("model_kwargs", {}).get("hidden", [200, 200])
        return "MLP " + "-".join(str(n) for n in (784, *hidden, 10))
    if info.get("model") == "softmax":
        return "Softmax regression 784-10"
    return str(info.get("model", "model"))


def load_models(model_dir=DEFAULT_MODEL_DIR) -> dict:
    """``{name: InferenceModel}`` for the exported ``mlp`` and ``softmax`` under ``model_dir``."""
    from paddle_mnist.apps.export import InferenceModel

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise PaddleMnistError(f"{model_dir}: model folder not found (export the models with: "
                               f"python -m paddle_mnist export --out {model_dir}/mlp)")
    return {name: InferenceModel(model_dir / name) for name in DEMO_MODELS}


def preprocess_bytes(data: bytes) -> np.ndarray:
    """An uploaded image's bytes -> float32 [784] via ``predict.preprocess_image``; ``UploadError`` if unusable."""
    from PIL import Image

    from paddle_mnist.apps.predict import preprocess_image

    if not data:
        raise UploadError("empty upload: no image data received")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"upload too large: {len(data) / 1e6:.1f} MB (the limit is "
                          f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB)", 413)
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            width, height = img.size
    except Exception:  # not an image: preprocess_image below gives the message
        width = height = 0
    if width * height > MAX_PIXELS:
        raise UploadError(f"image too large: {width}x{height} pixels (the limit is {MAX_PIXELS // 10**6} "
                          "million)", 413)
    with tempfile.NamedTemporaryFile(prefix="paddle_mnist_demo_", suffix=".img") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            return preprocess_image(tmp.name)
        except PaddleMnistError as exc:  # name the upload, not the temporary file
            raise UploadError(str(exc).replace(tmp.name, "upload")) from None


def classify(models: dict, data: bytes) -> dict:
    """The JSON answer for one image: ``input`` (784 values), ``models`` (digit, probabilities), ``server_ms``."""
    started = time.perf_counter()
    x = preprocess_bytes(data)
    answers = []
    for name, model in models.items():
        p = model.probabilities(x[None, :])[0]
        answers.append({"name": name, "title": _title(model.meta), "digit": int(np.argmax(p)),
                        "probabilities": [round(float(v), 6) for v in p]})
    return {"input": [round(float(v), 5) for v in x], "models": answers,
            "server_ms": round((time.perf_counter() - started) * 1000.0, 3)}


def create_app(models: dict):
    """The Flask app over loaded ``models`` (see ``load_models``)."""
    from flask import Flask, jsonify, request, send_from_directory
    from werkzeug.exceptions import HTTPException

    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES + 64 * 1024  # room for a multipart envelope
    info = [{"name": n, "title": _title(m.meta), "test_acc": m.meta["source"]["info"].get("test_acc")}
            for n, m in models.items()]

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/api/models")
    def model_list():
        return jsonify({"models": info, "max_upload_bytes": MAX_UPLOAD_BYTES})

    @app.post("/api/predict")
    def predict():
        upload = next(iter(request.files.values()), None)
        data = upload.read() if upload is not None else request.get_data(cache=False)
        return jsonify(classify(models, data))

    @app.errorhandler(UploadError)
    def bad_upload(exc):
        return jsonify({"error": str(exc)}), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 413:
            return jsonify({"error": f"upload too large (the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)"}), 413
        return jsonify({"error": f"{exc.code} {exc.name}"}), exc.code

    return app


def network_warning(host: str) -> str | None:
    """The warning printed when ``host`` makes the page reachable from other machines (else None)."""
    if host in ANY_ADDRESS:
        return (f"warning: --host {host or '(all)'} makes the demo reachable from the network: anyone who can "
                "reach this machine can use it (use --host 127.0.0.1 to keep it local)")
    return None


def _listen(host: str, port: int):
    """A listening socket on ``host:port``; a port in use or a bad address is a one-line error."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's own bind does
    try:
        sock.bind((host, int(port)))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PaddleMnistError(f"port {port} on {host} is already in use; pass --port with another "
                                   "number") from None
        raise PaddleMnistError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    return sock


def make_server(models: dict, host: str = "127.0.0.1", port: int = 8050):
    """A threaded WSGI server (werkzeug) for the app, listening now; a port in use is a one-line error."""
    from werkzeug.serving import make_server as _make_server

    sock = _listen(host, port)
    try:  # werkzeug serves a duplicate of our socket's descriptor
        return _make_server(host, int(port), create_app(models), threaded=True, fd=sock.fileno())
    finally:
        sock.close()


def page_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def serve(model_dir=DEFAULT_MODEL_DIR, host: str = "127.0.0.1", port: int = 8050) -> int:
    """Serve the demo in the foreground until Ctrl+C (or SIGTERM); print the URL once listening."""
    models = load_models(model_dir)
    server = make_server(models, host, port)
    warning = network_warning(host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"demo: {page_url(host, port)}  (models: {', '.join(models)} from {model_dir}; Ctrl+C to stop)",
          flush=True)

    def _term(signum, frame):
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _term) if main else None
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0


__all__ = ["create_app", "classify", "preprocess_bytes", "load_models", "make_server", "serve", "network_warning",
           "page_url", "UploadError", "MAX_UPLOAD_BYTES", "DEFAULT_MODEL_DIR"]
