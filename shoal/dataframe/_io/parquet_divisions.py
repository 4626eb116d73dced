"""Divisions of a Parquet read from the index column's row-group statistics (``calculate_divisions=True``).

Every row group's footer records the min and max of each column. A piece
(a file, or some of its row groups) spans ``[min of its mins, max of its
maxes]`` of the index column; when the pieces, in reading order, are
non-overlapping and increasing (each piece's min greater than the previous
piece's max), the divisions are the pieces' mins followed by the last max.
Pieces with no rows are dropped (they would need a division of their own and
hold nothing), as Dask drops them.

Unlike Dask, a piece whose min *equals* the previous piece's max gives unknown
divisions: the value would then live in two partitions, and a division-based
lookup (``loc``) would find only one of them. Nulls in the index (which the
statistics leave out) give unknown divisions too. Nothing is read but
footers, which the read tasks reuse (:mod:`.parquet_footer`).
"""

from __future__ import annotations

from typing import Any

from shoal.dataframe._io.parquet_footer import Footer, fragment_footer

__all__ = ["index_name", "statistics_divisions"]


def index_name(index: Any, schema: Any) -> str | None:
    """The one column that becomes the index: ``index=``, else the single one the pandas metadata names."""
    if isinstance(index, str):
        return index
    if index is not None:
        return None  # several columns (a MultiIndex) or ``index=False``: no single sorted column
    found = [c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
    return found[0] if len(found) == 1 else None


def _piece_bounds(fragment: Any, groups: tuple[int, ...] | None, column: str) -> tuple[Any, Any] | None | bool:
    """``(min, max)`` of ``column`` over the piece's row groups; ``False`` when it has no rows; ``None`` when
    the statistics can't say (missing, or the column holds nulls)."""
    footer = fragment_footer(fragment) or Footer(fragment.metadata)
    position = footer.positions.get(column)
    if position is None:
        return None
    metadata = footer.metadata
    low = high = None
    for g in range(metadata.num_row_groups) if groups is None else groups:
        row_group = metadata.row_group(g)
        if row_group.num_rows == 0:
            continue
        stats = row_group.column(position).statistics
        if stats is None or not stats.has_min_max or stats.null_count is None or stats.null_count > 0:
            return None
        low = stats.min if low is None or stats.min < low else low
        high = stats.max if high is None or stats.max > high else high
    if low is None:
        return False
    return low, high


def statistics_divisions(pieces: list[Any], ids: list[tuple[str, tuple[int, ...] | None]], column: str,
                         schema: Any) -> tuple[list[Any], list[Any], tuple[Any, ...]] | None:
    """``(pieces, ids, divisions)`` with empty pieces dropped, or ``None`` when the statistics don't give
    sorted, non-overlapping pieces (then the caller keeps unknown divisions)."""
    import pyarrow as pa

    if schema.get_field_index(column) < 0:
        return None
    kept, kept_ids, bounds = [], [], []
    for piece, (path, groups) in zip(pieces, ids, strict=True):
        found = _piece_bounds(piece, groups, column)
        if found is None:
            return None
        if found is False:
            continue
        kept.append(piece)
        kept_ids.append((path, groups))
        bounds.append(found)
    if not bounds:
        return None
    try:
        if any(not (later[0] > earlier[1]) for earlier, later in zip(bounds, bounds[1:], strict=False)):
            return None
    except TypeError:  # values of types that don't compare (not expected from one column)
        return None
    arrow_type = schema.field(column).type
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    raw = [low for low, _ in bounds] + [bounds[-1][1]]
    try:
        values = pa.array(raw, type=arrow_type).to_pandas()
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return kept, kept_ids, tuple(values.tolist())
