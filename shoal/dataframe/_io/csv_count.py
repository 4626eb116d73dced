"""Counting the records of CSV bytes without parsing them: what ``len(read_csv(...))`` runs per block.

A count is returned only when it is certain to be ``len(pandas.read_csv(...))`` of a read that succeeds;
anything else returns ``None`` and the block goes to pandas, which counts it or raises the error a full
read raises (a row with more fields than the header, a quote never closed, bytes that aren't UTF-8).
Three counters, cheapest first, each declining what it can't be sure of:

Bit planes (:class:`~shoal.dataframe._io.record_counter.RecordCounter`)
    Quoted fields (separators and newlines in them too) and CRLF line ends; declines rows of another
    width than the header's, blank lines, quotes pandas reads as literal characters, one column.
Arrow's CSV tokenizer (:func:`_count_with_arrow`), when the header has a separator
    Skips blank lines; still declines rows of another width, and a header of one field.
One column (:func:`_count_lines`), when the header has no separator
    A separator anywhere is a row with too many fields; otherwise lines are counted, declining blank or
    whitespace-led lines, lone carriage returns and newlines inside quotes.
"""

from __future__ import annotations

import io
from typing import Any

from shoal.dataframe._io.record_counter import PIECE, count_pieces

__all__ = ["count_rows", "count_rows_slowly"]

_NEWLINE, _RETURN, _QUOTE = 10, 13, 34


def count_rows(data: bytes, sep: bytes = b",") -> int | None:
    """The records after the header line of CSV bytes, or ``None`` when only pandas can tell.

    Parameters
    ----------
    data : bytes
        A block of a CSV file that starts with the file's header line.
    sep : bytes
        The field separator, one ASCII byte other than a quote, carriage return or newline.

    Returns
    -------
    int or None
        ``len(pandas.read_csv(io.BytesIO(data), sep=sep))`` when that read succeeds and the count is
        certain, else ``None`` (the caller parses the block with pandas, which counts it or raises).

    Examples
    --------
    >>> count_rows(b"a,b\\n1,2\\n3,4\\n")
    2
    >>> count_rows(b"a,b\\n1,2,3\\n") is None  # a field too many: pandas raises
    True
    """
    if not data:
        return 0
    rows = count_pieces(lambda: ((data, i, min(i + PIECE, len(data))) for i in range(0, len(data), PIECE)), sep)
    return rows if rows is not None else count_rows_slowly(data, sep)


def count_rows_slowly(data: bytes, sep: bytes = b",") -> int | None:
    """:func:`count_rows` without the bit planes: what is left to try once they declined."""
    if not data:
        return 0
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return: pandas' line ends and blank lines around it differ from Arrow's
    header_end = data.find(b"\n")
    header = data if header_end < 0 else data[:header_end]
    if sep in header:
        return _count_with_arrow(data, sep)
    if sep in data:
        return None
    return _count_lines(data)


def _count_with_arrow(data: bytes, sep: bytes) -> int | None:
    """Count with Arrow's CSV tokenizer: quoted newlines are fine; rows not as wide as the header decline."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    header_end = data.find(b"\n")
    header = (data if header_end < 0 else data[:header_end]).rstrip(b"\r")
    try:
        (names,) = list(csv.reader([header.decode()], delimiter=sep.decode()))
    except (ValueError, csv.Error):
        return None  # a header pandas and the csv module may read differently (a quoted newline)
    if len(names) < 2:
        return None  # Arrow keeps whitespace-only lines of one field, which pandas skips
    # Arrow takes the end of the bytes as the end of a quote left open, where pandas raises: a last record
    # of known content, appended, must come back as the last row, or the bytes ended inside a quote.
    sentinel = "\x01shoal-end\x02"
    tail = b"\n" + sentinel.encode() + sep * (len(names) - 1) + b"\n" if b'"' in data else b""
    # Generated names keep the header as the first record, so that every row is checked against its width.
    # Blocks of 1 MB from a reader that chains the tail on bound the tokenizer's memory, where
    # ``data + tail`` would copy a whole block (64 MB by default) first.
    read = pacsv.ReadOptions(use_threads=False, autogenerate_column_names=True, block_size=1 << 20)
    # Without a quote character anywhere no value can hold a newline: Arrow's tokenizer then takes its
    # faster path.
    parse = pacsv.ParseOptions(delimiter=sep.decode(), quote_char='"', double_quote=True, escape_char=False,
                               newlines_in_values=bool(tail), ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.string()})
    try:
        table = pacsv.read_csv(_Chain(data, tail), read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowKeyError, pa.ArrowTypeError):
        return None  # also a record longer than a block: pandas counts it
    if not tail:
        return max(table.num_rows - 1, 0)
    if table.num_rows < 2 or table.column(0)[-1].as_py() != sentinel:
        return None
    return table.num_rows - 2


class _Chain(io.RawIOBase):
    """A readable file over several byte strings one after another, without joining them."""

    def __init__(self, *pieces: bytes) -> None:
        super().__init__()
        self._pieces = [memoryview(p) for p in pieces if p]
        self._piece = self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        done = 0
        while done < len(buffer) and self._piece < len(self._pieces):
            piece = self._pieces[self._piece]
            n = min(len(buffer) - done, len(piece) - self._offset)
            buffer[done:done + n] = piece[self._offset:self._offset + n]
            done += n
            self._offset += n
            if self._offset == len(piece):
                self._piece, self._offset = self._piece + 1, 0
        return done


def _count_lines(data: bytes) -> int | None:
    """Lines of a one-column CSV (header included, then subtracted), or ``None`` where pandas differs."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _NEWLINE)
    starts = newlines + 1
    starts = starts[starts < len(raw)]
    if np.isin(raw[starts], _WHITESPACE).any():
        return None
    if _RETURN in data:  # lines may end in \r\n; a \r anywhere else ends a line too
        returns = np.flatnonzero(raw == _RETURN)
        if returns[-1] == len(raw) - 1 or (raw[returns + 1] != _NEWLINE).any():
            return None
    if _QUOTE in data:
        quotes = np.flatnonzero(raw == _QUOTE)
        if len(quotes) % 2:
            return None
        # Quotes pair up left to right ("" escapes add a pair too): a newline after an odd number of quotes
        # sits inside a quoted field.
        if (np.searchsorted(quotes, newlines) & 1).any():
            return None
    lines = len(newlines) + (0 if data.endswith(b"\n") else 1)
    return lines - 1  # the header


#: Bytes that make a line blank to pandas when it holds nothing else: space, tab, carriage return, newline.
_WHITESPACE = (9, 10, 13, 32)
