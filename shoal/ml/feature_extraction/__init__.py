"""Feature extraction from shoal collections; mirrors ``dask_ml.feature_extraction``.

:mod:`shoal.ml.feature_extraction.text` holds ``HashingVectorizer``, ``FeatureHasher`` and
``CountVectorizer``; they are re-exported here.
"""

from __future__ import annotations

from shoal.ml.feature_extraction import text
from shoal.ml.feature_extraction.text import CountVectorizer, FeatureHasher, HashingVectorizer

__all__ = ["CountVectorizer", "FeatureHasher", "HashingVectorizer", "text"]
