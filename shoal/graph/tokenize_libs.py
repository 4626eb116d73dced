"""Tokens of NumPy, pandas and PyArrow objects: a digest of their buffers, dtype, shape, index and names.

Registered lazily with :data:`shoal.graph.tokenize.normalize_token`, on first
sight of an object from each library, so importing shoal does not import them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shoal.graph.tokenize import (
    _hash_buffer,
    _normalize_pickled,
    _normalize_primitive,
    _on_stack,
    _type_name,
    normalize_token,
)

__all__: list[str] = []


@normalize_token.register_lazy("numpy")
def _register_numpy() -> None:
    import numpy as np

    def normalize_dtype(dt: np.dtype[Any]) -> object:
        if dt.fields is not None or dt.subdtype is not None:
            return ("dtype", dt.str, normalize_token(dt.descr))
        if dt.kind == "T":  # StringDType: its options are only in the repr
            return ("dtype", dt.str, repr(dt))
        return ("dtype", dt.str)

    def content(x: np.ndarray[Any, Any]) -> object:
        if x.dtype.hasobject:  # object and StringDType hold pointers, not data
            return _on_stack(x, lambda a: normalize_token(a.ravel().tolist()))
        data = x if x.flags.c_contiguous else np.ascontiguousarray(x)
        # A uint8 view: datetime64 and structured arrays refuse memoryview.
        return _hash_buffer(data.reshape(-1).view(np.uint8))

    @normalize_token.register(np.ndarray)
    def _(x: np.ndarray[Any, Any]) -> object:
        cls = np.ndarray if isinstance(x, np.memmap) else type(x)
        return (_type_name(cls), x.shape, normalize_dtype(x.dtype), content(x))

    @normalize_token.register(np.ma.MaskedArray)
    def _(x: np.ma.MaskedArray[Any, Any]) -> object:
        if x is np.ma.masked:  # the masked constant: reading its fill_value tries to write to it
            return ("np.ma.masked",)
        mask = np.ma.getmaskarray(x)
        return ("masked", normalize_token(x.data), normalize_token(mask), normalize_token(x.fill_value))

    normalize_token.register(np.dtype, normalize_dtype)

    # np.str_ and np.bytes_ have str/bytes before np.generic in their MRO.
    @normalize_token.register((np.generic, np.str_, np.bytes_))
    def _(x: np.generic) -> object:
        if x.dtype.hasobject:
            return ("np.scalar", normalize_dtype(x.dtype), normalize_token(x.item()))
        return ("np.scalar", normalize_dtype(x.dtype), _normalize_primitive(x.tobytes()))

    @normalize_token.register((np.random.RandomState, np.random.Generator, np.random.BitGenerator))
    def _(x: Any) -> object:  # by state: drawing a number changes the token
        if isinstance(x, np.random.RandomState):
            state: object = x.get_state(legacy=False)
        else:
            state = (x.bit_generator if isinstance(x, np.random.Generator) else x).state
        return (_type_name(type(x)), normalize_token(state))

    @normalize_token.register(np.ufunc)
    def _(x: np.ufunc) -> object:
        if getattr(np, x.__name__, None) is x:
            return ("ufunc", x.__name__)
        return _normalize_pickled(x)  # np.frompyfunc and friends


# --- pandas and pyarrow -----------------------------------------------------


def _normalize_arrow(x: Any) -> object:
    """Digest of an Arrow array, chunked array, record batch or table."""
    import pyarrow as pa  # type: ignore[import-untyped, import-not-found, unused-ignore]

    if isinstance(x, (pa.Table, pa.RecordBatch)):
        columns = tuple(_normalize_arrow(c) for c in x.columns)
        return ("arrow-table", tuple(x.schema.names), columns)
    chunks = x.chunks if isinstance(x, pa.ChunkedArray) else [x]
    # concat_arrays copies into fresh buffers starting at offset 0, so a slice
    # and an equal unsliced array serialize to the same bytes.
    array = pa.concat_arrays(chunks) if chunks else pa.array([], type=x.type)
    batch = pa.record_batch([array], names=["_"])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return ("arrow", str(x.type), _hash_buffer(sink.getvalue()))


@normalize_token.register_lazy("pyarrow")
def _register_pyarrow() -> None:
    import pyarrow as pa  # type: ignore[import-untyped, import-not-found, unused-ignore]

    normalize_token.register((pa.Array, pa.ChunkedArray, pa.RecordBatch, pa.Table), _normalize_arrow)


@normalize_token.register_lazy("pandas")
def _register_pandas() -> None:
    import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]

    def reg(*classes: type) -> Callable[[Callable[[Any], object]], Callable[[Any], object]]:
        return normalize_token.register(classes)

    @reg(pd.RangeIndex)
    def _(x: pd.RangeIndex) -> object:  # no need to materialize the values
        return ("pd.RangeIndex", x.start, x.stop, x.step, normalize_token(x.name))

    @reg(pd.MultiIndex)
    def _(x: pd.MultiIndex) -> object:
        return ("pd.MultiIndex", normalize_token(list(x.names)), normalize_token(list(x.levels)),
                normalize_token(list(x.codes)))

    @reg(pd.Index)
    def _(x: pd.Index) -> object:
        return (_type_name(type(x)), normalize_token(x.name), normalize_token(x.array))

    @reg(pd.Series)
    def _(x: pd.Series) -> object:
        return ("pd.Series", normalize_token(x.name), normalize_token(x.index), normalize_token(x.array))

    @reg(pd.DataFrame)
    def _(x: pd.DataFrame) -> object:
        columns = tuple(normalize_token(column.array) for _, column in x.items())
        return ("pd.DataFrame", normalize_token(x.columns), normalize_token(x.index), columns)

    @reg(pd.arrays.NumpyExtensionArray)
    def _(x: Any) -> object:  # also StringArray: the dtype tells them apart
        return (_type_name(type(x)), normalize_token(x.dtype), normalize_token(x.to_numpy()))

    @reg(pd.arrays.DatetimeArray, pd.arrays.TimedeltaArray, pd.arrays.PeriodArray)
    def _(x: Any) -> object:  # asi8 is a no-copy int64 view; the dtype has unit and tz
        return (_type_name(type(x)), normalize_token(x.dtype), normalize_token(x.asi8))

    @reg(pd.Categorical)
    def _(x: pd.Categorical) -> object:
        return ("pd.Categorical", normalize_token(x.dtype), normalize_token(x.codes))

    @reg(pd.arrays.IntervalArray, pd.Interval)
    def _(x: Any) -> object:
        return (_type_name(type(x)), normalize_token(x.left), normalize_token(x.right), x.closed)

    @reg(pd.arrays.ArrowExtensionArray)
    def _(x: Any) -> object:  # Arrow-backed strings ("str", "string[pyarrow]") and ArrowDtype
        return (_type_name(type(x)), normalize_token(x.dtype), _normalize_arrow(x.__arrow_array__()))

    @reg(pd.Timestamp, pd.Timedelta, pd.Period, type(pd.NaT), type(pd.NA))
    def _(x: object) -> object:  # reprs spell value, unit-free, and tz or freq
        return (_type_name(type(x)), repr(x))

    @reg(pd.CategoricalDtype)
    def _(x: pd.CategoricalDtype) -> object:
        return ("pd.CategoricalDtype", normalize_token(x.categories), normalize_token(x.ordered))

    @reg(pd.api.extensions.ExtensionDtype)
    def _(x: object) -> object:  # str says "str" vs "string"; repr adds storage
        return (_type_name(type(x)), str(x), repr(x))
