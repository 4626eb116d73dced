"""Writer methods for ORC, SQL and HDF5: thin forwards to the module-level writers.

Series get ``to_sql`` and ``to_hdf`` (pandas' Series has both); ``to_orc`` is
DataFrame-only, as in pandas (Dask's ``Series.to_orc`` exists but fails).
The writers import lazily, so that ``import shoal.dataframe`` pulls in
neither SQLAlchemy nor PyTables.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MoreIOMethods", "SeriesIOMethods"]


class SeriesIOMethods:
    """``to_sql`` and ``to_hdf``, for DataFrame and Series (mirroring Dask's)."""

    def to_sql(self, name: str, uri: str, *args: Any, **kwargs: Any) -> Any:
        """Write to a SQL table; see :func:`shoal.dataframe.to_sql`.

        A Series is written as pandas writes one: its values in a column
        named after it (``0`` when unnamed), with the index unless ``index=False``.
        """
        from shoal.dataframe._io.sql import to_sql

        return to_sql(self, name, uri, *args, **kwargs)

    def to_hdf(self, path_or_buf: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        """Write to HDF5 files; see :func:`shoal.dataframe.to_hdf`."""
        from shoal.dataframe._io.hdf import to_hdf

        return to_hdf(self, path_or_buf, key, *args, **kwargs)


class MoreIOMethods(SeriesIOMethods):
    """``to_orc`` besides ``to_sql`` and ``to_hdf``, as DataFrame methods."""

    def to_orc(self, path: Any, *args: Any, **kwargs: Any) -> Any:
        """Write one ORC file per partition; see :func:`shoal.dataframe.to_orc`."""
        from shoal.dataframe._io.orc import to_orc

        return to_orc(self, path, *args, **kwargs)
