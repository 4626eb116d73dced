"""Annotations: scheduling hints attached to the tasks built inside a block.

``with shoal.annotate(priority=10, retries=2):`` pushes a mapping onto a
context-local stack; code that builds tasks reads :func:`get_annotations`
and stores the merged mapping on each task (``Task.annotations``).
Schedulers read it: the local ones honour ``priority`` (higher runs first
among ready tasks), the distributed one also ``retries``, ``workers``,
``resources`` and ``allow_other_workers``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["annotate", "get_annotations"]

_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "shoal_annotations", default=None
)


@contextmanager
def annotate(**annotations: Any) -> Iterator[None]:
    """Attach ``annotations`` to every task built inside the block.

    Nested blocks merge, the inner value winning for a name both set.

    Examples
    --------
    >>> import shoal
    >>> with shoal.annotate(priority=5):
    ...     x = shoal.delayed(abs)(-1)
    >>> x.annotations
    {'priority': 5}
    """
    if "priority" in annotations and not isinstance(annotations["priority"], int | float):
        raise TypeError(
            f"annotate(priority=...) takes a number, got {annotations['priority']!r}. "
            f"Higher numbers run earlier, e.g. shoal.annotate(priority=10)."
        )
    merged = {**(_current.get() or {}), **annotations}
    token = _current.set(merged)
    try:
        yield
    finally:
        _current.reset(token)


def get_annotations() -> dict[str, Any] | None:
    """Return the annotations in force here, or ``None`` outside any block."""
    current = _current.get()
    return dict(current) if current else None
