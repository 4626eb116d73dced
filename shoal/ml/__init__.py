"""Machine learning on shoal collections: scikit-learn style estimators and a joblib backend.

Mirrors ``dask_ml``: estimators in :mod:`shoal.ml.linear_model`, :mod:`shoal.ml.cluster`,
:mod:`shoal.ml.naive_bayes`, :mod:`shoal.ml.preprocessing` and :mod:`shoal.ml.model_selection` fit on
shoal arrays and dataframes block by block; the joblib backend ``"shoal"`` runs scikit-learn's own
parallel loops on a :class:`shoal.distributed.Client`. Needs the ``ml`` extra (scikit-learn, SciPy).

Importing this package is what registers the joblib backend: after ``import shoal.ml`` (or any
``shoal.ml.<module>``), ``joblib.parallel_backend("shoal")`` and
``joblib.parallel_config(backend="shoal")`` run joblib's batches as tasks on the current client
(see :mod:`shoal.ml.joblib`).
"""

from __future__ import annotations

from typing import Any


def _shoal_backend(**kwargs: Any) -> Any:
    # Imported when a Parallel call first asks for the backend: it pulls in shoal.distributed,
    # which `import shoal.ml` alone should not pay for.
    from shoal.ml.joblib import ShoalBackend

    return ShoalBackend(**kwargs)


try:
    import joblib as _joblib
except ImportError:  # pragma: no cover - joblib comes with scikit-learn, the ml extra
    pass
else:
    _joblib.register_parallel_backend("shoal", _shoal_backend)
