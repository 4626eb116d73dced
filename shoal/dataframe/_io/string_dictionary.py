"""Dictionary-encoded string columns decoded to plain strings, fast when every value has the same width.

Parquet stores low-cardinality strings as a dictionary plus indices, and PyArrow reads them back either
as a ``DictionaryArray`` or, through a cast, as plain strings. The cast gathers each value separately.
When all the dictionary's values are ``w`` bytes long (codes, ids, fixed-format names: common for exactly
the columns that get dictionary-encoded), the plain array is simpler: its offsets are ``0, w, 2w, ...``
and its data is the dictionary's ``w``-byte rows taken by index, one NumPy gather. That is three to four
times faster than the cast on a 500,000-row file. Both buffers come from Arrow's memory pool, which
recycles memory between partitions; fresh NumPy arrays of this size cost more in page faults than the
gather itself.
"""
from __future__ import annotations

from typing import Any

import numpy as np

#: Longer values gain little over Arrow's own gather, and the ``(k, w)`` view wants small rows.
_MAX_WIDTH = 64
_OFFSET_TYPES = {"string": np.int32, "binary": np.int32, "large_string": np.int64, "large_binary": np.int64}
# Shared ``0..n`` ramp for the offsets; grown (replaced, never written) when a longer chunk comes along.
_ramp = np.arange(1 << 20, dtype=np.int64)


def decode_chunked(column: Any, target: Any) -> Any:
    """``column`` (a chunked dictionary array of strings) as plain values of Arrow type ``target``.

    Chunks whose dictionary values differ in width are cast by Arrow; the result equals
    ``column.cast(target)`` either way.
    """
    import pyarrow as pa

    chunks = []
    for chunk in column.chunks:
        plain = decode_fixed_width(chunk, target)
        chunks.append(chunk.cast(target) if plain is None else plain)
    return pa.chunked_array(chunks, type=target)


def decode_fixed_width(chunk: Any, target: Any) -> Any | None:
    """One ``DictionaryArray`` as a plain array of ``target`` type, or ``None`` unless its values share one width."""
    import pyarrow as pa

    offset_type = _OFFSET_TYPES.get(str(target))
    dictionary, indices = chunk.dictionary, chunk.indices
    if offset_type is None or len(dictionary) == 0 or dictionary.null_count \
            or _OFFSET_TYPES.get(str(dictionary.type)) is None or not pa.types.is_integer(indices.type):
        return None
    if indices.null_count and indices.offset % 8:
        return None  # the validity bitmap is reused as is, so it must start on a byte
    value_offsets = _values(dictionary.buffers()[1], _OFFSET_TYPES[str(dictionary.type)],
                            dictionary.offset, len(dictionary) + 1)
    width = int(value_offsets[1] - value_offsets[0])
    n = len(indices)
    if not 0 < width <= _MAX_WIDTH or np.any(np.diff(value_offsets) != width) \
            or (n + 1) * width > np.iinfo(offset_type).max:
        return None
    rows = _values(dictionary.buffers()[2], np.uint8, int(value_offsets[0]), len(dictionary) * width)
    positions = _values(indices.buffers()[1], indices.type.to_pandas_dtype(), indices.offset, n)
    data = pa.allocate_buffer(n * width)
    # "clip": ``out=`` is not buffered then, and null slots (whose index is arbitrary) stay in range.
    if width in (1, 2, 4, 8):
        np.take(rows.view(f"<u{width}"), positions, out=np.frombuffer(data, f"<u{width}"), mode="clip")
    else:
        np.take(rows.reshape(-1, width), positions, axis=0, out=np.frombuffer(data, np.uint8).reshape(n, width),
                mode="clip")
    offsets = pa.allocate_buffer((n + 1) * np.dtype(offset_type).itemsize)
    np.multiply(_ramp_to(n + 1), width, out=np.frombuffer(offsets, offset_type), casting="unsafe")
    validity = None
    if indices.null_count:
        validity = indices.buffers()[0].slice(indices.offset // 8)
    return pa.Array.from_buffers(target, n, [validity, offsets, data], null_count=indices.null_count)


def _values(buffer: Any, dtype: Any, offset: int, count: int) -> np.ndarray:
    """``count`` items of ``dtype`` from an Arrow buffer, starting at item ``offset``, without copying."""
    dtype = np.dtype(dtype)
    return np.frombuffer(buffer, dtype, count, offset * dtype.itemsize)


def _ramp_to(n: int) -> np.ndarray:
    global _ramp
    ramp = _ramp
    if len(ramp) < n:
        ramp = _ramp = np.arange(max(n, 2 * len(ramp)), dtype=np.int64)
    return ramp[:n]
