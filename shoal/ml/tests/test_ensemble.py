"""Blockwise voting ensembles against scikit-learn estimators fitted on the same blocks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

import shoal.array as sa
from shoal.ml.ensemble import BlockwiseVotingClassifier, BlockwiseVotingRegressor
from shoal.ml.tests.strategies import row_chunks
from shoal.ml.tests.sync_helpers import on_sync


def _cuts(chunks):
    edges = np.cumsum((0, *chunks))
    return list(zip(edges[:-1], edges[1:], strict=True))


def _prefit_voter(cls, estimators, **kw):
    """A scikit-learn voting ensemble over already fitted estimators (its fit would refit them)."""
    voter = cls([(f"e{i}", e) for i, e in enumerate(estimators)], **kw)
    voter.estimators_ = estimators
    return voter


@given(data=st.data(), seed=st.integers(0, 50))
@settings(max_examples=10, deadline=None)
@on_sync
def test_regressor_matches_sklearn_voting(data, seed):
    X, y = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=seed)
    chunks = data.draw(row_chunks(60, max_cuts=4).filter(lambda c: min(c) >= 5))
    ours = BlockwiseVotingRegressor(LinearRegression()).fit(sa.from_array(X, chunks=(chunks, 3)),
                                                             sa.from_array(y, chunks=(chunks,)))
    theirs = [LinearRegression().fit(X[a:b], y[a:b]) for a, b in _cuts(chunks)]
    assert len(ours.estimators_) == len(theirs)
    for o, t in zip(ours.estimators_, theirs, strict=True):
        np.testing.assert_allclose(o.coef_, t.coef_, rtol=1e-10)
    voter = _prefit_voter(VotingRegressor, theirs)
    np.testing.assert_allclose(ours.predict(sa.from_array(X, chunks=17)).compute(), voter.predict(X), rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X), voter.predict(X), rtol=1e-10)


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_classifier_matches_sklearn_voting(sync_scheduler, voting):
    X, y = make_classification(n_samples=90, n_features=4, n_classes=3, n_informative=3, n_redundant=0,
                               random_state=0)
    chunks = (30, 25, 35)
    ours = BlockwiseVotingClassifier(LogisticRegression(), voting=voting).fit(
        sa.from_array(X, chunks=(chunks, 4)), sa.from_array(y, chunks=(chunks,)))
    theirs = [LogisticRegression().fit(X[a:b], y[a:b]) for a, b in _cuts(chunks)]
    np.testing.assert_array_equal(ours.classes_, [0, 1, 2])
    voter = _prefit_voter(VotingClassifier, theirs, voting=voting)
    voter.le_ = type("Le", (), {"inverse_transform": staticmethod(lambda v: np.asarray(v))})()
    voter.classes_ = np.array([0, 1, 2])
    np.testing.assert_array_equal(ours.predict(sa.from_array(X, chunks=20)).compute(), voter.predict(X))
    if voting == "soft":
        np.testing.assert_allclose(ours.predict_proba(sa.from_array(X, chunks=20)).compute(), voter.predict_proba(X))
    else:
        with pytest.raises(AttributeError, match="voting='hard'"):
            ours.predict_proba(X)
    assert 0.5 < ours.score(X, y) <= 1.0


def test_classifier_errors(sync_scheduler):
    X, y = np.zeros((4, 1)), np.array([0, 1, 0, 2])
    with pytest.raises(ValueError, match="voting"):
        BlockwiseVotingClassifier(LogisticRegression(), voting="maybe").fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[2\]"):
        BlockwiseVotingClassifier(LogisticRegression(), classes=[0, 1]).fit(sa.from_array(X, chunks=4),
                                                                           sa.from_array(y, chunks=4))
    with pytest.raises(AttributeError, match="not fitted"):
        BlockwiseVotingRegressor(LinearRegression()).predict(X)
