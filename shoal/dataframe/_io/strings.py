"""The ``dataframe.convert-string`` setting: text columns as pandas' Arrow-backed ``string[pyarrow]``.

Dask (2026.8, pandas 3) converts, when the setting is on (its default), every
text column and index that ``from_pandas`` and the readers produce to
``pd.StringDtype("pyarrow")``, the Arrow-backed string dtype whose missing
value is ``pd.NA``, not pandas 3's default ``str`` (also Arrow-backed, but
with NaN for missing values). shoal does the same when the setting is
``True``. Its default (``null`` in ``shoal.yaml``) and ``False`` leave
pandas' own dtypes, so that results equal what pandas gives on the same
data.

Text means pandas' ``str`` dtype, or ``object`` holding only strings and
missing values. Unlike Dask, ``object`` columns mixing strings with other
values are left as they are rather than turned into text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["ARROW_STRING", "convert_string_enabled", "match_strings", "to_arrow_strings"]

ARROW_STRING = pd.StringDtype("pyarrow")


def convert_string_enabled() -> bool:
    """Whether ``dataframe.convert-string`` is set to ``True``."""
    from shoal import config

    return config.get("dataframe.convert-string", None) is True


def _is_text(values: Any) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        return dtype != ARROW_STRING
    if dtype.kind != "O":
        return False
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def to_arrow_strings(obj: Any) -> Any:
    """``obj`` (a DataFrame, Series or Index) with its text columns and index as ``string[pyarrow]``."""
    if isinstance(obj, pd.Index):
        return obj.astype(ARROW_STRING) if not isinstance(obj, pd.MultiIndex) and _is_text(obj) else obj
    if isinstance(obj, pd.Series):
        out = obj.astype(ARROW_STRING) if _is_text(obj) else obj
    else:
        text = [i for i in range(obj.shape[1]) if _is_text(obj.iloc[:, i])]
        out = obj
        if text:
            out = obj.copy(deep=False)
            for i in text:
                out.isetitem(i, obj.iloc[:, i].astype(ARROW_STRING))
    index = to_arrow_strings(out.index)
    if index is not out.index:
        out = out.copy(deep=False) if out is obj else out
        out.index = index
    return out


def match_strings(part: Any, meta: Any) -> Any:
    """``part`` with the columns (and index) the meta holds as ``string[pyarrow]`` cast to it."""
    if isinstance(meta, pd.Series):
        out = part.astype(ARROW_STRING) if meta.dtype == ARROW_STRING and part.dtype != ARROW_STRING else part
    else:
        wanted = [c for c, dtype in meta.dtypes.items() if dtype == ARROW_STRING and c in part.columns
                  and part.dtypes[c] != ARROW_STRING]
        out = part.astype(dict.fromkeys(wanted, ARROW_STRING)) if wanted else part
    if meta.index.dtype == ARROW_STRING and out.index.dtype != ARROW_STRING:
        out = out.copy(deep=False) if out is part else out
        out.index = out.index.astype(ARROW_STRING)
    return out
