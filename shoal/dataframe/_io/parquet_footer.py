"""Which row groups and columns of a Parquet file a read needs, decided from the file's footer.

Row groups whose min/max statistics rule a filter out are dropped before any
task exists (:func:`matching_row_groups`), and string columns stored as
dictionaries are read as such (:func:`dictionary_columns`). Split from
:mod:`shoal.dataframe._io.parquet`, which reads and writes.
"""

from __future__ import annotations

import functools
from typing import Any

#: Filter operators and the Arrow compute kernels that evaluate them.
KERNELS = {"==": "equal", "=": "equal", "!=": "not_equal", ">": "greater", ">=": "greater_equal",
           "<": "less", "<=": "less_equal"}


def is_trivial(expression: Any) -> bool:
    """Whether a partition expression selects everything (a file outside any hive ``key=value`` folder)."""
    return bool(expression is None or expression.equals(_true_expression()))


@functools.cache
def _true_expression() -> Any:
    import pyarrow.dataset as ds

    return ds.scalar(True)


def _row_group_infos(fragments: list[Any]) -> list[Any]:
    return [rg for frag in fragments for rg in frag.row_groups]


def matching_row_groups(fragment: Any, filters: Any, expression: Any, schema: Any,
                        chosen: tuple[int, ...] | None) -> list[int]:
    """Row groups of ``fragment`` (among ``chosen``, default all) whose statistics don't rule ``filters`` out.

    Plain comparisons on numeric columns are checked against the footer's min/max here, in Python: Arrow's
    ``split_by_row_group`` builds a statistics expression per row group and costs several times more, which
    a selective query spends before its first task can start. Anything else (strings, dates, hive keys,
    Arrow expressions) goes to Arrow.
    """
    groups = _prune_with_statistics(fragment, filters, schema, chosen)
    if groups is not None:
        return groups
    row_groups = fragment.split_by_row_group(filter=expression, schema=schema)
    found = [rg.id for rg in _row_group_infos(row_groups)]
    return found if chosen is None else [g for g in found if g in set(chosen)]


#: Arrow types whose Parquet min/max statistics are plain Python numbers that compare like the column's values.
_NUMERIC_STAT_TYPES = frozenset("int8 int16 int32 int64 uint8 uint16 uint32 uint64 float double".split())


def _prune_with_statistics(fragment: Any, filters: Any, schema: Any, chosen: tuple[int, ...] | None
                           ) -> list[int] | None:
    """The row groups a DNF filter on numeric columns may match, or ``None`` when Arrow must decide.

    A group is dropped only when, for every OR branch, some condition is impossible given the column's
    min and max. ``!=`` and ``not in`` never drop a group: NaN is left out of float statistics, and NaN
    differs from every value. Nulls never match a comparison, so they can't keep a group alive.
    """
    if filters is None:
        return list(chosen) if chosen is not None else list(range(fragment.metadata.num_row_groups))
    if not isinstance(filters, list):
        return None
    if not is_trivial(fragment.partition_expression):
        return None
    conjuncts = filters if filters and isinstance(filters[0], list) else [filters]
    names = set(schema.names)
    for conjunct in conjuncts:
        for condition in conjunct:
            if not (isinstance(condition, tuple | list) and len(condition) == 3):
                return None
            column, op, value = condition
            if column not in names or str(schema.field(column).type) not in _NUMERIC_STAT_TYPES:
                return None
            if op not in KERNELS and op not in ("in", "not in"):
                return None
            values = list(value) if op in ("in", "not in") else [value]
            # NaN compares false to everything here, but Arrow's ``is_in`` matches NaN with NaN.
            if not all(isinstance(v, int | float) and not isinstance(v, bool) and v == v for v in values):
                return None
    metadata = fragment.metadata
    positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    if any(c not in positions for conjunct in conjuncts for c, _, _ in conjunct):
        return None
    physical = fragment.physical_schema
    if any(physical.field(c).type != schema.field(c).type for conjunct in conjuncts for c, _, _ in conjunct):
        return None
    groups = range(metadata.num_row_groups) if chosen is None else chosen
    kept = []
    for g in groups:
        row_group = metadata.row_group(g)
        if any(all(_may_match(row_group.column(positions[c]).statistics, op, v) for c, op, v in conjunct)
               for conjunct in conjuncts):
            kept.append(g)
    return kept


def _may_match(stats: Any, op: str, value: Any) -> bool:
    """Whether a row group with these statistics can hold a row where ``column op value`` is true."""
    if stats is None or not stats.has_min_max:
        return True
    low, high = stats.min, stats.max
    if op in ("==", "="):
        return bool(low <= value <= high)
    if op == ">":
        return bool(high > value)
    if op == ">=":
        return bool(high >= value)
    if op == "<":
        return bool(low < value)
    if op == "<=":
        return bool(low <= value)
    if op == "in":
        return any(low <= v <= high for v in value)
    return True  # "!=" and "not in"


STRING_TYPES = frozenset(("string", "large_string"))


def dictionary_columns(metadata: Any, schema: Any, columns: list[Any] | None, groups: tuple[int, ...] | None
                       ) -> list[str]:
    """String columns stored dictionary-encoded in every row group read: cheaper to read as dictionaries.

    Decoding a dictionary page into a string array per value costs more than reading the indices and
    then expanding them with one ``take`` (about half for a low-cardinality column such as a name).
    A column chunk holds dictionary indices, not plain strings, when its data pages take under 4 bytes
    per value: a plain string costs 4 bytes of length before its characters. A writer that gave up on the
    dictionary part way (high cardinality) stores plain pages, fails that test and is read as it is.
    """
    names = schema.names if columns is None else columns
    wanted = [n for n in names if n in schema.names and str(schema.field(n).type) in STRING_TYPES]
    if not wanted or metadata.num_row_groups == 0:
        return []
    positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    chosen = [n for n in wanted if n in positions]
    for g in range(metadata.num_row_groups) if groups is None else groups:
        row_group = metadata.row_group(g)
        kept = []
        for name in chosen:
            chunk = row_group.column(positions[name])
            if not chunk.has_dictionary_page or chunk.num_values == 0:
                continue
            data_bytes = chunk.total_compressed_size - (chunk.data_page_offset - chunk.dictionary_page_offset)
            if data_bytes < 4 * chunk.num_values:
                kept.append(name)
        chosen = kept
        if not chosen:
            break
    return chosen
