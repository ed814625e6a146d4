"""Service-form layouts as data: the JSON beside the print master, typed and validated.

A layout (``models/forms/*.json``) gives the page size in millimetres, the four ArUco markers (dictionary,
size, which id sits in which corner and where), and each field: its value box, its label box, its kind
(``text`` | ``choice`` | ``signature``), the option boxes of a choice, and which order types require it
(``"always"``, ``"never"`` or a list of order types). Another form version works by adding its JSON and
PNG and naming it in ``[forms]`` of the config: nothing here knows the NVK form.

Coordinates are millimetres from the page's top-left corner; a box is ``(x, y, width, height)``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wocheck.config import Config, load_json
from wocheck.errors import ConfigError
from wocheck.records import OrderType

Box = tuple[float, float, float, float]
Corner = Literal["top_left", "top_right", "bottom_right", "bottom_left"]
CORNERS: tuple[Corner, ...] = ("top_left", "top_right", "bottom_right", "bottom_left")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MarkerSpec(_Strict):
    """The page's fiducials: an ArUco dictionary, the marker side, and each corner's id and position."""

    dictionary: str = Field(pattern=r"^DICT_\w+$")
    size_mm: float = Field(gt=0)
    ids: dict[Corner, int]
    origin_mm: dict[Corner, tuple[float, float]]  # the marker's own top-left corner on the page

    @model_validator(mode="after")
    def _complete(self) -> MarkerSpec:
        if set(self.ids) != set(self.origin_mm):
            raise ValueError("markers: ids and origin_mm must name the same corners")
        if len(set(self.ids.values())) != len(self.ids):
            raise ValueError("markers: two corners share one id")
        return self

    def corners_mm(self, marker_id: int) -> NDArray[np.float32]:
        """The 4 corners of marker ``marker_id`` on the page (TL, TR, BR, BL of the marker), in mm."""
        corner = next(c for c, i in self.ids.items() if i == marker_id)
        x, y = self.origin_mm[corner]
        s = self.size_mm
        return np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], dtype=np.float32)

    def box_mm(self, corner: Corner) -> Box:
        x, y = self.origin_mm[corner]
        return (x, y, self.size_mm, self.size_mm)


class OptionSpec(_Strict):
    value: str
    label: str
    box: Box


class FieldSpec(_Strict):
    """One field of the form; ``box`` excludes its printed border line."""

    key: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    kind: Literal["text", "choice", "signature"]
    label_box: Box
    box: Box
    required: Literal["always", "never"] | list[OrderType]
    options: list[OptionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _choice_has_options(self) -> FieldSpec:
        if self.kind == "choice" and not self.options:
            raise ValueError(f"field {self.key}: a choice needs options")
        return self

    def required_for(self, order_type: OrderType | None) -> bool:
        """Whether an order of ``order_type`` requires this field (``None``: no order, "always" only)."""
        if self.required == "always":
            return True
        if self.required == "never" or order_type is None:
            return False
        return order_type in self.required


class FormLayout(_Strict):
    form_id: str
    version: int
    title: str = ""
    page_mm: tuple[float, float]
    print_dpi: float = Field(gt=0)
    markers: MarkerSpec
    fields: list[FieldSpec]
    master_path: Path | None = None  # the print master (PNG beside the JSON), set by `load_layout`

    @field_validator("fields")
    @classmethod
    def _unique(cls, v: list[FieldSpec]) -> list[FieldSpec]:
        keys = [f.key for f in v]
        if len(keys) != len(set(keys)):
            raise ValueError("fields: duplicate keys")
        return v

    @property
    def marker_ids(self) -> set[int]:
        return set(self.markers.ids.values())

    def required_fields(self, order_type: OrderType | None) -> list[FieldSpec]:
        return [f for f in self.fields if f.required_for(order_type)]

    def page_corners_mm(self) -> NDArray[np.float32]:
        w, h = self.page_mm
        return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)


@lru_cache(maxsize=8)
def load_layout(path: Path) -> FormLayout:
    """Read and validate a layout JSON; its print master is the ``.png`` of the same name, if present."""
    raw = load_json(path)
    png = path.with_suffix(".png")
    try:
        return FormLayout.model_validate({**raw, "master_path": png if png.is_file() else None})
    except ValidationError as e:
        raise ConfigError(f"form layout {path} is invalid: {e}") from e


def layout_for(cfg: Config, form_id: str | None = None) -> FormLayout:
    """The layout of ``form_id`` (default: the config's default form)."""
    return load_layout(cfg.form_layout_path(form_id))


@lru_cache(maxsize=8)
def master_at(path: Path, px_per_mm: float, page_mm: tuple[float, float], dpi: float) -> NDArray[np.uint8]:
    """The print master as grey, resampled to ``px_per_mm`` (area averaging), read-only and cached."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ConfigError(f"form print master {path} can't be read")
    size = (round(page_mm[0] * px_per_mm), round(page_mm[1] * px_per_mm))
    out = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    out.setflags(write=False)
    return out
