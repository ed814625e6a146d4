"""Resolving a photo path from an order safely under the photo root.

A path in an order is data from outside: absolute paths, ``..`` and links that lead out of the root are
refused without reading the file. `resolve_photo` returns the real path or a `PathRefused` reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath


@dataclass(frozen=True)
class PathRefused:
    """Why a photo path was not used; ``kind`` is ``refused`` (unsafe) or ``missing``."""

    kind: str
    reason_zh: str
    reason_en: str


def resolve_photo(root: Path, rel: str) -> Path | PathRefused:
    """The file that ``rel`` names under ``root``, or why it can't be used.

    Refused: absolute (POSIX or Windows-style), drive letters, NUL bytes, any ``..`` component, and
    any path whose real location (symbolic links resolved) is outside ``root``. A path that does not
    exist (or is not a regular file) is ``missing``.
    """
    if "\x00" in rel or not rel.strip():
        return PathRefused("refused", "照片路径无效", "photo path is empty or contains a NUL byte")
    posix, win = PurePosixPath(rel), PureWindowsPath(rel)
    if posix.is_absolute() or win.is_absolute() or win.drive or rel.startswith(("\\", "/")):
        return PathRefused("refused", f"照片路径为绝对路径，已拒绝：{rel}", f"absolute photo path refused: {rel}")
    if ".." in posix.parts or ".." in win.parts:
        return PathRefused("refused", f"照片路径含“..”，已拒绝：{rel}", f"photo path with '..' refused: {rel}")
    root_real = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root_real / rel))
    if target != root_real and root_real not in target.parents:
        return PathRefused("refused", f"照片路径经链接指向照片目录之外，已拒绝：{rel}",
                           f"photo path leads out of the photo root through a link, refused: {rel}")
    if not target.exists():
        return PathRefused("missing", f"照片文件不存在：{rel}", f"photo file does not exist: {rel}")
    if not target.is_file():
        return PathRefused("missing", f"照片路径不是文件：{rel}", f"photo path is not a regular file: {rel}")
    return target
