"""A joblib backend that runs joblib's batches as tasks on a :mod:`shoal.distributed` cluster.

``import shoal.ml`` registers it under the name ``"shoal"`` (joblib keeps a table of backend
factories; the import is what adds ours). scikit-learn's own parallel loops (``n_jobs=``) then run on
the cluster::

    import joblib
    import shoal.ml  # registers the "shoal" backend
    from shoal.distributed import Client

    client = Client(processes=False)
    with joblib.parallel_backend("shoal"):
        GridSearchCV(SVC(), grid, n_jobs=-1).fit(X, y)

The model: joblib cuts its iterable of calls into batches and hands each batch to
:meth:`ShoalBackend.submit`; each batch becomes one task (key ``joblib-batch-<function>-<uuid>``) on
the client's cluster; the future's done-callback hands the result (or the exception, re-raised with
its own type and message, as with the loky backend) back to joblib, which then dispatches the next
batch. Large NumPy/pandas arguments are scattered to the cluster once per ``Parallel`` call and
passed to the tasks as futures, so they are not pickled into every batch.

Mirrors joblib's ``"dask"`` backend; see https://joblib.readthedocs.io/en/stable/parallel.html.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from joblib import parallel_config
from joblib._parallel_backends import ParallelBackendBase, SequentialBackend

from shoal.distributed import Future, default_client, rejoin, secede
from shoal.distributed.server.worker import current_worker

__all__ = ["ShoalBackend", "register"]

#: Arguments at least this large (in bytes) are scattered once instead of sent with every batch.
SCATTER_THRESHOLD = 1_000_000


def _nbytes(obj: Any) -> int:
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    memory_usage = getattr(obj, "memory_usage", None)  # pandas objects
    if callable(memory_usage) and hasattr(obj, "iloc"):
        try:
            total = memory_usage(deep=False)
            return int(total.sum()) if hasattr(total, "sum") else int(total)
        except Exception:  # noqa: BLE001 - an exotic object: just don't scatter it
            return 0
    return 0


def _run_batch(calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]], nested_backend: Any,
               nested_n_jobs: Any) -> list[Any]:
    """Run one joblib batch on a worker; nested ``Parallel`` calls inside use ``nested_backend``."""
    with parallel_config(backend=nested_backend, n_jobs=nested_n_jobs):
        return [func(*args, **kwargs) for func, args, kwargs in calls]


def _call_batch(batch: Any) -> Any:
    """Fallback for batch objects we cannot unpack: call them as they are."""
    return batch()


def _batch_name(calls: list[Any]) -> str:
    func = calls[0][0] if calls else None
    while hasattr(func, "func"):  # functools.partial and joblib's wrappers
        func = func.func
    name = getattr(func, "__name__", type(func).__name__)
    return f"joblib-batch-{name}"


class ShoalBackend(ParallelBackendBase):
    """Run ``joblib.Parallel`` batches as tasks on a shoal cluster.

    Parameters
    ----------
    client : shoal.distributed.Client, optional
        The client whose cluster runs the tasks; by default the current default client at the start
        of each ``Parallel`` call.
    scatter : list, optional
        Objects to send to the cluster once, up front (for example ``[X, y]``); calls that get one of
        them (by identity) as an argument receive the scattered copy.
    scatter_threshold : int
        Arguments of NumPy arrays and pandas objects at least this many bytes are scattered once per
        ``Parallel`` call automatically; ``None`` turns that off.
    wait_for_workers_timeout : float
        Seconds to wait for a first worker when the cluster has none.

    Notes
    -----
    Mirrors joblib's ``DaskDistributedBackend``. Nested ``Parallel`` calls inside a task run
    sequentially, so that the worker's threads are not oversubscribed.
    """

    default_n_jobs = -1
    supports_retrieve_callback = True
    supports_timeout = True
    supports_return_generator = True
    supports_inner_max_num_threads = False
    uses_threads = False
    supports_sharedmem = False

    def __init__(self, client: Any = None, *, scatter: list[Any] | None = None,
                 scatter_threshold: int | None = SCATTER_THRESHOLD, wait_for_workers_timeout: float = 10.0,
                 nesting_level: int | None = None, **backend_kwargs: Any) -> None:
        super().__init__(nesting_level=nesting_level, **backend_kwargs)
        if scatter is not None and not isinstance(scatter, list | tuple):
            raise TypeError(f"scatter= takes a list of objects to send to the cluster once, got "
                            f"{type(scatter).__name__}; write scatter=[X] instead.")
        self.client = client
        self.scatter_threshold = scatter_threshold
        self.wait_for_workers_timeout = wait_for_workers_timeout
        self._to_scatter = list(scatter or [])
        #: id(original argument) -> (the argument, its future); kept for one Parallel call. The
        #: argument itself is held so that its id cannot be reused by another object meanwhile.
        self._scattered: dict[int, tuple[Any, Future]] = {}
        #: Futures of batches submitted and not yet done, so that abort_everything can cancel them.
        self._pending: set[Future] = set()
        self.parallel: Any = None

    # ------------------------------------------------------------------ joblib's protocol

    def _client(self) -> Any:
        if self.client is not None:
            return self.client
        try:
            return default_client()
        except ValueError:
            raise ValueError(
                "joblib's 'shoal' backend found no running shoal Client. Start one first "
                "(`from shoal.distributed import Client; client = Client(processes=False)`) or pass it: "
                "`joblib.parallel_backend('shoal', client=client)`."
            ) from None

    def effective_n_jobs(self, n_jobs: int | None) -> int:
        """``n_jobs`` itself when positive; for negative values, counted back from the cluster's threads."""
        if n_jobs == 0:
            raise ValueError("n_jobs == 0 in Parallel has no meaning; use n_jobs=-1 for all the cluster's threads.")
        if n_jobs is None:
            n_jobs = self.default_n_jobs
        if n_jobs > 0:
            return int(n_jobs)
        client = self._client()
        threads = sum(client.nthreads().values())
        if threads == 0:
            client.wait_for_workers(1, timeout=self.wait_for_workers_timeout)
            threads = sum(client.nthreads().values())
        return max(threads + 1 + int(n_jobs), 1)

    def configure(self, n_jobs: int | None = 1, parallel: Any = None, prefer: Any = None, require: Any = None,
                  **backend_kwargs: Any) -> int:
        self.parallel = parallel
        self.client = self._client() if self.client is None else self.client
        n = self.effective_n_jobs(n_jobs)
        return n

    def start_call(self) -> None:
        self._scattered = {}
        if self._to_scatter:
            client = self._client()
            futures = client.scatter(list(self._to_scatter), hash=False)
            for obj, future in zip(self._to_scatter, futures, strict=True):
                self._scattered[id(obj)] = (obj, future)

    def stop_call(self) -> None:
        self._scattered = {}

    def terminate(self) -> None:
        self._scattered = {}
        self._pending = set()

    def compute_batch_size(self) -> int:
        return 1

    def get_nested_backend(self) -> tuple[Any, Any]:
        level = (self.nesting_level or 0) + 1
        return SequentialBackend(nesting_level=level), None

    def _swap(self, value: Any, client: Any) -> Any:
        """The scattered future standing for ``value`` when it is large (scattering it now if needed)."""
        known = self._scattered.get(id(value))
        if known is not None:
            return known[1]
        if self.scatter_threshold is None or not hasattr(value, "shape"):
            return value
        if _nbytes(value) < self.scatter_threshold:
            return value
        [future] = client.scatter([value], hash=False)
        self._scattered[id(value)] = (value, future)
        return future

    def submit(self, func: Any, callback: Any = None) -> Future:
        """Submit one joblib batch as one task; ``callback(future)`` runs when it is done."""
        client = self._client()
        calls = getattr(func, "items", None)
        if isinstance(calls, list) and hasattr(func, "_backend"):
            calls = [(f, tuple(self._swap(a, client) for a in args),
                      {k: self._swap(v, client) for k, v in kwargs.items()}) for f, args, kwargs in calls]
            key = f"{_batch_name(calls)}-{uuid.uuid4().hex}"
            future = client.submit(_run_batch, calls, func._backend, getattr(func, "_n_jobs", None), key=key,
                                   pure=False)
        else:
            future = client.submit(_call_batch, func, key=f"joblib-batch-{uuid.uuid4().hex}", pure=False)
        self._pending.add(future)

        def done(fut: Future) -> None:
            self._pending.discard(fut)
            if callback is not None:
                callback(fut)

        future.add_done_callback(done)
        return future

    def retrieve_result_callback(self, future: Future) -> Any:
        """The batch's list of results; re-raises the exception a call in it raised."""
        return future.result()

    def retrieve_result(self, out: Future, timeout: float | None = None) -> Any:
        return out.result(timeout=timeout)

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Cancel the batches still pending after one failed."""
        pending, self._pending = list(self._pending), set()
        if pending:
            with contextlib.suppress(Exception):
                self._client().cancel(pending)

    @contextlib.contextmanager
    def retrieval_context(self) -> Iterator[None]:
        """When ``Parallel`` waits inside a task, give the worker's thread slot back while waiting."""
        if current_worker() is None:
            yield
            return
        secede()
        try:
            yield
        finally:
            rejoin()

    def __reduce__(self) -> Any:
        # A backend captured in a pickled batch must not drag the client along.
        return (ShoalBackend, (), {"nesting_level": self.nesting_level})


def register() -> None:
    """Register the ``"shoal"`` backend with joblib (``import shoal.ml`` already did)."""
    import joblib

    joblib.register_parallel_backend("shoal", ShoalBackend)
