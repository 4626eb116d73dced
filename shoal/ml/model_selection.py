"""Model selection on shoal: data splitting and hyper-parameter searches run as shoal task graphs.

- :func:`train_test_split` splits shoal arrays and dataframes block by block (lazily), and defers to
  scikit-learn for NumPy/pandas inputs (:mod:`shoal.ml.model_selection_split`).
- :class:`GridSearchCV` and :class:`RandomizedSearchCV` build one graph of fit-and-score tasks over
  candidates x CV splits and run it on the current scheduler (:mod:`shoal.ml.model_selection_search`).
- :class:`ShuffleSplit` yields random train/test row positions, block by block (or as scikit-learn's
  with ``blockwise=False``) (:mod:`shoal.ml.model_selection_split`).
- :class:`KFold` is scikit-learn's own splitter: it only needs the number of rows, which shoal
  arrays and dataframes provide, and yields NumPy index arrays.

Mirrors ``dask_ml.model_selection``; see https://ml.dask.org/modules/api.html#model-selection.
"""

from __future__ import annotations

from sklearn.model_selection import KFold

from shoal.ml.model_selection_hyperband import HyperbandSearchCV
from shoal.ml.model_selection_incremental import (IncrementalSearchCV, InverseDecaySearchCV,
                                                  SuccessiveHalvingSearchCV)
from shoal.ml.model_selection_search import GridSearchCV, RandomizedSearchCV
from shoal.ml.model_selection_split import ShuffleSplit, train_test_split

__all__ = ["GridSearchCV", "HyperbandSearchCV", "IncrementalSearchCV", "InverseDecaySearchCV", "KFold",
           "RandomizedSearchCV", "ShuffleSplit", "SuccessiveHalvingSearchCV", "train_test_split"]
