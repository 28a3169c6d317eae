"""The demo page (``python -m paddle_mnist demo``) against a real server on 127.0.0.1, driven in headless Chromium.

The server runs in a thread on a free port with the committed exported models. Chromium
is driven over the Chrome DevTools Protocol through ``--remote-debugging-pipe`` (fds 3
and 4, NUL-separated JSON), so no websocket client or driver package is needed; its
mouse and touch input arrives at the page as real Pointer Events. Every wait is bounded.

    python -m pytest -q tests/test_demo.py
    PADDLE_MNIST_SCREENSHOT=docs/demo.png python -m pytest -q tests/test_demo.py   # also writes the screenshot
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import default_sigint
from PIL import Image

from paddle_mnist.apps.demo import load_models, make_server, network_warning

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy


# ---------------------------------------------------------------- the server and plain HTTP
@contextlib.contextmanager
def serving(models):
    """The demo of loaded ``models`` on 127.0.0.1 in a thread; yields its base URL."""
    srv = make_server(models, HOST, 0)  # port 0: the OS picks a free one, no race
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{srv.port}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server():
    with serving(load_models()) as url:
        yield url


def _post(url: str, body: bytes, ctype: str = "image/png") -> tuple[int, dict]:
    req = urllib.request.Request(f"{url}/api/predict", data=body, headers={"Content-Type": ctype}, method="POST")
    try:
        with _OPENER.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _png(arr_u8: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr_u8).save(buf, "PNG")
    return buf.getvalue()


def test_bad_uploads_are_clear_json_errors_and_the_server_keeps_serving(server):
    cases = [(b"", 400, "empty upload"), (b"this is not an image", 400, "not an image"),
             (_png(np.random.default_rng(0).integers(0, 256, (60, 60), np.uint8))[:1000], 400,
              "unreadable image"),  # a PNG cut short
             (bytes(6 * 1024 * 1024), 413, "too large"),
             (_png(np.full((40, 40), 255, np.uint8)), 400, "no digit found")]
    for body, code, message in cases:
        status, answer = _post(server, body)
        assert status == code and message in answer["error"], (status, answer)
        assert "/tmp" not in answer["error"]  # the upload is named "upload", not by its temporary file
    with _OPENER.open(f"{server}/api/models", timeout=30) as resp:  # still serving
        assert [m["name"] for m in json.loads(resp.read())["models"]] == ["mlp", "softmax"]


def test_network_warning():
    assert "reachable from the network" in network_warning("0.0.0.0")
    assert network_warning("127.0.0.1") is None and network_warning("localhost") is None


def _cli_lines(res) -> list[str]:
    lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
    return [line for line in lines if "ccache" not in line and "warnings.warn" not in line]


def test_cli_port_in_use_is_one_line():
    with socket.socket() as s:
        s.bind((HOST, 0))
        s.listen()
        port = s.getsockname()[1]
        res = subprocess.run([sys.executable, "-m", "paddle_mnist", "demo", "--port", str(port)], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    lines = _cli_lines(res)
    assert res.returncode != 0 and lines == [f"error: port {port} on {HOST} is already in use; pass --port "
                                             "with another number"], res.stderr[-800:]


def test_cli_serves_and_stops_on_ctrl_c():
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "paddle_mnist", "demo", "--host", HOST, "--port", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=default_sigint)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no URL printed within 60 s"
        assert f"http://{HOST}:{port}/" in proc.stdout.readline()
        with _OPENER.open(f"http://{HOST}:{port}/", timeout=30) as resp:
            assert b"<canvas" in resp.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- Chromium over the DevTools pipe
class Browser:
    """Headless Chromium driven over ``--remote-debugging-pipe``; ``call`` sends one command to the page."""

    def __init__(self, chromium: str, profile: Path, width: int = 1100, height: int = 540):
        to_chrome, self._to = os.pipe()
        self._from, from_chrome = os.pipe()
        # move the child's ends above fd 10 so that "3<&a 4>&b" cannot clobber them
        a, b = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome, from_chrome))
        for fd in (to_chrome, from_chrome):
            os.close(fd)
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server", "--hide-scrollbars", f"--user-data-dir={profile}",
                 f"--window-size={width},{height}", "about:blank"]
        self.proc = subprocess.Popen(["bash", "-c", f'exec "$0" "$@" 3<&{a} 4>&{b} {a}<&- {b}>&-', chromium,
                                      *flags], pass_fds=(a, b), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(a)
        os.close(b)
        self._buf, self._id, self.session = b"", 0, None
        page = next(t for t in self._send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self._send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def _send(self, method: str, timeout: float = 30.0, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._to, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer["result"]
            left = deadline - time.monotonic()
            assert left > 0, f"no answer to {method} within {timeout} s"
            ready, _, _ = select.select([self._from], [], [], left)
            if ready:
                chunk = os.read(self._from, 1 << 20)
                assert chunk, "chromium closed the DevTools pipe"
                self._buf += chunk

    call = _send

    def js(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in res, res
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}; message: {self.js('message.textContent')}")

    def close(self) -> None:
        for fd in (self._to, self._from):
            os.close(fd)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def demo_page(url: str, profile: Path, panel: str = "mlp"):
    """Headless Chromium on the demo at ``url``, once the page is idle and shows model ``panel``'s answer."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed (apt-get install -y chromium); .ci/run installs it")
    browser = Browser(chromium, profile)
    try:
        browser.call("Page.navigate", url=f"{url}/")
        browser.wait_for("document.body && document.body.dataset.status === 'idle' && "
                         f"!!document.getElementById('pred-{panel}')")
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    with demo_page(server, tmp_path_factory.mktemp("profile")) as browser:
        yield browser


def _answer_after(page: Browser, before: int) -> dict:
    page.wait_for(f"document.body.dataset.status === 'idle' && Number(document.body.dataset.responses) > {before}")
    return page.js("""({mlp: document.getElementById('pred-mlp').textContent,
        softmax: document.getElementById('pred-softmax').textContent,
        error: message.classList.contains('error'), message: message.textContent,
        input: Array.from(document.getElementById('input28').getContext('2d').getImageData(0, 0, 28, 28).data)
               .filter((v, i) => i % 4 === 0)})""")


def _responses(page: Browser) -> int:
    return int(page.js("Number(document.body.dataset.responses)"))


# strokes in the 280x280 pad's own coordinates
DIGITS = {
    "1": [[(150, 40), (146, 120), (140, 240)]],
    "7": [[(70, 50), (140, 48), (210, 50), (180, 110), (150, 170), (125, 240)]],
    "0": [[(140 + 60 * np.sin(t), 140 - 95 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]],
}


def _draw(page: Browser, strokes, touch: bool = False) -> None:
    rect = page.js("(r => ({x: r.left, y: r.top, s: r.width / 280}))(pad.getBoundingClientRect())")
    for stroke in strokes:
        pts = [(rect["x"] + x * rect["s"], rect["y"] + y * rect["s"]) for x, y in stroke]
        dense = [pts[0]]  # a point every ~8 px, as a real pointer reports them
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            n = max(1, int(np.hypot(x1 - x0, y1 - y0) // 8))
            dense += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
        if touch:  # a finger: touch input reaches the page as pointerType "touch"
            page.call("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": dense[0][0], "y": dense[0][1]}])
            for x, y in dense[1:]:
                page.call("Input.dispatchTouchEvent", type="touchMove", touchPoints=[{"x": x, "y": y}])
            page.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
            continue
        page.call("Input.dispatchMouseEvent", type="mousePressed", x=dense[0][0], y=dense[0][1], button="left",
                  buttons=1, clickCount=1)
        for x, y in dense[1:]:
            page.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
        page.call("Input.dispatchMouseEvent", type="mouseReleased", x=dense[-1][0], y=dense[-1][1], button="left",
                  buttons=0, clickCount=1)


def test_a_drawn_digits_are_recognised(page, server, tmp_path):
    """Draw 1 (with a finger), 7 and 0 (with the mouse); the MLP's answer on the page must be the digit."""
    for digit, touch in (("1", True), ("7", False), ("0", False)):
        page.js("document.getElementById('clear').click()")
        before = _responses(page)
        _draw(page, DIGITS[digit], touch=touch)
        answer = _answer_after(page, before)
        assert not answer["error"], answer["message"]
        assert answer["mlp"] == digit, (digit, answer["mlp"], answer["softmax"])
        assert max(answer["input"]) == 255 and sum(v > 0 for v in answer["input"]) > 40  # the 28x28 is shown
    # Undo removes the last stroke: an empty pad resets the answer without a request
    page.js("document.getElementById('undo').click()")
    assert page.wait_for("document.body.dataset.status === 'idle' && "
                         "document.getElementById('pred-mlp').textContent === '\u2013'")
    _draw(page, DIGITS["7"])  # the screenshot shows a 7
    answer = _answer_after(page, _responses(page))
    assert answer["mlp"] == "7"
    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    assert img.shape == (540, 1100, 3) and len(np.unique(img.reshape(-1, 3), axis=0)) > 50
    if os.environ.get("PADDLE_MNIST_SCREENSHOT"):
        out = REPO / os.environ["PADDLE_MNIST_SCREENSHOT"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(shot)


def test_demo_latency_per_drawing(page, server):
    """Median server-side time of 20 requests with the page's own drawing (PNG 280x280), both models."""
    png = base64.b64decode(page.js("pad.toDataURL('image/png')").split(",", 1)[1])
    times, walls = [], []
    for _ in range(20):
        started = time.perf_counter()
        status, answer = _post(server, png)
        walls.append((time.perf_counter() - started) * 1000)
        assert status == 200
        times.append(answer["server_ms"])
    median = statistics.median(times)
    print(f"demo latency: server median {median:.2f} ms, round trip median {statistics.median(walls):.2f} ms")
    assert median < 500


@pytest.fixture(scope="module")
def eval_pngs(tmp_path_factory):
    from paddle_mnist.datafile.store import read_arrays

    x, y = read_arrays()["eval"]
    folder = tmp_path_factory.mktemp("eval_pngs")
    paths = []
    for i in (0, 1, 2):
        path = folder / f"eval{i}-label{int(y[i])}.png"
        path.write_bytes(_png(np.round(np.asarray(x[i]).reshape(28, 28) * 255).astype(np.uint8)))
        paths.append(path)
    return paths


def _upload(page: Browser, path: Path) -> dict:
    before = _responses(page)
    node = page.call("Runtime.evaluate", expression="document.getElementById('file')")["result"]["objectId"]
    page.call("DOM.setFileInputFiles", files=[str(path)], objectId=node)
    return _answer_after(page, before)


def test_b_uploaded_eval_images_match_predict(page, eval_pngs):
    from paddle_mnist.apps.predict import predict_images, preprocess_image

    want_mlp = predict_images(eval_pngs, REPO / "reports" / "models" / "mlp.pdparams")
    want_softmax = predict_images(eval_pngs, REPO / "reports" / "models" / "softmax.pdparams")
    for path, mlp, softmax in zip(eval_pngs, want_mlp, want_softmax):
        answer = _upload(page, path)
        assert not answer["error"], answer["message"]
        assert answer["mlp"] == str(mlp["digit"]) and answer["softmax"] == str(softmax["digit"]), path.name
        shown = np.asarray(answer["input"], dtype=np.float64) / 255.0
        assert np.abs(shown - preprocess_image(path)).max() <= 1 / 255 + 1e-9


def test_bad_upload_on_the_page_shows_the_message(page, eval_pngs, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    answer = _upload(page, bad)
    assert answer["error"] and "not an image" in answer["message"], answer["message"]
    assert answer["mlp"] == "\u2013"  # the old answer is cleared
    big = tmp_path / "huge.png"
    big.write_bytes(bytes(6 * 1024 * 1024))
    answer = _upload(page, big)  # refused by the page itself, before sending 6 MB
    assert answer["error"] and "too large" in answer["message"], answer["message"]
    answer = _upload(page, eval_pngs[0])  # the server still answers
    assert not answer["error"] and answer["mlp"] == "7"
