"""Testing helpers for shoal dataframes; mirrors ``dask.dataframe.utils``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandas.testing as tm

from shoal.dataframe._core import FrameBase
from shoal.dataframe._meta import make_meta, make_meta_nonempty

__all__ = ["assert_eq", "make_meta", "make_meta_nonempty"]


def _materialize(x: Any, check_meta: bool, label: str) -> Any:
    if not isinstance(x, FrameBase):
        return x
    result = x.compute(scheduler="sync")
    meta = x._meta
    if check_meta and isinstance(meta, pd.DataFrame | pd.Series) and isinstance(result, type(meta)):
        if isinstance(meta, pd.DataFrame):
            if list(meta.columns) != list(result.columns):
                raise AssertionError(f"{label}: metadata columns {list(meta.columns)} != result columns "
                                     f"{list(result.columns)}")
            bad = {c: (str(meta.dtypes[c]), str(result.dtypes[c])) for c in meta.columns
                   if str(meta.dtypes[c]) != str(result.dtypes[c])}
            if bad:
                raise AssertionError(f"{label}: metadata dtypes differ from the result ({{column: (meta, "
                                     f"result)}}): {bad}")
        elif str(meta.dtype) != str(result.dtype):
            raise AssertionError(f"{label}: metadata dtype {meta.dtype} != result dtype {result.dtype}")
    if x.known_divisions and isinstance(result, pd.DataFrame | pd.Series) and len(result):
        div = x.divisions
        if result.index.min() < div[0] or result.index.max() > div[-1]:
            raise AssertionError(f"{label}: index values fall outside the divisions {div}")
    return result


def assert_eq(a: Any, b: Any, check_names: bool = True, check_dtype: bool = True, check_divisions: bool = True,
              check_index: bool = True, sort_results: bool = True, check_meta: bool = True, **kwargs: Any) -> bool:
    """Assert that two dataframes/series/scalars (shoal or pandas) are equal.

    Shoal collections are computed on the sync scheduler; their metadata must
    match what computing gives. With ``sort_results`` rows are compared in
    index order, since partitioned results need not share pandas' row order.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> pdf = pd.DataFrame({"x": [1, 2, 3]})
    >>> assert_eq(sd.from_pandas(pdf, npartitions=2).x + 1, pdf.x + 1)
    True
    """
    left = _materialize(a, check_meta, "left")
    right = _materialize(b, check_meta, "right")
    if isinstance(left, pd.DataFrame | pd.Series | pd.Index):
        if not check_index:
            left = left.reset_index(drop=True)
            right = right.reset_index(drop=True)
        if sort_results and not isinstance(left, pd.Index):
            left = _sorted(left)
            right = _sorted(right)
        if isinstance(left, pd.DataFrame):
            tm.assert_frame_equal(left, right, check_names=check_names, check_dtype=check_dtype, **kwargs)
        elif isinstance(left, pd.Series):
            tm.assert_series_equal(left, right, check_names=check_names, check_dtype=check_dtype, **kwargs)
        else:
            tm.assert_index_equal(left, right, check_names=check_names, **kwargs)
        return True
    if isinstance(left, float | np.floating) or isinstance(right, float | np.floating):
        if not (np.isnan(left) and np.isnan(right)):
            # A sum that cancels to 0.0 in pandas may leave 1e-15 when partitioned: allow an absolute floor.
            np.testing.assert_allclose(left, right, rtol=kwargs.get("rtol", 1e-7), atol=kwargs.get("atol", 1e-12))
        return True
    assert left == right, f"{left!r} != {right!r}"
    return True


def _sorted(x: Any) -> Any:
    try:
        return x.sort_index(kind="stable")
    except TypeError:
        return x
