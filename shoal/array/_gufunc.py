"""Generalized ufuncs on shoal arrays: ``apply_gufunc``, ``gufunc``, ``as_gufunc``, ``frompyfunc``.

A gufunc signature such as ``"(i,j),(j,k)->(i,k)"`` names the *core*
dimensions each argument consumes and each output produces; all other
dimensions are *loop* dimensions, broadcast against each other as NumPy
broadcasts, right-aligned. The model here:

1. ``axes=``/``axis=`` say where the core dimensions sit; they are moved to
   the end of every argument (NumPy's default layout).
2. Every core dimension must be one chunk (a function sees the whole core);
   ``allow_rechunk=True`` rechunks them, otherwise a chunked core dimension
   is an error naming the dimension, because merging chunks can use a lot of
   memory.
3. One :func:`~shoal.array._blockwise.blockwise` call applies the function
   block by block over the loop dimensions. With several outputs the
   function's tuple is kept per block and each output picks its element.
4. The outputs' core dimensions are moved to where ``axes`` asks.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._blockwise import blockwise
from shoal.array._elementwise import broadcast_shapes, elemwise
from shoal.array._from_array import asarray
from shoal.array._rechunk import rechunk
from shoal.array._shape import moveaxis, reshape
from shoal.delayed import funcname
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["apply_gufunc", "as_gufunc", "frompyfunc", "gufunc"]

_ARG = r"\((?:\w+(?:,\w+)*)?\)"
_SIGNATURE = re.compile(rf"^(?:{_ARG}(?:,{_ARG})*)?->{_ARG}(?:,{_ARG})*$")
_GUFUNC_OPTIONS = frozenset({"vectorize", "axes", "axis", "keepdims", "output_sizes", "output_dtypes",
                             "allow_rechunk", "meta"})

CoreDims = tuple[str, ...]


def parse_signature(signature: str) -> tuple[list[CoreDims], list[CoreDims], bool]:
    """Input core dims, output core dims, and whether there are several outputs.

    >>> parse_signature("(m,n),(n,p)->(m,p)")
    ([('m', 'n'), ('n', 'p')], [('m', 'p')], False)
    >>> parse_signature("(i)->(),()")
    ([('i',)], [(), ()], True)
    """
    compact = re.sub(r"\s+", "", signature or "")
    if not _SIGNATURE.match(compact):
        raise ValueError(f"not a valid gufunc signature: {signature!r}; expected e.g. '(i,j),(j)->(i)' (see "
                         f"https://numpy.org/doc/stable/reference/c-api/generalized-ufuncs.html).")
    lhs, rhs = compact.split("->")

    def dims(side: str) -> list[CoreDims]:
        return [tuple(d for d in group.split(",") if d) for group in re.findall(r"\((.*?)\)", side)]

    outputs = dims(rhs)
    return dims(lhs), outputs, len(outputs) > 1


def _normalize_axes(axes: Any, axis: Any, keepdims: bool, ins: list[CoreDims],
                    outs: list[CoreDims]) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Per-argument and per-output core-axis positions (possibly negative), following NumPy's rules."""
    if axes is not None and axis is not None:
        raise ValueError("Only one of `axis` or `axes` keyword arguments should be given, not both.")
    if keepdims and (len(set(ins)) > 1 or any(outs)):
        raise ValueError(f"keepdims=True needs every input to have the same core dimensions and every output to be "
                         f"scalar (signature core dims: inputs {ins}, outputs {outs}).")
    if axis is not None:
        if not isinstance(axis, Integral):
            raise TypeError(f"axis must be an int, got {axis!r}; use axes= for several core dimensions.")
        if len(set(ins)) != 1 or len(ins[0]) != 1:
            raise ValueError(f"`axis` can only be used with a single core dimension shared by all inputs, but the "
                             f"signature's inputs have core dims {ins}; use axes= instead.")
        axes = [(axis,)] * len(ins) + [(axis,) if (o or keepdims) else () for o in outs]
    if axes is None:
        in_axes = [tuple(range(-len(c), 0)) for c in ins]
        out_axes = [in_axes[0] if keepdims else tuple(range(-len(o), 0)) for o in outs]
        return in_axes, out_axes
    axes = [(a,) if isinstance(a, Integral) else tuple(a) for a in axes]
    if len(axes) == len(ins) and not any(outs):
        axes = axes + [axes[0] if keepdims else () for _ in outs]
    if len(axes) != len(ins) + len(outs):
        raise ValueError(f"axes has {len(axes)} entries but the signature has {len(ins)} inputs and {len(outs)} "
                         f"outputs; give one tuple per argument and output.")
    for position, (given, core) in enumerate(zip(axes, [*ins, *outs], strict=True)):
        wanted = len(core) if position < len(ins) or not keepdims else len(ins[0])
        if len(given) != wanted:
            raise ValueError(f"axes entry {position} is {given} but that operand has {wanted} core dimension(s) "
                             f"{core}.")
    return axes[:len(ins)], axes[len(ins):]


def _absolute(axes: tuple[int, ...], ndim: int, what: str) -> tuple[int, ...]:
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim, msg_prefix=what)
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axes}.")
    return tuple(out)


class _Call:
    """``func(*blocks, **kwargs)``: keeps user keyword arguments apart from blockwise's own (picklable)."""

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.func, self.kwargs = func, kwargs
        self.__name__ = funcname(func)

    def __call__(self, *blocks: Any) -> Any:
        return self.func(*blocks, **self.kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("gufunc-call", tokenize(self.func, self.kwargs))


def _infer_dtypes(call: _Call, args: list[Any], ins: list[CoreDims], sizes: dict[str, int], nout: int | None,
                  name: str) -> list[np.dtype[Any]]:
    # Sample blocks have one element per loop dimension and the true core lengths when that is small.
    small = sum(math.prod(sizes[d] for d in core) for core in ins) <= 100_000
    samples = []
    for arg, core in zip(args, ins, strict=True):
        core_shape = tuple(sizes[d] if small else min(sizes[d], 1) for d in core)
        samples.append(np.ones((1,) * (arg.ndim - len(core)) + core_shape, dtype=arg.dtype))
    try:
        with np.errstate(all="ignore"):
            out = call(*samples)
    except Exception as exc:
        raise ValueError(f"apply_gufunc could not work out what {name} returns by calling it on small sample "
                         f"blocks: {type(exc).__name__}: {exc}. Pass output_dtypes= (one per output).") from exc
    if nout is None:
        return [np.asarray(out).dtype]
    if not isinstance(out, tuple | list) or len(out) != nout:
        raise ValueError(f"{name} should return {nout} outputs per the signature, but returned "
                         f"{type(out).__name__}; fix the signature or the function.")
    return [np.asarray(o).dtype for o in out]


def _output_dtypes(output_dtypes: Any, meta: Any, nout: int | None) -> list[np.dtype[Any]] | None:
    if output_dtypes is None and meta is not None:
        output_dtypes = [m.dtype for m in meta] if isinstance(meta, tuple | list) else meta.dtype
    if output_dtypes is None:
        return None
    if nout is None:
        if isinstance(output_dtypes, tuple | list):
            if len(output_dtypes) != 1:
                raise ValueError(f"output_dtypes has {len(output_dtypes)} entries but the signature has one output.")
            output_dtypes = output_dtypes[0]
        return [np.dtype(output_dtypes)]
    if not isinstance(output_dtypes, tuple | list) or len(output_dtypes) != nout:
        raise ValueError(f"The signature has {nout} outputs: give output_dtypes as a tuple of {nout} dtypes, got "
                         f"{output_dtypes!r}.")
    return [np.dtype(d) for d in output_dtypes]


def apply_gufunc(func: Callable[..., Any], signature: str, *args: Any, axes: Any = None, axis: Any = None,
                 keepdims: bool = False, output_dtypes: Any = None, output_sizes: dict[str, int] | None = None,
                 vectorize: bool | None = None, allow_rechunk: bool = False, meta: Any = None,
                 **kwargs: Any) -> Any:
    """Apply a generalized ufunc (or a Python function acting like one) to shoal arrays.

    Mirrors ``dask.array.apply_gufunc``.

    Parameters
    ----------
    func : callable
        Called once per block as ``func(*blocks, **kwargs)``, with the core
        dimensions last; it must broadcast over the loop dimensions (pass
        ``vectorize=True`` to wrap it in ``numpy.vectorize`` if it does not).
    signature : str
        Core dimensions, e.g. ``"(i),(i)->()"`` or ``"(m,n)->(m),(n)"``.
    *args : arrays or scalars
    axes : list of tuples, optional
        Where each argument's (then each output's) core dimensions are.
    axis : int, optional
        Shortcut for a single core dimension shared by all inputs.
    keepdims : bool
        Keep reduced core dimensions as length-1 axes in the outputs.
    output_dtypes : dtype or tuple of dtypes, optional
        Inferred on small sample blocks if omitted.
    output_sizes : dict, optional
        Lengths of output core dimensions that no input has.
    vectorize : bool
        Wrap ``func`` in ``numpy.vectorize(func, signature=signature)``.
    allow_rechunk : bool
        Make chunked core dimensions single chunks instead of raising.
    meta : array or tuple of arrays, optional
        An empty block per output, giving its dtype.

    Returns
    -------
    Array, or tuple of Arrays for several outputs.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12.0).reshape(4, 3), chunks=(2, 3))
    >>> mean, std = apply_gufunc(lambda v: (v.mean(-1), v.std(-1)), "(i)->(),()", x)
    >>> mean.compute()
    array([ 1.,  4.,  7., 10.])
    >>> rows = sa.from_array(np.array([[1, 2], [3, 4]]), chunks=(1, 2))
    >>> apply_gufunc(np.outer, "(i),(j)->(i,j)", rows, np.arange(3), vectorize=True).compute()[1]
    array([[0, 3, 6],
           [0, 4, 8]])
    """
    ins, outs, multi = parse_signature(signature)
    nout = len(outs) if multi else None
    name = funcname(func)
    arrays = [a if isinstance(a, ArrayBase) else asarray(a) for a in args]
    if len(arrays) != len(ins):
        raise TypeError(f"According to the signature {signature!r}, {name} takes {len(ins)} array argument(s), but "
                        f"{len(arrays)} were given.")
    dtypes = _output_dtypes(output_dtypes, meta, nout)
    if vectorize:
        func = np.vectorize(func, signature=signature, otypes=dtypes)
    in_axes, out_axes = _normalize_axes(axes, axis, keepdims, ins, outs)

    # Core dimensions last, each one chunk, lengths consistent across arguments.
    sizes: dict[str, int] = {}
    where: dict[str, int] = {}
    moved = []
    for i, (arr, core, ax) in enumerate(zip(arrays, ins, in_axes, strict=True)):
        if arr.ndim < len(core):
            raise ValueError(f"Argument {i} of {name} has {arr.ndim} dimension(s) (shape {arr.shape}) but the "
                             f"signature {signature!r} needs at least {len(core)} core dimension(s) {core}.")
        src = _absolute(ax, arr.ndim, f"apply_gufunc argument {i}")
        dest = tuple(range(arr.ndim - len(core), arr.ndim))
        if src != dest:
            arr = moveaxis(arr, src, dest)
        require_known(arr, dest, f"apply_gufunc ({name})")
        for position, dim in zip(dest, core, strict=True):
            length = int(arr.shape[position])
            if sizes.setdefault(dim, length) != length:
                raise ValueError(f"Core dimension {dim!r} of {name} has different lengths in the arguments: "
                                 f"{sizes[dim]} (argument {where[dim]}) and {length} (argument {i}).")
            where.setdefault(dim, i)
        chunked = [(dim, arr.chunks[p]) for p, dim in zip(dest, core, strict=True) if len(arr.chunks[p]) > 1]
        if chunked:
            if not allow_rechunk:
                dim, chunks = chunked[0]
                raise ValueError(f"Core dimension {dim!r} of argument {i} consists of multiple chunks {chunks}. "
                                 f"Rechunk it into a single chunk (x.rechunk({{{src[core.index(dim)]}: -1}})) or pass "
                                 f"allow_rechunk=True, but beware that this may use a lot of memory.")
            arr = rechunk(arr, {p: -1 for p in dest})
        moved.append(arr)
    loop_shapes = [tuple(a.shape[:a.ndim - len(c)]) for a, c in zip(moved, ins, strict=True)]
    loop_shape = broadcast_shapes(*loop_shapes)
    for dim in {d for o in outs for d in o} - set(sizes):
        if output_sizes is None or dim not in output_sizes:
            raise ValueError(f"Output core dimension {dim!r} of {name} appears in no input; give its length with "
                             f"output_sizes={{{dim!r}: n}}.")
        sizes[dim] = int(output_sizes[dim])

    call = _Call(func, kwargs)
    if dtypes is None:
        dtypes = _infer_dtypes(call, moved, ins, sizes, nout, name)
    loop = [f"__loop{j}__" for j in range(len(loop_shape))]
    pairs: list[Any] = []
    for arr, core in zip(moved, ins, strict=True):
        pairs.extend([arr, (*loop[len(loop) - (arr.ndim - len(core)):], *(f"core_{d}" for d in core))])
    token = tokenize(call, signature, *pairs, [str(d) for d in dtypes], sizes)
    if nout is None:
        core = outs[0]
        new_axes = {f"core_{d}": sizes[d] for d in core if d not in where}
        results = [blockwise(call, (*loop, *(f"core_{d}" for d in core)), *pairs, name=f"{name}-gufunc-{token}",
                             dtype=dtypes[0], concatenate=True, new_axes=new_axes or None)]
    else:
        joint = blockwise(call, tuple(loop), *pairs, name=f"{name}-gufunc-{token}", dtype=object, concatenate=True)
        results = [_pick_output(joint, j, tuple(sizes[d] for d in core), dtypes[j]) for j, core in enumerate(outs)]

    finished = []
    for out, ax in zip(results, out_axes, strict=True):
        if keepdims:
            out = reshape(out, (*out.shape, *(1,) * len(ins[0])))
        ncore = len(ax)
        dest = _absolute(ax, out.ndim, f"apply_gufunc output axes for {name}")
        src = tuple(range(out.ndim - ncore, out.ndim))
        finished.append(moveaxis(out, src, dest) if src != dest else out)
    return tuple(finished) if multi else finished[0]


def _pick_output(joint: Any, j: int, core_sizes: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
    """Output ``j`` of a multi-output gufunc: element ``j`` of every block's tuple."""
    name = f"{joint.name}-out{j}"
    layer = {}
    for index in np.ndindex(*joint.numblocks):
        key = (name, *index, *(0,) * len(core_sizes))
        layer[key] = Task(key, operator.getitem, Ref((joint.name, *index)), j)
    chunks = (*joint.chunks, *((s,) for s in core_sizes))
    return new_array(layer, name, chunks, dtype, deps=(joint,))


class gufunc:  # noqa: N801 - Dask's class name
    """Bind a Python function into :func:`apply_gufunc`: calling the result applies it to shoal arrays.

    Mirrors ``dask.array.gufunc``; the keyword-only options are those of
    :func:`apply_gufunc`.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6.0).reshape(2, 3), chunks=(1, 3))
    >>> norm = gufunc(lambda v: np.sqrt((v ** 2).sum(-1)), signature="(i)->()", output_dtypes=float)
    >>> norm(x).compute().round(3)
    array([2.236, 7.071])
    """

    def __init__(self, pyfunc: Callable[..., Any], *, signature: str | None = None, vectorize: bool = False,
                 axes: Any = None, axis: Any = None, keepdims: bool = False, output_sizes: Any = None,
                 output_dtypes: Any = None, allow_rechunk: bool = False, meta: Any = None) -> None:
        if signature is None:
            raise ValueError("gufunc needs signature=, e.g. signature='(i)->()'.")
        parse_signature(signature)  # fail now on a malformed signature
        self.pyfunc = pyfunc
        self.signature = signature
        self.vectorize = vectorize
        self.axes, self.axis, self.keepdims = axes, axis, keepdims
        self.output_sizes, self.output_dtypes = output_sizes, output_dtypes
        self.allow_rechunk, self.meta = allow_rechunk, meta
        functools.update_wrapper(self, pyfunc)  # type: ignore[arg-type]

    def __call__(self, *args: Any, allow_rechunk: bool = False, **kwargs: Any) -> Any:
        return apply_gufunc(self.pyfunc, self.signature, *args, vectorize=self.vectorize, axes=self.axes,
                            axis=self.axis, keepdims=self.keepdims, output_sizes=self.output_sizes,
                            output_dtypes=self.output_dtypes, allow_rechunk=allow_rechunk or self.allow_rechunk,
                            meta=self.meta, **kwargs)

    def __repr__(self) -> str:
        return f"<shoal.array.gufunc {funcname(self.pyfunc)} signature={self.signature!r}>"


def as_gufunc(signature: str | None = None, **kwargs: Any) -> Callable[[Callable[..., Any]], gufunc]:
    """Decorator form of :class:`gufunc`; mirrors ``dask.array.as_gufunc``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> @as_gufunc("(i)->()", output_dtypes=float)
    ... def spread(v):
    ...     return v.max(-1) - v.min(-1)
    >>> spread(sa.from_array(np.array([[1.0, 5.0], [2.0, 2.5]]), chunks=(1, 2))).compute()
    array([4. , 0.5])
    """
    unknown = set(kwargs) - _GUFUNC_OPTIONS
    if unknown:
        raise TypeError(f"Unsupported keyword argument(s) provided to as_gufunc: {sorted(unknown)}; valid ones are "
                        f"{sorted(_GUFUNC_OPTIONS)}.")

    def decorate(pyfunc: Callable[..., Any]) -> gufunc:
        return gufunc(pyfunc, signature=signature, **kwargs)

    return decorate


class _PyUfuncBlock:
    """``numpy.frompyfunc(func, nin, nout)`` applied to blocks, picking output ``i`` (picklable)."""

    def __init__(self, func: Callable[..., Any], nin: int, nout: int, i: int | None) -> None:
        self.func, self.nin, self.nout, self.i = func, nin, nout, i
        self.__name__ = funcname(func)

    def __call__(self, *blocks: Any) -> Any:
        out = np.frompyfunc(self.func, self.nin, self.nout)(*blocks)
        return out if self.i is None else out[self.i]

    def __dask_tokenize__(self) -> Any:
        return ("frompyfunc", tokenize(self.func), self.nin, self.nout, self.i)


class _PyUfunc:
    """What :func:`frompyfunc` returns: an object-dtype ufunc that stays lazy on shoal arrays."""

    def __init__(self, func: Callable[..., Any], nin: int, nout: int) -> None:
        self.func, self.nin, self.nout = func, nin, nout
        self.__name__ = f"{funcname(func)} (vectorized)"

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.nin:
            raise TypeError(f"{self.__name__} takes {self.nin} argument(s), got {len(args)}.")
        if not any(isinstance(a, ArrayBase) for a in args):
            return np.frompyfunc(self.func, self.nin, self.nout)(*args)
        if self.nout == 1:
            return elemwise(_PyUfuncBlock(self.func, self.nin, 1, None), *args, dtype=object)
        return tuple(elemwise(_PyUfuncBlock(self.func, self.nin, self.nout, i), *args, dtype=object)
                     for i in range(self.nout))

    def outer(self, a: Any, b: Any) -> Any:
        """``f(a_i, b_j)`` for every pair: shape ``a.shape + b.shape``, as ``numpy.frompyfunc(...).outer``."""
        if self.nin != 2:
            raise ValueError(f"{self.__name__}.outer needs a function of two arguments (nin=2), got nin={self.nin}.")
        if not (isinstance(a, ArrayBase) or isinstance(b, ArrayBase)):
            return np.frompyfunc(self.func, 2, self.nout).outer(a, b)
        a, b = asarray(a), asarray(b)
        a_ind, b_ind = tuple(range(a.ndim)), tuple(range(a.ndim, a.ndim + b.ndim))
        outs = [blockwise(_PyUfuncOuterBlock(self.func, self.nout, i), a_ind + b_ind, a, a_ind, b, b_ind,
                          dtype=object, token=f"{funcname(self.func)}-outer")
                for i in range(self.nout)]
        return outs[0] if self.nout == 1 else tuple(outs)

    def __repr__(self) -> str:
        return f"<shoal.array ufunc {self.__name__!r} nin={self.nin} nout={self.nout}>"


class _PyUfuncOuterBlock:
    """Output ``i`` of ``numpy.frompyfunc(func, 2, nout).outer`` on a pair of blocks (picklable)."""

    def __init__(self, func: Callable[..., Any], nout: int, i: int) -> None:
        self.func, self.nout, self.i = func, nout, i
        self.__name__ = funcname(func)

    def __call__(self, a: Any, b: Any) -> Any:
        out = np.frompyfunc(self.func, 2, self.nout).outer(a, b)
        return out if self.nout == 1 else out[self.i]

    def __dask_tokenize__(self) -> Any:
        return ("frompyfunc-outer", tokenize(self.func), self.nout, self.i)


def frompyfunc(func: Callable[..., Any], nin: int, nout: int) -> _PyUfunc:
    """Make a ufunc from a Python function, lazy on shoal arrays; mirrors ``dask.array.frompyfunc``.

    Like ``numpy.frompyfunc`` the outputs have object dtype.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> pair = frompyfunc(lambda a, b: f"{a}-{b}", 2, 1)
    >>> pair(sa.arange(3, chunks=2), 7).compute()
    array(['0-7', '1-7', '2-7'], dtype=object)
    """
    if not callable(func):
        raise TypeError(f"frompyfunc: func must be callable, got {type(func).__name__}.")
    if not (isinstance(nin, Integral) and isinstance(nout, Integral)) or nin < 0 or nout < 1:
        raise ValueError(f"frompyfunc: nin must be >= 0 and nout >= 1 (integers), got nin={nin!r}, nout={nout!r}.")
    return _PyUfunc(func, int(nin), int(nout))

