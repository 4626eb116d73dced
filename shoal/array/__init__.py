"""shoal.array: NumPy-like arrays cut into blocks, computed in parallel.

Mirrors ``dask.array``. Each family of functions lives in its own module
(``_creation``, ``_elementwise``, ``_reductions``, ``_slicing``, ...); this
namespace re-exports every name in their ``__all__``.
"""

from __future__ import annotations

from shoal.array import (  # noqa: F401 - linalg and random are public submodules
    _array_shuffle,
    _blockwise,
    _chunks,
    _creation,
    _einsum,
    _elementwise,
    _from_array,
    _gufunc,
    _io,
    _io_zarr,
    _join,
    _linalg,
    _more_routines,
    _overlap,
    _pad,
    _push,
    _rechunk,
    _reductions,
    _routines,
    _shape,
    _slicing,
    _statistics,
    _take,
    _unify,
    fft,
    linalg,
    random,
)
from shoal.array._core import Array  # noqa: F401 - listed in __all__
from shoal.array import ma  # noqa: F401 - a public submodule, as dask.array.ma

_FAMILIES = (_chunks, _rechunk, _blockwise, _from_array, _elementwise, _creation, _slicing, _take, _join, _pad,
             _shape, _reductions, _routines, _overlap, _linalg, _einsum, _io, _io_zarr, _more_routines, _statistics,
             _gufunc, _push, _array_shuffle, _unify)

def _public(module: object) -> list[str]:
    # The ...Methods mixins are composed into Array, not exported.
    return [n for n in module.__all__ if not n.endswith("Methods") and n != "ufunc"]  # type: ignore[attr-defined]


for _module in _FAMILIES:
    for _name in _public(_module):
        globals()[_name] = getattr(_module, _name)
# Every NumPy ufunc, lazily: shoal.array.exp, shoal.array.log, ...
for _name, _fn in _elementwise.ufunc.items():
    globals().setdefault(_name, _fn)

__all__ = sorted({"Array", "fft", "linalg", "ma", "random", *(_n for _m in _FAMILIES for _n in _public(_m)),
                  *_elementwise.ufunc})

# NumPy's constants and scalar types, reachable here as in Dask (``sa.nan``, ``sa.newaxis``, ``sa.float32``);
# left out of ``__all__`` so that ``import *`` does not shadow the builtin ``bool``.
from numpy import bool_ as bool  # noqa: E402, A004, F401
from numpy import (  # noqa: E402, F401
    complex64,
    complex128,
    e,
    euler_gamma,
    float32,
    float64,
    inf,
    int8,
    int16,
    int32,
    int64,
    nan,
    newaxis,
    pi,
    uint8,
    uint16,
    uint32,
    uint64,
)
del _module, _name, _fn
