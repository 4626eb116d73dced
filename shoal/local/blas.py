"""Keep BLAS to one thread per worker thread while the threads scheduler runs several.

OpenBLAS and MKL start one thread per core for every large call. Two worker
threads each calling ``@`` or ``qr`` then run four BLAS threads on two cores,
and they fight: a tall-skinny SVD ran 2.4x slower that way than with one BLAS
thread per worker. Within a computation the worker threads already use every
core, so BLAS is limited (setting ``local.blas-threads``; ``null`` leaves it
alone) for as long as the computation runs and restored afterwards.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from shoal import config

__all__ = ["limit_blas"]

# (number of loaded modules when built, controller): rebuilt only when new modules (and so maybe new
# BLAS libraries, e.g. SciPy's) have been loaded, since building one inspects every shared library.
_cache: list[Any] = [0, None]


def _controller() -> Any:
    loaded = len(sys.modules)
    if _cache[1] is None or _cache[0] != loaded:
        from threadpoolctl import ThreadpoolController

        _cache[:] = [loaded, ThreadpoolController()]
    return _cache[1]


def limit_blas(num_workers: int) -> AbstractContextManager[Any]:
    """A context that limits BLAS threads while ``num_workers`` threads compute (a no-op when it can't)."""
    if num_workers <= 1 or "numpy" not in sys.modules:
        return nullcontext()
    limit = config.get("local.blas-threads", 1)
    if limit is None:
        return nullcontext()
    try:
        controller = _controller()
    except ImportError:  # threadpoolctl comes with the array extra; without it BLAS is left alone
        return nullcontext()
    return controller.limit(limits=int(limit), user_api="blas")
