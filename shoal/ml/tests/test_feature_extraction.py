"""shoal.ml.feature_extraction.text against scikit-learn on the same documents."""

from __future__ import annotations

import math
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.feature_extraction import FeatureHasher as SkFeatureHasher
from sklearn.feature_extraction import text as sktext

import shoal.array as sa
import shoal.bag as db
import shoal.dataframe as sd
from shoal.ml.feature_extraction import CountVectorizer, FeatureHasher, HashingVectorizer
from shoal.ml.tests.sync_helpers import on_sync

WORDS = ["the", "fox", "Dog", "lazy", "quick", "a", "is", "über", "naïve", "x1", "dog", "FOX"]
KINDS = ("bag", "array", "series")

documents = st.lists(st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join), min_size=1, max_size=25)


def _collection(docs: list[Any], kind: str, npartitions: int) -> Any:
    npartitions = max(1, min(npartitions, len(docs)))
    if kind == "bag":
        return db.from_sequence(docs, npartitions=npartitions)
    if kind == "array":
        values = np.empty(len(docs), dtype=object)
        values[:] = docs
        return sa.from_array(values, chunks=-(-len(docs) // npartitions))
    return sd.from_pandas(pd.Series(docs), npartitions=npartitions)


def _dense(x: sa.Array) -> np.ndarray:
    """``x.compute()`` (a sparse matrix, the blocks stacked) as a dense array."""
    result = x.compute()
    assert sp.issparse(result) and result.shape[1] == x.shape[1]
    return result.toarray()


def _check_blocks(x: sa.Array) -> None:
    """Every block is a CSR matrix with the advertised column count and, where known, row count."""
    for i, block in enumerate(x.to_delayed().ravel()):
        value = block.compute()
        assert type(value) is sp.csr_matrix, (i, type(value))
        assert value.shape[1] == x.shape[1]
        if not math.isnan(x.chunks[0][i]):
            assert value.shape[0] == x.chunks[0][i]


def _expected_rows(kind: str, x: sa.Array) -> None:
    known = not any(math.isnan(c) for c in x.chunks[0])
    assert known == (kind == "array")


@given(docs=documents, kind=st.sampled_from(KINDS), npartitions=st.integers(1, 5),
       n_features=st.sampled_from([4, 16, 2**10]), alternate_sign=st.booleans(),
       norm=st.sampled_from(["l2", "l1", None]), binary=st.booleans(),
       ngram_range=st.sampled_from([(1, 1), (1, 2)]), analyzer=st.sampled_from(["word", "char_wb"]))
@settings(max_examples=40, deadline=None)
@on_sync
def test_hashing_vectorizer_matches_sklearn(docs: list[str], kind: str, npartitions: int, n_features: int,
                                            alternate_sign: bool, norm: str | None, binary: bool,
                                            ngram_range: tuple[int, int], analyzer: str) -> None:
    params = dict(n_features=n_features, alternate_sign=alternate_sign, norm=norm, binary=binary,
                  ngram_range=ngram_range, analyzer=analyzer)
    raw = _collection(docs, kind, npartitions)
    x = HashingVectorizer(**params).fit_transform(raw)
    assert isinstance(x, sa.Array) and x.shape[1] == n_features and x.numblocks[1] == 1
    _expected_rows(kind, x)
    _check_blocks(x)
    np.testing.assert_allclose(_dense(x), sktext.HashingVectorizer(**params).transform(docs).toarray())


@given(docs=documents, kind=st.sampled_from(KINDS), npartitions=st.integers(1, 5),
       min_df=st.sampled_from([1, 2, 0.2]), max_df=st.sampled_from([1.0, 0.6, 3]),
       max_features=st.sampled_from([None, 1, 3, 6]), binary=st.booleans(), lowercase=st.booleans(),
       ngram_range=st.sampled_from([(1, 1), (1, 2), (2, 2)]), analyzer=st.sampled_from(["word", "char"]),
       stop_words=st.sampled_from([None, ["the", "a"]]))
@settings(max_examples=60, deadline=None)
@on_sync
def test_count_vectorizer_matches_sklearn(docs: list[str], kind: str, npartitions: int, min_df: Any, max_df: Any,
                                          max_features: int | None, binary: bool, lowercase: bool,
                                          ngram_range: tuple[int, int], analyzer: str, stop_words: Any) -> None:
    params = dict(min_df=min_df, max_df=max_df, max_features=max_features, binary=binary, lowercase=lowercase,
                  ngram_range=ngram_range, analyzer=analyzer, stop_words=stop_words if analyzer == "word" else None)
    ref = sktext.CountVectorizer(**params)
    try:
        expected = ref.fit_transform(docs).toarray()
    except ValueError:  # empty vocabulary, or every term pruned, or max_df below min_df (messages tested below)
        with pytest.raises(ValueError):
            CountVectorizer(**params).fit(_collection(docs, kind, npartitions))
        return
    raw = _collection(docs, kind, npartitions)
    ours = CountVectorizer(**params)
    x = ours.fit_transform(raw)
    assert ours.vocabulary_ == ref.vocabulary_
    assert ours.fixed_vocabulary_ is False
    assert x.shape == expected.shape  # fit_transform learns the row counts in its vocabulary pass
    _check_blocks(x)
    np.testing.assert_array_equal(_dense(x), expected)
    again = ours.transform(raw)
    _expected_rows(kind, again)
    np.testing.assert_array_equal(_dense(again), expected)
    np.testing.assert_array_equal(ours.transform(docs).toarray(), expected)  # eager input: scikit-learn's path


@pytest.mark.parametrize("kind", KINDS)
def test_count_vectorizer_with_a_given_vocabulary(sync_scheduler: None, kind: str) -> None:
    docs = ["the quick fox", "", "lazy dog dog", "fox and dog", "nothing known"]
    vocabulary = ["dog", "fox", "cat"]
    raw = _collection(docs, kind, 2)
    ours = CountVectorizer(vocabulary=vocabulary)
    ref = sktext.CountVectorizer(vocabulary=vocabulary)
    expected = ref.fit_transform(docs).toarray()
    x = ours.fit_transform(raw)
    assert x.chunks[0] == (3, 2) and ours.vocabulary_ == ref.vocabulary_ and ours.fixed_vocabulary_
    np.testing.assert_array_equal(_dense(x), expected)
    np.testing.assert_array_equal(_dense(CountVectorizer(vocabulary=vocabulary).transform(raw)), expected)


@pytest.mark.parametrize("input_type", ["dict", "pair", "string"])
@pytest.mark.parametrize("kind", ["bag", "array"])
def test_feature_hasher_matches_sklearn(sync_scheduler: None, input_type: str, kind: str) -> None:
    rng = np.random.default_rng(0)
    names = ["dog", "cat", "run", "x", "yy"]
    samples: list[Any] = []
    for _ in range(17):
        chosen = rng.choice(names, size=rng.integers(0, 4), replace=False)
        if input_type == "dict":
            samples.append({str(n): float(rng.integers(1, 5)) for n in chosen})
        elif input_type == "pair":
            samples.append([(str(n), float(rng.integers(1, 5))) for n in chosen])
        else:
            samples.append([str(n) for n in chosen])
    params = dict(n_features=8, input_type=input_type)
    raw = db.from_sequence(samples, npartitions=4) if kind == "bag" else _collection(samples, "array", 4)
    x = FeatureHasher(**params).transform(raw)
    _expected_rows(kind, x)
    _check_blocks(x)
    np.testing.assert_allclose(_dense(x), SkFeatureHasher(**params).transform(samples).toarray())


def test_empty_partitions_give_empty_blocks(sync_scheduler: None) -> None:
    bag = db.from_sequence(["a fox", "the dog"], npartitions=2).filter(lambda d: "fox" in d)
    x = HashingVectorizer(n_features=8).transform(bag)
    _check_blocks(x)
    dense = _dense(x)
    np.testing.assert_allclose(dense, sktext.HashingVectorizer(n_features=8).transform(["a fox"]).toarray())
    cv = CountVectorizer()
    counted = cv.fit_transform(bag)
    assert counted.chunks[0] == (1, 0) and cv.vocabulary_ == {"fox": 0}
    assert _dense(counted).tolist() == [[1]]


def test_eager_input_is_sklearn_and_estimators_clone() -> None:
    docs = ["one fish two fish", "red fish blue fish"]
    for ours, ref in [(HashingVectorizer(n_features=8), sktext.HashingVectorizer(n_features=8)),
                      (CountVectorizer(), sktext.CountVectorizer())]:
        np.testing.assert_allclose(ours.fit_transform(docs).toarray(), ref.fit_transform(docs).toarray())
        assert clone(ours).get_params() == ref.get_params()


def test_bad_input_is_refused_with_the_fix(sync_scheduler: None) -> None:
    with pytest.raises(ValueError, match="single string"):
        HashingVectorizer().transform("just one document")
    with pytest.raises(ValueError, match="1-dimensional"):
        HashingVectorizer().transform(sa.ones((4, 2), chunks=2))
    frame = sd.from_pandas(pd.DataFrame({"text": ["a b", "c d"]}), npartitions=1)
    with pytest.raises(TypeError, match=r"df\['text'\]"):
        CountVectorizer().fit(frame)
    with pytest.raises(ValueError, match="Call fit"):
        CountVectorizer().transform(db.from_sequence(["a b"]))
    with pytest.raises(ValueError, match="empty vocabulary"):
        CountVectorizer(stop_words=["ab"]).fit(db.from_sequence(["ab ab", "ab"], npartitions=2))
    with pytest.raises(ValueError, match="fewer documents than min_df"):
        CountVectorizer(min_df=3, max_df=2).fit(db.from_sequence(["ab cd", "ab"], npartitions=2))
    with pytest.raises(ValueError, match="ngram_range"):
        CountVectorizer(ngram_range=(2, 1)).fit(db.from_sequence(["ab cd"]))


def test_blocks_pickle_for_the_processes_scheduler() -> None:
    docs = ["alpha beta", "beta gamma gamma", "delta"]
    cv = CountVectorizer()
    x = cv.fit_transform(db.from_sequence(docs, npartitions=3))
    result = x.compute(scheduler="processes")
    np.testing.assert_array_equal(result.toarray(), sktext.CountVectorizer().fit_transform(docs).toarray())
