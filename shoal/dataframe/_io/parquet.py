"""``read_parquet`` with PyArrow (``to_parquet``: :mod:`.parquet_write`).

Reading
    The dataset (files, directories, hive ``key=value`` layouts) is opened
    with :mod:`pyarrow.dataset` at build time. ``filters=`` become a PyArrow
    expression: files whose partition keys exclude it and row groups whose
    statistics exclude it are dropped before any task exists, and the rows
    that remain are filtered while reading. By default each file is a
    partition; ``split_row_groups=True`` makes each row group one. Projection
    pushdown narrows ``columns`` to what the plan uses. Tasks reuse the
    footers parsed while planning (:func:`~shoal.dataframe._io.parquet_footer.local_footer`)
    and read local files without Arrow's pre-buffering.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Blockwise, Expr
from shoal.dataframe._io.columns import select_meta
from shoal.dataframe._io.parquet_footer import (
    STRING_TYPES,
    dictionary_columns,
    is_trivial,
    local_footer,
    matching_row_groups,
)
from shoal.dataframe._io.parquet_divisions import index_name, statistics_divisions
from shoal.dataframe._io.parquet_filter import filter_columns, filter_mask
from shoal.dataframe._io.parquet_hive import hive_partitioning, partition_categories
from shoal.dataframe._io.parquet_options import check_read_options, directory_files, parse_split_row_groups
from shoal.dataframe._io.string_dictionary import decode_chunked
from shoal.dataframe._io.strings import convert_string_enabled, match_strings, to_arrow_strings
from shoal.graph.task import Key, Task

__all__ = ["read_parquet"]


def _filter_expression(filters: Any) -> Any:
    import pyarrow.parquet as pq

    if filters is None:
        return None
    if not isinstance(filters, list):
        return filters  # already a pyarrow expression
    return pq.filters_to_expression(filters)


class ReadParquet(Blockwise):
    """Fragments (files or row groups) of a Parquet dataset."""

    #: ``ids`` holds ``(path, row-group ids or None for all)`` per fragment, found once when the pieces
    #: are made: asking a fragment for its row groups builds statistics objects, too slow to repeat.
    #: ``sorted_index`` names the index column whose statistics gave known divisions (``calculate_divisions``):
    #: a reader rebuilt on fewer row groups works them out again for its own pieces.
    _parameters = ("fragments", "meta", "columns_", "index_columns", "filters", "index", "token", "schema", "ids",
                   "sorted_index", "divisions_")
    _defaults = {"index": None, "token": None, "schema": None, "ids": None, "sorted_index": None, "divisions_": None}
    _label = "read-parquet"

    @functools.cached_property
    def _name(self) -> str:
        from shoal.graph.tokenize import tokenize
        ids = self.ids if self.ids is not None else [_piece_id(f) for f in self.fragments]
        # The pieces as one string: paths and row-group numbers print the same every time, and hashing one
        # string costs a tenth of normalizing a list of tuples, which every optimizer pass that rebuilds the
        # reader would pay again.
        token = tokenize(self.token, repr(ids), self.columns_, self.index_columns, repr(self.filters), self.index,
                         self.sorted_index)
        return f"read-parquet-{token}"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta if self.columns_ is None else self.meta[self.columns_]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        if self.divisions_ is not None:
            return tuple(self.divisions_)
        return (None,) * (max(len(self.fragments), 1) + 1)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        fragment = self.fragments[i] if self.fragments else None
        groups = self.ids[i][1] if self.ids is not None and self.fragments else None
        return Task(key, _read_fragment, fragment, self.columns_, self.index_columns, self.filters, self.index,
                    self._meta, self.schema, groups, self._conversion)

    @functools.cached_property
    def _conversion(self) -> _Conversion:
        return _Conversion(self._meta, self.index, self.schema)

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        # Keep the order the reader already has: ``columns=`` may list them in any order.
        wanted = set(columns)
        keep = [c for c in (self.meta.columns if self.columns_ is None else self.columns_) if c in wanted]
        return ReadParquet(self.fragments, self.meta, keep, self.index_columns, self.filters, self.index, self.token,
                           self.schema, self.ids, self.sorted_index, self.divisions_)

    def _push_filter(self, conditions: list[tuple[Any, str, Any]]) -> Expr | None:
        if self.index is not None and any(c == self.index for c, _, _ in conditions):
            return None
        if any(c not in self.meta.columns for c, _, _ in conditions):
            return None
        filters = _and_filters(self.filters, conditions)
        expression = _filter_expression(filters)
        # Re-prune with the stronger filter: row groups it rules out are dropped now.
        pieces, ids = [], []
        for fragment, (_, chosen) in zip(self.fragments, self.ids or [_piece_id(f) for f in self.fragments],
                                         strict=True):
            groups = matching_row_groups(fragment, filters, expression, self.schema, chosen)
            if groups:
                pieces.append(fragment.format.make_fragment(
                    fragment.path, fragment.filesystem, partition_expression=fragment.partition_expression,
                    row_groups=groups))
                ids.append((fragment.path, tuple(groups)))
        return _reader(pieces, self.meta, self.columns_, self.index_columns, filters, self.index, self.token,
                       self.schema, ids, self.sorted_index if self.divisions_ is not None else None)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        if not self.fragments:
            return None
        ids = None if self.ids is None else [self.ids[i] for i in indices]
        divisions = None
        if self.divisions_ is not None and indices and list(indices) == sorted(set(indices)):
            # Each kept partition still lies within its old bounds; the next kept one starts after them.
            divisions = (*(self.divisions_[i] for i in indices), self.divisions_[indices[-1] + 1])
        return ReadParquet([self.fragments[i] for i in indices], self.meta, self.columns_, self.index_columns,
                           self.filters, self.index, self.token, self.schema, ids, self.sorted_index, divisions)


def _reader(pieces: list[Any], meta: pd.DataFrame, columns: list[Any] | None, index_columns: list[str],
            filters: Any, index: Any, token: str | None, schema: Any, ids: list[Any], sorted_index: str | None
            ) -> ReadParquet:
    """A :class:`ReadParquet`, with divisions from the statistics of ``sorted_index`` when they are sorted."""
    found = statistics_divisions(pieces, ids, sorted_index, schema) if sorted_index is not None else None
    if found is None:
        return ReadParquet(pieces, meta, columns, index_columns, filters, index, token, schema, ids, sorted_index)
    kept, kept_ids, divisions = found
    return ReadParquet(kept, meta, columns, index_columns, filters, index, token, schema, kept_ids, sorted_index,
                       divisions)


def _piece_id(fragment: Any) -> tuple[str, tuple[int, ...] | None]:
    return fragment.path, tuple(rg.id for rg in fragment.row_groups) if fragment.row_groups else None


def read_arrow(fragment: Any, columns: list[Any] | None, index_columns: list[str], filters: Any, index: Any,
               schema: Any, groups: tuple[int, ...] | None = None, keep_dictionaries: bool = False) -> Any:
    """One fragment as an Arrow table: the columns asked for (plus index columns), filtered.

    String columns stored as dictionaries are read as such; unless ``keep_dictionaries``, they are cast
    back to the schema's string type.
    """
    wanted = None
    if columns is not None:
        wanted = [*columns, *index_columns]
        if index is not None and index not in wanted:
            wanted.append(index)
    table = _read_table_direct(fragment, wanted, filters, schema, groups, keep_dictionaries)
    if table is None:
        import pyarrow as pa

        try:
            # The dataset schema brings hive partition columns along with the file's own.
            table = fragment.to_table(columns=wanted, filter=_filter_expression(filters), schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            _raise_schema_mismatch(fragment, schema, wanted, exc)
            raise
    return table


def plain_strings(table: Any, schema: Any, names: list[Any] | None = None) -> Any:
    """``table`` with its dictionary-encoded columns (or those of ``names``) cast to the dataset schema's type."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        # A column the dataset itself stores as a dictionary (a categorical) stays one.
        if (pa.types.is_dictionary(field.type) and (names is None or field.name in names)
                and not pa.types.is_dictionary(schema.field(field.name).type)):
            target = schema.field(field.name)
            table = table.set_column(i, target, decode_chunked(table.column(i), target.type))
    return table


def _read_fragment(fragment: Any, columns: list[Any] | None, index_columns: list[str], filters: Any, index: Any,
                   meta: pd.DataFrame, schema: Any, groups: tuple[int, ...] | None = None,
                   conversion: _Conversion | None = None) -> pd.DataFrame:
    if fragment is None:
        return meta
    table = read_arrow(fragment, columns, index_columns, filters, index, schema, groups)
    return to_partition(table, columns, index_columns, index, meta, conversion)


def to_partition(table: Any, columns: list[Any] | None, index_columns: list[str], index: Any, meta: pd.DataFrame,
                 conversion: _Conversion | None = None) -> pd.DataFrame:
    """The pandas partition of a table :func:`read_arrow` gave."""
    part = _to_pandas(table, meta, index_columns, index, conversion)
    if index is not None:
        part = part.set_index(index)
    if columns is not None and list(part.columns) != list(columns):
        part = part[columns]
    return match_strings(part, meta) if meta is not None else part


def _raise_schema_mismatch(fragment: Any, schema: Any, wanted: list[Any] | None, exc: BaseException) -> None:
    """Raise a ``ValueError`` naming the file, the columns and both types when the file's schema is the cause.

    The dataset's schema comes from the first file; a later file whose column has another type fails deep in
    Arrow's cast ("Failed to parse string") naming neither. Returns (so the caller re-raises ``exc``) when
    no column differs.
    """
    try:
        physical = fragment.physical_schema
    except Exception:  # an unreadable file: Arrow's own error (which names it) says more
        return
    names = schema.names if wanted is None else [c for c in wanted if c in schema.names]
    differ = [(name, physical.field(name).type, schema.field(name).type) for name in names
              if physical.get_field_index(name) >= 0 and physical.field(name).type != schema.field(name).type]
    if not differ:
        return
    details = "; ".join(f"column {name!r} is {got} there but {want} in the dataset" for name, got, want in differ)
    raise ValueError(
        f"read_parquet: {fragment.path!r} does not match the dataset's schema, which comes from the first file "
        f"({details}), and its values can't be cast. Rewrite the file with the same column types, or read the "
        f"files separately and cast with .astype({{{differ[0][0]!r}: ...}}) before concatenating."
    ) from exc


_PLAIN_TYPES = frozenset("bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float float double".split())


class _Conversion:
    """What the direct Arrow-to-pandas conversion needs from the meta, worked out once per read.

    ``plans`` maps a column name to ``(arrow type, None)`` for a plain number
    column whose NumPy view is the meta's dtype, or ``(arrow type, dtype)``
    for a string column the meta holds as pandas' Arrow-backed ``str``.
    Columns the meta restores some other way (``Int64``, categories, dates)
    have no plan and send the partition to ``to_pandas``. Asking the meta
    for its dtypes and the Arrow types for theirs costs more than building
    a small partition, so it is done here rather than per partition.
    """

    __slots__ = ("labels", "names", "plans", "usable")

    def __init__(self, meta: pd.DataFrame, index: Any, schema: Any) -> None:
        self.labels = meta.columns
        self.names = list(meta.columns)
        self.usable = schema is not None and meta.columns.name is None and len(set(self.names)) == len(self.names)
        self.plans: dict[Any, tuple[Any, Any]] = {}
        if not self.usable:
            return
        targets = dict(zip(self.names, meta.dtypes, strict=True))
        if index is not None:
            targets[index] = meta.index.dtype
        for name, target in targets.items():
            if not isinstance(name, str) or schema.get_field_index(name) < 0:
                continue
            arrow_type = schema.field(name).type
            kind = str(arrow_type)
            if kind in _PLAIN_TYPES and target == arrow_type.to_pandas_dtype():
                self.plans[name] = (arrow_type, None)
            elif kind in STRING_TYPES and isinstance(target, pd.StringDtype) and target.storage == "pyarrow":
                self.plans[name] = (arrow_type, target)


@functools.lru_cache(maxsize=64)
def _keeps_index(pandas_metadata: bytes) -> bool:
    """Whether a file's pandas metadata restores an index (columns, or a ``RangeIndex`` not starting at 0)."""
    import json

    return bool(json.loads(pandas_metadata).get("index_columns"))


def _to_pandas(table: Any, meta: pd.DataFrame, index_columns: list[str], index: Any,
               conversion: _Conversion | None = None) -> pd.DataFrame:
    """``table.to_pandas()``, building the frame straight from the columns when that gives the same result.

    For a table of plain numbers without missing values, and strings where
    the meta says pandas' Arrow-backed ``str``, with no index kept in the
    pandas metadata, a dict of ``to_numpy()`` views and ``ArrowStringArray``
    wrappers is the frame ``to_pandas`` makes at a fraction of its fixed cost
    (which reads the pandas metadata back from JSON and rebuilds the column
    index for every partition). Each column's type is checked against the
    :class:`_Conversion` made from the meta, so a column the metadata
    restores differently (``Int64``, categories) takes the general path.
    """
    if conversion is None:
        conversion = _Conversion(meta, index, table.schema)
    names = table.column_names
    schema = table.schema
    pandas_metadata = (schema.metadata or {}).get(b"pandas")
    if (index_columns or not names or not conversion.usable or len(set(names)) != len(names)
            or (pandas_metadata is not None and _keeps_index(pandas_metadata))):
        return table.to_pandas(self_destruct=True, split_blocks=True)  # type: ignore[no-any-return]
    plans = conversion.plans
    columns: list[Any] = []
    for name, field, column in zip(names, schema, table.columns, strict=True):
        plan = plans.get(name)
        if plan is None or field.type != plan[0]:
            break
        if plan[1] is None:
            if column.null_count:
                break
            columns.append(column.to_numpy())
        else:
            columns.append(pd.arrays.ArrowStringArray(column, dtype=plan[1]))
    else:
        if names != conversion.names:
            return pd.DataFrame(dict(zip(names, columns, strict=True)), copy=False)
        # Positions as keys, then the meta's own labels: pandas would otherwise infer a string Index from
        # the names for every partition, which costs more than building the frame.
        frame = pd.DataFrame(dict(enumerate(columns)), copy=False)
        frame.columns = conversion.labels
        return frame
    # The table is ours alone: let Arrow free each column as soon as pandas has it.
    return table.to_pandas(self_destruct=True, split_blocks=True)  # type: ignore[no-any-return]


def _read_table_direct(fragment: Any, wanted: list[Any] | None, filters: Any, schema: Any,
                       groups: tuple[int, ...] | None, keep_dictionaries: bool = False) -> Any:
    """Read a plain Parquet file (or some of its row groups) with ``pyarrow.parquet``, filtering with kernels.

    This skips the dataset scanner, whose per-scan set-up and thread pool cost more than the read itself
    on the small pieces a partition holds. Returns ``None`` where the scanner is needed: hive partition
    keys, filters given as Arrow expressions, or files whose schema differs from the dataset's.
    """
    import pyarrow.parquet as pq
    from pyarrow.fs import LocalFileSystem

    if not is_trivial(fragment.partition_expression):
        return None
    needed_for_filter = filter_columns(filters)
    if needed_for_filter is None:
        return None
    names = schema.names
    if any(c not in names for c in needed_for_filter) or (wanted is not None and any(c not in names for c in wanted)):
        return None
    columns = None if wanted is None else [*wanted, *(c for c in needed_for_filter if c not in wanted)]
    # Pre-buffering fetches the column chunks on Arrow's I/O threads and pays for the hand-off: worth it on
    # object stores (fewer, larger requests), about a third slower on a local disk's page cache.
    local = isinstance(fragment.filesystem, LocalFileSystem)
    source = fragment.filesystem.open_input_file(fragment.path)
    with source:
        footer = local_footer(source) if local else None
        if footer is None:
            reader = pq.ParquetFile(source, pre_buffer=not local)
            metadata, physical = reader.metadata, reader.schema_arrow
        else:
            metadata, physical = footer.metadata, footer.schema
        if not physical.equals(schema, check_metadata=False):
            return None
        dictionary = dictionary_columns(metadata, schema, columns, groups)
        if footer is not None or dictionary:
            reader = pq.ParquetFile(source, metadata=metadata, read_dictionary=dictionary or None,
                                    pre_buffer=not local)
        if groups is None or len(groups) == reader.metadata.num_row_groups:
            table = reader.read(columns=columns, use_threads=False, use_pandas_metadata=False)
        else:
            table = reader.read_row_groups(groups, columns=columns, use_threads=False, use_pandas_metadata=False)
    # Filters compare plain strings; the kept dictionaries are for the caller's grouping.
    cast = [n for n in dictionary if not keep_dictionaries or n in needed_for_filter]
    if cast:
        table = plain_strings(table, schema, cast)
    if filters:
        import pyarrow as pa

        try:
            mask = filter_mask(table, filters)
        except (pa.ArrowException, TypeError, ValueError):
            return None  # a value the kernels can't compare directly (the scanner casts it)
        if wanted is not None and table.column_names != wanted:
            table = table.select(wanted)  # before filtering: columns read only for the filter are not copied
        return table.filter(mask)
    if wanted is not None and table.column_names != wanted:
        table = table.select(wanted)
    return table


def read_parquet(path: Any = None, columns: Any = None, filters: Any = None, categories: Any = None,
                 index: Any = None, storage_options: dict[str, Any] | None = None, dtype_backend: Any = None,
                 calculate_divisions: bool = False, ignore_metadata_file: bool = False,
                 metadata_task_size: int | None = None, split_row_groups: Any = "infer", blocksize: Any = "default",
                 aggregate_files: Any = None, parquet_file_extension: Any = (".parq", ".parquet", ".pq"),
                 filesystem: Any = "fsspec", engine: Any = None, arrow_to_pandas: Any = None, **kwargs: Any) -> Any:
    """Read a Parquet dataset (a file, a directory, a glob or a list) into a DataFrame.

    Mirrors ``dask.dataframe.read_parquet`` and takes its keywords; those
    shoal can't honour raise ``NotImplementedError`` naming an alternative,
    and unknown ones raise ``TypeError`` (Dask ignores them).

    Parameters
    ----------
    columns : str or list, optional
        Columns to read (a string returns a Series).
    filters : list of tuples, list of lists of tuples, or a pyarrow expression
        ``[("x", ">", 5)]`` (AND) or ``[[...], [...]]`` (OR of ANDs). Files and
        row groups whose statistics rule them out are never read.
    index : str, optional
        Column to use as the index (default: the index stored by pandas).
    calculate_divisions : bool
        Known divisions from the index column's min/max statistics, when the
        files (or row groups) hold sorted, non-overlapping ranges of it.
    split_row_groups : bool, int, "infer" or "adaptive"
        One partition per row group (``True``), per ``n`` row groups, or per
        file (``False``, ``"infer"``, ``"adaptive"``).
    parquet_file_extension : str, tuple or None
        Files of a directory without one of these endings are skipped
        (``None``: read every file).
    dataset : dict, optional
        Options for ``pyarrow.dataset.dataset`` (``partitioning=``, ...).
    ignore_metadata_file, metadata_task_size
        Accepted for Dask's sake; shoal plans from the files' footers.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd, tempfile
    >>> d = tempfile.mkdtemp()
    >>> sd.from_pandas(pd.DataFrame({"x": range(6)}), npartitions=2).to_parquet(d)
    >>> sd.read_parquet(d, filters=[("x", ">", 2)]).x.sum().compute()
    np.int64(12)
    >>> sd.read_parquet(d, calculate_divisions=True).divisions
    (0, 3, 5)
    """
    import fsspec
    import pyarrow.dataset as ds

    if path is None:
        raise TypeError("read_parquet() missing the path of the dataset to read")
    dataset_options = check_read_options(categories=categories, dtype_backend=dtype_backend, blocksize=blocksize,
                                         aggregate_files=aggregate_files, filesystem=filesystem, engine=engine,
                                         arrow_to_pandas=arrow_to_pandas, kwargs=kwargs)
    per_partition = parse_split_row_groups(split_row_groups)
    paths = path if isinstance(path, list | tuple) else [path]
    fs, _, expanded = fsspec.get_fs_token_paths([str(p) for p in paths], storage_options=storage_options or {})
    if len(expanded) == 1 and fs.isdir(expanded[0]):
        source: Any = expanded[0]
        if parquet_file_extension:
            source = directory_files(fs, source, parquet_file_extension)
            if isinstance(source, list):
                dataset_options = {"partition_base_dir": expanded[0], **dataset_options}
    else:
        source = sorted(expanded) if len(expanded) > 1 else expanded
        if not expanded:
            raise FileNotFoundError(f"read_parquet: no files match {path!r}")
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    arrow_fs = PyFileSystem(FSSpecHandler(fs)) if fs.protocol not in ("file", ("file", "local")) else None
    # Hive keys as dictionaries, as pandas (pyarrow.parquet) reads them: categoricals of the keys' type.
    options = {"partitioning": hive_partitioning(), "exclude_invalid_files": False, **dataset_options}
    dataset = ds.dataset(source, format="parquet", filesystem=arrow_fs, **options)
    expression = _filter_expression(filters)
    fragments = sorted(dataset.get_fragments(filter=expression), key=lambda f: _natural_key(f.path))
    pieces, ids = [], []
    for fragment in fragments:
        if expression is None and not per_partition:
            pieces.append(fragment)
            ids.append((fragment.path, None))
            continue
        # Row-group statistics rule out groups that cannot match the filter.
        groups = matching_row_groups(fragment, filters, expression, dataset.schema, None)
        chunks = [groups[i:i + per_partition] for i in range(0, len(groups), per_partition)] if per_partition else (
            [groups] if groups else [])
        for chunk in chunks:
            pieces.append(fragment.format.make_fragment(fragment.path, fragment.filesystem,
                                                        partition_expression=fragment.partition_expression,
                                                        row_groups=chunk))
            ids.append((fragment.path, tuple(chunk)))
    schema = dataset.schema
    pandas_meta = schema.pandas_metadata or {}
    index_columns = [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)]
    meta, cols = select_meta(schema, index, columns, "read_parquet")
    if convert_string_enabled():
        meta = to_arrow_strings(meta)
    meta = partition_categories(meta, dataset)
    sorted_index = index_name(index, schema) if calculate_divisions else None
    # A list of columns is the reader's own projection (no getitem step per partition); a name gives a Series.
    expr: Expr = _reader(pieces, meta, None if isinstance(columns, str) else cols, index_columns, filters, index,
                         str(source), schema, ids, sorted_index)
    out = new_collection(expr)
    return out[columns] if isinstance(columns, str) else out


def _and_filters(filters: Any, conditions: list[tuple[Any, str, Any]]) -> Any:
    """``filters`` (DNF list or pyarrow expression) AND all ``conditions``."""
    if filters is None:
        return list(conditions)
    if isinstance(filters, list) and filters and isinstance(filters[0], list):
        return [[*conjunct, *conditions] for conjunct in filters]
    if isinstance(filters, list):
        return [*filters, *conditions]
    return filters & _filter_expression(list(conditions))


def _natural_key(path: str) -> list[Any]:
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]
