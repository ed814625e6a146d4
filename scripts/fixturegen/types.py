"""Types shared by the fixture factory's parts: flat objects (what a renderer draws) and truth records.

A renderer (form.py, nameplate.py) draws a *flat object* -- the filled paper form, the nameplate sticker
on its patch of machine body -- at a fixed resolution, with object-level defects already in it (blank
fields, stains, torn corner, codes cut off on the sticker, ...). `camera.py` then photographs it: places
it in a background scene with perspective, rotation, framing, lighting, blur, noise, exposure and JPEG,
applying the photographic defects (out of frame, blur, dark, overexposed, glare).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FlatObject:
    """A rendered object before it is photographed.

    image: HxWx3 uint8, BGR. alpha: HxW uint8 (255 = object, 0 = transparent, e.g. a torn-off corner),
    or None for a fully opaque rectangle. regions: named boxes [x, y, w, h] in object pixels (field boxes,
    code boxes) so that the truth can say where a defect is. info: free-form facts for the truth file.
    """

    kind: str  # "form" | "nameplate"
    image: np.ndarray
    alpha: np.ndarray | None = None
    regions: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Defect:
    """One injected defect: fixture-side name, the clause it breaks, where (slot/photo) and details."""

    defect: str
    clause: int
    slot: str | None = None
    photo: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"defect": self.defect, "clause": self.clause}
        if self.slot:
            d["slot"] = self.slot
        if self.photo:
            d["photo"] = self.photo
        if self.detail:
            d["detail"] = self.detail
        return d
