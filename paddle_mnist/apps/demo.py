"""A local web page to try models: draw a digit (mouse, pen or finger) or upload a photo.

A Flask app serves ``demo_static/`` (the page) and ``POST /api/predict``: the body
is an image (the page sends its canvas as PNG, or the uploaded file as it is; a raw
body is taken whatever its content type says, a multipart form's first file otherwise);
the server runs ``paddle_mnist.apps.predict.preprocess_image`` on it -- the same
MNIST-style preprocessing as ``predict`` -- and every model shown (one or more
``--model``: a name, a run folder, a ``.pdparams`` file or an exported folder, see
``apps.model_arg``; default: the exported headline ``mlp`` and ``softmax`` under
``reports/models/inference``). The answer is JSON: the 28x28 input the models received,
each model's ten class probabilities and ``server_ms`` (preprocessing plus the models).
A bad upload (empty, not an image, over ``MAX_UPLOAD_BYTES``, more pixels than
``MAX_DECODE_BYTES`` of memory allows, judged from the header before decoding) is a JSON
``{"error": ...}`` with HTTP 400 or 413; over ``MAX_CONCURRENT`` predictions at once,
the next is answered 503 at once; the server keeps serving.

    python -m paddle_mnist demo --model runs/mlp/adam-seed0 --port 8050   # then open http://127.0.0.1:8050
"""
from __future__ import annotations

import io
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
import errno

import numpy as np

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import MODELS
from paddle_mnist.apps.model_arg import open_model, resolve_model
from paddle_mnist.apps.predict import preprocess_image
# deferred: flask, werkzeug, PIL (the web demo's server, only when it serves)

STATIC = Path(__file__).resolve().parent / "demo_static"
DEFAULT_MODEL_DIR = MODELS / "inference"
DEMO_MODELS = ("mlp", "softmax")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 5 MB PNG can still decode to gigabytes; refuse before decoding
MAX_DECODE_BYTES = 512 * 1024 * 1024  # the memory one upload may take to decode and preprocess
PIPELINE_BYTES_PER_PIXEL = 24  # preprocess_image's grey and float arrays: a peak of 10.6 (a 36 MP 1-bit PNG)
#                                 to 16.5 (a 12 MP RGB JPEG) bytes per pixel measured in a fresh process
MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}  # Pillow's storage; others 4
MAX_CONCURRENT = 2  # predictions at once; one more is answered 503 (busy) without waiting
ANY_ADDRESS = {"0.0.0.0", "::", ""}


class UploadError(PaddleMnistError):
    """An upload the demo cannot use; ``status`` is the HTTP status of the answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def load_models(models=None, device: str | None = None) -> dict:
    """``{name: apps.model_arg.Runnable}`` for each of ``models`` (default: the exported ``mlp`` and ``softmax``
    under ``reports/models/inference``); two models of one name are told apart by a suffix."""
    given = list(models) if models else [DEFAULT_MODEL_DIR / name for name in DEMO_MODELS]
    refs = [resolve_model(m) for m in given]  # every argument checked before any model is loaded
    out = {}
    for ref in refs:
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in ref.name) or "model"
        key, n = name, 2
        while key in out:
            key, n = f"{name}-{n}", n + 1
        out[key] = open_model(ref, device)
    return out


def decoded_bytes(width: int, height: int, mode: str) -> int:
    """The memory an image of this header takes through ``preprocess_image`` (an estimate, from above)."""
    return width * height * (MODE_BYTES.get(mode, 4) + PIPELINE_BYTES_PER_PIXEL)


def preprocess_bytes(data: bytes) -> np.ndarray:
    """An uploaded image's bytes -> float32 [784] via ``predict.preprocess_image``; ``UploadError`` if unusable."""
    from PIL import Image

    if not data:
        raise UploadError("empty upload: no image data received")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"upload too large: {len(data) / 1e6:.1f} MB (the limit is "
                          f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB)", 413)
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only: size and mode, nothing decoded
            width, height, mode = *img.size, img.mode
    except Exception:  # not an image: preprocess_image below gives the message
        width = height = 0
        mode = "L"
    if width * height > MAX_PIXELS:
        raise UploadError(f"image too large: {width}x{height} pixels (the limit is {MAX_PIXELS // 10**6} "
                          "million)", 413)
    need = decoded_bytes(width, height, mode)
    if need > MAX_DECODE_BYTES:
        raise UploadError(f"image too large to decode: {width}x{height} pixels would take about "
                          f"{need / 2**20:.0f} MB (the limit is {MAX_DECODE_BYTES // 2**20} MB); scale it down", 413)
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
        answers.append({"name": name, "title": model.title, "digit": int(np.argmax(p)),
                        "probabilities": [round(float(v), 6) for v in p]})
    return {"input": [round(float(v), 5) for v in x], "models": answers,
            "server_ms": round((time.perf_counter() - started) * 1000.0, 3)}


def _upload_body(request) -> bytes:
    """A multipart form's first file, else the raw body whatever the content type says (``curl --data-binary``
    sends ``application/x-www-form-urlencoded``: read as bytes, never parsed as a form)."""
    if request.mimetype == "multipart/form-data":
        upload = next(iter(request.files.values()), None)
        return upload.read() if upload is not None else b""
    return request.get_data(cache=False, parse_form_data=False)


def create_app(models: dict, max_concurrent: int = MAX_CONCURRENT):
    """The Flask app over loaded ``models`` (see ``load_models``); ``app.config["PREDICT_SLOTS"]`` is the
    semaphore that caps predictions in flight."""
    from flask import Flask, jsonify, request, send_from_directory
    from werkzeug.exceptions import HTTPException

    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES + 64 * 1024  # room for a multipart envelope
    slots = app.config["PREDICT_SLOTS"] = threading.BoundedSemaphore(max_concurrent)
    info = [{"name": n, "title": m.title, "test_acc": m.test_acc} for n, m in models.items()]

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/api/models")
    def model_list():
        return jsonify({"models": info, "max_upload_bytes": MAX_UPLOAD_BYTES})

    @app.post("/api/predict")
    def predict():
        data = _upload_body(request)
        if not slots.acquire(blocking=False):
            return jsonify({"error": f"busy: {max_concurrent} prediction(s) already running; try again"}), 503, \
                {"Retry-After": "1"}
        try:
            return jsonify(classify(models, data))
        finally:
            slots.release()

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
    """A listening socket on ``host:port``; a port out of range, a host that is not an address of this
    machine or a port in use is a one-line error."""
    if not 0 <= int(port) <= 65535:
        raise PaddleMnistError(f"--port {port}: out of range (1-65535)")
    try:
        family, _, _, _, addr = socket.getaddrinfo(host or None, int(port), type=socket.SOCK_STREAM,
                                                   flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise PaddleMnistError(f"--host {host}: not an address or a name this machine can resolve ({exc})") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's own bind does
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PaddleMnistError(f"port {port} on {host} is already in use; pass --port with another "
                                   "number") from None
        raise PaddleMnistError(f"--host {host}: cannot listen on {host}:{port} ({exc.strerror or exc}); use an "
                               "address of this machine, e.g. 127.0.0.1") from None
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


def serve(models=None, host: str = "127.0.0.1", port: int = 8050, device: str | None = None) -> int:
    """Serve the demo of ``models`` (see ``load_models``) in the foreground until Ctrl+C (or SIGTERM); print
    the URL once listening. The address is checked before any model is loaded."""
    _listen(host, port).close()
    loaded = load_models(models, device)
    server = make_server(loaded, host, port)
    warning = network_warning(host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    shown = ", ".join(f"{name} ({m.ref.path})" for name, m in loaded.items())
    print(f"demo: {page_url(host, port)}  (models: {shown}; Ctrl+C to stop)", flush=True)

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
           "page_url", "decoded_bytes", "UploadError", "MAX_UPLOAD_BYTES", "MAX_DECODE_BYTES", "DEFAULT_MODEL_DIR"]
