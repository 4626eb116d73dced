"""Doctests in shoal.bag run on the sync scheduler: fast, and no worker processes to start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoal import config


@pytest.fixture(autouse=True)
def _sync_scheduler_for_doctests(request: pytest.FixtureRequest) -> Iterator[None]:
    if isinstance(request.node, pytest.DoctestItem):
        with config.set(scheduler="sync"):
            yield
    else:
        yield
