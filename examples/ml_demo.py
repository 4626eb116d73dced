"""shoal.ml in one page: scikit-learn on a shoal cluster through joblib, and shoal.ml's own tools.

Run with ``python examples/ml_demo.py``.
"""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV
from sklearn.svm import SVC

import shoal.array as sa
import shoal.dataframe as sd
import shoal.ml  # noqa: F401 - registers joblib's "shoal" backend
from shoal.distributed import Client
from shoal.ml.model_selection import GridSearchCV, train_test_split
from shoal.ml.preprocessing import Categorizer, DummyEncoder, StandardScaler


def main() -> None:
    X, y = make_classification(n_samples=400, n_features=8, random_state=0)
    with Client(processes=False, n_workers=2, threads_per_worker=2, dashboard_address=None) as client:
        # Compute bound: scikit-learn's own n_jobs loops run as tasks on the cluster.
        with joblib.parallel_backend("shoal"):
            search = SklearnGridSearchCV(SVC(), {"C": [0.1, 1, 10], "gamma": [0.01, 0.1]}, cv=3, n_jobs=-1)
            search.fit(X, y)
        batches = sum(str(t["key"]).startswith("joblib-batch-") for t in client.get_task_stream())
        print(f"sklearn GridSearchCV via joblib: best {search.best_params_}, {batches} batches ran on the cluster")

        # shoal.ml's search: one task graph of fit-and-score tasks, run on the client.
        dX, dy = sa.from_array(X, chunks=(100, 8)), sa.from_array(y, chunks=100)
        X_train, X_test, y_train, y_test = train_test_split(dX, dy, test_size=0.25, random_state=0)
        scaler = StandardScaler().fit(X_train)
        ours = GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0]}, cv=3)
        ours.fit(scaler.transform(X_train), y_train)
        print(f"shoal GridSearchCV: best {ours.best_params_}, test accuracy "
              f"{ours.score(scaler.transform(X_test), y_test):.3f}")

    frame = sd.from_pandas(pd.DataFrame({"city": ["Oslo", "Lima", "Oslo", "Pune"], "t": np.arange(4.0)}),
                           npartitions=2)
    encoded = DummyEncoder().fit_transform(Categorizer().fit_transform(frame))
    print(encoded.compute())


if __name__ == "__main__":
    main()
