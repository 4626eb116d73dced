"""Bag tests run on the sync scheduler unless they name another: fast, and errors surface directly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoal import config


@pytest.fixture(autouse=True)
def _sync_scheduler() -> Iterator[None]:
    with config.set(scheduler="sync"):
        yield
