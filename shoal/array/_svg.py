"""``Array.to_svg``: a picture of the block grid, as an SVG string.

Every face is one parallelogram grid (:func:`_face`): an origin and two edge
vectors, cut by the block boundaries of the two axes it shows.

- 1 dimension: one thin row of blocks;
- 2 dimensions: the grid, axis 1 across and axis 0 down;
- 3 dimensions: an oblique box; axis 0 runs into the page (drawn diagonally),
  the front face shows axes 1 (down) and 2 (across), the top and left faces
  show axis 0 against the others;
- more: the axes in groups of up to three (the last three form the box),
  pictures side by side, left to right.

Lengths are drawn in proportion to the longest axis of the picture, but never
thinner than a tenth of ``size``, so that a long thin array stays visible.
An axis with more than :data:`MAX_LINES` blocks is drawn with its outline only.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SvgMethods", "svg"]

#: Beyond this many blocks along an axis, inner boundaries are left out (they would merge into a smear).
MAX_LINES = 100
_FILL = "#8FB8DEA0"
_GAP = 30  # between pictures, and around them for labels


def _cuts(chunks: tuple[int, ...]) -> list[float]:
    """Block boundaries along an axis as fractions of its length, ends included."""
    total = sum(chunks)
    if len(chunks) > MAX_LINES or total == 0:
        return [0.0, 1.0]
    out, at = [0.0], 0
    for c in chunks:
        at += c
        out.append(at / total)
    return out


def _line(a: tuple[float, float], b: tuple[float, float], edge: bool) -> str:
    width = ' style="stroke-width:2"' if edge else ""
    return f'  <line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}"{width} />'


def _face(origin: tuple[float, float], u: tuple[float, float], v: tuple[float, float], along_u: tuple[int, ...],
          along_v: tuple[int, ...]) -> list[str]:
    """A filled parallelogram ``origin + s*u + t*v`` cut at the block boundaries of both axes."""
    ox, oy = origin

    def at(s: float, t: float) -> tuple[float, float]:
        return ox + s * u[0] + t * v[0], oy + s * u[1] + t * v[1]

    corners = [at(0, 0), at(1, 0), at(1, 1), at(0, 1)]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
    out = [f'  <polygon points="{points}" style="fill:{_FILL};stroke-width:0" />']
    cuts_u, cuts_v = _cuts(along_u), _cuts(along_v)
    out += [_line(at(s, 0), at(s, 1), s in (0.0, 1.0)) for s in cuts_u]
    out += [_line(at(0, t), at(1, t), t in (0.0, 1.0)) for t in cuts_v]
    return out


def _text(x: float, y: float, label: str, angle: float = 0) -> str:
    turn = f' transform="rotate({angle:.0f},{x:.1f},{y:.1f})"' if angle else ""
    return (f'  <text x="{x:.1f}" y="{y:.1f}" font-size="1.0rem" font-weight="100" '
            f'text-anchor="middle"{turn}>{label}</text>')


def _picture(chunks: tuple[tuple[int, ...], ...], size: float, left: float, top: float) -> tuple[list[str], float,
                                                                                                 float]:
    """Draw up to three axes with their top-left corner at (left, top); return the elements, width and height."""
    shape = [sum(c) for c in chunks]
    longest = max(max(shape), 1)

    def px(length: int) -> float:
        return max(size * length / longest, size / 10)

    if len(chunks) == 1:
        chunks = ((1,), chunks[0])
        width, height = px(shape[0]), size / 10
        labels = [_text(left + width / 2, top + height + 20, str(shape[0]))]
    else:
        width, height = px(shape[-1]), px(shape[-2])
    if len(chunks) == 2:
        elements = _face((left, top), (width, 0), (0, height), chunks[1], chunks[0])
        if len(shape) == 2:
            labels = [_text(left + width / 2, top + height + 20, str(shape[1])),
                      _text(left + width + 20, top + height / 2, str(shape[0]), -90)]
        return elements + labels, width + _GAP, height + _GAP
    step = px(shape[0]) / 2  # the depth axis, drawn at 45 degrees and foreshortened to about 0.7
    front = (left + step, top + step)
    elements = _face((left, top), (width, 0), (step, step), chunks[2], chunks[0])  # top
    elements += _face((left, top), (0, height), (step, step), chunks[1], chunks[0])  # left side
    elements += _face(front, (width, 0), (0, height), chunks[2], chunks[1])
    elements += [_text(front[0] + width / 2, front[1] + height + 20, str(shape[2])),
                 _text(front[0] + width + 20, front[1] + height / 2, str(shape[1]), -90),
                 _text(left + step / 2 - 10, top + height + step / 2 + 10, str(shape[0]), 45)]
    return elements, width + step + _GAP, height + step + _GAP


def svg(chunks: tuple[tuple[Any, ...], ...], size: int = 500) -> str:
    """An SVG picture of a block grid with the given ``chunks``; see the module docstring.

    Raises
    ------
    NotImplementedError
        For 0 dimensions, or block lengths that are unknown (``nan``).

    Examples
    --------
    >>> text = svg(((5, 5), (4, 4, 4)), size=100)
    >>> text.startswith("<svg") and text.count("<line") == 3 + 4
    True
    """
    if not chunks:
        raise NotImplementedError("to_svg cannot draw a 0-d array: it has no blocks to lay out.")
    if any(isinstance(c, float) and math.isnan(c) for axis in chunks for c in axis):
        raise NotImplementedError(
            "to_svg cannot draw blocks of unknown (nan) length, left by an operation whose output size depends on "
            "the data. Call x.compute_chunk_sizes() first."
        )
    if size <= 0:
        raise ValueError(f"to_svg: size must be a positive number of pixels, got {size!r}.")
    chunks = tuple(tuple(int(c) for c in axis) for axis in chunks)
    # The last three axes make the last picture; the ones before, in threes, go to its left.
    groups, end = [], len(chunks)
    while end > 0:
        groups.append(chunks[max(0, end - 3):end])
        end -= 3
    groups.reverse()
    picture_size = size if len(groups) == 1 else size / len(groups) * 1.5
    elements: list[str] = []
    left, height = 0.0, 0.0
    for group in groups:
        drawn, w, h = _picture(group, picture_size, left + 10, 10)
        elements += drawn
        left, height = left + w, max(height, h)
    head = f'<svg width="{left + 20:.0f}" height="{height + 20:.0f}" style="stroke:rgb(0,0,0);stroke-width:1" >'
    return "\n".join([head, *elements, "</svg>"])


class SvgMethods:
    """``Array.to_svg``."""

    __slots__ = ()

    def to_svg(self, size: int = 500) -> str:
        """An SVG picture of the array's blocks, about ``size`` pixels across; mirrors ``dask.array.Array.to_svg``.

        Raises
        ------
        NotImplementedError
            For a 0-d array, or unknown (``nan``) block lengths: call ``compute_chunk_sizes()`` first.

        Examples
        --------
        >>> import shoal.array as sa
        >>> sa.ones((10, 20), chunks=5).to_svg(size=100).count("<line")  # 3 row edges, 5 column edges
        8
        """
        return svg(self.chunks, size)  # type: ignore[attr-defined]
