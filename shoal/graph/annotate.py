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
from numbers import Number
from typing import Any

__all__ = ["annotate", "get_annotations"]

_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "shoal_annotations", default=None
)


@contextmanager
def annotate(**annotations: Any) -> Iterator[None]:
    """Attach ``annotations`` to every task built inside the block.

    Nested blocks merge, the inner value winning for a name both set.
    The names schedulers read are checked as Dask checks them (a ``TypeError``
    names the wrong value): ``priority`` a number, ``retries`` a count,
    ``workers`` an address or name or a list of them (stored as a list),
    ``resources`` a dict of amounts, ``allow_other_workers`` a bool. Dask's
    per-key callables for these are not supported.

    Examples
    --------
    >>> import shoal
    >>> with shoal.annotate(priority=5):
    ...     x = shoal.delayed(abs)(-1)
    >>> x.annotations
    {'priority': 5}
    """
    annotations = _checked(annotations)
    merged = {**(_current.get() or {}), **annotations}
    token = _current.set(merged)
    try:
        yield
    finally:
        _current.reset(token)


def _is_number(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def _checked(annotations: dict[str, Any]) -> dict[str, Any]:
    """Validate the annotations the schedulers read, as Dask does; ``workers`` becomes a list.

    Dask also takes a callable per key for these; shoal does not, and says so.
    """
    out = dict(annotations)
    workers = out.get("workers")
    if "workers" in out:
        if isinstance(workers, str):
            out["workers"] = [workers]
        elif isinstance(workers, (list, set, tuple, frozenset)) and all(isinstance(w, str) for w in workers):
            out["workers"] = list(workers)
        else:
            raise TypeError(f"annotate(workers=...) takes a worker's address or name, or a list of them, got "
                            f"{workers!r}. For example shoal.annotate(workers=['tcp://127.0.0.1:4000']) or "
                            f"shoal.annotate(workers='alice').")
    checks = {"priority": (_is_number, "a number (higher runs earlier), e.g. priority=10"),
              "retries": (lambda v: _is_number(v) and v >= 0, "a number of retries >= 0, e.g. retries=2"),
              "resources": (lambda v: isinstance(v, dict) and all(_is_number(a) for a in v.values()),
                            "a dict of resource amounts, e.g. resources={'GPU': 1}"),
              "allow_other_workers": (lambda v: isinstance(v, bool), "True or False")}
    for name, (ok, wanted) in checks.items():
        if name in out and not ok(out[name]):
            raise TypeError(f"annotate({name}=...) takes {wanted}, got {out[name]!r}.")
    return out


def get_annotations() -> dict[str, Any] | None:
    """Return the annotations in force here, or ``None`` outside any block."""
    current = _current.get()
    return dict(current) if current else None
