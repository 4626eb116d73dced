"""Each public namespace's ``__all__`` is sorted and names only what exists."""

from __future__ import annotations

import importlib

import pytest

NAMESPACES = ["shoal", "shoal.graph", "shoal.local", "shoal.diagnostics", "shoal.base", "shoal._exceptions"]


@pytest.mark.parametrize("name", NAMESPACES)
def test_all_is_sorted_and_resolves(name):
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for attr in exported:
        assert getattr(module, attr) is not None, attr


def test_top_level_mirrors_dask():
    import shoal

    for attr in ["delayed", "compute", "persist", "visualize", "optimize", "config", "tokenize", "annotate",
                 "is_dask_collection"]:
        assert hasattr(shoal, attr)
