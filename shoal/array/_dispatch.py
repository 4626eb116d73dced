"""Which NumPy functions shoal arrays implement (the ``__array_function__`` table).

Family modules register their implementations with :func:`implements`;
``Array.__array_function__`` looks them up, so ``np.sum(x)`` on a shoal
array stays lazy. The table lives here, below every family module, so that
registering never needs an upward import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["HANDLED_FUNCTIONS", "implements"]

#: NumPy function -> shoal implementation taking the same arguments.
HANDLED_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}


def implements(*numpy_functions: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the shoal version of ``numpy_functions``."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        for np_func in numpy_functions:
            HANDLED_FUNCTIONS[np_func] = func
        return func

    return register
