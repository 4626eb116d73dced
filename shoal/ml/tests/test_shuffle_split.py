"""shoal.ml.model_selection.ShuffleSplit against sklearn.model_selection.ShuffleSplit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import sklearn.model_selection as skms
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils import check_random_state

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.model_selection import ShuffleSplit
from shoal.ml.tests.strategies import row_chunks
from shoal.ml.tests.sync_helpers import on_sync


@given(n=st.integers(3, 50), seed=st.integers(0, 1000), test_size=st.sampled_from([0.1, 0.3, 0.5, 1, 2]))
@settings(max_examples=20, deadline=None)
@on_sync
def test_not_blockwise_is_sklearn(n, seed, test_size):
    X = sa.from_array(np.zeros((n, 2)), chunks=7)
    ours = list(ShuffleSplit(n_splits=3, test_size=test_size, blockwise=False, random_state=seed).split(X))
    theirs = list(skms.ShuffleSplit(n_splits=3, test_size=test_size, random_state=seed).split(np.zeros((n, 2))))
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.compute(), c)
        np.testing.assert_array_equal(b.compute(), d)


@given(data=st.data(), n=st.integers(1, 60), seed=st.integers(0, 1000), test_size=st.sampled_from([0.1, 0.25, 0.5]))
@settings(max_examples=25, deadline=None)
@on_sync
def test_blockwise_splits_each_block_as_sklearn(data, n, seed, test_size):
    chunks = data.draw(row_chunks(n))
    X = sa.from_array(np.arange(n), chunks=(chunks,))
    splits = list(ShuffleSplit(n_splits=2, test_size=test_size, random_state=seed).split(X))
    rng = check_random_state(seed)
    starts = np.cumsum((0, *chunks[:-1]))
    for train, test in splits:
        seeds = rng.randint(0, 2**31 - 1, size=len(chunks))
        expected_train, expected_test = [], []
        for size, start, s in zip(chunks, starts, seeds, strict=True):
            # each block alone is one split of scikit-learn's ShuffleSplit with that block's seed (which
            # refuses one-row blocks: there the one row is the test set)
            n_test = math.ceil(test_size * size)
            if n_test < size:
                sk = skms.ShuffleSplit(n_splits=1, test_size=n_test, random_state=int(s))
                tr, te = next(sk.split(np.zeros(size)))
            else:
                tr, te = np.arange(0), np.random.RandomState(int(s)).permutation(size)
            expected_train.append(tr + start)
            expected_test.append(te + start)
        np.testing.assert_array_equal(train.compute(), np.concatenate(expected_train))
        np.testing.assert_array_equal(test.compute(), np.concatenate(expected_test))
        assert train.chunks[0] == tuple(len(t) for t in expected_train)
        assert not set(train.compute()) & set(test.compute())
        np.testing.assert_array_equal(np.sort(X[train].compute()), np.sort(np.concatenate(expected_train)))


def test_dataframe_and_errors(sync_scheduler):
    ddf = sd.from_pandas(pd.DataFrame({"a": np.arange(20)}), npartitions=4)
    splits = list(ShuffleSplit(n_splits=2, test_size=0.2, random_state=0).split(ddf))
    assert len(splits) == 2 and all(len(te.compute()) == 4 for _, te in splits)
    assert ShuffleSplit(n_splits=4).get_n_splits() == 4
    with pytest.raises(TypeError, match="fractions"):
        next(ShuffleSplit(test_size=3).split(sa.from_array(np.zeros(10), chunks=5)))
    with pytest.raises(ValueError, match="n_splits"):
        next(ShuffleSplit(n_splits=0).split(np.zeros(3)))
