"""Which inspector looks at which slot, and which checks combine an order's photos.

The one place that knows every inspector: adding one is a line here, not a change in the pipeline.
Inspectors are imported lazily so that a command pays only for the engines it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

from wocheck.records import Slot

if TYPE_CHECKING:
    from wocheck.inspectors.base import PhotoInspector

# slot -> [(name, "module:function")]
_PHOTO: dict[Slot, list[tuple[str, str]]] = {slot: [] for slot in Slot}

# [(name, "module:function")], each ``(order, cfg, photo_results) -> list[Finding]``
_ORDER: list[tuple[str, str]] = []


def _resolve(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(import_module(module), attr)


def photo_inspectors(slot: Slot) -> list[tuple[str, PhotoInspector]]:
    return [(name, _resolve(ref)) for name, ref in _PHOTO[slot]]


def order_combiners() -> list[tuple[str, Callable[..., Sequence[Any]]]]:
    return [(name, _resolve(ref)) for name, ref in _ORDER]


def has_inspector(slot: Slot) -> bool:
    return bool(_PHOTO[slot])
