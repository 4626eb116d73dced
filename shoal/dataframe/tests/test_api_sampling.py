"""sample and random_split: reproducible with random_state, every row accounted for, Dask's errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as dd
from shoal.dataframe.tests.strategies import frames


def frame(n: int = 100) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n), "y": np.arange(n) * 0.5, "s": pd.Series([f"r{i}" for i in range(n)],
                                                                                     dtype="str")})


def test_sample_is_a_reproducible_subset_of_each_partition():
    pdf = frame()
    ddf = dd.from_pandas(pdf, npartitions=4)
    a = ddf.sample(frac=0.3, random_state=42)
    b = ddf.sample(frac=0.3, random_state=42)
    assert a._name == b._name
    got = a.compute()
    pd.testing.assert_frame_equal(got, b.compute())
    assert len(got) == 4 * 8  # 30 % of each 25-row partition, rounded as pandas rounds
    assert got.index.is_unique and set(got.index) <= set(pdf.index)
    pd.testing.assert_frame_equal(got, pdf.loc[got.index])
    # Rows stay in their partition: each partition's sample comes from its own rows.
    for i in range(4):
        part = a.partitions[i].compute()
        lo, hi = ddf.divisions[i], ddf.divisions[i + 1]
        assert ((part.index >= lo) & (part.index <= hi)).all()
        pd.testing.assert_frame_equal(part, got[(got.index >= lo) & (got.index <= hi)])
    assert a.divisions == ddf.divisions
    assert not got.equals(ddf.sample(frac=0.3, random_state=43).compute())


def test_sample_random_state_kinds_and_series():
    pdf = frame()
    ddf = dd.from_pandas(pdf, npartitions=3)
    state = np.random.RandomState(5)
    first = ddf.x.sample(frac=0.5, random_state=state).compute()
    assert set(first) <= set(pdf.x)
    same = ddf.x.sample(frac=0.5, random_state=np.random.RandomState(5)).compute()
    pd.testing.assert_series_equal(first, same)
    gen = ddf.sample(frac=0.2, random_state=np.random.default_rng(0)).compute()
    assert len(gen) > 0
    unseeded = ddf.sample(frac=0.5).compute()  # random_state=None: fresh seeds, any half is valid
    assert set(unseeded.index) <= set(pdf.index) and len(unseeded) == sum(
        round(n * 0.5) for n in ddf.map_partitions(len).compute())
    # Column projection through the sample keeps the same rows.
    pd.testing.assert_series_equal(ddf.sample(frac=0.4, random_state=1).y.compute(),
                                   ddf.sample(frac=0.4, random_state=1).compute().y)


def test_sample_with_replacement_can_upsample():
    pdf = frame(40)
    ddf = dd.from_pandas(pdf, npartitions=2)
    got = ddf.sample(frac=2.0, replace=True, random_state=0).compute()
    assert len(got) == 80
    assert set(got.x) <= set(pdf.x)


def test_sample_bad_input():
    ddf = dd.from_pandas(frame(10), npartitions=2)
    with pytest.raises(ValueError, match="'frac' parameter instead"):
        ddf.sample(n=5)
    with pytest.warns(UserWarning, match="'frac' parameter instead"):
        out = ddf.sample(0.5, random_state=1)
    assert len(out.compute()) == 4  # half of each 5-row partition, rounded half to even as in pandas
    with pytest.raises(ValueError, match="frac must not be None"):
        ddf.sample()
    with pytest.raises(ValueError, match="replace=True"):
        ddf.sample(frac=1.5)
    with pytest.raises(ValueError, match="non-negative"):
        ddf.sample(frac=-0.1)
    with pytest.raises(TypeError, match="random_state"):
        ddf.sample(frac=0.1, random_state="seed")


@settings(max_examples=20, deadline=None)
@given(frames(), st.lists(st.integers(1, 5), min_size=1, max_size=4), st.integers(0, 2**32 - 1), st.booleans())
def test_random_split_gives_every_row_to_one_piece(case, weights, seed, shuffle):
    pdf, nparts = case
    pdf = pdf.reset_index(drop=True)
    frac = [w / sum(weights) for w in weights]
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    pieces = ddf.random_split(frac, random_state=seed, shuffle=shuffle)
    assert len(pieces) == len(frac)
    computed = [p.compute() for p in pieces]
    rows = sorted(i for part in computed for i in part.index)
    assert rows == list(pdf.index)
    joined = pd.concat(computed).sort_index() if len(pdf) else pdf
    pd.testing.assert_frame_equal(joined, pdf, check_index_type=False)
    again = ddf.random_split(frac, random_state=seed, shuffle=shuffle)
    for a, b in zip(computed, again, strict=True):
        pd.testing.assert_frame_equal(a, b.compute())
    if shuffle:
        assert not pieces[0].known_divisions
    else:
        assert pieces[0].divisions == ddf.divisions


def test_random_split_fractions_are_respected_roughly():
    ddf = dd.from_pandas(frame(4000), npartitions=4)
    a, b = ddf.random_split([0.8, 0.2], random_state=3)
    na = len(a.compute())
    assert 3000 < na < 3400
    assert na + len(b.compute()) == 4000


def test_random_split_bad_input():
    ddf = dd.from_pandas(frame(10), npartitions=2)
    with pytest.raises(ValueError, match="sum to 1"):
        ddf.random_split([0.5, 0.6])
    with pytest.raises(ValueError, match="non-negative"):
        ddf.random_split([1.5, -0.5])
    with pytest.raises(TypeError, match="list of fractions"):
        ddf.random_split(0.5)
