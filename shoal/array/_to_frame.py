"""``Array.to_dask_dataframe``: a 1-d or 2-d array as a shoal Series or DataFrame.

The work is :func:`shoal.dataframe.from_dask_array`'s; this mixin only gives
arrays Dask's method. ``shoal.dataframe`` is imported when the method is
called: it is an optional extra (it needs pandas), and ``shoal.array`` sits
beside it in the layers, not below it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FrameMethods"]


class FrameMethods:
    """``Array.to_dask_dataframe``."""

    __slots__ = ()

    def to_dask_dataframe(self, columns: Any = None, index: Any = None, meta: Any = None) -> Any:
        """The array as a shoal DataFrame (2-d) or Series (1-d), one partition per row block.

        Parameters
        ----------
        columns : list or str, optional
            Column names for a DataFrame, or the name of a Series.
        index : shoal Index, optional
            Row labels, with one partition per row block of the array (e.g. ``df.index``); by default rows
            are numbered 0, 1, ... with known divisions when the block lengths are known.
        meta : pandas object, optional
            An empty DataFrame/Series of the partition type to produce.

        Returns
        -------
        shoal.dataframe.DataFrame or Series

        Raises
        ------
        ImportError
            If shoal's dataframe extra (pandas) is not installed.

        Notes
        -----
        Mirrors ``dask.array.Array.to_dask_dataframe``; the same as
        ``shoal.dataframe.from_dask_array(x, columns, index, meta)``.

        Examples
        --------
        >>> import numpy as np, shoal.array as sa
        >>> x = sa.from_array(np.arange(6).reshape(3, 2), chunks=(2, 2))
        >>> x.to_dask_dataframe(columns=["a", "b"]).b.compute().tolist()
        [1, 3, 5]
        """
        try:
            from shoal.dataframe import from_dask_array  # optional extra: import on use
        except ImportError as exc:
            raise ImportError(
                f"to_dask_dataframe needs shoal.dataframe, which could not be imported ({exc}). Install the "
                f"dataframe extra: pip install 'shoal[dataframe]'."
            ) from exc
        return from_dask_array(self, columns=columns, index=index, meta=meta)
