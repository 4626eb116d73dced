"""Arrow string columns moved as dictionary codes through a shuffle, and turned back into strings after it.

Model
    Moving a string column copies every string, and a sorting shuffle moves
    rows twice (the split's take, the gather's take). When a column holds few
    distinct strings (a name, a country, a category stored as text), the split
    replaces it by ``int32`` codes into a *sorted* dictionary of its strings
    (:func:`encode_strings`); codes move like any integer column. The gather
    re-numbers the codes of its groups into one dictionary per column
    (:func:`unify_codes`: nothing to do when every group brings an equal
    dictionary, the usual case since they are sorted) and builds the strings
    once, at the end, from the dictionary (:func:`decode_strings`), with the
    column's original dtype.

    Only Arrow-backed string columns are coded (pandas' default ``str``,
    ``string[pyarrow]``, ``ArrowDtype`` strings), and only when a sample of
    ``_SAMPLE_ROWS`` rows, then the whole column, has few distinct values:
    codes save nothing on columns of unique strings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._sort_kernels import is_arrow_string

__all__ = ["decode_strings", "encode_strings", "unify_codes"]

#: A string column travels as codes when a sample of this many rows ...
_SAMPLE_ROWS = 2048
#: ... and then the whole column have at most this share of distinct values.
_MAX_DISTINCT = 0.25

#: ``{column position: (Arrow dictionary, the column's dtype)}`` for the coded columns of a frame.
Dictionaries = dict[int, tuple[Any, Any]]


def encode_strings(part: pd.DataFrame, skip: Any = None) -> tuple[pd.DataFrame, Dictionaries]:
    """``part`` with its Arrow string columns of few distinct values replaced by ``int32`` codes.

    Returns the new frame (``part`` itself when nothing is coded) and the
    dictionaries. Column ``skip`` (the sort key) stays as it is.

    >>> frame, dicts = encode_strings(pd.DataFrame({"s": ["b", "a", "b"] * 1000}, dtype="string[pyarrow]"))
    >>> frame.s.tolist()[:3], dicts[0][0].to_pylist()
    ([1, 0, 1], ['a', 'b'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dictionaries: Dictionaries = {}
    if not isinstance(part, pd.DataFrame) or len(part) < _SAMPLE_ROWS:
        return part, dictionaries
    for c, (name, dtype) in enumerate(part.dtypes.items()):
        if name == skip or not is_arrow_string(dtype):
            continue
        column = part.iloc[:, c].array.__arrow_array__()
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if len(pc.unique(column.slice(0, _SAMPLE_ROWS))) > _MAX_DISTINCT * _SAMPLE_ROWS:
            continue
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        if len(encoded.dictionary) > _MAX_DISTINCT * len(part):
            continue
        sorter = pc.array_sort_indices(encoded.dictionary).to_numpy()
        ranks = np.empty(len(sorter), dtype=np.int32)
        ranks[sorter] = np.arange(len(sorter), dtype=np.int32)
        if not dictionaries:
            part = part.copy(deep=False)
        part.isetitem(c, ranks.take(encoded.indices.to_numpy()))
        dictionaries[c] = (encoded.dictionary.take(sorter), dtype)
    return part, dictionaries


def unify_codes(frames: list[pd.DataFrame], dictionaries: list[Dictionaries]) -> tuple[list[pd.DataFrame],
                                                                                      Dictionaries]:
    """The frames with their codes re-numbered into one dictionary per column, and those dictionaries.

    A column coded in some frames only (another partition had too many
    distinct strings) becomes strings again in all of them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    shared: Dictionaries = {}
    frames = [f.copy(deep=False) for f in frames]
    for c in sorted(set().union(*dictionaries)):
        dtype = next(d[c][1] for d in dictionaries if c in d)
        if not all(c in d and d[c][1] == dtype for d in dictionaries):
            for f, d in zip(frames, dictionaries, strict=True):
                if c in d:
                    f.isetitem(c, _strings(d[c][0], f.iloc[:, c].to_numpy(), d[c][1]))
            continue
        first = dictionaries[0][c][0]
        if all(d[c][0] is first or d[c][0].equals(first) for d in dictionaries):
            shared[c] = (first, dtype)
            continue
        union = pc.unique(pa.chunked_array([d[c][0] for d in dictionaries]))
        union = union.combine_chunks() if isinstance(union, pa.ChunkedArray) else union
        for f, d in zip(frames, dictionaries, strict=True):
            mapping = pc.index_in(d[c][0], value_set=union, skip_nulls=False).to_numpy().astype(np.int32)
            f.isetitem(c, mapping.take(f.iloc[:, c].to_numpy()))
        shared[c] = (union, dtype)
    return frames, shared


def decode_strings(frame: pd.DataFrame, dictionaries: Dictionaries) -> pd.DataFrame:
    """``frame`` with its coded columns turned back into strings of their original dtype."""
    if not dictionaries:
        return frame
    frame = frame.copy(deep=False)
    for c, (dictionary, dtype) in dictionaries.items():
        frame.isetitem(c, _strings(dictionary, frame.iloc[:, c].to_numpy(), dtype))
    return frame


def _strings(dictionary: Any, codes: np.ndarray, dtype: Any) -> Any:
    return pd.array(dictionary.take(codes), dtype=dtype)
