"""Readers and writers: in-memory data and delayed values, CSV, Parquet."""
