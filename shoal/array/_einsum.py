"""``einsum``: Einstein summation as one contraction of :mod:`._linalg`.

The subscripts are parsed as NumPy parses them (interleaved operand/sublist
form, ellipses, implicit output), letters are matched to dimensions, and
the result is :func:`~shoal.array._linalg.contract` with ``np.einsum`` as
the block kernel.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from shoal.array._dispatch import implements
from shoal.array._contract import _as_arrays, _result_dtype, _shape_str, contract

__all__ = ["einsum"]


def _einsum_block(*blocks: np.ndarray, subscripts: str, **kwargs: Any) -> Any:
    return np.einsum(subscripts, *blocks, **kwargs)


def _interleaved_to_string(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """Turn ``einsum(op0, sublist0, op1, sublist1, ..., [out])`` into a subscripts string."""
    operands = list(args[0::2])
    sublists = list(args[1::2])
    output = None
    if len(args) % 2 == 1:
        output = operands.pop()

    def letters(sub: Sequence[Any]) -> str:
        out = ""
        for s in sub:
            out += "..." if s is Ellipsis else string.ascii_letters[int(s)]
        return out

    spec = ",".join(letters(s) for s in sublists)
    if output is not None:
        spec += "->" + letters(output)
    return spec, operands


def _parse_einsum(subscripts: str, arrays: Sequence[Any]) -> tuple[list[str], str]:
    """Expand ellipses and the implicit output; return the input and output letters."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, rhs = subscripts.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(arrays):
        more = "more" if len(arrays) > len(inputs) else "fewer"
        raise ValueError(f"{more} operands provided to einstein sum function than specified in the subscripts "
                         f"string {subscripts!r} ({len(arrays)} operands, {len(inputs)} subscripts)")
    used = set(subscripts) - set(".,->")
    for letter in used:
        if letter not in string.ascii_letters:
            raise ValueError(f"invalid subscript {letter!r} in einstein sum subscripts string {subscripts!r}, "
                             f"subscripts must be letters")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_ndim = 0
    for sub, arr in zip(inputs, arrays, strict=True):
        named = len(sub.replace("...", ""))
        if "..." in sub:
            ell_ndim = max(ell_ndim, arr.ndim - named)
        if ("..." not in sub and named != arr.ndim) or named > arr.ndim:
            raise ValueError(
                f"einstein sum subscripts {sub!r} name {named} dimensions but the operand has shape {arr.shape}"
                + ("; add '...' to broadcast the extra dimensions" if named < arr.ndim else ""))
    ell = "".join(spare[:ell_ndim])
    expanded = []
    for sub, arr in zip(inputs, arrays, strict=True):
        if "..." in sub:
            n = arr.ndim - len(sub.replace("...", ""))
            sub = sub.replace("...", ell[ell_ndim - n:])
        expanded.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
        for letter in out:
            if out.count(letter) > 1:
                raise ValueError(f"einstein sum subscripts string includes output subscript {letter!r} multiple times")
            if not any(letter in sub for sub in expanded):
                raise ValueError(f"einstein sum subscripts string included output subscript {letter!r} which never "
                                 f"appeared in an input")
    else:
        counts: dict[str, int] = {}
        for sub in expanded:
            for letter in sub:
                counts[letter] = counts.get(letter, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, out


@implements(np.einsum)
def einsum(subscripts: Any, *operands: Any, dtype: Any = None, optimize: Any = False, split_every: Any = None,
           **kwargs: Any) -> Any:
    """Einstein summation; mirrors ``numpy.einsum`` (with Dask's ``split_every``).

    Each block of the output sums ``np.einsum`` over the blocks of the
    contracted letters; repeated letters in one operand (``"ii->i"``) read
    diagonal blocks only. ``optimize`` is passed to NumPy for each block.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(6.).reshape(2, 3)
    >>> x = sa.from_array(a, chunks=1)
    >>> einsum("ij,kj->ik", x, x).compute()
    array([[ 5., 14.],
           [14., 50.]])
    >>> einsum("ij->", x).compute()
    np.float64(15.0)
    """
    if kwargs.get("out") is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    kwargs.pop("out", None)
    if not isinstance(subscripts, str):
        subscripts, ops = _interleaved_to_string((subscripts, *operands))
        operands = tuple(ops)
    arrays = _as_arrays(*operands)
    inputs, out = _parse_einsum(subscripts, arrays)
    spec = ",".join(inputs) + "->" + out
    lengths: dict[str, Any] = {}
    for sub, arr in zip(inputs, arrays, strict=True):
        for letter, length in zip(sub, arr.shape, strict=True):
            seen = lengths.setdefault(letter, length)
            if seen == 1:
                lengths[letter] = length
            elif length not in (1, seen) and not (isinstance(length, float) or isinstance(seen, float)):
                shapes = " ".join(_shape_str(a.shape) for a in arrays)
                raise ValueError(f"einsum {spec!r}: the dimensions labelled {letter!r} have lengths {seen} and "
                                 f"{length}, which cannot be broadcast together (operand shapes {shapes})")
    block_kwargs = {"subscripts": spec, "optimize": optimize, **kwargs}
    if dtype is not None:
        block_kwargs["dtype"] = dtype
    result_dtype = _result_dtype(_einsum_block, arrays, **block_kwargs)
    return contract(_einsum_block, tuple(out), [(a, tuple(s)) for a, s in zip(arrays, inputs, strict=True)],
                    dtype=result_dtype, token="einsum", split_every=split_every, kernel_kwargs=block_kwargs)
