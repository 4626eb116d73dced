"""shoal: parallel and distributed computing for Python.

The top level mirrors ``import dask``: ``delayed``, ``compute``, ``persist``,
``optimize``, ``visualize``, ``config``, ``tokenize``, ``annotate`` and
``is_dask_collection``. Attributes are imported on first use so that
``import shoal`` (and ``import shoal.graph``, which runs this file first)
stays cheap and pulls in no NumPy, pandas or servers.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ below.
_LAZY = {
    "annotate": "shoal.graph.annotate",
    "compute": "shoal.base",
    "config": "shoal.config",
    "delayed": "shoal.delayed",
    "get_annotations": "shoal.graph.annotate",
    "highlevelgraph": "shoal.highlevelgraph",
    "is_dask_collection": "shoal.base",
    "optimize": "shoal.base",
    "persist": "shoal.base",
    "tokenize": "shoal.graph.tokenize",
    "visualize": "shoal.base",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'shoal' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    # ``shoal.config`` and ``shoal.delayed`` are modules whose main object shares
    # their name; Dask users expect ``dask.config.get`` and ``dask.delayed(f)``.
    # ``shoal.highlevelgraph`` is a module, as ``dask.highlevelgraph``.
    value = module if name in ("config", "delayed", "highlevelgraph") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
