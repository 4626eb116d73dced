"""The public ``Array`` class: the data of :mod:`._base` plus every family's methods.

Each family module defines a ``...Methods`` mixin; composing them here, at the
top of the package, keeps the family modules independent of each other and
of this class (they build arrays through :func:`shoal.array._base.new_array`).
"""

from __future__ import annotations

from typing import Any

from shoal.array._array_shuffle import ShuffleMethods
from shoal.array._base import ArrayBase, register_array_class
from shoal.array._creation import CreationMethods
from shoal.array._dispatch import HANDLED_FUNCTIONS
from shoal.array._elementwise import ElementwiseMethods
from shoal.array._io import IOMethods
from shoal.array._io_zarr import ZarrMethods
from shoal.array._join import JoinMethods
from shoal.array._linalg import LinalgMethods
from shoal.array._overlap import OverlapMethods
from shoal.array._reductions import ReductionMethods
from shoal.array._routines import RoutineMethods
from shoal.array._shape import ShapeMethods
from shoal.array._slicing import SlicingMethods
from shoal.array._svg import SvgMethods
from shoal.array._take import TakeMethods
from shoal.array._to_frame import FrameMethods

__all__ = ["Array"]


class Array(
    ReductionMethods,
    SlicingMethods,
    TakeMethods,
    ShapeMethods,
    JoinMethods,
    LinalgMethods,
    RoutineMethods,
    OverlapMethods,
    IOMethods,
    ZarrMethods,
    CreationMethods,
    ElementwiseMethods,
    ShuffleMethods,
    SvgMethods,
    FrameMethods,
    ArrayBase,
):
    """A NumPy-like array cut into blocks, computed lazily and in parallel.

    Build one with :func:`shoal.array.from_array`, the creation functions
    (``ones``, ``arange``, ``random.random``, ...) or by operating on others;
    ``compute()`` returns a ``numpy.ndarray``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> x
    shoal.array<array, shape=(3, 4), dtype=int64, chunksize=(2, 2), chunktype=numpy.ndarray>
    >>> (x + 1).compute()[0]
    array([1, 2, 3, 4])
    """

    __slots__ = ()
    __array_priority__ = 11  # beat NumPy arrays in mixed binary operations

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        impl = HANDLED_FUNCTIONS.get(func)
        if impl is None:
            name = f"{func.__module__}.{func.__name__}"
            raise TypeError(
                f"{name} is not implemented for shoal arrays, so it cannot run lazily. Compute first "
                f"(np.asarray(x) or x.compute()) to use NumPy's version, or express it with "
                f"map_blocks/blockwise."
            )
        return impl(*args, **kwargs)

    __hash__ = object.__hash__

    # -- the collection as a whole ----------------------------------------------------
    @property
    def dask(self) -> Any:
        """The task graph (key -> task) that computes this array, as Dask's ``Array.dask``."""
        return self.__dask_graph__()

    def visualize(self, filename: str | None = "mydask", format: str | None = None, optimize_graph: bool = False,
                  **kwargs: Any) -> Any:
        """Draw the task graph with Graphviz; see :func:`shoal.visualize`."""
        from shoal.base import visualize  # only drawing needs it

        return visualize(self, filename=filename, format=format, optimize_graph=optimize_graph, **kwargs)


register_array_class(Array)
