"""Scene photos drawn procedurally: the 45° pipeline, the install environment, the running machine, the
commercial unit, fault-part close-ups, and the unrecognisable ones (covered lens, blank wall, extreme
close-up, a non-form photo in the form slot).

Each `draw_*` returns a float32 BGR image of the output size (before `camera.expose`) and facts for the
truth. Drawing is plain OpenCV (anti-aliased polygons, shaded cylinders, tubes with a highlight), at the
output resolution so that a 1600-px photo costs a fraction of a second.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from .camera import _smooth_field, background

Img = np.ndarray
AA = cv2.LINE_AA


def _u(size: tuple[int, int]) -> float:
    """Drawing unit: 1/1000 of the long side (so scenes look alike at every resolution)."""
    return max(size) / 1000.0


def _poly(img: Img, pts: Any, color: Any, shade: float = 1.0) -> None:
    cv2.fillPoly(img, [np.asarray(pts, np.int32)], [float(c) * shade for c in color], AA)


def _vgrad_rect(img: Img, x0: int, y0: int, x1: int, y1: int, top: Any, bottom: Any) -> None:
    x0, x1 = max(0, x0), min(img.shape[1], x1)
    y0, y1 = max(0, y0), min(img.shape[0], y1)
    if x1 <= x0 or y1 <= y0:
        return
    t = np.linspace(0, 1, y1 - y0, dtype=np.float32)[:, None, None]
    img[y0:y1, x0:x1] = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t


def _cylinder(img: Img, cx: int, y0: int, y1: int, r: int, color: Any, cap: bool = True) -> None:
    """A vertical cylinder lit from the left: horizontal shading across its width, elliptic caps."""
    x0, x1 = max(0, cx - r), min(img.shape[1], cx + r)
    if x1 <= x0:
        return
    xs = (np.arange(x0, x1, dtype=np.float32) - cx) / max(r, 1)
    shade = np.clip(0.55 + 0.55 * np.cos((xs + 0.35) * 1.4), 0.35, 1.15)
    band = np.asarray(color, np.float32)[None, :] * shade[:, None]
    ya, yb = max(0, y0), min(img.shape[0], y1)
    if yb > ya:
        img[ya:yb, x0:x1] = band[None, :, :]
    if cap:
        cv2.ellipse(img, (cx, y0), (r, max(2, r // 3)), 0, 0, 360, [float(c) * 1.1 for c in color], -1, AA)
        cv2.ellipse(img, (cx, y1), (r, max(2, r // 3)), 0, 0, 180, [float(c) * 0.7 for c in color], -1, AA)


def _tube(img: Img, pts: np.ndarray, color: Any, width: float) -> None:
    """A flexible tube along a polyline: dark rim, body, a thin highlight."""
    p = np.asarray(pts, np.float32).reshape(-1, 1, 2)
    w = max(2, int(width))
    cv2.polylines(img, [np.round(p * 16).astype(np.int32)], False, [float(c) * 0.55 for c in color], w + 2, AA, 4)
    cv2.polylines(img, [np.round(p * 16).astype(np.int32)], False, [float(c) for c in color], w, AA, 4)
    hl = p + np.array([-w * 0.22, -w * 0.22], np.float32)
    cv2.polylines(img, [np.round(hl * 16).astype(np.int32)], False, [min(255.0, float(c) * 1.35 + 40) for c in color],
                  max(1, w // 4), AA, 4)


def _rounded_orthogonal(points: list[tuple[float, float]], r: float) -> np.ndarray:
    """An axis-aligned path through ``points`` with its corners rounded (radius ``r``)."""
    out: list[tuple[float, float]] = [points[0]]
    for i in range(1, len(points) - 1):
        p0, p1, p2 = (np.array(points[j], np.float32) for j in (i - 1, i, i + 1))
        d0 = p1 - p0
        d1 = p2 - p1
        n0, n1 = np.linalg.norm(d0), np.linalg.norm(d1)
        if n0 < 1 or n1 < 1:
            continue
        rr = min(r, n0 / 2, n1 / 2)
        a, b = p1 - d0 / n0 * rr, p1 + d1 / n1 * rr
        for t in np.linspace(0, 1, 8):
            q = (1 - t) ** 2 * a + 2 * (1 - t) * t * p1 + t * t * b
            out.append((float(q[0]), float(q[1])))
    out.append(points[-1])
    return np.array(out, np.float32)


def _catmull(points: np.ndarray, n: int = 16) -> np.ndarray:
    p = np.vstack([points[:1], points, points[-1:]]).astype(np.float32)
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, n, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                              + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    out.append(p[-2])
    return np.array(out, np.float32)


def _purifier_box(img: Img, rng: np.random.Generator, x: int, y: int, w: int, h: int, depth: int,
                  color: Any) -> dict[str, tuple[int, int]]:
    """A purifier seen at about 45°: front face, side face to the right, top; returns port positions."""
    c = np.asarray(color, np.float32)
    _poly(img, [(x, y), (x + w, y), (x + w, y + h), (x, y + h)], c)
    _poly(img, [(x + w, y), (x + w + depth, y - depth // 2), (x + w + depth, y + h - depth // 2), (x + w, y + h)],
          c, 0.72)
    _poly(img, [(x, y), (x + depth, y - depth // 2), (x + w + depth, y - depth // 2), (x + w, y)], c, 1.08)
    # brand strip, indicator, vents
    cv2.rectangle(img, (x + w // 10, y + h // 8), (x + w * 9 // 10, y + h // 8 + max(3, h // 30)),
                  (150, 110, 40), -1, AA)
    cv2.circle(img, (x + w // 2, y + h // 3), max(3, w // 40), (60, 200, 60), -1, AA)
    for i in range(6):
        yy = y + h * 2 // 3 + i * max(3, h // 40)
        cv2.line(img, (x + w // 4, yy), (x + w * 3 // 4, yy), (c * 0.75).tolist(), max(1, h // 150), AA)
    ports = {f"p{i}": (x + w + depth // 2, y + h // 5 + i * h // 8 - depth // 4) for i in range(4)}
    return ports


def draw_pipeline_45(rng: np.random.Generator, size: tuple[int, int], *, messy: bool, busy: bool = False
                     ) -> tuple[Img, dict[str, Any]]:
    """The cabinet under the sink at 45°: purifier, angle valve, drain, and its tubing neat or messy.

    neat: straight runs with square (rounded) bends fixed by clips; busy: more tubes, still square;
    messy: loops, sagging runs and crossings.
    """
    W, H = size
    u = _u(size)
    img = background(rng, "wall", size)
    img *= np.array([0.92, 0.97, 1.02], np.float32)  # laminate back panel, a little warm
    # cabinet: left side panel and floor in perspective, front frame edges
    side = [(0, 0), (int(W * 0.14), int(H * 0.08)), (int(W * 0.14), int(H * 0.86)), (0, H)]
    _poly(img, side, (170, 185, 200))
    _poly(img, [(0, H), (int(W * 0.14), int(H * 0.86)), (W, int(H * 0.86)), (W, H)], (120, 140, 160))
    cv2.rectangle(img, (0, 0), (W, int(30 * u)), (90, 100, 110), -1)
    # sink drain: thick grey PVC from the top, a trap
    dx = int(W * rng.uniform(0.55, 0.75))
    drain = _rounded_orthogonal([(dx, 0), (dx, H * 0.35), (dx + 120 * u, H * 0.35), (dx + 120 * u, H * 0.86)],
                                40 * u)
    _tube(img, drain, (170, 170, 165), 46 * u)
    # angle valve (chrome) on the back wall
    vx, vy = int(W * rng.uniform(0.22, 0.35)), int(H * 0.22)
    cv2.rectangle(img, (vx - int(18 * u), vy - int(14 * u)), (vx + int(18 * u), vy + int(14 * u)), (200, 200, 205),
                  -1, AA)
    cv2.circle(img, (vx, vy - int(28 * u)), int(16 * u), (40, 60, 200), -1, AA)
    # the purifier and a pressure tank
    bx, by = int(W * rng.uniform(0.2, 0.3)), int(H * 0.5)
    bw, bh = int(W * 0.26), int(H * 0.34)
    ports = _purifier_box(img, rng, bx, by, bw, bh, int(bw * 0.35), (228, 228, 226))
    if rng.random() < 0.6:
        tx = int(W * 0.8)
        _cylinder(img, tx, int(H * 0.5), int(H * 0.84), int(70 * u), (60, 60, 62))
    colours = [(200, 120, 40), (235, 235, 235), (40, 40, 200), (230, 230, 230), (210, 150, 60), (60, 160, 60)]
    n_tubes = 6 if busy else 3
    tube_w = 11 * u
    paths = []
    for i in range(n_tubes):
        start = ports[f"p{i % 4}"]
        start = (start[0] + (i // 4) * 14 * u, start[1])
        if i == 0:
            end = (vx, vy + 14 * u)
        elif i == 1:
            end = (dx - 60 * u + 20 * u * (i % 2), 0)  # up to the faucet through the counter
        elif i == 2:
            end = (dx + 120 * u, H * 0.62)  # the drain saddle
        else:
            end = (W * rng.uniform(0.35, 0.95), 0)
        if not messy:
            x_lane = start[0] + (30 + 26 * i) * u
            pts = [start, (x_lane, start[1]), (x_lane, end[1] if i != 2 else start[1])]
            if i == 2:
                pts = [start, (x_lane, start[1]), (x_lane, H * 0.62 + 0.0), end]
            else:
                pts.append((end[0], pts[-1][1]) if abs(end[0] - x_lane) > 1 else end)
                pts.append(end)
            path = _rounded_orthogonal([(float(a), float(b)) for a, b in pts], 22 * u)
            paths.append(path)
        else:
            k = int(rng.integers(3, 6))
            mids = [(start[0] + (end[0] - start[0]) * t + rng.normal(0, W * 0.12),
                     start[1] + (end[1] - start[1]) * t + rng.normal(0, H * 0.12) + H * 0.12 * math.sin(t * math.pi))
                    for t in np.linspace(0.15, 0.85, k)]
            pts = np.array([start, *mids, end], np.float32)
            if i == 0 or rng.random() < 0.5:  # a coil / loop of surplus tube
                c = pts[len(pts) // 2]
                r = rng.uniform(40, 80) * u
                loop = [(c[0] + r * math.cos(a), c[1] + r * math.sin(a) + r) for a in np.linspace(-math.pi / 2,
                        1.5 * math.pi, 9)]
                pts = np.vstack([pts[:len(pts) // 2], loop, pts[len(pts) // 2:]])
            paths.append(_catmull(pts))
    for i, path in enumerate(paths):
        _tube(img, path, colours[i % len(colours)], tube_w)
        if not messy:  # clips every so often on straight runs
            for q in path[:: max(1, len(path) // 4)][1:-1]:
                cv2.rectangle(img, (int(q[0] - 7 * u), int(q[1] - 5 * u)), (int(q[0] + 7 * u), int(q[1] + 5 * u)),
                              (235, 235, 235), -1, AA)
    # clutter on the cabinet floor: a bottle, a box
    if rng.random() < 0.7:
        _cylinder(img, int(W * 0.9), int(H * 0.7), int(H * 0.88), int(28 * u), (60, 140, 220))
    return img, {"scene": "pipeline_45", "messy": messy, "busy": busy, "tubes": n_tubes}


def draw_install_env(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Img, dict[str, Any]]:
    """A kitchen: tiled wall, counter top, cabinet doors, the sink's faucet and the purifier's own faucet."""
    W, H = size
    u = _u(size)
    img = background(rng, "wall", size)
    tile = int(rng.uniform(70, 120) * u)
    wall_col = np.array([(235, 238, 240), (205, 220, 230), (225, 225, 215)][rng.integers(3)], np.float32)
    img[: int(H * 0.55)] = wall_col + _smooth_field(rng, W, int(H * 0.55), 4, 6)[..., None]
    for y in range(0, int(H * 0.55), tile):
        cv2.line(img, (0, y), (W, y), (wall_col * 0.8).tolist(), max(1, int(3 * u)), AA)
    for x in range(int(rng.integers(0, tile)), W, tile * 2):
        cv2.line(img, (x, 0), (x, int(H * 0.55)), (wall_col * 0.8).tolist(), max(1, int(3 * u)), AA)
    # counter top
    ct = np.array([(70, 70, 75), (200, 200, 195), (120, 130, 140)][rng.integers(3)], np.float32)
    _vgrad_rect(img, 0, int(H * 0.55), W, int(H * 0.62), ct * 1.1, ct * 0.9)
    speck = (rng.random((int(H * 0.07), W)) < 0.02).astype(np.float32) * 40
    img[int(H * 0.55):int(H * 0.55) + speck.shape[0]] += speck[..., None]
    # cabinet doors with handles
    door = np.array([(230, 230, 228), (80, 110, 150), (150, 150, 150)][rng.integers(3)], np.float32)
    _vgrad_rect(img, 0, int(H * 0.62), W, H, door, door * 0.85)
    n = int(rng.integers(2, 4))
    for i in range(1, n + 1):
        x = int(W * i / (n + 1))
        cv2.line(img, (x, int(H * 0.62)), (x, H), (door * 0.6).tolist(), max(2, int(4 * u)), AA)
        cv2.rectangle(img, (x - int(40 * u), int(H * 0.68)), (x - int(20 * u), int(H * 0.8)), (120, 120, 125), -1, AA)
    # sink faucet (chrome gooseneck) and the purifier faucet (slim)
    fx = int(W * rng.uniform(0.35, 0.55))
    for (x0, r, hgt) in ((fx, 22 * u, 0.33), (fx + int(180 * u), 10 * u, 0.22)):
        top = int(H * (0.55 - hgt))
        pts = _catmull(np.array([(x0, H * 0.55), (x0, top + 40 * u), (x0 + 50 * u, top), (x0 + 110 * u, top + 50 * u)],
                                np.float32))
        _tube(img, pts, (205, 205, 210), r)
    # a purifier standing on the counter (some models) or a kettle
    px = int(W * rng.uniform(0.68, 0.8))
    _purifier_box(img, rng, px, int(H * 0.3), int(W * 0.12), int(H * 0.25), int(W * 0.03), (240, 240, 238))
    return img, {"scene": "install_env"}


def _seven_seg(img: Img, text: str, x: int, y: int, h: int, color: Any) -> None:
    segs = {"0": "abcfed", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc", "5": "afgcd", "6": "afgedc",
            "7": "abc", "8": "abcdefg", "9": "abcdfg"}
    w = h // 2
    t = max(2, h // 8)
    for ch in text:
        on = segs.get(ch, "")
        pts = {"a": ((x, y), (x + w, y)), "b": ((x + w, y), (x + w, y + h // 2)),
               "c": ((x + w, y + h // 2), (x + w, y + h)), "d": ((x, y + h), (x + w, y + h)),
               "e": ((x, y + h // 2), (x, y + h)), "f": ((x, y), (x, y + h // 2)),
               "g": ((x, y + h // 2), (x + w, y + h // 2))}
        for s in on:
            cv2.line(img, pts[s][0], pts[s][1], color, t, AA)
        x += w + h // 3


def draw_machine_running(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Img, dict[str, Any]]:
    """The purifier's front with its lit display (TDS reading) and the purifier faucet running."""
    W, H = size
    u = _u(size)
    img = background(rng, "wall", size) * 0.95
    _vgrad_rect(img, 0, int(H * 0.72), W, H, (160, 165, 170), (120, 125, 130))
    x0 = int(W * rng.uniform(0.05, 0.3))
    x1 = x0 + int(W * rng.uniform(0.38, 0.5))
    y0, y1 = int(H * rng.uniform(0.05, 0.2)), int(H * rng.uniform(0.82, 0.95))
    body = np.array([(240, 240, 238), (60, 60, 64), (225, 228, 232)][rng.integers(3)], np.float32)
    cv2.rectangle(img, (x0, y0), (x1, y1), (body * 0.8).tolist(), -1, AA)
    cv2.rectangle(img, (x0 + int(8 * u), y0 + int(8 * u)), (x1 - int(8 * u), y1 - int(8 * u)), body.tolist(), -1, AA)
    # display panel, lit digits with a glow
    dx0, dy0, dx1, dy1 = x0 + int(60 * u), y0 + int(80 * u), x1 - int(60 * u), y0 + int(260 * u)
    cv2.rectangle(img, (dx0, dy0), (dx1, dy1), (30, 25, 20), -1, AA)
    lit = np.zeros_like(img)
    colour = [(255, 220, 80), (120, 255, 120), (255, 255, 255)][rng.integers(3)]
    tds = f"{int(rng.integers(3, 60)):03d}"
    _seven_seg(lit, tds, dx0 + int(30 * u), dy0 + int(40 * u), int(80 * u), colour)
    cv2.putText(lit, "TDS", (dx1 - int(70 * u), dy0 + int(45 * u)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * u, colour,
                max(1, int(3 * u)), AA)
    for i in range(3):
        cv2.circle(lit, (dx1 - int((40 + 40 * i) * u), dy1 - int(35 * u)), int(9 * u), colour, -1, AA)
    img += lit + cv2.GaussianBlur(lit, (0, 0), 12 * u) * 0.9
    # buttons
    for i in range(3):
        cv2.circle(img, (dx0 + int((60 + 110 * i) * u), dy1 + int(90 * u)), int(26 * u), (body * 0.85).tolist(),
                   -1, AA)
    # faucet and running water
    fx = int(min(W * 0.92, x1 + W * rng.uniform(0.08, 0.25)))
    spout = (fx + int(90 * u), int(H * 0.3))
    _tube(img, _catmull(np.array([(fx, H * 0.72), (fx, H * 0.25), (fx + 50 * u, H * 0.2), spout], np.float32)),
          (210, 210, 215), 16 * u)
    water = np.zeros((H, W), np.float32)
    ys = np.arange(spout[1], int(H * 0.72))
    xs = spout[0] + np.sin(ys / (18 * u)) * 2 * u
    for yy, xx in zip(ys, xs, strict=True):
        water[yy, int(xx - 6 * u):int(xx + 6 * u)] = 1.0
    water = cv2.GaussianBlur(water, (0, 0), 2 * u)
    img = img * (1 - 0.5 * water[..., None]) + water[..., None] * np.array([255, 245, 235], np.float32) * 0.5
    cv2.ellipse(img, (spout[0], int(H * 0.72)), (int(40 * u), int(10 * u)), 0, 0, 360, (250, 245, 240), 2, AA)
    return img, {"scene": "machine_running", "tds": tds}


def draw_machine_overall(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Img, dict[str, Any]]:
    """A commercial unit: steel frame, tall pressure vessels, control box with display, gauges, PVC pipes."""
    W, H = size
    u = _u(size)
    img = background(rng, "wall", size)
    # floor tiles in perspective
    _vgrad_rect(img, 0, int(H * 0.78), W, H, (150, 155, 160), (110, 115, 120))
    for i in range(-6, 12):
        cv2.line(img, (int(W / 2 + i * 140 * u), int(H * 0.78)), (int(W / 2 + i * 260 * u), H), (90, 95, 100),
                 max(1, int(2 * u)), AA)
    # frame
    fx0, fx1, fy0, fy1 = int(W * 0.12), int(W * 0.88), int(H * 0.1), int(H * 0.86)
    steel = (200, 200, 205)
    for x in (fx0, fx1):
        _cylinder(img, x, fy0, fy1, int(14 * u), steel, cap=False)
    cv2.rectangle(img, (fx0, fy1 - int(30 * u)), (fx1, fy1), (150, 150, 155), -1, AA)
    cv2.rectangle(img, (fx0, fy0), (fx1, fy0 + int(24 * u)), (170, 170, 175), -1, AA)
    # pressure vessels
    n = int(rng.integers(2, 4))
    vcol = [(160, 90, 30), (200, 200, 200), (60, 60, 60)][rng.integers(3)]
    for i in range(n):
        cx = int(fx0 + (fx1 - fx0) * (i + 0.7) / (n + 1.2))
        _cylinder(img, cx, int(H * 0.25), fy1 - int(30 * u), int(70 * u), vcol)
    # horizontal PVC manifold
    for j, y in enumerate((0.32, 0.55)):
        pts = np.array([(fx0, H * y), (fx1, H * y)], np.float32)
        _tube(img, pts, (200, 140, 60) if j else (190, 190, 190), 26 * u)
    # control box with display and gauges
    bx0, by0 = int(W * 0.62), int(H * 0.18)
    cv2.rectangle(img, (bx0, by0), (bx0 + int(220 * u), by0 + int(260 * u)), (230, 230, 228), -1, AA)
    cv2.rectangle(img, (bx0 + int(30 * u), by0 + int(30 * u)), (bx0 + int(190 * u), by0 + int(100 * u)),
                  (40, 90, 40), -1, AA)
    cv2.putText(img, f"{rng.uniform(0.3, 1.2):.2f}", (bx0 + int(45 * u), by0 + int(80 * u)),
                cv2.FONT_HERSHEY_SIMPLEX, 1.3 * u, (150, 255, 150), max(1, int(3 * u)), AA)
    for i in range(2):
        c = (int(fx0 + 120 * u + i * 130 * u), int(H * 0.45))
        cv2.circle(img, c, int(45 * u), (60, 60, 60), -1, AA)
        cv2.circle(img, c, int(40 * u), (245, 245, 245), -1, AA)
        a = rng.uniform(-2.2, 0.5)
        cv2.line(img, c, (int(c[0] + 34 * u * math.cos(a)), int(c[1] + 34 * u * math.sin(a))), (30, 30, 200),
                 max(1, int(3 * u)), AA)
    return img, {"scene": "machine_overall", "vessels": n}


def draw_fault_part(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Img, dict[str, Any]]:
    """A close-up of a faulty part inside the machine: booster pump, solenoid valve or filter housing."""
    W, H = size
    u = _u(size)
    img = background(rng, "machine", size) * 0.7
    part = ["pump", "valve", "housing"][int(rng.integers(3))]
    cx, cy = int(W * rng.uniform(0.4, 0.6)), int(H * rng.uniform(0.4, 0.6))
    if part == "pump":
        cv2.ellipse(img, (cx, cy), (int(320 * u), int(170 * u)), 0, 0, 360, (60, 60, 65), -1, AA)
        for i in range(-5, 6):
            x = cx + int(i * 50 * u)
            cv2.line(img, (x, cy - int(150 * u)), (x, cy + int(150 * u)), (90, 90, 95), max(2, int(8 * u)), AA)
        cv2.rectangle(img, (cx + int(300 * u), cy - int(110 * u)), (cx + int(460 * u), cy + int(110 * u)),
                      (215, 215, 215), -1, AA)
    elif part == "valve":
        cv2.rectangle(img, (cx - int(220 * u), cy - int(120 * u)), (cx + int(220 * u), cy + int(120 * u)),
                      (230, 230, 230), -1, AA)
        _cylinder(img, cx, cy - int(320 * u), cy - int(120 * u), int(110 * u), (40, 40, 45))
    else:
        _cylinder(img, cx, cy - int(330 * u), cy + int(300 * u), int(150 * u), (210, 200, 190))
        cv2.rectangle(img, (cx - int(200 * u), cy - int(380 * u)), (cx + int(200 * u), cy - int(300 * u)),
                      (235, 235, 235), -1, AA)
    for side in (-1, 1):
        pts = np.array([(cx + side * 200 * u, cy), (cx + side * 420 * u, cy + rng.normal(0, 40) * u),
                        (cx + side * 700 * u, cy + rng.normal(0, 120) * u)], np.float32)
        _tube(img, _catmull(pts), (230, 230, 230), 22 * u)
    # water drops / a wet patch (the leak)
    for _ in range(int(rng.integers(4, 12))):
        p = (int(cx + rng.normal(0, 160 * u)), int(cy + rng.uniform(0, 260) * u))
        r = int(rng.uniform(6, 16) * u)
        cv2.circle(img, p, r, (210, 200, 190), -1, AA)
        cv2.circle(img, (p[0] - r // 3, p[1] - r // 3), max(1, r // 3), (255, 255, 255), -1, AA)
    return img, {"scene": "fault_part", "part": part}


def draw_blank_wall(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Img, dict[str, Any]]:
    return background(rng, "wall", size), {"scene": "blank_wall"}


def draw_covered_lens(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Img, dict[str, Any]]:
    """A finger over the lens: near black with a warm, blurred glow from one edge."""
    W, H = size
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    edge = int(rng.integers(4))
    d = [xx / W, 1 - xx / W, yy / H, 1 - yy / H][edge]
    glow = np.exp(-d * rng.uniform(3, 6))
    img = glow[..., None] * np.array([40, 60, 150], np.float32) + 8
    return img, {"scene": "covered_lens"}


def draw_extreme_closeup(rng: np.random.Generator, scene: Img) -> tuple[Img, dict[str, Any]]:
    """A few percent of a scene blown up to the full frame (the phone held against the machine)."""
    H, W = scene.shape[:2]
    k = rng.uniform(0.06, 0.1)
    cw, ch = int(W * k), int(H * k)
    x, y = int(rng.integers(0, W - cw)), int(rng.integers(0, H - ch))
    crop = scene[y:y + ch, x:x + cw]
    up = cv2.resize(crop, (W, H), interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(up, (0, 0), max(W, H) / 400), {"scene": "extreme_closeup", "zoom": round(1 / k, 1)}


DRAW = {
    "pipeline_45": lambda rng, size, **kw: draw_pipeline_45(rng, size, **kw),
    "install_env": draw_install_env,
    "machine_running": draw_machine_running,
    "machine_overall": draw_machine_overall,
    "fault_part": draw_fault_part,
}
