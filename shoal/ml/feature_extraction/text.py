"""Text and hashed features from shoal collections of documents; mirrors ``dask_ml.feature_extraction.text``.

Model
    The estimators are scikit-learn's (``HashingVectorizer``, ``FeatureHasher``,
    ``CountVectorizer``, subclassed, so parameters and eager behaviour are
    scikit-learn's own). On a shoal collection of documents -- a
    :class:`shoal.bag.Bag`, a 1-d object :class:`shoal.array.Array` or a
    :class:`shoal.dataframe.Series` -- ``transform`` is lazy: one task per
    partition runs scikit-learn on that partition's documents, and the result
    is a 2-d shoal array with **one block per partition**, each block a
    ``scipy.sparse.csr_matrix`` (``n_documents x n_features``). Block row
    counts are known for array input and unknown (``nan``) for bags and
    series, as in dask-ml; ``CountVectorizer.fit_transform`` learns them in its
    vocabulary pass, so its result has known row counts.

    ``CountVectorizer`` learns its vocabulary in **one pass**: every partition
    counts, per term, the documents that hold it and its occurrences; a tree of
    merges sums the counts, and scikit-learn's rules (``min_df``, ``max_df``,
    ``max_features``, terms sorted) are applied to the totals on the client.
    The vocabulary is therefore exactly scikit-learn's on the concatenated
    documents, for every setting of those parameters (dask-ml's union of
    per-partition vocabularies is exact only for the defaults). The learned
    vocabulary enters the transform graph once and is shared by its tasks.

Input that is not a shoal collection goes to scikit-learn unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher as _SkFeatureHasher
from sklearn.feature_extraction import text as _sktext

from shoal.array import Array
from shoal.bag import Bag
from shoal.base import is_dask_collection
from shoal.dataframe import Series
from shoal.delayed import Delayed
from shoal.graph.task import DataNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.highlevelgraph import HighLevelGraph
from shoal.ml._est_blocks import combine_tree

__all__ = ["CountVectorizer", "FeatureHasher", "HashingVectorizer"]

#: Partials merged by one combine task of the vocabulary pass.
_SPLIT_EVERY = 16


class _Partitions:
    """The partitions of a shoal collection of documents: one key each, the collections they need, their lengths."""

    def __init__(self, raw: Any, who: str) -> None:
        self.keys: list[Key]
        self.deps: tuple[Any, ...]
        #: Documents per partition; nan where unknown without computing.
        self.rows: tuple[float, ...]
        if isinstance(raw, Bag):
            self.keys, self.deps = list(raw.__dask_keys__()), (raw,)
            self.rows = (math.nan,) * len(self.keys)
        elif isinstance(raw, Array):
            if raw.ndim != 1:
                raise ValueError(f"{who}: a shoal array of documents must be 1-dimensional (one document per "
                                 f"element), got shape {raw.shape}. Pass x.ravel() or a single column x[:, 0].")
            self.keys, self.deps = [(raw.name, i) for i in range(raw.numblocks[0])], (raw,)
            self.rows = tuple(raw.chunks[0])
        elif isinstance(raw, Series):
            parts = raw.to_delayed()
            self.keys, self.deps = [p.key for p in parts], tuple(parts)
            self.rows = (math.nan,) * len(parts)
        else:
            raise TypeError(f"{who}: cannot read documents from a {type(raw).__name__}. Pass a shoal Bag of "
                            f"documents, a 1-d shoal array or a shoal Series (for a DataFrame, select the text "
                            f"column: df['text']).")

    @property
    def token(self) -> str:
        return tokenize(self.keys)


def _check_raw(raw: Any, who: str) -> None:
    if isinstance(raw, str):
        raise ValueError(f"{who}: expected a collection of documents, got a single string. Wrap it in a list, "
                         f"or pass a shoal Bag of documents.")


def _blocks(parts: _Partitions, name: str, func: Callable[..., Any], args: Sequence[Any], n_features: int,
            dtype: Any, rows: Sequence[float] | None = None, extra: dict[Key, Any] | None = None) -> Array:
    """A 2-d shoal array whose block ``i`` is ``func(partition_i, *args)`` (a CSR matrix)."""
    layer: dict[Key, Any] = dict(extra or {})
    for i, key in enumerate(parts.keys):
        out = (name, i, 0)
        layer[out] = Task(out, func, Ref(key), *args)
    chunks = (tuple(parts.rows if rows is None else rows), (n_features,))
    meta = sp.csr_matrix((0, n_features), dtype=dtype)
    return Array(HighLevelGraph.from_collections(name, layer, dependencies=parts.deps), name, chunks, dtype=dtype,
                 meta=meta)


def _documents(part: Any) -> list[Any]:
    # Bag partitions may be lazy iterators, series partitions pandas objects: a list serves every estimator.
    return list(part)


def _as_csr(x: Any, n_features: int, dtype: Any) -> sp.csr_matrix:
    return sp.csr_matrix(x, shape=(x.shape[0], n_features), dtype=dtype)


def _hash_partition(part: Any, cls: type, params: dict[str, Any]) -> sp.csr_matrix:
    docs = _documents(part)
    if not docs:  # scikit-learn's hasher cannot start on an empty sequence
        return sp.csr_matrix((0, params["n_features"]), dtype=params["dtype"])
    return _as_csr(cls(**params).transform(docs), params["n_features"], params["dtype"])


def _lazy_hash(est: Any, base: type, raw: Any, who: str) -> Array:
    """``base`` is the scikit-learn class: each task rebuilds it from the parameters."""
    parts = _Partitions(raw, who)
    params = est.get_params()
    name = f"{who.lower()}-{tokenize(parts.token, base, sorted(params.items(), key=lambda kv: kv[0]))}"
    return _blocks(parts, name, _hash_partition, (base, params), int(params["n_features"]), params["dtype"])


class HashingVectorizer(_sktext.HashingVectorizer):
    """Token occurrences hashed into columns; mirrors ``dask_ml.feature_extraction.text.HashingVectorizer``.

    scikit-learn's estimator (same parameters, see
    ``sklearn.feature_extraction.text.HashingVectorizer``); ``transform`` of a
    shoal Bag, 1-d array or Series is lazy, one CSR block per partition.

    Examples
    --------
    >>> import shoal.bag as db
    >>> docs = db.from_sequence(["the quick fox", "the lazy dog", "a fox"], npartitions=2)
    >>> x = HashingVectorizer(n_features=16).transform(docs)
    >>> x.numblocks, x.shape[1]
    ((2, 1), 16)
    """

    def fit(self, X: Any, y: Any = None) -> HashingVectorizer:
        """Validate the parameters (the hashing needs no fitting)."""
        _check_raw(X, "HashingVectorizer")
        super().fit([])
        return self

    def partial_fit(self, X: Any, y: Any = None) -> HashingVectorizer:
        """Validate the parameters, as :meth:`fit` (the hashing is stateless)."""
        return self.fit(X)

    def transform(self, X: Any) -> Any:
        """Hash the documents of ``X``: lazy for shoal collections, scikit-learn's result otherwise."""
        _check_raw(X, "HashingVectorizer")
        if not is_dask_collection(X):
            return super().transform(X)
        super().fit([])
        return _lazy_hash(self, _sktext.HashingVectorizer, X, "HashingVectorizer")

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``transform(X)`` (nothing is learned)."""
        return self.transform(X)


class FeatureHasher(_SkFeatureHasher):
    """Feature names (dicts, pairs or strings per sample) hashed into columns; mirrors ``dask_ml``'s ``FeatureHasher``.

    scikit-learn's ``sklearn.feature_extraction.FeatureHasher`` (same
    parameters); ``transform`` of a shoal Bag, 1-d array or Series of samples
    is lazy, one CSR block per partition.

    Examples
    --------
    >>> import shoal.bag as db
    >>> samples = db.from_sequence([{"dog": 1, "cat": 2}, {"dog": 2, "run": 5}], npartitions=2)
    >>> FeatureHasher(n_features=8).transform(samples).numblocks
    (2, 1)
    """

    def transform(self, raw_X: Any) -> Any:
        """Hash the samples of ``raw_X``: lazy for shoal collections, scikit-learn's result otherwise."""
        if not is_dask_collection(raw_X):
            return super().transform(raw_X)
        super().fit()
        return _lazy_hash(self, _SkFeatureHasher, raw_X, "FeatureHasher")

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``transform(X)`` (nothing is learned)."""
        return self.transform(X)


# -- CountVectorizer -------------------------------------------------------------------------------------------

_TermStats = tuple[tuple[int, ...], dict[str, tuple[int, int]]]


def _term_stats(part: Any, params: dict[str, Any]) -> _TermStats:
    """``((n_documents,), {term: (documents holding it, its count)})`` of one partition."""
    analyze = _sktext.CountVectorizer(**params).build_analyzer()
    binary = params["binary"]
    stats: dict[str, list[int]] = {}
    n_docs = 0
    for doc in _documents(part):
        n_docs += 1
        counts: dict[str, int] = {}
        for term in analyze(doc):
            counts[term] = counts.get(term, 0) + 1
        for term, count in counts.items():
            entry = stats.setdefault(term, [0, 0])
            entry[0] += 1
            # binary=True counts each document once, as scikit-learn's max_features ranking then does.
            entry[1] += 1 if binary else count
    return (n_docs,), {term: (df, tf) for term, (df, tf) in stats.items()}


def _merge_stats(parts: list[_TermStats]) -> _TermStats:
    counts: tuple[int, ...] = ()
    merged: dict[str, tuple[int, int]] = {}
    for part_counts, stats in parts:
        counts += part_counts
        for term, (df, tf) in stats.items():
            old = merged.get(term)
            merged[term] = (df, tf) if old is None else (old[0] + df, old[1] + tf)
    return counts, merged


def _len_partition(part: Any) -> tuple[int, ...]:
    return (len(_documents(part)),)


def _concat_counts(parts: list[tuple[int, ...]]) -> tuple[int, ...]:
    return sum(parts, ())


def _reduce(parts: _Partitions, chunk: Callable[..., Any], combine: Callable[[list[Any]], Any], args: Sequence[Any],
            name: str) -> Delayed:
    """``chunk`` on every partition, then ``combine`` in a tree (partition order kept)."""
    token = tokenize(parts.token, chunk, combine, args)
    layer: dict[Key, Any] = {}
    level: list[Key] = []
    for i, key in enumerate(parts.keys):
        out = (f"{name}-chunk-{token}", i)
        layer[out] = Task(out, chunk, Ref(key), *args)
        level.append(out)
    root = combine_tree(layer, level, combine, f"{name}-combine-{token}", _SPLIT_EVERY)
    return Delayed(root, None, deps=parts.deps, layer=layer)


def _learn_vocabulary(stats: dict[str, tuple[int, int]], n_docs: int, est: Any) -> dict[str, int]:
    """scikit-learn's vocabulary from corpus-wide document frequencies and counts (terms sorted, then pruned)."""
    terms = sorted(stats)
    if not terms:
        raise ValueError("CountVectorizer: empty vocabulary; perhaps the documents only contain stop words, or "
                         "the collection holds no documents.")
    high = est.max_df if isinstance(est.max_df, Integral) else est.max_df * n_docs
    low = est.min_df if isinstance(est.min_df, Integral) else est.min_df * n_docs
    if high < low:
        raise ValueError(f"CountVectorizer: max_df={est.max_df!r} corresponds to fewer documents than "
                         f"min_df={est.min_df!r} on {n_docs} documents; raise max_df or lower min_df.")
    dfs = np.array([stats[t][0] for t in terms], dtype=np.int64)
    mask = (dfs <= high) & (dfs >= low)
    limit = est.max_features
    if limit is not None and mask.sum() > limit:
        # Rank by total count in scikit-learn's dtype (the column sums of its count matrix), so that
        # the same argsort breaks ties the same way.
        counts = sp.csr_matrix(np.array([[stats[t][1] for t in terms]]), dtype=est.dtype)
        tfs = np.asarray(counts.sum(axis=0)).ravel()
        kept = np.zeros(len(terms), dtype=bool)
        kept[np.where(mask)[0][(-tfs[mask]).argsort()[:limit]]] = True
        mask = kept
    vocabulary = {term: i for i, term in enumerate(t for t, keep in zip(terms, mask, strict=True) if keep)}
    if not vocabulary:
        raise ValueError("CountVectorizer: after pruning, no terms remain. Try a lower min_df or a higher max_df.")
    return vocabulary


def _count_partition(part: Any, params: dict[str, Any], vocabulary: dict[str, int]) -> sp.csr_matrix:
    cv = _sktext.CountVectorizer(**{**params, "vocabulary": vocabulary})
    return _as_csr(cv.transform(_documents(part)), len(vocabulary), params["dtype"])


class CountVectorizer(_sktext.CountVectorizer):
    """Token counts over a vocabulary learned in one pass; mirrors ``dask_ml.feature_extraction.text.CountVectorizer``.

    scikit-learn's estimator (same parameters, see
    ``sklearn.feature_extraction.text.CountVectorizer``). On a shoal Bag, 1-d
    array or Series, ``fit`` learns ``vocabulary_`` in one pass (exactly
    scikit-learn's, ``min_df``/``max_df``/``max_features`` included) and
    ``transform`` is lazy, one CSR block per partition.

    Examples
    --------
    >>> import shoal.bag as db
    >>> docs = db.from_sequence(["the quick fox", "the lazy dog", "a fox"], npartitions=2)
    >>> cv = CountVectorizer()
    >>> x = cv.fit_transform(docs)
    >>> sorted(cv.vocabulary_), x.chunks[0]
    (['dog', 'fox', 'lazy', 'quick', 'the'], (2, 1))
    >>> x.compute().toarray().tolist()
    [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1], [0, 1, 0, 0, 0]]
    """

    def fit(self, raw_documents: Any, y: Any = None) -> CountVectorizer:
        """Learn the vocabulary (one pass over a shoal collection)."""
        if not is_dask_collection(raw_documents):
            return super().fit(raw_documents)  # type: ignore[no-any-return]
        self._fit_lazy(raw_documents)
        return self

    def _fit_lazy(self, raw: Any) -> tuple[_Partitions, tuple[int, ...] | None]:
        """Learn ``vocabulary_``; returns the partitions and, when the pass counted them, their lengths."""
        _check_raw(raw, "CountVectorizer")
        parts = _Partitions(raw, "CountVectorizer")
        if self.vocabulary is not None:
            super().fit([])  # validates the given vocabulary and sets vocabulary_ as scikit-learn does
            return parts, None
        self._validate_here()
        params = self.get_params()
        counts, stats = _reduce(parts, _term_stats, _merge_stats, (params,), "count-vocabulary").compute()
        self.vocabulary_ = _learn_vocabulary(stats, sum(counts), self)
        self.fixed_vocabulary_ = False
        return parts, counts

    def _validate_here(self) -> None:
        # scikit-learn checks its parameters when fitting; run the same checks before any task does.
        if hasattr(self, "_validate_params"):
            self._validate_params()
        self._validate_ngram_range()
        self._warn_for_unused_params()
        self.build_analyzer()

    def transform(self, raw_documents: Any) -> Any:
        """Count the vocabulary's terms in every document: lazy for shoal collections."""
        if not is_dask_collection(raw_documents):
            return super().transform(raw_documents)
        _check_raw(raw_documents, "CountVectorizer")
        return self._lazy_transform(_Partitions(raw_documents, "CountVectorizer"), None)

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        """``fit`` then ``transform``; for shoal input the result's row counts are known (learned in the pass)."""
        if not is_dask_collection(raw_documents):
            return super().fit_transform(raw_documents)
        parts, counts = self._fit_lazy(raw_documents)
        if counts is None and any(math.isnan(r) for r in parts.rows):
            counts = _reduce(parts, _len_partition, _concat_counts, (), "count-documents").compute()
        return self._lazy_transform(parts, counts)

    def _lazy_transform(self, parts: _Partitions, rows: Sequence[int] | None) -> Array:
        if not hasattr(self, "vocabulary_"):
            if self.vocabulary is None:
                raise ValueError("CountVectorizer: this instance has no vocabulary yet. Call fit(documents) before "
                                 "transform, or pass vocabulary=.")
            super().fit([])
        params = self.get_params()
        vocabulary = dict(self.vocabulary_)
        token = tokenize(parts.token, sorted(params.items(), key=lambda kv: kv[0]), sorted(vocabulary.items()))
        name = f"countvectorizer-{token}"
        vocab_key = f"countvectorizer-vocabulary-{token}"
        return _blocks(parts, name, _count_partition, (params, Ref(vocab_key)), len(vocabulary), params["dtype"],
                       rows=rows,
                       extra={vocab_key: DataNode(vocab_key, vocabulary)})

