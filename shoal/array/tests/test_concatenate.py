"""Blocks of other chunk types (scipy.sparse, masked, user-registered) join by their own rules."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.dispatch import concatenate_lookup
from shoal.array.tests.strategies import chunks_for


@given(shape=st.tuples(st.integers(1, 9), st.integers(1, 7)), data=st.data(), fmt=st.sampled_from(["csr", "csc"]))
@settings(max_examples=30, deadline=None)
def test_sparse_blocks_compute_and_rechunk_to_the_same_matrix(shape, data, fmt):
    m = sp.random(*shape, density=0.4, format=fmt, random_state=data.draw(st.integers(0, 1000)))
    x = sa.from_array(m, chunks=data.draw(chunks_for(shape)), asarray=False)
    got = x.compute()
    assert sp.issparse(got) and got.format == fmt
    np.testing.assert_array_equal(got.toarray(), m.toarray())
    again = x.rechunk(data.draw(chunks_for(shape))).compute()
    np.testing.assert_array_equal(again.toarray(), m.toarray())


class Tagged(np.ndarray):
    """A NumPy subclass whose joins must keep the subclass, through a registered handler."""


def test_a_registered_chunk_type_joins_with_its_own_handler():
    seen = []

    @concatenate_lookup.register(Tagged)
    def _(parts, axis=0):
        seen.append(len(parts))
        return np.concatenate([np.asarray(p) for p in parts], axis=axis).view(Tagged)

    base = np.arange(12.0).reshape(3, 4)
    x = sa.from_array(base.view(Tagged), chunks=(2, 3), asarray=False)
    got = x.compute()
    assert type(got) is Tagged and seen
    np.testing.assert_array_equal(np.asarray(got), base)
