"""Text and HTML views of a collection's structure (no data is computed).

The layout follows Dask's: one row per division with the dtypes in the first
row and ``...`` below, ``npartitions=N`` as the index header, then the name
of the last operation and the number of tasks the optimized plan runs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe._lower import build_graph

__all__ = ["frame_html", "frame_repr"]


def _structure(obj: Any) -> pd.DataFrame:
    meta = obj._meta
    divisions = obj.divisions
    index = ["" if d is None else str(d) for d in divisions]
    if isinstance(meta, pd.DataFrame):
        dtypes = [str(t) for t in meta.dtypes]
        columns = meta.columns
    else:
        dtypes = [str(meta.dtype)]
        columns = pd.Index([""])
    rows = [dtypes] + [["..."] * len(dtypes) for _ in divisions[1:]]
    table = pd.DataFrame(rows, index=pd.Index(index, name=f"npartitions={obj.npartitions}"), columns=columns)
    return table


def _footer(obj: Any) -> str:
    tasks = len(build_graph(obj._opt()))
    return f"Shoal Name: {obj._expr._label}, {tasks} tasks"


def frame_repr(obj: Any) -> str:
    """``repr`` of a DataFrame or Series collection."""
    kind = "DataFrame" if isinstance(obj._meta, pd.DataFrame) else "Series"
    table = _structure(obj).to_string()
    if kind == "Series":
        lines = table.splitlines()
        # Drop the empty column header line of the one-column table.
        table = "\n".join(lines[1:]) + f"\nName: {obj._meta.name}, dtype: {obj._meta.dtype}"
    return f"Shoal {kind} Structure:\n{table}\n{_footer(obj)}"


def frame_html(obj: Any) -> str:
    """``_repr_html_``: the same structure as an HTML table."""
    kind = "DataFrame" if isinstance(obj._meta, pd.DataFrame) else "Series"
    html = _structure(obj).to_html()
    return f"<div><strong>Shoal {kind} Structure:</strong></div>{html}<div>{_footer(obj)}</div>"
