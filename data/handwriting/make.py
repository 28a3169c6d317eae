"""Make data/handwriting/: 200 digit images written by a simulated hand, "scanned" and "photographed".

Nobody can write by hand on this machine, so the hand is simulated and says so: each digit 0-9 has
a few skeletons (pen paths of control points in a unit box, two ways of writing 1, 4, 7 and 9); every
image draws one with random jitter of the control points, slant, aspect and size, through a
Catmull-Rom curve, with one of four pens (fine liner, ballpoint, felt tip, marker: width and a
pressure that varies along the stroke), then one of four captures at low resolution:

* ``clean``: the drawing downsampled (Lanczos) to 28-64 px, saved as PNG;
* ``scan``: Gaussian blur, sensor noise, paper tone, downsampled, JPEG quality 35-75;
* ``scan_tight``: as ``scan``, cut out close to the ink (strokes may touch or cross the edge, as in a
  form's digit boxes), 20-40 px on the longer side;
* ``photo``: a lighting gradient (40-110 grey levels across the sheet, any direction), a small
  perspective tilt, the digit off-centre on a larger sheet, noise, JPEG quality 50-85;
* ``photo_clean``: as ``photo`` without the gradient (flat light), to show what the gradient costs.

A quarter of the images are light ink on a dark surface (chalk on a board), the rest dark on light.
Run from the repository root (``python data/handwriting/make.py``); seed 2026 gives the committed files.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent
SEED = 2026
PER_DIGIT = 20

# x right, y down, unit box; each digit: list of ways to write it; each way: list of strokes
SKELETONS = {
    0: [[[(0.5, 0.02), (0.15, 0.2), (0.08, 0.55), (0.25, 0.92), (0.55, 0.98), (0.85, 0.75), (0.9, 0.35),
          (0.7, 0.06), (0.48, 0.04)]]],
    1: [[[(0.55, 0.02), (0.52, 0.5), (0.5, 0.98)]],
        [[(0.3, 0.2), (0.58, 0.02), (0.55, 0.5), (0.52, 0.98)]]],
    2: [[[(0.12, 0.25), (0.35, 0.03), (0.7, 0.05), (0.85, 0.3), (0.6, 0.6), (0.12, 0.96), (0.5, 0.94),
          (0.92, 0.95)]]],
    3: [[[(0.12, 0.12), (0.45, 0.02), (0.8, 0.12), (0.78, 0.35), (0.42, 0.48), (0.85, 0.62), (0.82, 0.88),
          (0.45, 0.98), (0.1, 0.88)]]],
    4: [[[(0.6, 0.02), (0.35, 0.35), (0.08, 0.68), (0.5, 0.68), (0.92, 0.66)], [(0.68, 0.3), (0.66, 0.98)]],
        [[(0.15, 0.02), (0.12, 0.55), (0.85, 0.55)], [(0.75, 0.04), (0.72, 0.98)]]],
    5: [[[(0.85, 0.04), (0.5, 0.04), (0.22, 0.05), (0.2, 0.45), (0.5, 0.38), (0.85, 0.55), (0.82, 0.85),
          (0.45, 0.98), (0.12, 0.86)]]],
    6: [[[(0.75, 0.03), (0.4, 0.2), (0.15, 0.6), (0.3, 0.95), (0.7, 0.92), (0.8, 0.65), (0.5, 0.5),
          (0.18, 0.65)]]],
    7: [[[(0.08, 0.06), (0.5, 0.04), (0.92, 0.05), (0.6, 0.5), (0.4, 0.98)]],
        [[(0.08, 0.06), (0.5, 0.04), (0.92, 0.05), (0.6, 0.5), (0.4, 0.98)], [(0.35, 0.5), (0.8, 0.48)]]],
    8: [[[(0.8, 0.15), (0.5, 0.02), (0.2, 0.18), (0.35, 0.42), (0.72, 0.6), (0.8, 0.86), (0.5, 0.98),
          (0.18, 0.85), (0.3, 0.6), (0.68, 0.4), (0.8, 0.15)]]],
    9: [[[(0.8, 0.25), (0.5, 0.04), (0.18, 0.2), (0.25, 0.45), (0.6, 0.45), (0.82, 0.22), (0.78, 0.6),
          (0.72, 0.98)]],
        [[(0.8, 0.2), (0.5, 0.03), (0.2, 0.2), (0.3, 0.45), (0.7, 0.4), (0.8, 0.2)], [(0.8, 0.2), (0.55, 0.98)]]],
}
PENS = {"fineliner": (0.035, 0.05), "ballpoint": (0.05, 0.15), "felt": (0.08, 0.2), "marker": (0.12, 0.25)}
CAPTURES = ("clean", "scan", "scan_tight", "photo", "photo_clean")


def catmull_rom(points, per_segment: int = 16) -> np.ndarray:
    """A smooth curve through ``points`` (the first and last repeated as end tangents)."""
    p = np.asarray(points, dtype=np.float64)
    p = np.vstack([p[0], p, p[-1]])
    out = []
    for i in range(1, len(p) - 2):
        t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
        a, b, c, d = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * b) + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t ** 2
                          + (-a + 3 * b - 3 * c + d) * t ** 3))
    out.append(p[-2][None, :])
    return np.vstack(out)


def draw_digit(rng, digit: int, pen: str, size: int = 256) -> np.ndarray:
    """Ink coverage in [0, 1] (size x size) of one hand-written ``digit``."""
    way = SKELETONS[digit][rng.integers(len(SKELETONS[digit]))]
    width, pressure_var = PENS[pen]
    slant, aspect, scale = rng.uniform(-0.25, 0.3), rng.uniform(0.75, 1.15), rng.uniform(0.55, 0.75)
    img = Image.new("L", (size, size), 0)
    drawer = ImageDraw.Draw(img)
    for stroke in way:
        pts = np.asarray(stroke) + rng.normal(0, 0.03, (len(stroke), 2))
        curve = catmull_rom(pts)
        x = (curve[:, 0] - 0.5) * aspect + slant * (0.5 - curve[:, 1])
        y = curve[:, 1] - 0.5
        xs, ys = size / 2 + x * scale * size, size / 2 + y * scale * size
        pressure = 1 + pressure_var * np.sin(np.linspace(0, np.pi * rng.uniform(1, 3), len(xs)) + rng.uniform(0, 6))
        for i in range(len(xs)):
            r = max(1.0, width * scale * size * pressure[i] / 2)
            drawer.ellipse([xs[i] - r, ys[i] - r, xs[i] + r, ys[i] + r], fill=255)
            if i:
                drawer.line([(xs[i - 1], ys[i - 1]), (xs[i], ys[i])], fill=255, width=int(2 * r))
    return np.asarray(img, dtype=np.float64) / 255.0


def _gradient(rng, h: int, w: int, span: float) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:h, 0:w]
    ramp = (np.cos(angle) * xs / w + np.sin(angle) * ys / h)
    ramp = (ramp - ramp.min()) / max(ramp.max() - ramp.min(), 1e-9)
    return span * (ramp - 0.5)


def capture(rng, ink: np.ndarray, kind: str, light_on_dark: bool) -> tuple[Image.Image, str]:
    """Paper, ink tone, lighting and camera/scanner for coverage ``ink``; the image and its file suffix."""
    paper, tone = (rng.uniform(20, 60), rng.uniform(190, 240)) if light_on_dark else \
        (rng.uniform(200, 250), rng.uniform(10, 80))
    if kind.startswith("photo"):  # the digit off-centre on a larger sheet, a small perspective tilt
        big = np.zeros((384, 384))
        oy, ox = rng.integers(20, 108, size=2)
        big[oy:oy + 256, ox:ox + 256] = ink
        sheet = Image.fromarray((big * 255).astype(np.uint8))
        c = rng.uniform(-0.0006, 0.0006, size=2)
        sheet = sheet.transform(sheet.size, Image.Transform.PERSPECTIVE,
                                (1, rng.uniform(-0.05, 0.05), 0, rng.uniform(-0.05, 0.05), 1, 0, c[0], c[1]),
                                Image.Resampling.BILINEAR)
        ink = np.asarray(sheet, dtype=np.float64) / 255.0
    gray = paper + (tone - paper) * ink
    if kind == "scan":
        blurred = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(1, 3)))
        gray = np.asarray(blurred, dtype=np.float64)
    if kind == "photo":
        gray = gray + _gradient(rng, *gray.shape, rng.uniform(40, 110))
    if kind != "clean":
        gray = gray + rng.normal(0, rng.uniform(2, 8), gray.shape)
    side = int(rng.integers(28, 65)) if kind in ("clean", "scan") else int(rng.integers(48, 97))
    if kind == "scan_tight":
        side = int(rng.integers(20, 41))
    h, w = gray.shape
    size = (side, side) if h == w else (max(4, round(side * w / max(h, w))), max(4, round(side * h / max(h, w))))
    img = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    return img, ".png" if kind == "clean" else ".jpg"


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for f in OUT.glob("hw-*"):
        f.unlink()
    for i in range(PER_DIGIT * 10):
        digit = i % 10
        pen = list(PENS)[rng.integers(len(PENS))]
        kind = CAPTURES[(i // 10) % len(CAPTURES)]
        light = bool(rng.random() < 0.25)
        img, suffix = capture(rng, draw_digit(rng, digit, pen), kind, light)
        name = f"hw-{i:03d}-{digit}{suffix}"
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(35, 86))) if suffix == ".jpg" else img.save(buf, "PNG")
        (OUT / name).write_bytes(buf.getvalue())
        rows.append({"file": name, "label": digit, "pen": pen, "capture": kind,
                     "polarity": "light-on-dark" if light else "dark-on-light", "pixels": f"{img.width}x{img.height}"})
    with open(OUT / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} images in {OUT}")


if __name__ == "__main__":
    main()
