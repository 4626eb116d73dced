"""Element-wise operations: arithmetic, comparisons, ufuncs, ``where`` (``map_blocks``: :mod:`._map_blocks`).

All of them are :func:`~shoal.array._blockwise.blockwise` with the same index
on every input, aligned to the right as NumPy broadcasting aligns shapes.
Shapes are checked when the expression is built, so ``x + y`` with shapes
that cannot broadcast fails at once with NumPy's ``ValueError``, not at
``compute()``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, is_scalar
from shoal.array._blockwise import apply_infer_dtype, blockwise
from shoal.array._chunk_types import HANDLED_CHUNK_TYPES
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.array._map_blocks import map_blocks, right_aligned
from shoal.delayed import funcname

__all__ = [
    "ElementwiseMethods", "allclose", "angle", "around", "clip", "elemwise", "fix", "imag", "iscomplex", "isclose",
    "isnull", "isreal", "map_blocks", "nan_to_num", "notnull", "real", "round", "ufunc", "where",
]


def _shape_for_broadcast(shape: tuple[Any, ...]) -> tuple[int, ...]:
    # Unknown (nan) lengths broadcast like any length > 1; use -1 as a marker.
    return tuple(-1 if isinstance(s, float) and math.isnan(s) else int(s) for s in shape)


def broadcast_shapes(*shapes: tuple[Any, ...]) -> tuple[Any, ...]:
    """NumPy's broadcasting rule, allowing unknown (nan) lengths.

    >>> broadcast_shapes((3, 1), (4,))
    (3, 4)
    """
    ndim = max((len(s) for s in shapes), default=0)
    out: list[Any] = []
    for axis in range(ndim):
        lengths = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        lengths = {v for v in lengths if not (isinstance(v, float) and math.isnan(v))} or lengths
        real = {v for v in lengths if v != 1}
        if len(real) > 1:
            shown = " ".join(str(tuple(s)) for s in shapes)
            raise ValueError(f"operands could not be broadcast together with shapes {shown}")
        out.append(real.pop() if real else next(iter(lengths)))
    return tuple(out)


def elemwise(op: Callable[..., Any], *args: Any, dtype: Any = None, name: str | None = None, **kwargs: Any) -> Any:
    """Apply ``op`` element by element, broadcasting like NumPy.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(2, 3), chunks=1)
    >>> elemwise(np.add, x, np.array([10, 20, 30])).compute()
    array([[10, 21, 32],
           [13, 24, 35]])
    """
    if kwargs.get("out") is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead: x = op(x, y).")
    kwargs.pop("out", None)
    where_ = kwargs.pop("where", True)
    if where_ is not True:
        raise TypeError("where= is not supported on shoal array ufuncs; use shoal.array.where(cond, op(x), x).")
    converted = [a if isinstance(a, ArrayBase) or is_scalar(a) or not _is_arraylike(a) else asarray(a)
                 for a in args]
    shapes = [a.shape for a in converted if isinstance(a, ArrayBase)]
    out_shape = broadcast_shapes(*shapes)
    ndim = len(out_shape)
    out_ind = tuple(range(ndim))
    pairs = right_aligned(converted, ndim)
    if dtype is None:
        dtype = _infer_elemwise_dtype(op, converted, kwargs)
    return blockwise(op, out_ind, *pairs, dtype=dtype, name=name, token=funcname(op).strip("_"), **kwargs)


def _infer_elemwise_dtype(op: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> np.dtype[Any]:
    try:
        return apply_infer_dtype(op, args, kwargs, funcname(op))
    except ValueError as exc:
        cause = exc.__cause__
        if not isinstance(cause, TypeError | OverflowError):
            raise
        # What NumPy refuses (a dtype ``op`` has no loop for; under NumPy 2, a Python int out of range for the
        # array's dtype, as in uint8_array + 300) raises NumPy's own error type now, at build time, as Dask does.
        dtypes = ", ".join(str(getattr(a, "dtype", type(a).__name__)) for a in args)
        hint = ""
        if isinstance(cause, OverflowError):
            hint = (" NumPy 2 keeps the array's dtype for Python int operands; cast the array first "
                    "(x.astype('int64')) or pass the number as a wider NumPy scalar (np.int64(...)).")
        # The builtin class, not NumPy's private subclass (its constructor takes other arguments).
        kind = TypeError if isinstance(cause, TypeError) else OverflowError
        raise kind(f"{funcname(op)} on operands of dtype ({dtypes}): {cause}.{hint}") from cause


def _is_arraylike(a: Any) -> bool:
    return isinstance(a, np.ndarray | list | tuple) or hasattr(a, "__array__")


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Choose elements from ``x`` where ``condition`` holds, else from ``y``.

    Mirrors ``numpy.where``; the one-argument form returns ``nonzero(condition)``.
    """
    if x is None and y is None:
        return asarray(condition).nonzero()  # type: ignore[attr-defined]
    if x is None or y is None:
        raise ValueError("where takes either one argument or three: where(condition, x, y).")
    return elemwise(np.where, condition, x, y)


implements(np.where)(where)


def _ufunc(np_ufunc: np.ufunc) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # Generalized ufuncs (matvec, vecmat, ...) contract core dimensions: NumPy's own call dispatches
        # shoal arrays to ``Array.__array_ufunc__``, which maps them over blocks with ``apply_gufunc``.
        if np_ufunc.signature is not None or not any(isinstance(a, ArrayBase) for a in args):
            return np_ufunc(*args, **kwargs)
        if np_ufunc.nout > 1:
            return tuple(elemwise(_pick(np_ufunc, i), *args, **kwargs) for i in range(np_ufunc.nout))
        return elemwise(np_ufunc, *args, **kwargs)

    wrapped.__name__ = np_ufunc.__name__
    wrapped.__doc__ = f"Lazy ``numpy.{np_ufunc.__name__}`` on shoal arrays (mirrors NumPy's ufunc)."
    return wrapped


class _pick:
    """The i-th output of a multi-output ufunc (e.g. ``np.modf``), picklable."""

    def __init__(self, func: np.ufunc, i: int) -> None:
        self.func, self.i = func, i
        self.__name__ = f"{func.__name__}{i}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)[self.i]

    def __dask_tokenize__(self) -> Any:
        return (self.func.__name__, self.i)


#: Every NumPy ufunc, wrapped lazily: ``shoal.array.exp``, ``shoal.array.log``, ...
UFUNC_NAMES = sorted(name for name in dir(np) if isinstance(getattr(np, name), np.ufunc))
ufunc = {name: _ufunc(getattr(np, name)) for name in UFUNC_NAMES}


def clip(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Any:
    """Limit the values of ``a`` to ``[a_min, a_max]``; mirrors ``numpy.clip``.

    >>> import numpy as np, shoal.array as sa
    >>> clip(sa.arange(6, chunks=4), 1, 3).compute()
    array([1, 1, 2, 3, 3, 3])
    """
    a_min = kwargs.pop("min", a_min)
    a_max = kwargs.pop("max", a_max)
    if kwargs:
        raise TypeError(f"clip got unexpected keyword arguments {sorted(kwargs)}")
    return elemwise(np.clip, asarray(a), a_min, a_max)


def around(a: Any, decimals: int = 0) -> Any:
    """Round to ``decimals`` decimals; mirrors ``numpy.round``.

    >>> import numpy as np, shoal.array as sa
    >>> around(sa.from_array(np.array([1.234, 5.678]), chunks=1), 1).compute()
    array([1.2, 5.7])
    """
    a = asarray(a)
    return a.map_blocks(np.round, decimals=decimals, dtype=a.dtype, token="round")


round = around  # noqa: A001 - NumPy's (and Dask's) name for the same function


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    """Element-wise closeness test; mirrors ``numpy.isclose``."""
    return elemwise(_isclose, a, b, rtol, atol, equal_nan, dtype=bool)


def _isclose(a: Any, b: Any, rtol: float, atol: float, equal_nan: bool) -> Any:
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    """Whether all elements are close, as a lazy 0-d boolean array; mirrors ``numpy.allclose``.

    >>> import numpy as np, shoal.array as sa
    >>> bool(allclose(sa.ones(4, chunks=2), np.ones(4) + 1e-10))
    True
    """
    return isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan).all()  # type: ignore[attr-defined]


def isnull(values: Any) -> Any:
    """Element-wise missing-value test (``NaN``, ``NaT``, ``None``); mirrors ``dask.array.isnull``."""
    return elemwise(_isnull, asarray(values), dtype=bool)


def _isnull(block: Any) -> Any:
    kind = block.dtype.kind
    if kind in "fc":
        return np.isnan(block)
    if kind in "mM":
        return np.isnat(block)
    if kind != "O":
        return np.zeros(block.shape, dtype=bool)
    import pandas as pd  # optional (the dataframe extra): only object blocks need it for None/NaN/NaT

    return np.asarray(pd.isnull(block))


def notnull(values: Any) -> Any:
    """The negation of :func:`isnull`."""
    return ~isnull(values)


def real(val: Any) -> Any:
    """The real part, element-wise; mirrors ``numpy.real``."""
    return elemwise(np.real, asarray(val))


def imag(val: Any) -> Any:
    """The imaginary part, element-wise; mirrors ``numpy.imag``."""
    return elemwise(np.imag, asarray(val))


def angle(z: Any, deg: bool = False) -> Any:
    """The angle of complex values, element-wise; mirrors ``numpy.angle``."""
    return elemwise(np.angle, asarray(z), deg)


def iscomplex(x: Any) -> Any:
    """Element-wise test for a non-zero imaginary part; mirrors ``numpy.iscomplex``."""
    return elemwise(np.iscomplex, asarray(x), dtype=bool)


def isreal(x: Any) -> Any:
    """Element-wise test for a zero imaginary part; mirrors ``numpy.isreal``."""
    return elemwise(np.isreal, asarray(x), dtype=bool)


def fix(x: Any) -> Any:
    """Round towards zero, element-wise; mirrors ``numpy.fix``."""
    x = asarray(x)
    return x.map_blocks(np.fix, dtype=np.fix(np.ones(1, dtype=x.dtype)).dtype, token="fix")


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """Replace NaN and infinities by finite numbers; mirrors ``numpy.nan_to_num``."""
    x = asarray(x)
    return x.map_blocks(np.nan_to_num, nan=nan, posinf=posinf, neginf=neginf, dtype=x.dtype, token="nan_to_num")


implements(np.clip)(clip)
implements(np.round, np.around)(around)
implements(np.isclose)(isclose)
implements(np.allclose)(allclose)
implements(np.real)(real)
implements(np.imag)(imag)
implements(np.angle)(angle)
implements(np.iscomplex)(iscomplex)
implements(np.isreal)(isreal)
implements(np.fix)(fix)
implements(np.nan_to_num)(nan_to_num)


def _astype(block: np.ndarray, dtype: Any, casting: str) -> np.ndarray:
    return block.astype(dtype, casting=casting)


def _view(block: np.ndarray, dtype: Any) -> np.ndarray:
    return np.ascontiguousarray(block).view(dtype)


def _outer(np_ufunc: np.ufunc, a: Any, b: Any) -> Any:
    return np_ufunc.outer(a, b)


def _ufunc_outer(np_ufunc: np.ufunc, a: Any, b: Any) -> Any:
    """``ufunc.outer(a, b)``: shape ``a.shape + b.shape``, one block per pair of blocks."""
    if np_ufunc.nin != 2 or np_ufunc.nout != 1:
        raise ValueError(f"{np_ufunc.__name__}.outer needs a ufunc with two inputs and one output.")
    a, b = asarray(a), asarray(b)
    dtype = apply_infer_dtype(np_ufunc, [a, b], {}, np_ufunc.__name__)
    a_ind = tuple(range(a.ndim))
    b_ind = tuple(range(a.ndim, a.ndim + b.ndim))
    return blockwise(_outer, a_ind + b_ind, np_ufunc, None, a, a_ind, b, b_ind, dtype=dtype,
                     token=f"{np_ufunc.__name__}-outer")


_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "and": operator.and_,
    "or": operator.or_, "xor": operator.xor, "lshift": operator.lshift, "rshift": operator.rshift,
}
_COMPARE = {"lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne, "gt": operator.gt,
            "ge": operator.ge}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}


class _Reflected:
    """``op`` with its arguments swapped, for reflected operators; picklable and tokenizable."""

    def __init__(self, op: Callable[[Any, Any], Any]) -> None:
        self.op = op
        self.__name__ = op.__name__.strip("_")

    def __call__(self, a: Any, b: Any) -> Any:
        return self.op(b, a)

    def __dask_tokenize__(self) -> Any:
        return ("reflected", self.op.__name__)


class ElementwiseMethods:
    """Operators and element-wise methods of ``Array``."""

    __slots__ = ()

    def __array_ufunc__(self, numpy_ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "outer" and not kwargs:
            return _ufunc_outer(numpy_ufunc, *inputs)
        if method != "__call__":
            return NotImplemented
        if kwargs.get("out") is not None:
            return NotImplemented
        if numpy_ufunc.nout > 1:
            return ufunc[numpy_ufunc.__name__](*inputs, **kwargs)
        return elemwise(numpy_ufunc, *inputs, **kwargs)

    def astype(self, dtype: Any, casting: str = "unsafe", copy: bool = True, **kwargs: Any) -> Any:
        """Cast to ``dtype``; mirrors ``numpy.ndarray.astype``."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:  # type: ignore[attr-defined]
            return self
        if not np.can_cast(self.dtype, dtype, casting=casting):  # type: ignore[attr-defined]
            raise TypeError(f"Cannot cast array data from {self.dtype!r} to {dtype!r} according to the rule "
                            f"{casting!r}")  # type: ignore[attr-defined]
        return map_blocks(_astype, self, dtype, casting, dtype=dtype, token="astype")

    def map_blocks(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Apply ``func`` to every block; see :func:`shoal.array.map_blocks`."""
        return map_blocks(func, self, *args, **kwargs)

    def clip(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002 - NumPy's names
        return clip(self, min, max)

    def round(self, decimals: int = 0) -> Any:
        return around(self, decimals)

    def __round__(self, ndigits: int | None = None) -> Any:
        return around(self, ndigits or 0)

    def __divmod__(self, other: Any) -> Any:
        return ufunc["divmod"](self, other)

    def __rdivmod__(self, other: Any) -> Any:
        return ufunc["divmod"](other, self)

    def copy(self) -> Any:
        """A new array object with the same values (blocks are immutable, so no data is copied)."""
        return type(self)._from_parts(self._layer, self.name, self._chunks, self._meta, self._deps)  # type: ignore[attr-defined]

    def view(self, dtype: Any = None, order: str = "C") -> Any:
        """The same bytes seen as another dtype; mirrors ``numpy.ndarray.view``.

        With a different item size the last axis (the first with ``order="F"``,
        as for a Fortran-ordered NumPy array) changes length, so each of its
        chunks must hold a whole number of new items.
        """
        if order not in ("C", "F"):
            raise ValueError(f"view(order={order!r}): use 'C' or 'F'.")
        if order == "F" and dtype is not None and self.ndim > 1:  # type: ignore[attr-defined]
            return self.T.view(dtype, order="C").T  # type: ignore[attr-defined]
        if dtype is None:
            return self.copy()
        dtype = np.dtype(dtype)
        old = self.dtype.itemsize  # type: ignore[attr-defined]
        if dtype.itemsize == old:
            return map_blocks(_view, self, dtype, dtype=dtype, token="view")
        if not self.ndim:  # type: ignore[attr-defined]
            raise ValueError("Changing the dtype of a 0d array is only supported if the itemsize is unchanged")
        last = self.chunks[-1]  # type: ignore[attr-defined]
        if any((c * old) % dtype.itemsize for c in last):
            raise ValueError(
                f"view as {dtype}: every chunk along the last axis must hold a multiple of {dtype.itemsize} "
                f"bytes, but the chunks there are {last} items of {old} bytes; rechunk the last axis first."
            )
        new_last = tuple(c * old // dtype.itemsize for c in last)
        return map_blocks(_view, self, dtype, dtype=dtype, token="view",
                          chunks=(*self.chunks[:-1], new_last))  # type: ignore[attr-defined]

    def conj(self) -> Any:
        return elemwise(np.conj, self)

    @property
    def real(self) -> Any:
        return elemwise(np.real, self)

    @property
    def imag(self) -> Any:
        return elemwise(np.imag, self)


def _binary(op: Callable[[Any, Any], Any], reflected: bool) -> Callable[[Any, Any], Any]:
    fn = _Reflected(op) if reflected else op

    def method(self: Any, other: Any) -> Any:
        known = isinstance(other, ArrayBase | np.generic | int | float | complex | bool | list)
        if not (known or isinstance(other, tuple(HANDLED_CHUNK_TYPES))):  # registry: register_chunk_type
            return NotImplemented
        return elemwise(fn, self, other)

    return method


def _unary(op: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        return elemwise(op, self)

    return method


for _name, _op in _BINARY.items():
    setattr(ElementwiseMethods, f"__{_name}__", _binary(_op, False))
    setattr(ElementwiseMethods, f"__r{_name}__", _binary(_op, True))
for _name, _op in _COMPARE.items():
    setattr(ElementwiseMethods, f"__{_name}__", _binary(_op, False))
for _name, _op in _UNARY.items():
    setattr(ElementwiseMethods, f"__{_name}__", _unary(_op))
del _name, _op
