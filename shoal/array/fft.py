"""``shoal.array.fft``: discrete Fourier transforms of shoal arrays; mirrors ``dask.array.fft``.

A transform needs all of its input along each transformed axis, so those
axes must each be a single block; the transform then runs block by block
(``map_blocks``), other axes keeping any chunking. Arrays chunked along a
transformed axis raise a ``ValueError`` saying how to rechunk.

:func:`fft_wrap` turns any function with the signature of a ``numpy.fft``
function (``scipy.fft``'s, say) into one on shoal arrays; the module's own
``fft``, ``rfft2``, ... are ``numpy.fft`` wrapped that way. ``fftshift`` and
``ifftshift`` are rolls and work on any chunking; ``fftfreq`` and
``rfftfreq`` build their result block by block.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._blockmap import as_array, normalize_axis_index
from shoal.array._creation import arange
from shoal.array._dispatch import implements
from shoal.array._join import roll
from shoal.array._map_blocks import map_blocks

__all__ = [
    "fft",
    "fft2",
    "fft_wrap",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftfreq",
    "rfftn",
]

_KINDS = ("fft", "fft2", "fftn", "ifft", "ifft2", "ifftn", "rfft", "rfft2", "rfftn",
          "irfft", "irfft2", "irfftn", "hfft", "ihfft")


# -- output lengths -----------------------------------------------------------------------------------------------

def _out_lengths(kind: str, in_lengths: list[int], s: Sequence[Any] | None) -> list[int]:
    """Output length along each transformed axis, by NumPy's rules for ``n``/``s``.

    Entries of ``s`` that are ``None`` or ``-1`` keep the input length (NumPy 2).
    The real-input transforms (``rfft*``, ``ihfft``) halve the last axis to
    ``n // 2 + 1``; the real-output ones (``irfft*``, ``hfft``) default it to
    ``2 * (m - 1)`` when no length is given.
    """
    base = kind[:-1] if kind.endswith(("2", "n")) else kind
    real_out = base in ("irfft", "hfft")
    if s is None:
        lengths = list(in_lengths)
        if real_out:
            lengths[-1] = 2 * (lengths[-1] - 1)
    else:
        lengths = [m if n is None or n == -1 else int(n) for n, m in zip(s, in_lengths, strict=True)]
    if base in ("rfft", "ihfft"):
        lengths[-1] = lengths[-1] // 2 + 1
    return lengths


def _resolve_axes(kind: str, ndim: int, s: Sequence[Any] | None, axes: Any) -> tuple[int, ...]:
    if axes is None:
        if kind.endswith("2"):
            axes = (-2, -1)
        elif s is not None:
            # NumPy's rule (the last len(s) axes); passed explicitly to the blocks so
            # NumPy 2 does not warn about ``s`` without ``axes``.
            axes = tuple(range(-len(s), 0))
        else:
            axes = tuple(range(ndim))
    elif isinstance(axes, Integral):
        axes = (axes,)
    what = f"fft.{kind}"
    return tuple(normalize_axis_index(a, ndim, what) for a in axes)


def _check_single_chunk(x: Any, axes: Sequence[int], kind: str) -> None:
    for axis in axes:
        if x.numblocks[axis] != 1:
            raise ValueError(
                f"fft.{kind}: shoal arrays can only be transformed along an axis that is a single chunk, but axis "
                f"{axis} has chunks {x.chunks[axis]}. Rechunk it first, e.g. x.rechunk({{{axis}: -1}})."
            )


# -- the wrapper -------------------------------------------------------------------------------------------------

def fft_wrap(fft_func: Callable[..., Any], kind: str | None = None, dtype: Any = None) -> Callable[..., Any]:
    """Wrap a NumPy-style FFT function so that it runs block by block on shoal arrays.

    Parameters
    ----------
    fft_func : callable
        A function with the signature of the ``numpy.fft`` function named by
        ``kind``: ``f(a, n, axis, norm)`` for 1-D kinds, ``f(a, s, axes, norm)``
        for ``*2`` and ``*n`` kinds.
    kind : str, optional
        One of ``fft``, ``fft2``, ``fftn``, ``ifft``, ``ifft2``, ``ifftn``,
        ``rfft``, ``rfft2``, ``rfftn``, ``irfft``, ``irfft2``, ``irfftn``,
        ``hfft``, ``ihfft``. Defaults to ``fft_func.__name__``.
    dtype : dtype, optional
        Output dtype; by default that of ``fft_func`` on a tiny sample of the
        input's dtype.

    Returns
    -------
    callable
        ``f(a, n=None, axis=-1, norm=None)`` or ``f(a, s=None, axes=None, norm=None)``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(8.0).reshape(2, 4), chunks=(1, 4))
    >>> parallel_fft = fft_wrap(np.fft.fft)
    >>> np.allclose(parallel_fft(x).compute(), np.fft.fft(np.arange(8.0).reshape(2, 4)))
    True
    """
    if kind is None:
        kind = getattr(fft_func, "__name__", "")
    if kind not in _KINDS:
        raise ValueError(f"fft_wrap: unknown kind {kind!r} (from {fft_func!r}); pass one of {', '.join(_KINDS)}.")
    one_d = not kind.endswith(("2", "n"))

    def sample_dtype(x: Any, k: int) -> np.dtype:
        if dtype is not None:
            return np.dtype(dtype)
        return np.asarray(fft_func(np.ones((8,) * k, dtype=x.dtype))).dtype

    def transform(x: Any, s: Sequence[Any] | None, axes: tuple[int, ...], args: tuple[Any, ...]) -> Any:
        _check_single_chunk(x, axes, kind)
        lengths = _out_lengths(kind, [int(x.shape[a]) for a in axes], s)
        chunks = list(x.chunks)
        for axis, length in zip(axes, lengths, strict=True):
            chunks[axis] = (length,)
        out_dtype = sample_dtype(x, 1 if one_d else 2 if kind.endswith("2") else max(len(axes), 1))
        return map_blocks(fft_func, x, *args, dtype=out_dtype, chunks=tuple(chunks),
                          token=f"{kind}-{getattr(fft_func, '__module__', '')}")

    if one_d:
        def func(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
            x = as_array(a)
            ax = normalize_axis_index(axis, x.ndim, f"fft.{kind}")
            return transform(x, None if n is None else (n,), (ax,), (n, ax, norm))
    else:
        def func(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,  # type: ignore[misc]
                 norm: str | None = None) -> Any:
            x = as_array(a)
            if s is not None:
                s = tuple(s)
            resolved = _resolve_axes(kind, x.ndim, s, axes)
            if s is not None and len(s) != len(resolved):
                raise ValueError(f"fft.{kind}: s {s} and axes {axes} must have the same length.")
            return transform(x, s, resolved, (s, resolved, norm))

    functools.update_wrapper(func, fft_func, assigned=("__name__", "__qualname__"))
    func.__doc__ = (f"Wrapping of ``{getattr(fft_func, '__module__', '')}.{kind}`` for shoal arrays.\n\n"
                    f"Each transformed axis must be a single chunk; rechunk with ``x.rechunk({{axis: -1}})``.\n")
    return func


# Registered for NumPy dispatch too: np.fft.fft(x) on a shoal array stays lazy.
fft = implements(np.fft.fft)(fft_wrap(np.fft.fft))
fft2 = implements(np.fft.fft2)(fft_wrap(np.fft.fft2))
fftn = implements(np.fft.fftn)(fft_wrap(np.fft.fftn))
ifft = implements(np.fft.ifft)(fft_wrap(np.fft.ifft))
ifft2 = implements(np.fft.ifft2)(fft_wrap(np.fft.ifft2))
ifftn = implements(np.fft.ifftn)(fft_wrap(np.fft.ifftn))
rfft = implements(np.fft.rfft)(fft_wrap(np.fft.rfft))
rfft2 = implements(np.fft.rfft2)(fft_wrap(np.fft.rfft2))
rfftn = implements(np.fft.rfftn)(fft_wrap(np.fft.rfftn))
irfft = implements(np.fft.irfft)(fft_wrap(np.fft.irfft))
irfft2 = implements(np.fft.irfft2)(fft_wrap(np.fft.irfft2))
irfftn = implements(np.fft.irfftn)(fft_wrap(np.fft.irfftn))
hfft = implements(np.fft.hfft)(fft_wrap(np.fft.hfft))
ihfft = implements(np.fft.ihfft)(fft_wrap(np.fft.ihfft))


# -- frequencies and shifts ---------------------------------------------------------------------------------------

def _scaled(block: np.ndarray, n: int, val: float) -> np.ndarray:
    # NumPy's fftfreq: indices 0..(n-1)//2 then -(n//2)..-1, times 1/(n*d).
    half = (n - 1) // 2 + 1
    return np.where(block < half, block, block - n) * val


def fftfreq(n: int, d: float = 1.0, chunks: Any = "auto") -> Any:
    """Sample frequencies of a length-``n`` DFT; mirrors ``numpy.fft.fftfreq`` with ``chunks=``.

    >>> fftfreq(5, chunks=2).compute()
    array([ 0. ,  0.2,  0.4, -0.4, -0.2])
    """
    n = int(n)
    val = 1.0 / (n * float(d))
    return map_blocks(_scaled, arange(n, chunks=chunks), n, val, dtype=np.float64)


def rfftfreq(n: int, d: float = 1.0, chunks: Any = "auto") -> Any:
    """Sample frequencies of a length-``n`` real DFT; mirrors ``numpy.fft.rfftfreq`` with ``chunks=``.

    >>> rfftfreq(5, chunks=2).compute()
    array([0. , 0.2, 0.4])
    """
    n = int(n)
    val = 1.0 / (n * float(d))
    return arange(n // 2 + 1, chunks=chunks) * val


def _shifts(x: Any, axes: Any, sign: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if axes is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axes, Integral):
        axes = (axes,)
    axes = tuple(normalize_axis_index(a, x.ndim, "fftshift") for a in axes)
    return tuple(sign * (int(x.shape[a]) // 2) for a in axes), axes


@implements(np.fft.fftshift)
def fftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """Move the zero-frequency term to the centre; mirrors ``numpy.fft.fftshift``. Any chunking works.

    >>> import numpy as np, shoal.array as sa
    >>> fftshift(sa.from_array(np.arange(5), chunks=2)).compute()
    array([3, 4, 0, 1, 2])
    """
    a = as_array(x)
    shift, axes = _shifts(a, axes, 1)
    return roll(a, shift, axes) if axes else a


@implements(np.fft.ifftshift)
def ifftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """The inverse of :func:`fftshift`; mirrors ``numpy.fft.ifftshift``. Any chunking works.

    >>> import numpy as np, shoal.array as sa
    >>> ifftshift(sa.from_array(np.arange(5), chunks=2)).compute()
    array([2, 3, 4, 0, 1])
    """
    a = as_array(x)
    shift, axes = _shifts(a, axes, -1)
    return roll(a, shift, axes) if axes else a
