"""Access to fsspec, the optional dependency behind reading and writing files."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_fsspec"]


def import_fsspec() -> Any:
    """Return the ``fsspec`` module (with ``fsspec.core`` and ``fsspec.utils`` loaded).

    Imported on first use: ``import shoal.bag`` must work without it, and
    only reading and writing files needs it.
    """
    try:
        fsspec = importlib.import_module("fsspec")
        importlib.import_module("fsspec.core")
        importlib.import_module("fsspec.utils")
    except ImportError as exc:  # pragma: no cover - fsspec is installed with shoal's extras
        raise ImportError(
            "Reading and writing text files with shoal.bag needs fsspec: pip install fsspec "
            "(or pip install 'shoal[dataframe]')."
        ) from exc
    return fsspec
