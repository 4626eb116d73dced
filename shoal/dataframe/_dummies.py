"""``get_dummies`` on shoal collections: one indicator column per known category.

The output columns must be the same for every partition and known before
computing, so only categorical columns with known categories are accepted
(``categorize()`` makes them from text columns).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions

__all__ = ["get_dummies", "is_text"]


def is_text(dtype: Any) -> bool:
    """Whether ``dtype`` holds text (``object`` or a string dtype, not a categorical)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _dummies(part: Any, kwargs: dict[str, Any]) -> Any:
    return pd.get_dummies(part, **kwargs)


def get_dummies(data: Any, prefix: Any = None, prefix_sep: str = "_", dummy_na: bool = False, columns: Any = None,
                drop_first: bool = False, dtype: Any = bool) -> Any:
    """``pandas.get_dummies`` on a shoal collection whose categorical columns have known categories.

    The output columns come from the categories, so every partition gets the
    same columns. Call ``categorize()`` first on text columns.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series(["a", "b", "a"], dtype="category"), npartitions=2)
    >>> sd.get_dummies(s).compute().columns.tolist()
    ['a', 'b']
    """
    if not isinstance(data, FrameBase):
        return pd.get_dummies(data, prefix=prefix, prefix_sep=prefix_sep, dummy_na=dummy_na, columns=columns,
                              drop_first=drop_first, dtype=dtype)
    meta = data._meta
    if isinstance(meta, pd.Series):
        checked = [meta.name] if not isinstance(meta.dtype, pd.CategoricalDtype) else []
    else:
        chosen = columns if columns is not None else [c for c in meta.columns if is_text(meta.dtypes[c])
                                                      or isinstance(meta.dtypes[c], pd.CategoricalDtype)]
        checked = [c for c in chosen if not isinstance(meta.dtypes[c], pd.CategoricalDtype)]
    if checked:
        raise NotImplementedError(
            f"get_dummies needs categorical columns with known categories so every partition gets the same "
            f"output columns, but {checked} are not categorical. Call .categorize() first, or "
            f".astype('category') with categories."
        )
    kwargs = {"prefix": prefix, "prefix_sep": prefix_sep, "dummy_na": dummy_na, "columns": columns,
              "drop_first": drop_first, "dtype": np.dtype(dtype)}
    out_meta = _dummies(meta, kwargs)
    return new_collection(MapPartitions(data._expr, _dummies, (kwargs,), None, out_meta, "get-dummies", False, True))
