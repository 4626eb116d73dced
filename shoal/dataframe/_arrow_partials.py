"""Per-partition partial aggregates computed on the Arrow table a Parquet read gives, before pandas sees it.

A groupby or ``value_counts`` over ``read_parquet`` spends most of each
partition's time converting the columns to pandas and hashing the keys
there. Arrow's kernels do the same work on the table straight from the file,
release the GIL, and group a dictionary-encoded string column by its integer
codes, so its strings are never hashed at all. The reader
(:mod:`shoal.dataframe._io.parquet_reduce`) calls these kernels in the task
that reads the partition; each returns the same small pandas partial the
pandas chunk function would, or ``None`` when the data are outside what the
kernels match pandas on exactly (NaN values, nulls in integer columns, float
or boolean keys, first-appearance order), and the reader then converts the
table and runs the pandas chunk as before.

Only partials whose order does not matter are made here: groupby with
``sort=True`` (the result is sorted by key at the end) and ``value_counts``
with ``sort=True`` (sorted by count; ties keep the partials' order, which
pandas leaves unspecified too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["groupby_partial", "value_counts_partial"]

#: Value columns summed, counted, or whose min or max is taken, in Arrow and in pandas alike.
_VALUE_TYPES = {"int64": np.dtype("int64"), "double": np.dtype("float64")}
_KEY_TYPES = frozenset("int8 int16 int32 int64 uint8 uint16 uint32 uint64".split())
_STRING_TYPES = frozenset({"string", "large_string"})


def _keys_as_codes(table: Any, keys: list[Any], meta_dtypes: dict[Any, Any]) -> tuple[Any, dict[Any, Any]] | None:
    """The table with dictionary-encoded string keys replaced by their codes, and each such key's dictionary.

    Returns ``None`` when a key is of a type grouped differently by pandas (floats with NaN, booleans,
    dates) or is missing from the table.
    """
    import pyarrow as pa

    dictionaries: dict[Any, Any] = {}
    if any(pa.types.is_dictionary(table.schema.field(k).type) for k in keys if k in table.column_names):
        # Row groups carry dictionaries of their own: one shared dictionary makes codes comparable.
        table = table.unify_dictionaries()
    for k in keys:
        if k not in table.column_names:
            return None
        field = table.schema.field(k)
        kind = field.type
        if pa.types.is_dictionary(kind):
            if str(kind.value_type) not in _STRING_TYPES or not _is_text(meta_dtypes[k]):
                return None  # a categorical column: pandas groups it by its categories
            column = table.column(k)
            dictionaries[k] = column.chunk(0).dictionary if column.num_chunks else pa.array([], kind.value_type)
            codes = pa.chunked_array([c.indices for c in column.chunks], type=kind.index_type)
            table = table.set_column(table.schema.get_field_index(k), pa.field(k, kind.index_type), codes)
        elif str(kind) in _STRING_TYPES:
            if not _is_text(meta_dtypes[k]):
                return None
        elif str(kind) not in _KEY_TYPES or meta_dtypes[k] != kind.to_pandas_dtype() or table.column(k).null_count:
            return None  # with nulls, pandas reads integers as floats
    return table, dictionaries


def _is_text(dtype: Any) -> bool:
    return isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O")


def _index_values(values: Any, dictionary: Any, dtype: Any) -> Any:
    """Group keys from Arrow as the pandas array the pandas chunk's index would hold."""
    if dictionary is not None:
        import pyarrow.compute as pc

        values = pc.take(dictionary, values)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        return pd.arrays.ArrowStringArray(pa.chunked_array([values]) if isinstance(values, pa.Array) else values,
                                          dtype=dtype)
    out = values.to_numpy(zero_copy_only=False)
    return out if out.dtype == dtype else pd.array(out, dtype=dtype)


def _value_dtype(table: Any, meta: Any, column: Any, check_nan: bool = True) -> np.dtype | None:
    """The NumPy dtype of a value column the kernels aggregate as pandas would, or ``None``."""
    import pyarrow.compute as pc

    if column not in table.column_names or column not in meta.columns:
        return None
    data = table.column(column)
    dtype = _VALUE_TYPES.get(str(data.type))
    if dtype is None or meta[column].dtype != dtype:
        return None
    if dtype.kind == "i" and data.null_count:
        return None  # pandas reads these as floats with NaN
    if check_nan and dtype.kind == "f" and pc.any(pc.is_nan(data)).as_py():
        return None  # pandas skips NaN; Arrow's kernels take it as a value
    return dtype


def _value_aggregate(table: Any, meta: Any, column: Any, prim: str) -> tuple[Any, str, Any] | None:
    """The Arrow aggregation matching pandas' ``prim`` on ``column``, or ``None`` where they would differ."""
    import pyarrow.compute as pc

    if _value_dtype(table, meta, column) is None:
        return None
    if prim == "sum":
        # pandas sums a group of missing values to 0, not to a missing value.
        return column, "sum", pc.ScalarAggregateOptions(skip_nulls=True, min_count=0)
    if prim == "count":
        return column, "count", pc.CountOptions(mode="only_valid")
    if prim in ("min", "max"):
        return column, prim, pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)
    return None


#: Most slots a direct-address partial may use, against the rows it reduces (below this, never refused).
_DENSE_MIN_SLOTS = 1 << 16


def _dense_partial(table: Any, meta: Any, key: Any, dictionary: Any, prims: list[tuple[Any, str]]
                   ) -> pd.DataFrame | None:
    """The partial by direct addressing: one slot per key value in the key's range, or per dictionary entry.

    For a key of few distinct values in a narrow range (dictionary codes, small integer ids) adding into
    slots costs a fraction of hashing, in Arrow or pandas. ``None`` where it does not apply: missing keys
    or values, a wide key range, NaN among the values.
    """
    import pyarrow.compute as pc

    column = table.column(key)
    kind = np.dtype(column.type.to_pandas_dtype()) if dictionary is None else None
    if column.null_count or (kind is not None and (kind.kind not in "iu" or kind == np.uint64)):
        return None  # plain strings are hashed; a uint64 range does not fit the signed offsets
    if dictionary is not None:
        low, slots = 0, len(dictionary)
    else:
        bounds = pc.min_max(column)
        low = int(bounds["min"].as_py())
        slots = int(bounds["max"].as_py()) - low + 1
    if slots > max(2 * table.num_rows, _DENSE_MIN_SLOTS):
        return None
    values: dict[Any, np.dtype] = {}
    for column_name, prim in prims:
        if prim == "size" or column_name in values:
            continue
        dtype = _value_dtype(table, meta, column_name, check_nan=False)
        if dtype is None or table.column(column_name).null_count or prim not in ("sum", "count", "min", "max"):
            return None
        values[column_name] = dtype
    # NaN shows in a float column's sum, min or max; a column only counted is checked on its own.
    summed = {c for c, p in prims if p in ("sum", "min", "max")}
    if any(dtype.kind == "f" and c not in summed and pc.any(pc.is_nan(table.column(c))).as_py()
           for c, dtype in values.items()):
        return None
    size = np.zeros(slots, dtype=np.int64)
    totals: dict[int, np.ndarray] = {}
    for j, (column_name, prim) in enumerate(prims):
        if prim in ("sum", "min", "max"):
            dtype = values[column_name]
            if prim == "sum":
                totals[j] = np.zeros(slots, dtype=np.float64 if dtype.kind == "f" else dtype)
            else:
                limits = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
                worst = limits.max if prim == "min" else limits.min
                totals[j] = np.full(slots, (np.inf if prim == "min" else -np.inf) if dtype.kind == "f" else worst,
                                    dtype=dtype)
    names = table.column_names
    with np.errstate(invalid="ignore"):  # NaN among the values: checked for below
        _accumulate(table, names.index(key), low, slots, prims, size, totals)
    present = np.flatnonzero(size)
    data: dict[int, Any] = {}
    for j, (column_name, _prim) in enumerate(prims):
        data[j] = size[present] if j not in totals else totals[j][present]
        if j in totals and data[j].dtype.kind == "f" and np.isnan(data[j]).any() and pc.any(
                pc.is_nan(table.column(column_name))).as_py():
            return None  # pandas skips NaN; the sums and extremes above took it in
    if dictionary is not None:
        import pyarrow as pa

        keys = _index_values(pa.array(present), dictionary, meta[key].dtype)
    else:
        keys = (present + low).astype(kind)
    out = pd.DataFrame(data, index=pd.Index(keys, name=key), copy=False)
    out.columns = range(len(prims))
    return out


def _accumulate(table: Any, key: int, low: int, slots: int, prims: list[tuple[Any, str]], size: np.ndarray,
                totals: dict[int, np.ndarray]) -> None:
    """Add the table's rows into the slots of ``size`` and of the ``totals`` of each primitive.

    Whole columns, not record batches: NumPy's per-call set-up on a few row groups' worth of rows costs
    more than the one copy that joins a column's chunks.
    """
    names = table.column_names
    offsets = table.column(key).to_numpy().astype(np.intp, copy=False)
    if low:
        offsets = offsets - low
    size += np.bincount(offsets, minlength=slots)
    for j, (column_name, prim) in enumerate(prims):
        if j not in totals:
            continue
        array = table.column(names.index(column_name)).to_numpy()
        if prim == "sum" and array.dtype.kind == "f":
            totals[j] += np.bincount(offsets, weights=array, minlength=slots)
        elif prim == "sum":
            np.add.at(totals[j], offsets, array)
        else:
            (np.minimum if prim == "min" else np.maximum).at(totals[j], offsets, array)


def groupby_partial(table: Any, meta: Any, *, keys: list[Any], prims: list[tuple[Any, str]], dropna: bool,
                    sort: bool = True) -> pd.DataFrame | None:
    """``_chunk`` of :mod:`shoal.dataframe._groupby` on an Arrow table, or ``None`` to let pandas do it.

    Parameters
    ----------
    table : pyarrow.Table
        The partition as read, string keys possibly still dictionary-encoded.
    meta : pandas.DataFrame
        The reader's meta: the dtypes the pandas partition would have.
    keys, prims, dropna, sort
        As the groupby's chunk receives them.
    """
    import pyarrow.compute as pc

    if not sort or not keys or table.num_rows == 0 or not isinstance(meta, pd.DataFrame):
        return None
    if any(k not in meta.columns for k in keys) or len(set(keys)) != len(keys):
        return None
    coded = _keys_as_codes(table, keys, {k: meta[k].dtype for k in keys})
    if coded is None:
        return None
    table, dictionaries = coded
    if not dropna and any(table.column(k).null_count for k in keys):
        return None  # pandas keeps a NaN group whose index dtype follows its own rules
    if len(keys) == 1:
        dense = _dense_partial(table, meta, keys[0], dictionaries.get(keys[0]), prims)
        if dense is not None:
            return dense
    aggregations: list[Any] = []
    for column, prim in prims:
        if prim == "size":
            aggregations.append(([], "count_all"))
            continue
        found = _value_aggregate(table, meta, column, prim)
        if found is None:
            return None
        aggregations.append(found)
    grouped = table.group_by(keys, use_threads=False).aggregate(aggregations)
    if dropna:
        valid = None
        for k in keys:
            if table.column(k).null_count:
                hit = pc.is_valid(grouped.column(k))
                valid = hit if valid is None else pc.and_(valid, hit)
        if valid is not None:
            grouped = grouped.filter(valid)
    levels = [_index_values(grouped.column(k), dictionaries.get(k), meta[k].dtype) for k in keys]
    index = (pd.MultiIndex.from_arrays(levels, names=keys) if len(keys) > 1
             else pd.Index(levels[0], name=keys[0]))
    names = ["count_all" if prim == "size" else f"{column}_{agg[1]}" for (column, prim), agg in
             zip(prims, aggregations, strict=True)]
    data = {j: grouped.column(name).to_numpy() for j, name in enumerate(names)}
    out = pd.DataFrame(data, index=index, copy=False)
    out.columns = range(len(prims))
    return out


def value_counts_partial(table: Any, meta: Any, *, dropna: bool = True, sort: bool = True) -> pd.Series | None:
    """``Series.value_counts(sort=False)`` of the table's one column, or ``None`` to let pandas do it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not sort or table.num_columns != 1 or table.num_rows == 0 or not isinstance(meta, pd.Series):
        return None
    coded = _keys_as_codes(table, [table.column_names[0]], {table.column_names[0]: meta.dtype})
    if coded is None:
        return None
    table, dictionaries = coded
    name = table.column_names[0]
    column = table.column(0)
    if column.null_count and not dropna:
        return None
    dictionary = dictionaries.get(name)
    if dictionary is not None:
        codes = np.concatenate([c.fill_null(0).to_numpy() if c.null_count else c.to_numpy() for c in column.chunks])
        counts = np.bincount(codes, minlength=len(dictionary))
        if column.null_count:
            # Null slots were filled with code 0 above: take them back off its count.
            counts[0] -= column.null_count
        present = np.flatnonzero(counts)
        values: Any = pa.array(present, type=pa.int64())
        tallies = counts[present].astype(np.int64)
    else:
        found = pc.value_counts(column)
        values, tallies = found.field("values"), found.field("counts").to_numpy()
        if values.null_count:
            keep = pc.is_valid(values)
            values, tallies = values.filter(keep), tallies[keep.to_numpy(zero_copy_only=False)]
    index = pd.Index(_index_values(values, dictionary, meta.dtype), name=meta.name)
    # pandas 2 and 3 name an unnormalized value_counts result "count" (normalizing happens at the end).
    return pd.Series(tallies, index=index, name="count")
