"""Optional lz4 compression of large frames on the wire.

The setting ``distributed.comm.compression`` mirrors Dask's:

- ``None`` or ``False`` (Dask's and shoal's default): frames travel as they are;
- ``"lz4"``: frames of at least :data:`MIN_SIZE` bytes are compressed with
  lz4 (the ``lz4`` package must be installed), and sent compressed only when
  that saved at least a tenth of their size;
- ``"auto"``: like ``"lz4"`` when ``lz4`` is importable and nothing
  otherwise; before compressing a whole frame it compresses a few samples of
  it and gives up when they do not shrink, so that random or already
  compressed data usually costs little. Random float64 data defeats the
  samples, though (their exponent bytes repeat): 500 MB of them cost a
  second of lz4 for no gain, which is why this is not the default.

A compressed frame is an lz4 block with its uncompressed size in front
(``lz4.block.compress(store_size=True)``); the framing layer marks it with
:data:`~.framing.COMPRESSED` in its length so the receiver knows to
decompress it. Decompression returns a ``bytearray``, so NumPy arrays loaded
from it stay writable.
"""

from __future__ import annotations

import functools
import struct
from typing import Any

from shoal import config
from shoal.distributed._exceptions import FrameError

__all__ = ["MIN_SIZE", "compress", "compression_scheme", "decompress"]

#: Frames smaller than this are never compressed: the saving could not pay for the call.
MIN_SIZE = 64 << 10
#: lz4 blocks hold at most about 2 GiB; larger frames travel uncompressed.
MAX_SIZE = 1 << 30
#: ``"auto"`` compresses a frame only if these samples shrink to at most ``_GOOD_RATIO`` of their size.
_SAMPLES = 8
_SAMPLE_SIZE = 8 << 10
_GOOD_RATIO = 0.9
_SIZE = struct.Struct("<I")


@functools.lru_cache(maxsize=1)
def _lz4_block() -> Any:
    try:
        import lz4.block
    except ImportError:
        return None
    return lz4.block


def compression_scheme(setting: Any = None) -> str | None:
    """The compression in force: ``"lz4"`` or None.

    ``setting`` defaults to ``distributed.comm.compression``.

    >>> compression_scheme(False) is None
    True
    >>> compression_scheme("no-such-codec")
    Traceback (most recent call last):
    ...
    ValueError: Unknown distributed.comm.compression 'no-such-codec': use None (or False), 'lz4' or 'auto'.
    """
    if setting is None:
        setting = config.get("distributed.comm.compression", None)
    if setting is None or setting is False or setting == "None":
        return None
    if setting == "auto":
        return "lz4" if _lz4_block() is not None else None
    if setting == "lz4":
        if _lz4_block() is None:
            raise ImportError("distributed.comm.compression is 'lz4' but the lz4 package is not installed: "
                              "`pip install lz4`, or set the option to 'auto' or None.")
        return "lz4"
    raise ValueError(f"Unknown distributed.comm.compression {setting!r}: use None (or False), 'lz4' or 'auto'.")


def _worth_compressing(view: memoryview) -> bool:
    """Whether samples spread over ``view`` compress well (cheap test for incompressible data)."""
    block = _lz4_block()
    n = len(view)
    step = max(n // _SAMPLES, _SAMPLE_SIZE)
    sample = b"".join(view[i:i + _SAMPLE_SIZE] for i in range(0, n, step))
    return len(block.compress(sample, store_size=False)) <= _GOOD_RATIO * len(sample)


def compress(frame: Any, *, sample: bool = True) -> bytes | None:
    """``frame`` compressed with lz4, or None when that would not pay off.

    With ``sample`` (the ``"auto"`` setting), incompressible data is detected
    from a few samples before the whole frame is compressed.
    """
    view = memoryview(frame).cast("B") if not isinstance(frame, bytes) else memoryview(frame)
    n = len(view)
    if n < MIN_SIZE or n > MAX_SIZE or _lz4_block() is None:
        return None
    if sample and not _worth_compressing(view):
        return None
    out: bytes = _lz4_block().compress(view, store_size=True)
    return out if len(out) <= _GOOD_RATIO * n else None


def decompress(frame: memoryview, max_size: int) -> bytearray:
    """Undo :func:`compress`; refuse a frame claiming more than ``max_size`` bytes."""
    if len(frame) < _SIZE.size:
        raise FrameError(f"received a compressed frame of {len(frame)} bytes, too short to be lz4 data: the "
                         f"stream is corrupt")
    (size,) = _SIZE.unpack(frame[:_SIZE.size])
    if size > max_size:
        raise FrameError(f"received a compressed frame that expands to {size:,} bytes, over the limit of "
                         f"{max_size:,} bytes (distributed.comm.max-message-size)")
    block = _lz4_block()
    if block is None:
        raise FrameError("received an lz4-compressed frame but the lz4 package is not installed here: install lz4 "
                         "on every machine of the cluster, or set distributed.comm.compression to None")
    try:
        return block.decompress(frame, return_bytearray=True)  # type: ignore[no-any-return]
    except Exception as exc:  # lz4.block.LZ4BlockError: corrupt data
        raise FrameError(f"could not decompress an lz4 frame ({exc}): the stream is corrupt") from exc
