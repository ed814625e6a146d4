"""Where the project's data files live (``models/``), overridable with ``WOCHECK_MODELS``."""

from __future__ import annotations

import os
from pathlib import Path


def models_dir() -> Path:
    """The ``models/`` folder: ``$WOCHECK_MODELS`` if set, else the one beside ``src/`` in the checkout."""
    env = os.environ.get("WOCHECK_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"
