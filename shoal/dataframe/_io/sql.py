"""``read_sql_table``, ``read_sql_query``, ``read_sql`` and ``to_sql`` through SQLAlchemy.

Reading
    The query is split into ranges of the index column: partition ``i``
    selects the rows with ``divisions[i] <= index < divisions[i + 1]`` (the
    last range includes its upper bound), so divisions are known. Without
    ``divisions=``, the boundaries are spread evenly between the column's
    minimum and maximum (or ``limits=``); the number of partitions is
    ``npartitions=``, or the table's size (row count times the bytes of the
    first ``head_rows`` rows) over ``bytes_per_chunk``. The structure comes
    from the first ``head_rows`` rows, or ``meta=``. Every task opens its own
    engine from the URI string, so tasks run on any worker.

Writing
    Partitions are inserted into a hidden staging table (created by the first
    partition, or from the metadata when ``parallel=True``). Once every
    partition is in, one transaction renames the staging table to ``name``
    (or, with ``if_exists="append"``, copies its rows into the existing
    table), so a failed write never leaves a table that looks complete. Dask
    writes into the target directly; the result is the same when nothing
    fails.
"""

from __future__ import annotations

import functools
import math
import uuid
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Blockwise, Expr
from shoal.dataframe._io.csv import _parse_blocksize
from shoal.dataframe._io.memory import from_pandas
from shoal.dataframe._meta import make_meta
from shoal.graph.task import Key, Task
from shoal.graph.tokenize import tokenize

__all__ = ["read_sql", "read_sql_query", "read_sql_table", "to_sql"]


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("shoal's SQL readers and writers need SQLAlchemy: pip install 'sqlalchemy>=2' "
                          "(or shoal[sql])") from exc
    return sqlalchemy


def _check_uri(con: Any, what: str) -> None:
    if not isinstance(con, str):
        raise TypeError(f"{what}: con must be a SQLAlchemy URI string such as 'sqlite:///data.db', got "
                        f"{type(con).__name__}. Tasks open their own connections from it, so an engine or "
                        f"connection object can't be passed.")


class ReadSQL(Blockwise):
    """One ``SELECT ... WHERE lower <= index < upper`` per partition."""

    _parameters = ("queries", "con", "index_col", "meta", "divisions_", "engine_kwargs", "kwargs")
    _label = "read-sql"

    @functools.cached_property
    def _name(self) -> str:
        # Query objects hash by identity: their SQL text and bound values name them.
        texts = [(str(q), sorted(q.compile().params.items(), key=str)) for q in self.queries]
        token = tokenize(texts, self.con, self.index_col, self.meta, self.divisions_, self.engine_kwargs,
                         self.kwargs)
        return f"{self._label}-{token}"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, _read_chunk, self.queries[i], self.con, self.index_col, self.meta, self.engine_kwargs,
                    self.kwargs)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        if any(b != a + 1 for a, b in zip(indices, indices[1:], strict=False)):
            return None  # divisions must stay contiguous
        lo, hi = indices[0], indices[-1] + 1
        return ReadSQL(self.queries[lo:hi], self.con, self.index_col, self.meta, self.divisions_[lo:hi + 1],
                       self.engine_kwargs, self.kwargs)


def _read_chunk(query: Any, con: str, index_col: str, meta: pd.DataFrame, engine_kwargs: dict[str, Any],
                kwargs: dict[str, Any]) -> pd.DataFrame:
    sa = _sqlalchemy()
    engine = sa.create_engine(con, **engine_kwargs)
    try:
        with engine.connect() as conn:
            part = pd.read_sql(query, conn, index_col=index_col, **kwargs)
    finally:
        engine.dispose()
    if len(part) == 0:
        return meta.copy()
    if list(part.columns) != list(meta.columns):
        raise ValueError(f"read_sql: a partition has columns {list(part.columns)}, but the metadata says "
                         f"{list(meta.columns)}. Pass meta= matching the query's columns.")
    wrong = {c: t for c, t in meta.dtypes.items() if part.dtypes[c] != t}
    if wrong:
        # The head saw other types than this range (an integer column with NULLs further down, say).
        part = part.astype(wrong)
    if part.index.dtype != meta.index.dtype:
        part.index = part.index.astype(meta.index.dtype)
    return part


def _even_divisions(low: Any, high: Any, npartitions: int, dtype: Any, index_col: str) -> list[Any]:
    dtype = np.dtype(dtype) if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else dtype
    kind = getattr(dtype, "kind", "O")
    if kind == "M":
        low, high = pd.Timestamp(low), pd.Timestamp(high)
        points = list(pd.date_range(low, high, periods=npartitions + 1)) if high > low else [low]
    elif kind in "iu":
        points = [int(v) for v in np.unique(np.linspace(int(low), int(high), npartitions + 1).round())]
    elif kind == "f":
        points = [float(v) for v in np.unique(np.linspace(float(low), float(high), npartitions + 1))]
    else:
        raise TypeError(f"read_sql: the index column {index_col!r} has dtype {dtype}; boundaries can be spread "
                        f"evenly only over numbers and datetimes. Pass divisions= (sorted index values, e.g. "
                        f"divisions=list('acegikmoqsuwz')).")
    if len(points) == 1:
        points = [points[0], points[0]]
    return points


def read_sql_query(sql: Any, con: str, index_col: str, divisions: Any = None, npartitions: int | None = None,
                   limits: Any = None, bytes_per_chunk: Any = "256 MiB", head_rows: int = 5, meta: Any = None,
                   engine_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Read the rows of an SQLAlchemy query into a DataFrame split on ``index_col``.

    Mirrors ``dask.dataframe.read_sql_query``.

    Parameters
    ----------
    sql : SQLAlchemy Selectable
        ``sa.select(...)``; raw SQL text works as ``sa.text("SELECT ...").columns(sa.column("id"), ...)``.
    con : str
        SQLAlchemy URI (``"sqlite:///data.db"``).
    index_col : str
        The column that becomes the index and defines the partitions (ideally indexed in the database).
    divisions : sequence, optional
        Sorted index values splitting the rows; overrides ``npartitions`` and ``bytes_per_chunk``.
    npartitions : int, optional
        Number of partitions spread evenly between ``limits`` (or the column's minimum and maximum).
    limits : (low, high), optional
        The range to split instead of the column's minimum and maximum.
    bytes_per_chunk : int or str
        Target partition size when neither ``divisions`` nor ``npartitions`` is given.
    head_rows : int
        Rows read at build time for the structure and the bytes per row.
    meta : DataFrame, optional
        The output's structure (with the index set), instead of reading the head.
    engine_kwargs : dict, optional
        Passed to :func:`sqlalchemy.create_engine`.
    **kwargs
        Passed to :func:`pandas.read_sql` (``parse_dates=``, ``dtype=``, ...).

    Examples
    --------
    >>> import os, tempfile, pandas as pd, sqlalchemy as sa, shoal.dataframe as sd
    >>> uri = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "doc.db")
    >>> pd.DataFrame({"id": range(6), "x": range(6)}).to_sql("t", uri, index=False)
    6
    >>> t = sa.table("t", sa.column("id"), sa.column("x"))
    >>> df = sd.read_sql_query(sa.select(t).where(t.c.x > 1), uri, "id", npartitions=2)
    >>> df.divisions, int(df.x.sum().compute())
    ((2, 4, 5), 14)
    """
    sa = _sqlalchemy()
    _check_uri(con, "read_sql_query")
    if isinstance(sql, str):
        raise TypeError("read_sql_query takes an SQLAlchemy Selectable such as sa.select(table), not a string. "
                        "For a table name call read_sql_table; wrap raw SQL as "
                        "sa.text('SELECT ...').columns(sa.column('id'), ...).")
    if not isinstance(index_col, str):
        raise TypeError(f"read_sql_query: index_col must be a column name, got {type(index_col).__name__}")
    engine_kwargs = dict(engine_kwargs or {})
    subquery = sql.subquery()
    if index_col not in subquery.c:
        raise KeyError(f"read_sql_query: index_col {index_col!r} is not a column of the query; it selects "
                       f"{list(subquery.c.keys())}.")
    index = subquery.c[index_col]
    engine = sa.create_engine(con, **engine_kwargs)
    try:
        with engine.connect() as conn:
            if meta is None:
                head = pd.read_sql(sa.select(subquery).limit(head_rows), conn, index_col=index_col, **kwargs)
                if len(head) == 0:
                    # Nothing to split: one empty partition with the query's columns, as Dask does.
                    return from_pandas(head, npartitions=1)
                meta = head.iloc[:0]
            else:
                head = None
                meta = make_meta(meta)
            if divisions is None:
                if limits is None:
                    low, high, count = conn.execute(sa.select(sa.func.min(index), sa.func.max(index),
                                                              sa.func.count(index))).one()
                    if count == 0:
                        return from_pandas(meta, npartitions=1)
                else:
                    low, high = limits
                    count = None
                if npartitions is None:
                    if count is None:
                        count = conn.execute(sa.select(sa.func.count(index))).scalar_one()
                    if head is None:
                        head = pd.read_sql(sa.select(subquery).limit(head_rows), conn, index_col=index_col,
                                           **kwargs)
                    row_bytes = head.memory_usage(deep=True, index=True).sum() / max(len(head), 1)
                    size = _parse_blocksize(str(bytes_per_chunk).replace(" ", ""))
                    npartitions = max(1, math.ceil(count * row_bytes / max(size or 1, 1)))
                divisions = _even_divisions(low, high, int(npartitions), meta.index.dtype, index_col)
    finally:
        engine.dispose()
    divisions = list(divisions)
    if len(divisions) < 2:
        raise ValueError(f"read_sql: divisions needs at least two values (the bounds of one partition), got "
                         f"{divisions}")
    if any(b < a for a, b in zip(divisions, divisions[1:], strict=False)):
        raise ValueError(f"read_sql: divisions must be sorted, got {divisions}")
    queries = []
    for i, (lower, upper) in enumerate(zip(divisions[:-1], divisions[1:], strict=True)):
        last = i == len(divisions) - 2
        condition = sa.and_(index >= lower, index <= upper if last else index < upper)
        queries.append(sa.select(subquery).where(condition))
    return new_collection(ReadSQL(queries, con, index_col, meta, tuple(divisions), engine_kwargs, kwargs))


def read_sql_table(table_name: str, con: str, index_col: Any, divisions: Any = None, npartitions: int | None = None,
                   limits: Any = None, columns: Any = None, bytes_per_chunk: Any = "256 MiB", head_rows: int = 5,
                   schema: str | None = None, meta: Any = None, engine_kwargs: dict[str, Any] | None = None,
                   **kwargs: Any) -> Any:
    """Read a database table into a DataFrame split on ``index_col``; mirrors ``dask.dataframe.read_sql_table``.

    ``columns`` (names or SQLAlchemy columns; all by default) and ``index_col``
    (a name, or a labelled SQLAlchemy expression) form the query; the other
    parameters are :func:`read_sql_query`'s.

    Examples
    --------
    >>> import os, tempfile, pandas as pd, shoal.dataframe as sd
    >>> uri = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "doc.db")
    >>> pd.DataFrame({"id": range(4), "x": [1.0, 2.0, 3.0, 4.0]}).to_sql("t", uri, index=False)
    4
    >>> df = sd.read_sql_table("t", uri, "id", npartitions=2)
    >>> df.divisions, df.compute().x.tolist()
    ((0, 2, 3), [1.0, 2.0, 3.0, 4.0])
    """
    sa = _sqlalchemy()
    _check_uri(con, "read_sql_table")
    if not isinstance(table_name, str):
        raise TypeError(f"read_sql_table: table_name must be a string, got {type(table_name).__name__}")
    engine = sa.create_engine(con, **(engine_kwargs or {}))
    try:
        if not sa.inspect(engine).has_table(table_name, schema=schema):
            raise ValueError(f"read_sql_table: table {table_name!r} not found in {_safe_uri(engine)}"
                             f"{'' if schema is None else f' (schema {schema!r})'}.")
        table = sa.Table(table_name, sa.MetaData(), schema=schema, autoload_with=engine)
    finally:
        engine.dispose()
    if isinstance(index_col, str):
        if index_col not in table.c:
            raise KeyError(f"read_sql_table: index_col {index_col!r} is not a column of {table_name!r}; it has "
                           f"{list(table.c.keys())}.")
        index = table.c[index_col]
    else:
        index = index_col
        index_col = getattr(index, "name", None)
        if not index_col:
            raise ValueError("read_sql_table: an index_col expression needs a name; use expr.label('name')")
    if columns is None:
        selected = [c for c in table.c if c.name != index_col]
    else:
        selected = []
        for c in columns:
            if isinstance(c, str):
                if c not in table.c:
                    raise KeyError(f"read_sql_table: column {c!r} is not in {table_name!r}; it has "
                                   f"{list(table.c.keys())}.")
                selected.append(table.c[c])
            else:
                selected.append(c)
        selected = [c for c in selected if getattr(c, "name", None) != index_col]
    query = sa.select(index, *selected).select_from(table)
    return read_sql_query(query, con, index_col, divisions=divisions, npartitions=npartitions, limits=limits,
                          bytes_per_chunk=bytes_per_chunk, head_rows=head_rows, meta=meta,
                          engine_kwargs=engine_kwargs, **kwargs)


def _safe_uri(engine: Any) -> str:
    return engine.url.render_as_string(hide_password=True)  # type: ignore[no-any-return]


def read_sql(sql: Any, con: str, index_col: Any, **kwargs: Any) -> Any:
    """A table name goes to :func:`read_sql_table`, a query to :func:`read_sql_query` (mirrors Dask).

    Examples
    --------
    >>> import os, tempfile, pandas as pd, shoal.dataframe as sd
    >>> uri = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "doc.db")
    >>> pd.DataFrame({"id": range(4), "x": range(4)}).to_sql("t", uri, index=False)
    4
    >>> int(sd.read_sql("t", uri, "id").x.sum().compute())
    6
    """
    if isinstance(sql, str):
        return read_sql_table(sql, con, index_col, **kwargs)
    return read_sql_query(sql, con, index_col, **kwargs)


# -- writing --------------------------------------------------------------------------------------
def _write_chunk(part: pd.DataFrame, uri: str, table: str, engine_kwargs: dict[str, Any], kwargs: dict[str, Any],
                 *after: Any) -> int:
    """Insert ``part`` into ``table`` (``after`` holds earlier writes this one must follow)."""
    sa = _sqlalchemy()
    engine = sa.create_engine(uri, **engine_kwargs)
    try:
        part.to_sql(table, engine, **kwargs)
    finally:
        engine.dispose()
    return len(part)


def _qualified(preparer: Any, name: str, schema: str | None) -> str:
    return preparer.quote(name) if schema is None else f"{preparer.quote_schema(schema)}.{preparer.quote(name)}"


def _publish(counts: list[int], uri: str, staging: str, name: str, schema: str | None, if_exists: str,
             engine_kwargs: dict[str, Any]) -> int:
    """In one transaction, move the staging table's rows to ``name`` as ``if_exists`` says."""
    sa = _sqlalchemy()
    engine = sa.create_engine(uri, **engine_kwargs)
    try:
        preparer = engine.dialect.identifier_preparer
        source = _qualified(preparer, staging, schema)
        target = _qualified(preparer, name, schema)
        exists = sa.inspect(engine).has_table(name, schema=schema)
        with engine.begin() as conn:
            if exists and if_exists == "fail":
                raise ValueError(f"to_sql: table {name!r} already exists (it was created while the partitions were "
                                 f"written). Pass if_exists='replace' or 'append'.")
            if exists and if_exists == "append":
                columns = [c["name"] for c in sa.inspect(conn).get_columns(staging, schema=schema)]
                listed = ", ".join(preparer.quote(c) for c in columns)
                conn.execute(sa.text(f"INSERT INTO {target} ({listed}) SELECT {listed} FROM {source}"))
                conn.execute(sa.text(f"DROP TABLE {source}"))
            else:
                if exists:
                    conn.execute(sa.text(f"DROP TABLE {target}"))
                conn.execute(sa.text(f"ALTER TABLE {source} RENAME TO {preparer.quote(name)}"))
    finally:
        engine.dispose()
    return sum(counts)


def _drop_table(uri: str, table: str, schema: str | None, engine_kwargs: dict[str, Any]) -> None:
    sa = _sqlalchemy()
    engine = sa.create_engine(uri, **engine_kwargs)
    try:
        qualified = _qualified(engine.dialect.identifier_preparer, table, schema)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {qualified}"))
    finally:
        engine.dispose()


def to_sql(df: Any, name: str, uri: str, schema: str | None = None, if_exists: str = "fail", index: bool = True,
           index_label: Any = None, chunksize: int | None = None, dtype: Any = None, method: Any = None,
           compute: bool = True, parallel: bool = False, engine_kwargs: dict[str, Any] | None = None) -> Any:
    """Write the partitions to the SQL table ``name``; mirrors ``dask.dataframe.to_sql``.

    Parameters
    ----------
    name : str
        The table.
    uri : str
        SQLAlchemy URI (``"sqlite:///data.db"``).
    if_exists : {"fail", "replace", "append"}
        What to do when the table exists: raise ``ValueError``, replace it, or add the rows.
    index, index_label, chunksize, dtype, method
        As in :meth:`pandas.DataFrame.to_sql`.
    compute : bool
        Write now (returns ``None``), or return a ``Delayed`` that writes.
    parallel : bool
        Insert the partitions concurrently; by default they are inserted one after another (many
        databases, SQLite among them, serialize writers anyway).
    engine_kwargs : dict, optional
        Passed to :func:`sqlalchemy.create_engine`.

    Notes
    -----
    Rows go into a hidden staging table that becomes ``name`` (or is appended
    to it) in one transaction once every partition is written: a failed write
    leaves ``name`` as it was. Dask inserts into ``name`` directly.

    Examples
    --------
    >>> import os, tempfile, pandas as pd, shoal.dataframe as sd
    >>> uri = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "doc.db")
    >>> df = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2)
    >>> df.to_sql("t", uri, index=False)
    >>> pd.read_sql_table("t", uri).x.tolist()
    [0, 1, 2, 3]
    """
    sa = _sqlalchemy()
    from shoal.delayed import delayed

    _check_uri(uri, "to_sql")
    if if_exists not in ("fail", "replace", "append"):
        raise ValueError(f"to_sql: if_exists must be 'fail', 'replace' or 'append', got {if_exists!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"to_sql: name must be a non-empty table name, got {name!r}")
    engine_kwargs = dict(engine_kwargs or {})
    engine = sa.create_engine(uri, **engine_kwargs)
    try:
        if if_exists == "fail" and sa.inspect(engine).has_table(name, schema=schema):
            raise ValueError(f"to_sql: table {name!r} already exists. Pass if_exists='replace' to overwrite it or "
                             f"if_exists='append' to add the rows.")
    finally:
        engine.dispose()
    staging = f"_shoal_tmp_{name}_{uuid.uuid4().hex[:12]}"
    options = {"schema": schema, "index": index, "index_label": index_label, "chunksize": chunksize,
               "dtype": dtype, "method": method}
    parts = df.to_delayed()
    creating = {**options, "if_exists": "fail"}
    appending = {**options, "if_exists": "append"}
    writes: list[Any] = []
    if parallel:
        created = delayed(_write_chunk, pure=False)(df._meta, uri, staging, engine_kwargs, creating)
        writes = [delayed(_write_chunk, pure=False)(p, uri, staging, engine_kwargs, appending, created)
                  for p in parts]
    else:
        for i, p in enumerate(parts):
            kwargs = creating if i == 0 else appending
            writes.append(delayed(_write_chunk, pure=False)(p, uri, staging, engine_kwargs, kwargs, *writes[-1:]))
    published = delayed(_publish, pure=False)(writes, uri, staging, name, schema, if_exists, engine_kwargs)
    if not compute:
        return published
    try:
        published.compute()
    except BaseException:
        _drop_table(uri, staging, schema, engine_kwargs)
        raise
    return None
