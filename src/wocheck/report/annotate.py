"""Draw what was found on a photo: the inspectors' annotations, the findings' boxes, labels and a legend.

Used by ``wocheck inspect --annotate`` and by the reviewers' report (its thumbnails).

Coordinates
    Everything an inspector reports is in FULL-SIZE pixels of the photo in display orientation (EXIF
    orientation applied), origin top-left, x to the right, y down. The drawing is made on a reduced
    preview (``photo.preview_bgr(max_side)``) and every coordinate is multiplied by
    ``1 / photo.scale_to_full(preview)``.

Shapes (`wocheck.inspectors.base.Annotation`)
    - ``kind="box"``: ``points == ((x0, y0), (x1, y1))``, the TOP-LEFT and BOTTOM-RIGHT corners (not
      x, y, w, h). What is drawn is the axis-aligned rectangle bounding all the points, so swapped corners,
      or the four corners of a rectangle, draw the same box. `box_annotation` builds one from ``(x, y, w, h)``.
    - ``kind="polyline"``: an open line through the points (a pipe run, a form edge).
    - ``kind="polygon"``: a closed outline through the points (a detected form, a code's quadrilateral).
    ``ok=True`` draws green (found and fine), ``ok=False`` red (the problem). ``label`` (Chinese or English)
    is written next to the shape.

Findings
    A finding (``records.Finding``, or a ``records.Violation`` which has a verdict) whose ``evidence`` holds
    ``"box_px": [x, y, w, h]`` (full-size px, x/y the top-left corner) is drawn as a numbered box: red for a
    violation (a certain finding), amber for a review. Every finding, boxed or not, is listed under its number
    in the legend below the photo, in the given order.

Text is drawn with Pillow and a CJK font found at run time (Debian ``fonts-wqy-microhei``, installed by
``scripts/setup.sh``); without one, OpenCV's Hershey font writes ASCII and English messages are used.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from wocheck.inspectors.base import Annotation

if TYPE_CHECKING:
    from wocheck.io.images import BgrImage, DecodedPhoto

log = logging.getLogger(__name__)

# CJK fonts, tried in this order (Debian package paths); then any file fontconfig's usual folders hold
# whose name says CJK. The first that Pillow can open wins.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei (scripts/setup.sh)
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/truetype/arphic/ukai.ttc",  # fonts-arphic-ukai (scripts/setup.sh)
)
FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts")
FONT_NAME_HINTS: tuple[str, ...] = ("wqy", "cjk", "ukai", "uming", "simhei", "simsun", "msyh", "droidsansfallback")

# Colours, BGR (OpenCV order).
GREEN = (60, 160, 40)  # annotation ok=True: found and fine
RED = (40, 40, 210)  # annotation ok=False, and findings charged without review
AMBER = (0, 150, 235)  # findings that go to a reviewer
WHITE = (255, 255, 255)
INK = (30, 30, 30)
LEGEND_BG = (248, 248, 248)

# Sizes relative to the drawn image's long side (px per px), with floors so small thumbnails stay legible.
LINE_PER_SIDE = 1 / 450  # stroke width
LINE_MIN_PX = 2
FONT_PER_SIDE = 1 / 42  # label text height
FONT_MIN_PX = 20  # a 500-px thumbnail shown at ~400 px still reads its tags
LEGEND_FONT_PER_SIDE = 1 / 50
LEGEND_MAX_ROWS = 12  # further findings are summed up in one "… N more" row


class FindingLike(Protocol):
    """What `render_annotated` reads from a finding: ``records.Finding`` and ``records.Violation`` fit."""

    check: str
    evidence: dict[str, Any]
    message_zh: str
    message_en: str


def box_annotation(box: Sequence[float], label: str = "", *, ok: bool = False) -> Annotation:
    """An ``Annotation`` of kind ``"box"`` from ``(x, y, w, h)`` in full-size px (corners convention)."""
    x, y, w, h = (float(v) for v in box)
    return Annotation(kind="box", points=((x, y), (x + w, y + h)), label=label, ok=ok)


@lru_cache(maxsize=1)
def find_cjk_font() -> Path | None:
    """The first CJK-capable TrueType/OpenType font on this machine, or ``None``."""
    for cand in FONT_CANDIDATES:
        p = Path(cand)
        if p.is_file() and _font_opens(p):
            return p
    for root in FONT_DIRS:
        base = Path(root)
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if p.suffix.lower() in (".ttc", ".ttf", ".otf") and any(h in p.name.lower() for h in FONT_NAME_HINTS):
                if _font_opens(p):
                    return p
    log.info("no CJK font found: labels fall back to OpenCV's ASCII font")
    return None


def _font_opens(path: Path) -> bool:
    try:
        ImageFont.truetype(str(path), 12)
    except OSError:
        return False
    return True


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | None:
    path = find_cjk_font()
    if path is None:
        return None
    # BASIC layout: CJK and Latin need no shaping, and raqm fails on some inputs.
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


def _printable(text: str) -> str:
    """``text`` with control, format and unassigned characters (e.g. from a decoded barcode) as spaces."""
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)


@dataclass(frozen=True)
class _Mark:
    """One numbered finding: its box in drawn px (or None), its colour and its legend text."""

    number: int
    box: tuple[int, int, int, int] | None
    color: tuple[int, int, int]
    text: str


def _finding_color(f: FindingLike) -> tuple[int, int, int]:
    verdict = getattr(f, "verdict", None)
    if verdict is None:  # a Finding: uncertain ones go to review
        verdict = "violation" if getattr(f, "certain", True) else "review"
    return RED if verdict == "violation" else AMBER


def _box_px(evidence: dict[str, Any]) -> tuple[float, float, float, float] | None:
    raw = evidence.get("box_px") if isinstance(evidence, dict) else None
    if not isinstance(raw, list | tuple) or len(raw) != 4:
        return None
    try:
        x, y, w, h = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        return None
    return x, y, w, h


def _ascii(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def _text_size(text: str, size: int) -> tuple[int, int]:
    text = _printable(text)
    font = _font(size)
    if font is None:
        scale = size / 30
        (w, h), base = cv2.getTextSize(_ascii(text), cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, size // 14))
        return w, h + base
    left, top, right, bottom = font.getbbox(text)
    return int(right - min(0, left)), int(max(bottom, size))


class _Canvas:
    """A BGR image and the text queued for it: shapes drawn with OpenCV, text with Pillow at the end."""

    def __init__(self, img: BgrImage) -> None:
        self.img = np.ascontiguousarray(img.copy())
        self.texts: list[tuple[int, int, str, int, tuple[int, int, int]]] = []

    def label(self, x: int, y: int, text: str, size: int, bg: tuple[int, int, int], *, above: bool = True) -> None:
        """A text on a filled tag whose bottom-left (above=True) or top-left corner is (x, y), kept inside."""
        if not text:
            return
        h_img, w_img = self.img.shape[:2]
        tw, th = _text_size(text, size)
        pad = max(2, size // 5)
        w, h = tw + 2 * pad, th + 2 * pad
        x0 = int(min(max(0, x), max(0, w_img - w)))
        y0 = int(y - h if above else y)
        if y0 < 0:
            y0 = int(y) if above else 0
        y0 = int(min(max(0, y0), max(0, h_img - h)))
        cv2.rectangle(self.img, (x0, y0), (x0 + w, y0 + h), bg, thickness=-1)
        self.texts.append((x0 + pad, y0 + pad, _printable(text), size, WHITE))

    def text(self, x: int, y: int, text: str, size: int, color: tuple[int, int, int]) -> None:
        self.texts.append((x, y, _printable(text), size, color))

    def finish(self) -> BgrImage:
        if not self.texts:
            return self.img
        if _font(FONT_MIN_PX) is None:
            for x, y, text, size, color in self.texts:
                scale = size / 30
                (_, th), _ = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
                cv2.putText(self.img, _ascii(text), (x, y + th), cv2.FONT_HERSHEY_SIMPLEX, scale, color,
                            max(1, size // 14), cv2.LINE_AA)
            return self.img
        pil = Image.fromarray(self.img[:, :, ::-1])
        draw = ImageDraw.Draw(pil)
        for x, y, text, size, color in self.texts:
            font = _font(size)
            draw.text((x, y), text, font=font, fill=(color[2], color[1], color[0]))
        return np.ascontiguousarray(np.asarray(pil)[:, :, ::-1])


def _fit(text: str, size: int, width: int) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` px."""
    if _text_size(text, size)[0] <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _text_size(text[:mid] + "…", size)[0] <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def _draw_annotation(canvas: _Canvas, a: Annotation, k: float, line: int, font_px: int) -> None:
    pts = [(float(x) * k, float(y) * k) for x, y in a.points
           if math.isfinite(float(x)) and math.isfinite(float(y))]
    if not pts:
        return
    color = GREEN if a.ok else RED
    if a.kind == "box" and len(pts) >= 2:
        xs, ys = [x for x, _ in pts], [y for _, y in pts]
        x0, y0, x1, y1 = round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))
        cv2.rectangle(canvas.img, (x0, y0), (x1, y1), color, line, cv2.LINE_AA)
        anchor = (x0, y0)
    elif a.kind in ("polyline", "polygon") and len(pts) >= 2:
        arr = np.round(np.array(pts)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas.img, [arr], a.kind == "polygon", color, line, cv2.LINE_AA)
        top = min(range(len(pts)), key=lambda i: (pts[i][1], pts[i][0]))
        anchor = (round(pts[top][0]), round(pts[top][1]))
    else:  # a single point or an unknown kind: a ring where it is
        if a.kind not in ("box", "polyline", "polygon"):
            log.debug("unknown annotation kind %r drawn as points", a.kind)
        for x, y in pts:
            cv2.circle(canvas.img, (round(x), round(y)), 3 * line, color, line, cv2.LINE_AA)
        anchor = (round(pts[0][0]), round(pts[0][1]))
    canvas.label(anchor[0], anchor[1] - line, a.label, font_px, color)


def _legend(width: int, marks: Sequence[_Mark], annotations: Sequence[Annotation], lang: str,
            size: int) -> BgrImage:
    zh = lang == "zh" and _font(size) is not None
    rows: list[tuple[tuple[int, int, int] | None, str, str]] = []  # (swatch colour, tag, text)
    if any(a.ok for a in annotations):
        rows.append((GREEN, "", "绿色：已识别、合格" if zh else "green: found and fine"))
    if any(not a.ok for a in annotations):
        rows.append((RED, "", "红色：问题所在" if zh else "red: where the problem is"))
    shown = marks[:LEGEND_MAX_ROWS]
    for m in shown:
        rows.append((m.color, str(m.number), m.text))
    if len(marks) > len(shown):
        more = len(marks) - len(shown)
        rows.append((None, "", f"……另有 {more} 项" if zh else f"… {more} more"))
    if not rows:
        rows.append((None, "", "未发现问题" if zh else "nothing found"))
    pad = max(4, size // 2)
    row_h = size + pad
    img = np.full((pad + row_h * len(rows), width, 3), LEGEND_BG, dtype=np.uint8)
    canvas = _Canvas(img)
    for i, (color, tag, text) in enumerate(rows):
        y = pad // 2 + i * row_h + pad // 2
        x = pad
        if color is not None:
            cv2.rectangle(canvas.img, (x, y), (x + size, y + size), color, thickness=-1)
            if tag:
                tw, _ = _text_size(tag, max(FONT_MIN_PX - 2, size * 3 // 4))
                canvas.text(x + max(0, (size - tw) // 2), y + size // 8, tag,
                            max(FONT_MIN_PX - 2, size * 3 // 4), WHITE)
        x += size + pad
        canvas.text(x, y - size // 10, _fit(text, size, width - x - pad), size, INK)
    return canvas.finish()


def render_annotated(photo: DecodedPhoto, annotations: Iterable[Annotation], findings: Iterable[FindingLike],
                     max_side: int = 1600, *, lang: str = "zh", legend: bool = True,
                     numbers: Sequence[int] | None = None, preview: BgrImage | None = None) -> BgrImage:
    """The photo (long side ≤ ``max_side``) with annotations, numbered finding boxes and a legend below.

    Returns a new BGR ``uint8`` array (the photo's cached preview is not modified); with ``legend`` the
    array is taller than the preview by the legend's height. ``lang`` ("zh" or "en") picks the findings'
    messages and the legend's words. ``numbers`` gives each finding's tag (default 1, 2, 3…), e.g. its
    number in the order's list of findings. ``preview``: the picture to draw on (default
    ``photo.preview_bgr(max_side)``), e.g. ``photo.thumbnail_bgr(max_side)``.
    """
    if preview is None:
        preview = photo.preview_bgr(max_side)
    k = 1.0 / photo.scale_to_full(preview)
    h, w = preview.shape[:2]
    side = max(h, w)
    line = max(LINE_MIN_PX, round(side * LINE_PER_SIDE))
    font_px = max(FONT_MIN_PX, round(side * FONT_PER_SIDE))
    canvas = _Canvas(preview)
    anns = list(annotations)
    for a in anns:
        _draw_annotation(canvas, a, k, line, font_px)
    use_zh = lang == "zh" and _font(font_px) is not None
    marks: list[_Mark] = []
    found = list(findings)
    tags = list(numbers) if numbers is not None else list(range(1, len(found) + 1))
    if len(tags) != len(found):
        raise ValueError(f"{len(found)} findings but {len(tags)} numbers")
    for i, f in zip(tags, found, strict=True):
        box = _box_px(f.evidence)
        color = _finding_color(f)
        text = f"{f.message_zh if use_zh else f.message_en} ({f.check})"
        drawn: tuple[int, int, int, int] | None = None
        if box is not None:
            x, y, bw, bh = (v * k for v in box)
            drawn = (round(x), round(y), round(x + bw), round(y + bh))
            cv2.rectangle(canvas.img, drawn[:2], drawn[2:], color, line + 1, cv2.LINE_AA)
            canvas.label(drawn[0], drawn[1] - line, str(i), font_px, color)
        marks.append(_Mark(i, drawn, color, text))
    out = canvas.finish()
    if legend:
        size = max(FONT_MIN_PX, round(side * LEGEND_FONT_PER_SIDE))
        out = np.vstack([out, _legend(w, marks, anns, lang, size)])
    return out


def encode_image(img: BgrImage, fmt: str, *, jpeg_quality: int = 85) -> bytes:
    """``img`` encoded as ``"png"`` or ``"jpeg"`` bytes."""
    fmt = fmt.lower().lstrip(".")
    if fmt in ("jpg", "jpeg"):
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    elif fmt == "png":
        ok, buf = cv2.imencode(".png", img)
    else:
        raise ValueError(f"unsupported image format {fmt!r}: use png or jpeg")
    if not ok:  # pragma: no cover - OpenCV fails only on empty images
        raise ValueError("image could not be encoded")
    return bytes(buf)


def image_format_for(path: Path) -> str | None:
    """``"png"`` or ``"jpeg"`` from the file name's suffix, or ``None`` if it is neither."""
    suffix = path.suffix.lower()
    return {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}.get(suffix)


ANNOTATED_SUFFIX = ".annotated.png"  # a file per photo when --annotate names a folder


def annotation_targets(photos: Sequence[Path], dest: Path) -> list[Path]:
    """Where ``--annotate DEST`` draws each photo.

    One photo and ``DEST`` not an existing folder: ``DEST`` itself, which must end in ``.png``, ``.jpg`` or
    ``.jpeg``. Several photos (or ``DEST`` an existing folder): one ``<photo stem>.annotated.png`` per photo
    in the folder ``DEST``, made unique with ``-2``, ``-3``… when two photos share a name. Raises
    ``ValueError`` with a message for the user when ``DEST`` can't be used or would overwrite a photo.
    """
    if len(photos) == 1 and not dest.is_dir():
        if image_format_for(dest) is None:
            raise ValueError(f"--annotate {dest}: give a .png or .jpg file name (or a folder for several photos)")
        targets = [dest]
    else:
        if dest.exists() and not dest.is_dir():
            raise ValueError(f"--annotate {dest}: several photos need a folder, and {dest} is a file")
        used: set[str] = set()
        targets = []
        for p in photos:
            name = p.stem + ANNOTATED_SUFFIX
            n = 1
            while name.lower() in used:
                n += 1
                name = f"{p.stem}-{n}{ANNOTATED_SUFFIX}"
            used.add(name.lower())
            targets.append(dest / name)
    inputs = {p.resolve() for p in photos}
    for t in targets:
        if t.resolve() in inputs:
            raise ValueError(f"--annotate {t}: that is an input photo; choose another file name")
    return targets


def write_annotated(dest: Path, photo: DecodedPhoto, annotations: Iterable[Annotation],
                    findings: Iterable[FindingLike], max_side: int = 1600, *, lang: str = "zh") -> Path:
    """Draw ``photo`` with what was found (`render_annotated`) into ``dest`` (PNG or JPEG by its suffix)."""
    fmt = image_format_for(dest) or "png"
    img = render_annotated(photo, annotations, findings, max_side, lang=lang)
    write_bytes_atomic(dest, encode_image(img, fmt))
    return dest


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename (mode by umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
