"""Inspectors that fail on purpose (fault injection for the executor's tests): crash, hang, raise."""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from pathlib import Path

from wocheck.inspectors.base import InspectorOutput, PhotoContext


def faulty(photo: object, ctx: PhotoContext) -> InspectorOutput:
    name = Path(ctx.file).name
    if "segv" in name:
        faulthandler.disable()  # pytest's faulthandler would print this deliberate crash's traceback
        os.kill(os.getpid(), signal.SIGSEGV)  # what a fault in a native engine does to its process
    if "hang" in name:
        time.sleep(600)
    if "raise" in name:
        raise RuntimeError("engine exploded")
    return InspectorOutput(measurements={"ok": True})
