"""QA gaps against Dask in the accessors and resampling: ``.cat.known/as_known/as_unknown``, ``.str[...]``,
``.str.cat(lazy)``, ``resample(...).ohlc()``, and the ``dataframe.convert-string`` setting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shoal
import shoal.dataframe as sd
from shoal.dataframe._accessor_cat import UNKNOWN_CATEGORIES
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def names():
    rng = np.random.default_rng(1)
    return pd.Series(rng.choice(["alice", "bob", "carol", "dan", None], 60), name="name")


def test_known_and_unknown_categories(names):
    known = sd.from_pandas(names.astype("category"), npartitions=3)  # categories from the whole column
    assert known.cat.known
    unknown = known.cat.as_unknown()
    assert not unknown.cat.known
    assert list(unknown._meta.cat.categories) == [UNKNOWN_CATEGORIES]  # Dask's marker
    pd.testing.assert_series_equal(unknown.compute(), names.astype("category"))  # the partitions are unchanged
    with pytest.raises(NotImplementedError, match="as_known"):
        unknown.cat.categories  # noqa: B018
    with pytest.raises(NotImplementedError, match="as_known"):
        unknown.cat.codes  # noqa: B018
    back = unknown.cat.as_known()
    assert back.cat.known and known.cat.as_known() is known
    assert list(back.cat.categories) == ["alice", "bob", "carol", "dan"]
    assert_eq(back, names.astype("category"))
    assert_eq(back.cat.codes, names.astype("category").cat.codes)


def test_as_known_after_astype_category(names):
    s = sd.from_pandas(names, npartitions=4).astype("category")
    known = s.cat.as_known()
    assert known.cat.known
    assert_eq(known, names.astype("category"))
    numbers = pd.Series([3, 1, 2, 1, 3, 7], name="n")
    as_cat = sd.from_pandas(numbers, npartitions=3).astype("category").cat.as_known()
    assert_eq(as_cat, numbers.astype("category"))


@pytest.mark.parametrize("key", [0, -1, slice(None, 2), slice(None, None, -1), slice(1, None, 2)])
def test_str_getitem(names, key):
    s = sd.from_pandas(names, npartitions=4)
    assert_eq(s.str[key], names.str[key])


def test_str_getitem_only_on_str(names):
    s = sd.from_pandas(names.astype("category"), npartitions=2)
    with pytest.raises(TypeError, match="not subscriptable"):
        s.cat[0]


def test_str_cat_with_lazy_series(names):
    other = names.str.upper().fillna("?")
    a = sd.from_pandas(names, npartitions=4)
    assert_eq(a.str.cat(sd.from_pandas(other, npartitions=4), sep="-"), names.str.cat(other, sep="-"))
    # Different partitions: aligned by divisions first, as ``+`` is.
    b = sd.from_pandas(other, npartitions=3)
    assert_eq(a.str.cat(b, sep="-", na_rep="NA"), names.str.cat(other, sep="-", na_rep="NA"), check_divisions=False)
    assert_eq(a.str.cat([b, other], "|"), names.str.cat([other, other], "|"), check_divisions=False)
    shifted = other.iloc[10:]  # pandas aligns on the index: missing labels become missing values
    assert_eq(a.str.cat(sd.from_pandas(shifted, npartitions=2), sep="-"), names.str.cat(shifted, sep="-"),
              check_divisions=False)


@pytest.mark.parametrize("rule", ["3D", "1D", "W", "13h"])
@pytest.mark.parametrize("npartitions", [1, 5, 9])
def test_resample_ohlc(rule, npartitions):
    rng = np.random.default_rng(2)
    pdf = pd.DataFrame({"y": rng.integers(-50, 50, 240), "x": rng.normal(size=240)},
                       index=pd.date_range("2024-01-01", periods=240, freq="7h"))
    df = sd.from_pandas(pdf, npartitions=npartitions)
    assert_eq(df.y.resample(rule).ohlc(), pdf.y.resample(rule).ohlc())
    assert_eq(df.resample(rule).ohlc(), pdf.resample(rule).ohlc())


def test_resample_ohlc_with_empty_bins():
    pdf = pd.DataFrame({"y": np.arange(100)}, index=pd.date_range("2024-01-01", periods=100, freq="7h"))
    pdf = pdf.drop(pdf.index[30:60])
    df = sd.from_pandas(pdf, npartitions=6)
    # Empty bins make pandas' result float64, which the meta (from the data-free plan) can't know.
    assert_eq(df.y.resample("5h").ohlc(), pdf.y.resample("5h").ohlc(), check_meta=False)
    assert_eq(df.resample("1D").ohlc(), pdf.resample("1D").ohlc(), check_meta=False)


def test_convert_string_setting(tmp_path):
    pdf = pd.DataFrame({"o": np.array(["a", None, "c"], dtype=object), "s": ["x", "y", "z"], "n": [1, 2, 3],
                        "mixed": np.array([1, "a", 2.5], dtype=object)},
                       index=pd.Index(["p", "q", "r"], dtype=object))
    arrow = pd.StringDtype("pyarrow")
    with shoal.config.set({"dataframe.convert-string": True}):
        df = sd.from_pandas(pdf, npartitions=2)
        expected = pdf.astype({"o": arrow, "s": arrow})
        expected.index = expected.index.astype(arrow)
        assert_eq(df, expected)
        pdf.to_csv(tmp_path / "a.csv", index=False)
        csv = pd.read_csv(tmp_path / "a.csv").astype({"o": arrow, "s": arrow, "mixed": arrow})
        assert_eq(sd.read_csv(str(tmp_path / "a.csv")), csv, check_index=False)
        pdf[["o", "s", "n"]].to_parquet(tmp_path / "a.parquet")
        read = sd.read_parquet(str(tmp_path / "a.parquet"))
        assert_eq(read, expected[["o", "s", "n"]], check_divisions=False)
    plain = pdf.reset_index(drop=True)
    with shoal.config.set({"dataframe.convert-string": False}):
        assert_eq(sd.from_pandas(plain, npartitions=2), plain)
    # The default keeps pandas' own dtypes.
    assert_eq(sd.from_pandas(plain, npartitions=2), plain)
    assert sd.read_parquet(str(tmp_path / "a.parquet")).s.dtype == pd.read_parquet(tmp_path / "a.parquet").s.dtype
