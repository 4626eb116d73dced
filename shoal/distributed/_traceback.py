"""Tracebacks that cross processes.

Traceback objects cannot be pickled. :func:`pack_traceback` keeps, for each
frame, its file, line number and function name; :func:`unpack_traceback`
builds a real traceback object back from them in the client, by raising from
code objects compiled with the same file name, line number and function
name. ``traceback.format_tb``, debuggers and pytest then show the frames of
the worker where the task failed.
"""

from __future__ import annotations

import pickle
import sys
import types
from typing import Any

__all__ = ["pack_traceback", "unpack_traceback"]

_MAX_FRAMES = 100


def pack_traceback(tb: types.TracebackType | None) -> bytes | None:
    """The frames of ``tb`` as bytes (None for no traceback)."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append((code.co_filename, tb.tb_lineno or 1, code.co_name))
        tb = tb.tb_next
    if not frames:
        return None
    return pickle.dumps(frames[-_MAX_FRAMES:])


def _raise(exc: BaseException) -> None:
    raise exc


def _one_frame(filename: str, lineno: int, name: str) -> types.TracebackType:
    code = compile("\n" * (max(lineno, 1) - 1) + "raise __shoal_exc__", filename, "exec")
    code = code.replace(co_name=name)
    try:
        exec(code, {"__shoal_exc__": _Marker(), "__name__": "shoal-remote"})
    except _Marker:
        tb = sys.exc_info()[2]
    assert tb is not None and tb.tb_next is not None
    return tb.tb_next


class _Marker(Exception):
    pass


def unpack_traceback(blob: bytes | None) -> types.TracebackType | None:
    """A traceback object with the frames :func:`pack_traceback` recorded.

    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError as exc:
    ...     tb = unpack_traceback(pack_traceback(exc.__traceback__))
    >>> tb.tb_lineno >= 1
    True
    """
    if not blob:
        return None
    try:
        frames: list[Any] = pickle.loads(blob)
        result: types.TracebackType | None = None
        for filename, lineno, name in reversed(frames):
            made = _one_frame(filename, lineno, name)
            result = types.TracebackType(result, made.tb_frame, made.tb_lasti, made.tb_lineno)
        return result
    except Exception:  # noqa: BLE001 - a traceback is a courtesy; never fail the result over it
        return None
