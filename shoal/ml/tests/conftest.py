"""Fixtures shared by the shoal.ml tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import shoal


@pytest.fixture
def sync_scheduler() -> Iterator[None]:
    """Run the test's computations on the synchronous scheduler (the estimators' results don't depend on it)."""
    with shoal.config.set(scheduler="sync"):
        yield
