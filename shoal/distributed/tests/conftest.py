from __future__ import annotations

import pytest

from shoal.distributed import Client


@pytest.fixture
def client():
    """Two in-process workers with two threads each; state machines validated after every event."""
    with Client(processes=False, n_workers=2, threads_per_worker=2, validate=True) as c:
        yield c
