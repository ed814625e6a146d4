"""Drawing annotations and findings on photos (src/wocheck/report/annotate.py) and `inspect --annotate`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from wocheck.cli import app
from wocheck.inspectors.base import Annotation
from wocheck.io.images import DecodedPhoto, load_photo
from wocheck.records import Finding
from wocheck.report import annotate as an

GREY = 128


def _grey_photo(path: Path, size: tuple[int, int] = (4000, 3000), *, orientation: int | None = None) -> DecodedPhoto:
    """A uniform grey photo (``size`` = stored width, height), saved as PNG (exact pixels)."""
    img = Image.new("RGB", size, (GREY, GREY, GREY))
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(path.with_suffix(".jpg"), "JPEG", quality=95, exif=exif.tobytes())
        return load_photo(path.with_suffix(".jpg"))
    img.save(path, "PNG")
    return load_photo(path)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> DecodedPhoto:
    """One 4000x3000 photo for the module (its previews are cached and read-only: tests can share it)."""
    return _grey_photo(tmp_path_factory.mktemp("annotate") / "p.png")


@pytest.fixture
def no_font() -> Iterator[None]:
    """Pretend no CJK font is installed (the Hershey fallback)."""
    an.find_cjk_font.cache_clear()
    an._font.cache_clear()
    orig = an.find_cjk_font
    an.find_cjk_font = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        an.find_cjk_font = orig  # type: ignore[assignment]
        an._font.cache_clear()


def _is(px: np.ndarray, bgr: tuple[int, int, int], tol: int = 40) -> bool:
    return bool(np.all(np.abs(px.astype(int) - np.array(bgr)) <= tol))


def _finding(box: list[float] | None, *, certain: bool = True, check: str = "form.field_blank") -> Finding:
    return Finding(check=check, message_zh="服务单“客户签字”栏为空", message_en="Customer signature is blank",
                   evidence={"box_px": box} if box is not None else {}, certain=certain)


def test_box_is_drawn_where_it_is_in_full_size_pixels(photo: DecodedPhoto) -> None:
    box = an.box_annotation((1000, 1000, 1000, 800), "服务单", ok=True)
    assert box.points == ((1000.0, 1000.0), (2000.0, 1800.0))
    out = an.render_annotated(photo, [box], [], max_side=1600, legend=False)
    assert out.shape == (1200, 1600, 3)
    k = 1600 / 4000
    assert _is(out[round(1400 * k), round(1000 * k)], an.GREEN)  # left edge
    assert _is(out[round(1400 * k), round(2000 * k)], an.GREEN)  # right edge
    assert _is(out[round(1400 * k), round(1500 * k)], (GREY, GREY, GREY), tol=2)  # inside: the photo
    assert _is(out[round(1400 * k), round(2200 * k)], (GREY, GREY, GREY), tol=2)  # outside


@pytest.mark.parametrize("max_side", [400, 800, 1600])
def test_coordinates_scale_with_the_preview(photo: DecodedPhoto, max_side: int) -> None:
    out = an.render_annotated(photo, [an.box_annotation((2000, 600, 1200, 1500), ok=False)], [],
                              max_side=max_side, legend=False)
    k = max_side / 4000
    assert out.shape[1] == max_side
    assert _is(out[round(1300 * k), round(2000 * k)], an.RED)
    assert _is(out[round(1300 * k), round(3200 * k)], an.RED)


def test_swapped_corners_and_four_corners_draw_the_same_box(photo: DecodedPhoto) -> None:
    a = an.render_annotated(photo, [Annotation("box", ((500, 400), (1500, 1200)))], [], 800, legend=False)
    b = an.render_annotated(photo, [Annotation("box", ((1500, 1200), (500, 400)))], [], 800, legend=False)
    c = an.render_annotated(photo, [Annotation("box", ((500, 400), (1500, 400), (1500, 1200), (500, 1200)))],
                            [], 800, legend=False)
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_polyline_and_polygon(photo: DecodedPhoto) -> None:
    line = Annotation("polyline", ((0, 2000), (4000, 2000)), "管线", ok=False)
    poly = Annotation("polygon", ((400, 400), (3600, 400), (3600, 2600), (400, 2600)), ok=True)
    out = an.render_annotated(photo, [line, poly], [], 800, legend=False)
    k = 800 / 4000
    assert _is(out[round(2000 * k), round(3000 * k)], an.RED)
    assert _is(out[round(1000 * k), round(3600 * k)], an.GREEN)  # the closing side of the polygon
    open_line = an.render_annotated(photo, [Annotation("polyline", poly.points, ok=True)], [], 800, legend=False)
    assert _is(open_line[round(1000 * k), round(400 * k)], (GREY, GREY, GREY), tol=2)  # not closed


def test_findings_boxes_red_or_amber_and_listed_in_the_legend(photo: DecodedPhoto) -> None:
    fs = [_finding([800, 800, 800, 400]), _finding([2400, 1600, 800, 800], certain=False, check="form.blur"),
          _finding(None, check="form.nobox")]
    out = an.render_annotated(photo, [], fs, 800)
    k = 800 / 4000
    assert out.shape[0] > 600 and out.shape[1] == 800  # the legend below the photo
    assert _is(out[round(1000 * k), round(800 * k)], an.RED)
    assert _is(out[round(2000 * k), round(2400 * k)], an.AMBER)
    legend = out[600:]
    # one swatch per finding, in its colour, in the given order (boxed or not)
    reds = np.where(np.all(np.abs(legend[:, :40].astype(int) - np.array(an.RED)) < 30, axis=2).any(axis=1))[0]
    ambers = np.where(np.all(np.abs(legend[:, :40].astype(int) - np.array(an.AMBER)) < 30, axis=2).any(axis=1))[0]
    assert reds.size and ambers.size and reds.min() < ambers.min() < reds.max()


def test_violation_verdict_sets_the_colour(photo: DecodedPhoto) -> None:
    from wocheck.records import Violation

    v = Violation(order_id="WO1", clause=46, check="pipes.messy", verdict="review", confidence=0.7,
                  evidence={"box_px": [800, 800, 800, 400]}, message_zh="管线散乱", message_en="messy")
    out = an.render_annotated(photo, [], [v], 800, legend=False)
    assert _is(out[round(1000 * 0.2), round(800 * 0.2)], an.AMBER)


def test_preview_cache_is_not_modified(photo: DecodedPhoto) -> None:
    before = photo.preview_bgr(800).copy()
    an.render_annotated(photo, [an.box_annotation((0, 0, 4000, 3000))], [_finding([10, 10, 100, 100])], 800)
    assert np.array_equal(photo.preview_bgr(800), before)


def test_chinese_label_is_drawn_with_the_cjk_font(photo: DecodedPhoto) -> None:
    if an.find_cjk_font() is None:
        pytest.skip("no CJK font installed (scripts/setup.sh installs fonts-wqy-microhei)")
    plain = an.render_annotated(photo, [Annotation("box", ((1000, 1000), (2000, 2000)), "", ok=True)], [], 800,
                                legend=False)
    labelled = an.render_annotated(photo, [Annotation("box", ((1000, 1000), (2000, 2000)), "服务单", ok=True)],
                                   [], 800, legend=False)
    tag = labelled[100:200, 200:400]  # above the box's top-left corner (200, 200) in preview px
    diff = np.any(labelled != plain, axis=2)
    assert diff[100:200, 200:400].sum() > 200
    assert (tag.min(axis=2) > 230).sum() > 20  # white text on the green tag


def test_without_a_font_ascii_fallback_still_draws(photo: DecodedPhoto, no_font: None) -> None:
    assert an.find_cjk_font() is None
    out = an.render_annotated(photo, [Annotation("box", ((1000, 1000), (2000, 2000)), "服务单 form", ok=True)],
                              [_finding([2400, 400, 400, 400])], 800)
    assert out.shape[1] == 800 and out.shape[0] > 600
    assert _is(out[300, 200], an.GREEN)


def test_exif_orientation_display_coordinates(tmp_path: Path) -> None:
    # Stored 400x300, orientation 6: displayed 300 wide and 400 high; annotations are in display pixels.
    photo = _grey_photo(tmp_path / "r.png", (400, 300), orientation=6)
    assert (photo.width, photo.height) == (300, 400)
    out = an.render_annotated(photo, [an.box_annotation((50, 250, 200, 100), ok=False)], [], 400, legend=False)
    assert out.shape[:2] == (400, 300)
    assert _is(out[300, 50], an.RED) and _is(out[300, 250], an.RED)


_SMALL: list[DecodedPhoto] = []


def _small_photo() -> DecodedPhoto:
    """A 400x300 photo made once (kept out of Hypothesis' arguments: its repr would be huge)."""
    if not _SMALL:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            _SMALL.append(_grey_photo(Path(d) / "s.png", (400, 300)))
    return _SMALL[0]


@settings(max_examples=40, deadline=None)
@given(pts=st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True, width=32),
                              st.floats(allow_nan=True, allow_infinity=True, width=32)), max_size=5),
       kind=st.sampled_from(["box", "polyline", "polygon", "circle"]),
       box=st.one_of(st.none(), st.lists(st.one_of(st.floats(width=32), st.text(max_size=2)), max_size=5)),
       label=st.text(max_size=30))
def test_any_shape_or_evidence_never_breaks_the_drawing(pts: list[tuple[float, float]], kind: str,
                                                       box: list[object] | None, label: str) -> None:
    photo = _small_photo()
    pts = [(max(-1e6, min(1e6, x)) if np.isfinite(x) else x, max(-1e6, min(1e6, y)) if np.isfinite(y) else y)
           for x, y in pts]  # far outside the photo, but within what OpenCV's int32 coordinates hold
    f = Finding(check="x.y", message_zh=label, message_en=label, evidence={"box_px": box})
    out = an.render_annotated(photo, [Annotation(kind, tuple(pts), label)], [f], 300)
    assert out.dtype == np.uint8 and out.shape[1] == 300 and out.shape[0] >= 225


def test_encode_and_format() -> None:
    img = np.zeros((10, 20, 3), np.uint8)
    assert an.encode_image(img, "png").startswith(b"\x89PNG")
    assert an.encode_image(img, "jpeg").startswith(b"\xff\xd8")
    with pytest.raises(ValueError):
        an.encode_image(img, "gif")
    assert an.image_format_for(Path("a.PNG")) == "png" and an.image_format_for(Path("a.jpeg")) == "jpeg"
    assert an.image_format_for(Path("a.tif")) is None


def test_annotation_targets(tmp_path: Path) -> None:
    a, b, c = tmp_path / "x" / "f.jpg", tmp_path / "y" / "f.jpg", tmp_path / "g.jpg"
    assert an.annotation_targets([a], tmp_path / "o.png") == [tmp_path / "o.png"]
    with pytest.raises(ValueError, match="png"):
        an.annotation_targets([a], tmp_path / "o.gif")
    with pytest.raises(ValueError, match="input photo"):
        an.annotation_targets([c], c)
    out = tmp_path / "out"
    assert an.annotation_targets([a, b, c], out) == [out / "f.annotated.png", out / "f-2.annotated.png",
                                                     out / "g.annotated.png"]
    out.mkdir()
    assert an.annotation_targets([a], out) == [out / "f.annotated.png"]  # an existing folder: folder mode
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(ValueError, match="folder"):
        an.annotation_targets([a, b], tmp_path / "file.png")


def test_cli_inspect_annotate_one_photo_and_several(tmp_path: Path) -> None:
    runner = CliRunner()
    p, q = tmp_path / "a.jpg", tmp_path / "b.jpg"
    for path, shade in ((p, 60), (q, 200)):
        Image.new("RGB", (800, 600), (shade, shade, shade)).save(path, "JPEG")
    res = runner.invoke(app, ["inspect", str(p), "--slot", "install_env", "--annotate", str(tmp_path / "o.png")])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(res.output.splitlines()[0])
    assert doc["annotated"] == str(tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as im:
        assert im.format == "PNG" and im.width == 800 and im.height > 600  # the photo plus its legend
    res = runner.invoke(app, ["inspect", str(p), str(q), "--slot", "install_env", "--annotate", str(tmp_path / "d")])
    docs = [json.loads(x) for x in res.output.splitlines()]
    assert [Path(d["annotated"]).name for d in docs] == ["a.annotated.png", "b.annotated.png"]
    assert all(Path(d["annotated"]).is_file() for d in docs)
    res = runner.invoke(app, ["inspect", str(p), "--slot", "install_env", "--annotate", str(tmp_path / "o.bmp")])
    assert res.exit_code == 2 and not (tmp_path / "o.bmp").exists()
