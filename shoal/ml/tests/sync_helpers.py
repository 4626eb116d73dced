"""Running hypothesis tests of shoal.ml on the synchronous scheduler."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import shoal


def on_sync(test: Callable[..., None]) -> Callable[..., None]:
    """Run a hypothesis test body on the synchronous scheduler (place it below ``@given``)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        with shoal.config.set(scheduler="sync"):
            test(*args, **kwargs)

    return run
