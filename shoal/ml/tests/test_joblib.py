"""The joblib backend "shoal": joblib's and scikit-learn's parallel loops run as tasks on a cluster."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.tree import DecisionTreeClassifier

import shoal.ml  # noqa: F401 - registers the backend
from shoal.distributed import Client
from shoal.ml.joblib import ShoalBackend


@pytest.fixture(scope="module")
def client():
    with Client(processes=False, n_workers=2, threads_per_worker=2, host="127.0.0.1",
                dashboard_address=None) as c:
        yield c


def _square(i: int) -> int:
    return i * i


def _fail_on_seven(i: int) -> int:
    if i == 7:
        raise KeyError(f"no luck with {i}")
    return i


def _batch_keys(client: Client, prefix: str) -> list[str]:
    return [t["key"] for t in client.get_task_stream() if str(t["key"]).startswith(prefix)]


def test_import_registers_backend():
    assert "shoal" in joblib.parallel.BACKENDS


def test_parallel_matches_serial_and_runs_on_workers(client):
    before = len(_batch_keys(client, "joblib-batch-_square-"))
    with joblib.parallel_backend("shoal"):
        got = Parallel(n_jobs=-1)(delayed(_square)(i) for i in range(50))
    assert got == [i * i for i in range(50)]
    stream = [t for t in client.get_task_stream() if str(t["key"]).startswith("joblib-batch-_square-")]
    assert len(stream) > before
    assert all(t["status"] == "OK" for t in stream)
    assert {t["worker"] for t in stream} <= set(client.nthreads())


def test_parallel_config_and_generator(client):
    with joblib.parallel_config(backend="shoal"):
        gen = Parallel(n_jobs=2, return_as="generator")(delayed(_square)(i) for i in range(10))
        assert list(gen) == [i * i for i in range(10)]
        unordered = Parallel(n_jobs=2, return_as="generator_unordered")(delayed(_square)(i) for i in range(10))
        assert sorted(unordered) == [i * i for i in range(10)]


def test_effective_n_jobs_counts_cluster_threads(client):
    threads = sum(client.nthreads().values())
    assert threads == 4
    with joblib.parallel_backend("shoal"):
        assert joblib.effective_n_jobs(-1) == threads
        assert joblib.effective_n_jobs(-2) == threads - 1
        assert joblib.effective_n_jobs(3) == 3
    with pytest.raises(ValueError, match="n_jobs == 0"):
        ShoalBackend(client=client).effective_n_jobs(0)


def test_exception_propagates_like_loky(client):
    try:
        with pytest.raises(KeyError) as loky_info:
            Parallel(n_jobs=2, backend="loky")(delayed(_fail_on_seven)(i) for i in range(10))
    finally:  # loky keeps its worker processes for reuse; stop them so the test leaves none behind
        get_reusable_executor().shutdown(wait=True, kill_workers=True)
    with joblib.parallel_backend("shoal"), pytest.raises(KeyError) as shoal_info:
        Parallel(n_jobs=-1)(delayed(_fail_on_seven)(i) for i in range(10))
    assert type(shoal_info.value) is type(loky_info.value)
    assert str(shoal_info.value) == str(loky_info.value) == "'no luck with 7'"
    # the backend stays usable after an abort
    with joblib.parallel_backend("shoal"):
        assert Parallel(n_jobs=-1)(delayed(_square)(i) for i in range(3)) == [0, 1, 4]


def test_explicit_client_not_default():
    with Client(processes=False, n_workers=1, threads_per_worker=2, set_as_default=False,
                dashboard_address=None) as other:
        with joblib.parallel_backend("shoal", client=other):
            assert joblib.effective_n_jobs(-1) == 2
            assert Parallel()(delayed(_square)(i) for i in range(5)) == [0, 1, 4, 9, 16]
        assert _batch_keys(other, "joblib-batch-_square-")


def test_no_client_is_a_clear_error(client, monkeypatch):
    monkeypatch.setattr(client, "_is_default", False)  # the module's client steps aside
    with joblib.parallel_backend("shoal"), pytest.raises(ValueError, match="no running shoal Client"):
        Parallel(n_jobs=-1)(delayed(_square)(i) for i in range(3))


def test_scatter_sends_large_arguments_once(client, monkeypatch):
    calls = []
    original = client.scatter

    def counting_scatter(data, *args, **kwargs):
        calls.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(client, "scatter", counting_scatter)
    big = np.arange(200_000, dtype=np.float64)  # 1.6 MB: over the automatic threshold
    small = np.arange(10.0)
    with joblib.parallel_backend("shoal", client=client, scatter=[small]):
        got = Parallel(n_jobs=-1)(delayed(_weighted)(big, small, i) for i in range(6))
    assert got == [float(big.sum() * i + small.sum()) for i in range(6)]
    assert calls == [1, 1]  # `small` up front, `big` once on first use, never once per batch


def _weighted(x: np.ndarray, y: np.ndarray, i: int) -> float:
    return float(x.sum() * i + y.sum())


def test_backend_pickles_without_client(client):
    backend = ShoalBackend(client=client, nesting_level=1)
    clone = pickle.loads(pickle.dumps(backend))
    assert clone.client is None and clone.nesting_level == 1


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=120, n_features=6, random_state=0)


def test_sklearn_grid_search_matches_serial(client, data):
    X, y = data
    grid = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    serial = GridSearchCV(LogisticRegression(), grid, cv=3, return_train_score=True).fit(X, y)
    before = len(_batch_keys(client, "joblib-batch-_fit_and_score-"))
    with joblib.parallel_backend("shoal"):
        parallel = GridSearchCV(LogisticRegression(), grid, cv=3, n_jobs=-1, return_train_score=True).fit(X, y)
    assert len(_batch_keys(client, "joblib-batch-_fit_and_score-")) > before
    for key, value in serial.cv_results_.items():
        if "time" in key:
            continue
        if key == "params":
            assert parallel.cv_results_[key] == value
        else:
            np.testing.assert_array_equal(np.asarray(parallel.cv_results_[key]), np.asarray(value), err_msg=key)
    assert parallel.best_params_ == serial.best_params_


def test_sklearn_cross_val_score_matches_serial(client, data):
    X, y = data
    est = DecisionTreeClassifier(random_state=0, max_depth=3)
    serial = cross_val_score(est, X, y, cv=4)
    before = len(client.get_task_stream())
    with joblib.parallel_backend("shoal"):
        parallel = cross_val_score(est, X, y, cv=4, n_jobs=-1)
    np.testing.assert_array_equal(parallel, serial)
    assert len(client.get_task_stream()) > before


def test_import_shoal_ml_is_light():
    code = ("import sys, shoal.ml; import joblib; "
            "assert 'shoal.distributed' not in sys.modules, 'import shoal.ml pulled in shoal.distributed'; "
            "assert 'shoal' in joblib.parallel.BACKENDS")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("name", ["shoal.ml.joblib", "shoal.ml.model_selection", "shoal.ml.preprocessing",
                                  "shoal.ml.model_selection_search", "shoal.ml.model_selection_split"])
def test_all_is_sorted_and_resolves(name):
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, attr
