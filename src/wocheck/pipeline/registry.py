"""Which inspector looks at which slot, and which checks combine an order's photos.

The one place that knows every inspector: adding one is a line here, not a change in the pipeline.
Inspectors are imported lazily so that a command pays only for the engines it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

from wocheck.records import Slot

if TYPE_CHECKING:
    from wocheck.inspectors.base import PhotoInspector

# slot -> [(name, "module:function")], each ``(DecodedPhoto, PhotoContext) -> InspectorOutput``
_PHOTO: dict[Slot, list[tuple[str, str]]] = {
    Slot.service_form: [("form", "wocheck.inspectors.form:inspect_form")],
    Slot.code_label: [("codes", "wocheck.inspectors.codes:inspect_code_label")],
    Slot.pipeline_45: [("scenes", "wocheck.inspectors.scenes:inspect_scene"),
                       ("pipes", "wocheck.inspectors.pipes:inspect_pipes")],
    Slot.install_env: [("scenes", "wocheck.inspectors.scenes:inspect_scene")],
    Slot.machine_running: [("scenes", "wocheck.inspectors.scenes:inspect_scene")],
    Slot.machine_overall: [("scenes", "wocheck.inspectors.scenes:inspect_scene")],
    Slot.fault_part: [("scenes", "wocheck.inspectors.scenes:inspect_scene")],
}

# Inspectors that look at every photo whatever its slot (hashes, capture metadata), run before the slot's.
_EVERY_PHOTO: list[tuple[str, str]] = [
    ("authenticity.hash", "wocheck.inspectors.authenticity:hash_photo"),
]

# [(name, "module:function")], each ``(order, cfg, photo_results) -> list[Finding]``: checks that combine
# an order's photos (codes read on several label photos, capture times and places).
_ORDER: list[tuple[str, str]] = [
    ("authenticity.capture", "wocheck.inspectors.authenticity:check_capture"),
    ("codes", "wocheck.inspectors.codes:check_codes"),
]


# slot -> ["module:function"], each ``(cfg) -> None``: start a slow one-time set-up (a model load) in the
# background before an order with a photo in that slot is inspected; never changes what is found.
_WARM_UP: dict[Slot, list[str]] = {
    Slot.code_label: ["wocheck.inspectors.codes:warm_up"],
}


def _resolve(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(import_module(module), attr)


def photo_inspectors(slot: Slot) -> list[tuple[str, PhotoInspector]]:
    return [(name, _resolve(ref)) for name, ref in [*_EVERY_PHOTO, *_PHOTO[slot]]]


def order_combiners() -> list[tuple[str, Callable[..., Sequence[Any]]]]:
    return [(name, _resolve(ref)) for name, ref in _ORDER]


def warm_ups(slots: Iterable[Slot]) -> list[Callable[..., None]]:
    """The warm-up functions for an order whose photos are in ``slots`` (each once, registry order)."""
    wanted = set(slots)
    refs = dict.fromkeys(ref for slot, rs in _WARM_UP.items() if slot in wanted for ref in rs
                         if any(ref.partition(":")[0] == m.partition(":")[0] for _, m in _PHOTO.get(slot, [])))
    return [_resolve(ref) for ref in refs]


def load_all() -> None:
    """Import every registered inspector and combiner now (a long-lived worker, before its first task)."""
    for slot in _PHOTO:
        photo_inspectors(slot)
    order_combiners()


def has_inspector(slot: Slot) -> bool:
    return bool(_PHOTO[slot])


Snapshot = tuple[dict[Slot, list[tuple[str, str]]], list[tuple[str, str]], list[tuple[str, str]]]


def snapshot() -> Snapshot:
    """The registry as plain data, so that worker processes run exactly the parent's inspectors."""
    return ({s: list(v) for s, v in _PHOTO.items()}, list(_EVERY_PHOTO), list(_ORDER))


def restore(snap: Snapshot) -> None:
    """Make this process's registry the one `snapshot` took (called in each worker process)."""
    photo, every, order = snap
    _PHOTO.clear()
    _PHOTO.update({s: list(v) for s, v in photo.items()})
    _EVERY_PHOTO[:] = every
    _ORDER[:] = order
