"""What every photo inspector takes and returns.

An inspector is a function ``(photo, ctx) -> InspectorOutput``: a decoded photo and its order context
in, findings (no clause, no verdict) and measurements out. It reads nothing from disk but through the
`DecodedPhoto` it is given, writes nothing, and never imports another inspector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wocheck.config import Config
from wocheck.records import Finding, Order, Slot

if TYPE_CHECKING:
    from wocheck.io.images import DecodedPhoto


@dataclass(frozen=True)
class Annotation:
    """A shape to draw on the photo for a reviewer, points in full-size px (display orientation).

    ``"box"``: two points, the top-left and bottom-right corners ``((x0, y0), (x1, y1))`` — not (x, y, w, h);
    `wocheck.report.annotate.box_annotation` builds one from an (x, y, w, h) box. ``"polyline"``: an open
    line through the points; ``"polygon"``: a closed outline. Drawn by `wocheck.report.annotate`.
    """

    kind: str  # "box" | "polyline" | "polygon"
    points: tuple[tuple[float, float], ...]
    label: str = ""
    ok: bool = False  # green when True, red otherwise


@dataclass(frozen=True)
class PhotoContext:
    """The order a photo belongs to (``None`` for `wocheck inspect` without an order) and the config."""

    order: Order | None
    cfg: Config
    slot: Slot
    file: str


@dataclass(frozen=True)
class InspectorOutput:
    findings: tuple[Finding, ...] = ()
    measurements: dict[str, Any] = field(default_factory=dict)
    annotations: tuple[Annotation, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # for order-level combining (e.g. codes read)


PhotoInspector = Callable[["DecodedPhoto", PhotoContext], InspectorOutput]
