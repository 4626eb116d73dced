"""Counting CSV records without parsing them (``len(read_csv(...))``) gives pandas' count, or declines.

Every count is compared with ``len(pandas.read_csv(...))`` of the same bytes: where pandas succeeds the
counter returns that number or ``None`` (the block then goes to pandas); where pandas raises, or turns a
column into the index, the counter must return ``None``. Bytes are cut into pieces at random places, so
that what a piece leaves open (a quote, a carriage return, a UTF-8 sequence, a line) crosses into the next.
"""

from __future__ import annotations

import io

import fsspec
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._io import csv as csv_io
from shoal.dataframe._io import record_counter
from shoal.dataframe._io.csv_count import count_rows, count_rows_slowly
from shoal.dataframe._io.record_counter import RecordCounter, count_pieces

_SEPS = [b",", b"\t", b";", b"|", b" "]


def _pandas_count(data: bytes, sep: bytes) -> int | None:
    """``len(pd.read_csv(...))``, or ``None`` where a read fails or makes an index of a surplus column."""
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=sep.decode())
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None
    return len(frame) if type(frame.index) is pd.RangeIndex else None


def _fed(data: bytes, sep: bytes, cuts: list[int]) -> int | None:
    """The bit planes' count of ``data`` cut at ``cuts``."""
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return count_pieces(lambda: ((data, a, b) for a, b in zip(bounds, bounds[1:], strict=False)), sep)


def _fed_strictly(data: bytes, sep: bytes, cuts: list[int]) -> int | None:
    """The strict counter alone (it must hold on the loose one's ground too)."""
    counter = RecordCounter(sep, strict=True)
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    for start, stop in zip(bounds, bounds[1:], strict=False):
        if not counter.feed(data, start, stop):
            return None
    return counter.finish()


def _agrees(got: int | None, expected: int | None) -> bool:
    return got is None or got == expected


_TOKENS = [b"1", b"ab", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b'"', b'""', b"\n", b"\r\n", b"\r", b" ", b"\t",
           b"\x00", b"x" * 70, b"SEP", b"SEP", b"SEP"]


@st.composite
def _random_csv(draw):
    """Bytes from CSV-ish tokens: quotes, newlines inside and outside quotes, blank lines, stray bytes."""
    sep = draw(st.sampled_from(_SEPS))
    width = draw(st.integers(0, 4))
    header = draw(st.sampled_from([b"a", b'"a"', b" a"]))
    header = sep.join([header] + [b"c%d" % i for i in range(width)]) + draw(st.sampled_from([b"\n", b"\r\n", b""]))
    body = b"".join(draw(st.lists(st.sampled_from(_TOKENS), max_size=60))).replace(b"SEP", sep)
    return header + body, sep


@st.composite
def _rows_csv(draw):
    """Mostly well-formed rows: quoted fields with separators, quotes and newlines; now and then a row too
    short or too long, a blank or whitespace line, CRLF line ends, no final newline."""
    sep = draw(st.sampled_from(_SEPS))
    width = draw(st.integers(1, 5))
    field = st.one_of(
        st.sampled_from([b"", b"1", b"2.5", b"-3", b"abc", b"\xc3\xa9t\xc3\xa9", b"x" * 80]),
        st.builds(lambda v: b'"' + v.replace(b'"', b'""') + b'"',
                  st.sampled_from([b"", b"a", b"a" + sep + b"b", b'say "hi"', b"two\nlines", b"cr\r\nlf", b"  "])),
    )
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    lines = [sep.join(b"h%d" % i for i in range(width))]
    for _ in range(draw(st.integers(0, 40))):
        shape = draw(st.sampled_from(["row"] * 8 + ["short", "long", "blank", "space"]))
        if shape == "blank":
            lines.append(b"")
        elif shape == "space":
            lines.append(b"  ")
        else:
            n = width + {"row": 0, "short": -1, "long": 1}[shape]
            lines.append(sep.join(draw(field) for _ in range(max(n, 1))))
    text = end.join(lines)
    return (text + end if draw(st.booleans()) else text), sep


@given(case=st.one_of(_random_csv(), _rows_csv()), cuts=st.lists(st.integers(0, 4000), max_size=6))
@settings(max_examples=600, deadline=None)
def test_counts_agree_with_pandas_wherever_the_bytes_are_cut(case, cuts):
    data, sep = case
    expected = _pandas_count(data, sep)
    whole = count_rows(data, sep)
    assert _agrees(whole, expected)
    assert _agrees(_fed(data, sep, cuts), expected)
    assert _agrees(_fed_strictly(data, sep, cuts), expected)
    assert _agrees(count_rows_slowly(data, sep), expected)


@given(frame=st.data(), sep=st.sampled_from(_SEPS), quoting=st.sampled_from([0, 1, 2]), crlf=st.booleans(),
       cuts=st.lists(st.integers(0, 20_000), max_size=5))
@settings(max_examples=150, deadline=None)
def test_well_formed_csv_is_counted_without_pandas(frame, sep, quoting, crlf, cuts):
    """What ``DataFrame.to_csv`` writes (quoted or not) is counted by the bit planes, never declined."""
    n = frame.draw(st.integers(0, 300))
    rng = np.random.default_rng(frame.draw(st.integers(0, 2**16)))
    values = pd.DataFrame({
        "i": rng.integers(-1000, 1000, n),
        "s": rng.choice(["a", "b c", "d,e", "f;g", "h|i", 'q"q', "ü"], n),
        "x": rng.normal(size=n),
    })
    data = values.to_csv(index=False, sep=sep.decode(), quoting=quoting, lineterminator="\r\n" if crlf else "\n",
                         ).encode()
    if quoting == 0 and sep == b" ":  # unquoted "b c" holds the separator: pandas sees a field too many
        return
    assert len(pd.read_csv(io.BytesIO(data), sep=sep.decode())) == n
    assert _fed(data, sep, cuts) == n
    assert _fed_strictly(data, sep, cuts) == n


@pytest.mark.parametrize("line", [b"1,2", b"12,3", b"1,23456", b"1234567,1", b'"a",1', b"1," + b"9" * 200])
@pytest.mark.parametrize("rows", [0, 1, 7, 500, 5000])
@pytest.mark.parametrize("last_newline", [True, False])
def test_lines_of_every_length_are_counted(line, rows, last_newline):
    """Lines short enough to put many newlines in one 64-byte word, and long ones spanning several."""
    data = b"a,b\n" + b"\n".join([line] * rows) + (b"\n" if last_newline and rows else b"")
    expected = _pandas_count(data, b",")
    assert expected == rows
    assert count_rows(data) == rows
    for piece in (1, 7, 64, 65, 1000) if len(data) < 10_000 else (64, 1000):
        assert _fed(data, b",", list(range(piece, len(data), piece))) == rows


@pytest.mark.parametrize("data", [
    b"a,b\n1,2\n1,2,3\n", b"a,b\n1,2\n1\n", b"a,b\n1,2\n\n3,4\n", b"a,b\n1,2\n   \n", b'a,b\n1,"2\n',
    b"a,b\n1,2\r3,4\n", b"a,b\n1,2\r", b"a,b\n1,\xff\n", b"a,b\n1,\xc3\n", b"a\n1\n2\n", b"a,b", b"a,b\n1,2\n3",
    b'a,b\n1,x"y,z"\n', b'a,b\n1,"y"z,w\n', b'a,b\n "1,2",3\n', b'a,b\n1,"x\ry"\n',
])
def test_the_bit_planes_decline_what_they_cannot_be_sure_of(data):
    """Rows of another width, blank lines, lone carriage returns, bad UTF-8, one column, and quotes that
    pandas reads as literal characters (not at a field's start, or followed by more of the field)."""
    assert _fed(data, b",", []) is None
    assert _agrees(count_rows(data), _pandas_count(data, b","))


@pytest.mark.parametrize("data, rows", [
    (b'a,b\n1,"x\ny"\n', 1), (b'"a,b",c\n"1\n,2",3\n4,5\n', 2), (b'a,b\n"x""y",""""\n"""""",""\n', 2),
    (b'a,b\r\n"1\r\n2",3\r\n', 1), (b'a,b\n1,""\n,\n', 2), (b'a,b\n" ",x\n', 1),
])
def test_quoted_separators_and_newlines_are_counted(data, rows):
    assert _pandas_count(data, b",") == rows
    for cut in range(len(data)):
        assert _fed(data, b",", [cut]) == rows


def test_a_split_utf8_sequence_and_a_split_crlf_are_carried_to_the_next_piece():
    data = "a,b\r\nü,€\r\n1,2\r\n".encode()
    for cut in range(1, len(data)):
        assert _fed(data, b",", [cut]) == 2
    truncated = "a,b\n1,€".encode()[:-1]
    assert _fed(truncated, b",", [len(truncated) - 1]) is None


@given(text=st.binary(max_size=300).map(lambda b: b"a,b\n" + b.replace(b"\r", b"") + b"\n"),
       blocksize=st.integers(1, 120), piece=st.integers(1, 50), data=st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_block_pieces_join_to_the_block(tmp_path, monkeypatch, text, blocksize, piece, data):
    """The streamed reader yields exactly :func:`_read_block`'s bytes, for every block of a file."""
    path = tmp_path / "f.csv"
    path.write_bytes(text)
    monkeypatch.setattr(csv_io, "PIECE", piece)
    fs = fsspec.filesystem("file")
    header = text[:text.index(b"\n") + 1]
    start = data.draw(st.integers(0, len(text)))
    stop = min(start + blocksize, len(text))
    block = (fs, str(path), start, stop, header, start == 0, None)
    joined = b"".join(bytes(buffer[start:stop]) for buffer, start, stop in csv_io._block_pieces(*block))
    assert joined == csv_io._read_block(*block)


@given(case=_rows_csv(), blocksize=st.sampled_from([None, 40, 97, 1000]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_len_of_read_csv_matches_pandas(tmp_path, monkeypatch, case, blocksize):
    data, sep = case
    if blocksize is not None and b'"' in data:
        blocksize = None  # blocks may cut a quoted newline (documented, as in Dask)
    monkeypatch.setattr(csv_io, "PIECE", 32)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    try:
        frame = pd.read_csv(path, sep=sep.decode())
        expected: object = len(frame) if type(frame.index) is pd.RangeIndex else ValueError
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        expected = type(exc)
    if isinstance(expected, int):
        assert len(sd.read_csv(str(path), blocksize=blocksize, sep=sep.decode(), sample=len(data) + 1)) == expected
    else:
        with pytest.raises(ValueError):  # ParserError and UnicodeDecodeError are ValueErrors
            len(sd.read_csv(str(path), blocksize=blocksize, sep=sep.decode(), sample=len(data) + 1))


def test_pieces_longer_than_the_scratch_space_are_cut(monkeypatch):
    """A piece longer than ``PIECE`` (a long last line read whole, say) is counted in ``PIECE``-sized cuts."""
    monkeypatch.setattr(record_counter, "PIECE", 64)
    data = b'a,b\n' + b''.join(b'%d,"%s"\n' % (i, b"x," * (i % 50)) for i in range(300))
    assert count_pieces(lambda: iter([(data, 0, len(data))]), b",") == 300 == _pandas_count(data, b",")
    assert len(record_counter.scratch()[0]) == 64


@pytest.mark.parametrize("compression, suffix", [("gzip", ".gz"), ("bz2", ".bz2")])
def test_len_of_compressed_csv_streams_the_decompressed_bytes(tmp_path, compression, suffix):
    frame = pd.DataFrame({"a": range(5000), "b": ['x,"y"\nz'] * 5000})
    path = tmp_path / f"f.csv{suffix}"
    frame.to_csv(path, index=False, compression=compression)
    assert len(sd.read_csv(str(path))) == len(pd.read_csv(path)) == 5000


def test_len_counts_blocks_in_threads_like_pandas(tmp_path):
    """Threads keep their own scratch space: counts from the threaded scheduler match pandas."""
    rng = np.random.default_rng(1)
    for i in range(6):
        n = int(rng.integers(1000, 30_000))
        pd.DataFrame({"i": np.arange(n), "s": rng.choice(["a", "b,c", 'd"e'], n)}).to_csv(
            tmp_path / f"p{i}.csv", index=False)
    expected = sum(len(pd.read_csv(p)) for p in tmp_path.glob("*.csv"))
    df = sd.read_csv(str(tmp_path / "*.csv"), blocksize=50_000)
    assert df.npartitions > 6
    assert len(df) == expected
