"""Counting CSV records with bit planes: what ``len(read_csv(...))`` runs over each block, piece by piece.

A :class:`RecordCounter` is fed a block's bytes (its header line first) in pieces cut anywhere, and
returns pandas' row count, or declines (:func:`count_pieces` runs one over a block); a declined block
goes to slower counters and, failing those, to pandas (:mod:`shoal.dataframe._io.csv_count`). It never
returns a count that differs from ``len(pandas.read_csv(...))``, nor one for bytes pandas refuses.

Bit planes
    For each byte value that matters (newline, separator, quote, carriage return) one bit per byte,
    packed 64 bytes to a ``uint64`` word; every later step runs over words, an eighth of the bytes.
Quotes
    A prefix XOR over the quote bits (within a word by shifts, across words by the parity of the quotes
    before it) marks each quote pair's inside, pairing quotes left to right. A *loose* counter only
    checks that no newline or separator is inside: then every run of quotes between two of them has even
    length, and an even run leaves pandas' tokenizer outside quotes whether its first quote opened a
    quoted field (at a field's start) or was a literal character (anywhere else), so quotes change
    nothing. Otherwise a *strict* counter starts the block over (:func:`count_pieces`): the pairs are
    what pandas quotes when every opening quote starts a field (the byte before is a separator, a
    newline, the block's start, or a closing quote, making a doubled quote) and every closing quote ends
    one (the byte after is a separator, a line end or a quote); any other quote declines. Newlines and
    separators inside the pairs are then data.
Lines
    Line ``j`` (the header is line 0) must end after exactly ``(j + 1) * width`` separators, where
    ``width`` is the header's: the count before each newline comes from popcounts. A line with fewer
    separators (a blank line, which pandas skips, or a short row, which it fills out) or more (which
    it refuses) declines, and so does a carriage return not followed by a newline (pandas' blank lines
    around it are its own) and a last line without a newline unless it is a full row.
Pieces
    What a piece leaves open crosses into the next through the counter's fields: the quote parity, a
    closing quote or carriage return whose follower is the next piece's first byte, a UTF-8 sequence cut
    in two. Pieces are at most :data:`PIECE` bytes (longer ones are cut), and their scratch space is
    kept per thread (:func:`scratch`): fresh pages cost a page fault each, which cost more than counting.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["PIECE", "RecordCounter", "count_pieces", "scratch"]

#: Bytes per piece read and counted at a time: large enough that each NumPy call does enough work for
#: two threads to count in parallel (a call on a few KB takes less than handing the GIL over), small
#: enough that a thread's :func:`scratch` space stays a few MB.
PIECE = 1 << 21
_NEWLINE, _RETURN, _QUOTE = 10, 13, 34
_ONE = np.uint64(1)
_SHIFTS = tuple(np.uint64(s) for s in (1, 2, 4, 8, 16, 32))
#: Most newlines in one word (64 bytes) that are taken one at a time; past it lines are short, and each
#: newline's position is found from the unpacked bits instead.
_MAX_RANK = 4


_LOCAL = threading.local()


def scratch() -> tuple[bytearray, Any]:
    """This thread's :data:`PIECE`-sized read buffer and boolean array, kept from block to block: fresh
    memory costs a page fault every 4 KB, more than counting the bytes in it."""
    kept = getattr(_LOCAL, "scratch", None)
    if kept is None or len(kept[0]) != PIECE:
        kept = _LOCAL.scratch = (bytearray(PIECE), np.empty(PIECE, dtype=bool))
    return kept


def count_pieces(pieces: Callable[[], Iterator[tuple[bytes | bytearray, int, int]]], sep: bytes) -> int | None:
    """The records of a block given as ``(buffer, start, stop)`` pieces, or ``None`` if a counter declined.

    ``pieces()`` starts the block over: a loose :class:`RecordCounter` counts it, and a strict one again
    if a quoted field holds a separator or newline (a block's later pieces can't tell the loose counter
    whether its earlier quotes were ones pandas takes for quotes).

    Examples
    --------
    >>> data = b'a,b\\n"x,y",1\\n'
    >>> count_pieces(lambda: iter([(data, 0, 5), (data, 5, len(data))]), b",")
    1
    """
    for strict in (False, True):
        counter = RecordCounter(sep, strict=strict)
        stream = pieces()
        try:
            for buffer, start, stop in stream:
                if not counter.feed(buffer, start, stop):
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if not counter.needs_strict:
            return counter.finish()
    return None


class RecordCounter:
    """Counts the records of CSV bytes fed piece by piece, or declines (see the module docstring).

    Examples
    --------
    >>> counter = RecordCounter(b",", strict=True)  # strict: quoted fields hold a separator and a newline
    >>> data = b'a,b\\n1,"x,\\ny"\\n2,3\\n'
    >>> counter.feed(data, 0, 9) and counter.feed(data, 9, len(data))
    True
    >>> counter.finish()
    2
    """

    def __init__(self, sep: bytes, *, strict: bool = False) -> None:
        self.sep = sep[0]
        #: Check that quotes are where pandas' tokenizer takes them for quotes (else loose: only that none
        #: holds a newline or separator, then quotes can't change a count, whatever pandas makes of them).
        self.strict = strict
        self.needs_strict = False  #: declined because a quoted field holds a separator or newline
        self.width: int | None = None  #: separators in the header line, once its newline was fed
        self.lines = 0  #: newlines outside quotes so far (the header's included)
        self.seps = 0  #: separators outside quotes so far
        self.quote_open = False  #: the pieces so far end inside quotes
        self.return_open = False  #: the last byte fed is a carriage return: the next must be a newline
        #: The last byte fed is a closing quote: the next must be a separator, line end or quote, or pandas
        #: reads the rest of the field unquoted.
        self.close_pending = False
        self.open_allowed = True  #: a quote as the next byte would start a field (see the module docstring)
        self.last_byte = -1
        self.declined = False
        self._after_close = frozenset({self.sep, _NEWLINE, _RETURN, _QUOTE})
        self._decoder: Any = None  #: UTF-8 decoder, from the first piece with a non-ASCII byte on

    def feed(self, buffer: bytes | bytearray, start: int, stop: int) -> bool:
        """Count ``buffer[start:stop]``, the block's next bytes; ``False`` once declined.

        Parameters
        ----------
        buffer : bytes or bytearray
            Holds the piece; it is not kept, so a reader may refill it for the next piece.
        start, stop : int
            The piece's range in ``buffer``.

        Returns
        -------
        bool
            ``False`` when the counter declined (feeding more is pointless), else ``True``.
        """
        for piece_start in range(start, stop, PIECE):
            if not self._feed_piece(buffer, piece_start, min(piece_start + PIECE, stop)):
                return False
        return not self.declined

    def _feed_piece(self, buffer: bytes | bytearray, start: int, stop: int) -> bool:
        if self.declined:
            return False
        raw = np.frombuffer(buffer, dtype=np.uint8, count=stop - start, offset=start)
        if self._decoder is not None or raw.max() > 127:
            self._decoder = self._decoder or codecs.getincrementaldecoder("utf-8")()
            try:
                self._decoder.decode(buffer[start:stop])
            except UnicodeDecodeError:
                return self._decline()
        first = int(raw[0])
        if (self.return_open and first != _NEWLINE) or (self.close_pending and first not in self._after_close):
            return self._decline()
        hits = scratch()[1][:len(raw)]
        newlines = _plane(raw, _NEWLINE, hits)
        seps = _plane(raw, self.sep, hits)
        last = _ONE << np.uint64((len(raw) - 1) % 64)  # the last byte's bit, in the last word
        returns = None
        if buffer.find(b"\r", start, stop) >= 0:
            returns = _plane(raw, _RETURN, hits)
            alone = returns & ~_shift_earlier(newlines)
            alone[-1] &= ~last  # the last byte's follower is the next piece's first (``return_open``)
            if alone.any():
                return self._decline()
        if self.quote_open or buffer.find(b'"', start, stop) >= 0:
            quotes = _plane(raw, _QUOTE, hits)
            inside, quote_open = _inside_quotes(quotes, self.quote_open)
            if not self.strict:
                if ((newlines | seps) & inside).any():
                    self.needs_strict = True
                    return self._decline()
            elif not self._quotes_fit(quotes, inside, newlines | seps, returns, last):
                return self._decline()
            else:
                outside = np.invert(inside, out=inside)
                newlines &= outside
                seps &= outside
            self.quote_open = quote_open
        self.last_byte = int(raw[-1])
        self.return_open = self.last_byte == _RETURN
        self.close_pending = self.strict and self.last_byte == _QUOTE and not self.quote_open
        self.open_allowed = self.last_byte in (self.sep, _NEWLINE) or self.close_pending
        return self._lines_fit(newlines, seps) or self._decline()

    def finish(self) -> int | None:
        """The number of records after the header, or ``None`` if declined or the end is unclear."""
        if self.declined or self.quote_open or self.return_open or not self.lines or self.width is None:
            return None
        if self._decoder is not None:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return None
        if self.last_byte == _NEWLINE:
            return self.lines - 1
        if self.seps - self.lines * self.width == self.width:
            return self.lines  # a last record without a newline
        return None  # a last line pandas may skip (whitespace), fill out (fewer fields) or refuse

    def _quotes_fit(self, quotes: Any, inside: Any, ends: Any, returns: Any, last: Any) -> bool:
        """Whether every opening quote starts a field and every closing quote ends one."""
        opening = quotes & inside
        closing = quotes ^ opening
        if (opening & ~_shift_later(ends | closing, self.open_allowed)).any():
            return False
        after = ends | quotes if returns is None else ends | quotes | returns
        closing[-1] &= ~last  # the last byte's follower is the next piece's first (``close_pending``)
        return not (closing & ~_shift_earlier(after)).any()

    def _lines_fit(self, newlines: Any, seps: Any) -> bool:
        """Whether every line ending in this piece has ``width`` separators; counts its lines and separators."""
        per_word = np.bitwise_count(newlines)
        seps_per_word = np.bitwise_count(seps)
        lines = int(per_word.sum(dtype=np.int64))
        if lines and self.width is None:
            word = int(np.flatnonzero(per_word)[0])
            lowest = int(newlines[word]) & -int(newlines[word])  # the header's newline
            self.width = (self.seps + int(seps_per_word[:word].sum(dtype=np.int64))
                          + (int(seps[word]) & (lowest - 1)).bit_count())
            if self.width == 0:
                return False  # one column: the line counter tells
        if not lines:
            self.seps += int(seps_per_word.sum(dtype=np.int64))
            return True
        width = self.width
        assert width is not None
        # The r-th newline of word w ends line ``lines_before[w] + r`` (globally), so it must have
        # ``(lines_before[w] + r + 1) * width - seps_before[w]`` separators before it within its word:
        # ``target[w] + r * width``, where ``target`` adds up ``step`` over the words before.
        step = np.multiply(per_word, width, dtype=np.int64)
        step -= seps_per_word
        target = np.add.accumulate(step)
        seps_here = lines * width - int(target[-1])
        target -= step
        target += (self.lines + 1) * width - self.seps
        self.lines += lines
        self.seps += seps_here
        most = int(per_word.max())
        if most > _MAX_RANK:
            position = np.flatnonzero(np.unpackbits(newlines.view(np.uint8), bitorder="little"))
            word_of = position >> 6
            below = (_ONE << (position & 63).astype(np.uint64)) - _ONE
            rank = np.arange(lines) - (np.add.accumulate(per_word, dtype=np.int64) - per_word)[word_of]
            found = np.bitwise_count(seps[word_of] & below).astype(np.int64)
            return bool(np.array_equal(found, target[word_of] + rank * width))
        own = newlines
        lowest = np.empty_like(own)
        for rank in range(most):
            np.negative(own, out=lowest)
            lowest &= own  # the lowest newline left in each word (0 where none is left)
            if rank + 1 < most:
                own = own ^ lowest
            lowest -= _ONE  # the bits below it
            lowest &= seps
            wrong = np.bitwise_count(lowest) != target
            wrong &= per_word > rank
            if wrong.any():
                return False
            target += width
        return True

    def _decline(self) -> bool:
        self.declined = True
        return False


def _plane(raw: Any, code: int, hits: Any) -> Any:
    """Bit ``i % 64`` of word ``i // 64`` says whether byte ``i`` of ``raw`` is ``code``; bits past the end are 0.
    ``hits`` is scratch space as long as ``raw``."""
    packed = np.packbits(np.equal(raw, code, out=hits), bitorder="little")
    if len(packed) % 8:
        packed = np.concatenate([packed, np.zeros(-len(packed) % 8, dtype=np.uint8)])
    return packed.view(np.uint64)


def _inside_quotes(quotes: Any, open_before: bool) -> tuple[Any, bool]:
    """Bits set from each opening quote up to (not including) its closing quote, pairing quotes left to right
    (``open_before``: the first byte is inside quotes); and whether the last byte is inside quotes."""
    inside = quotes << _SHIFTS[0]
    inside ^= quotes
    shifted = np.empty_like(quotes)
    for shift in _SHIFTS[1:]:  # prefix XOR within each word
        np.left_shift(inside, shift, out=shifted)
        inside ^= shifted
    per_word = np.bitwise_count(quotes)
    before = np.add.accumulate(per_word, dtype=np.int64)
    open_after = bool((int(before[-1]) + open_before) & 1)
    before ^= per_word  # the low bit: the parity of the quotes before the word
    before ^= open_before
    before &= 1  # 1: the word starts inside quotes
    flip = before.view(np.uint64)
    inside ^= np.negative(flip, out=flip)  # 1 -> all bits set
    return inside, open_after


def _shift_later(bits: Any, first: bool) -> Any:
    """Bit ``i`` of the result is bit ``i - 1`` of ``bits`` (the byte before); bit 0 is ``first``."""
    shifted = bits << _ONE
    shifted[1:] |= bits[:-1] >> np.uint64(63)
    shifted[0] |= np.uint64(first)
    return shifted


def _shift_earlier(bits: Any) -> Any:
    """Bit ``i`` of the result is bit ``i + 1`` of ``bits`` (the byte after); the last bit is 0."""
    shifted = bits >> _ONE
    shifted[:-1] |= bits[1:] << np.uint64(63)
    return shifted
