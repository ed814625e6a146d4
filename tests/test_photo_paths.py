"""Photo paths from orders never lead out of the photo root."""

from __future__ import annotations

from pathlib import Path

import pytest

from wocheck.io.photos import PathRefused, resolve_photo


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    r = tmp_path / "photos"
    (r / "WO1").mkdir(parents=True)
    (r / "WO1" / "a.jpg").write_bytes(b"x")
    (tmp_path / "secret.jpg").write_bytes(b"s")
    return r


def test_plain_relative_path_resolves(root: Path) -> None:
    assert resolve_photo(root, "WO1/a.jpg") == (root / "WO1" / "a.jpg").resolve()


@pytest.mark.parametrize("rel", ["/etc/passwd", "../secret.jpg", "WO1/../../secret.jpg", "C:\\x.jpg",
                                 "\\\\server\\share\\x.jpg", "WO1\\..\\..\\secret.jpg", "", "a\x00b"])
def test_unsafe_paths_refused(root: Path, rel: str) -> None:
    r = resolve_photo(root, rel)
    assert isinstance(r, PathRefused) and r.kind == "refused"


def test_symlink_out_of_root_refused_inside_ok(root: Path) -> None:
    (root / "WO1" / "evil.jpg").symlink_to(root.parent / "secret.jpg")
    (root / "WO1" / "alias.jpg").symlink_to(root / "WO1" / "a.jpg")
    (root / "up").symlink_to(root.parent)
    assert isinstance(resolve_photo(root, "WO1/evil.jpg"), PathRefused)
    assert isinstance(resolve_photo(root, "up/secret.jpg"), PathRefused)
    assert resolve_photo(root, "WO1/alias.jpg") == (root / "WO1" / "a.jpg").resolve()


def test_missing_and_directory_are_missing(root: Path) -> None:
    for rel in ("WO1/none.jpg", "WO1"):
        r = resolve_photo(root, rel)
        assert isinstance(r, PathRefused) and r.kind == "missing"
