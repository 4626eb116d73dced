"""Filters of a Parquet read evaluated on the Arrow table, with Arrow's compute kernels.

A DNF filter list (``[("x", ">", 2)]``, or a list of such lists) is evaluated on the columns it names,
after row groups its statistics rule out were skipped (:mod:`.parquet_footer`). Nulls never match, as in
Arrow's dataset scans. Filters in other forms (Arrow expressions) go to the dataset scanner instead.
"""
from __future__ import annotations

from typing import Any

from shoal.dataframe._io.parquet_footer import KERNELS


def filter_columns(filters: Any) -> list[Any] | None:
    """The columns a DNF filter list reads, or ``None`` when it is not in a form :func:`filter_mask` evaluates."""
    if filters is None:
        return []
    if not isinstance(filters, list):
        return None
    conjuncts = filters if filters and isinstance(filters[0], list) else [filters]
    columns: list[Any] = []
    for conjunct in conjuncts:
        for condition in conjunct:
            if not (isinstance(condition, tuple | list) and len(condition) == 3):
                return None
            column, op, _ = condition
            if op not in KERNELS and op not in ("in", "not in"):
                return None
            if column not in columns:
                columns.append(column)
    return columns


def filter_mask(table: Any, filters: list[Any]) -> Any:
    """The rows meeting a DNF filter list, with Arrow compute kernels (nulls never match, as in Arrow's scans)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    conjuncts = filters if filters and isinstance(filters[0], list) else [filters]
    result = None
    for conjunct in conjuncts:
        both = None
        for column, op, value in conjunct:
            data = table[column]
            if op in ("in", "not in"):
                # The same kernels as the scanner's ``~isin``, so that nulls are treated alike.
                hit = pc.is_in(data, value_set=pa.array(list(value), type=data.type))
                hit = pc.invert(hit) if op == "not in" else hit
            else:
                hit = getattr(pc, KERNELS[op])(data, value)
            both = hit if both is None else pc.and_kleene(both, hit)
        result = both if result is None else pc.or_kleene(result, both)
    return result
