"""Tests for shoal.graph.tokenize and shoal.graph.dispatch."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import functools
import math
import os
import pathlib
import pickle
import subprocess
import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoal._exceptions import ShoalError
from shoal.graph.dispatch import Dispatch
from shoal.graph.tokenize import TokenizationError, normalize_token, tokenize

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
hnp = pytest.importorskip("hypothesis.extra.numpy")


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter and return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- primitives and containers -------------------------------------------------


def test_token_is_32_hex_characters() -> None:
    token = tokenize(1, "a", x=[1.5])
    assert len(token) == 32
    int(token, 16)


def test_args_and_kwargs() -> None:
    assert tokenize(1, 2) == tokenize(1, 2)
    assert tokenize(1, 2) != tokenize(2, 1)
    assert tokenize(a=1, b=2) == tokenize(b=2, a=1)
    assert tokenize(1, a=2) != tokenize(1, 2)
    assert tokenize(1) == tokenize(1, **{})


PRIMITIVES = [
    1, 1.0, "1", b"1", True, 1 + 0j, None, 0, 0.0, -0.0, False, "", b"",
    math.inf, float("nan"), ..., NotImplemented, slice(1, 2), slice(1, 2, 1), slice(None, 2),
    range(3), range(0, 3, 2), int, float, str,
    datetime.date(2020, 1, 1), datetime.datetime(2020, 1, 1), datetime.timedelta(1),
    datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), datetime.time(1),
    decimal.Decimal("1"), decimal.Decimal("1.0"), pathlib.PurePosixPath("a/b"),
    pathlib.PurePosixPath("a/c"), pathlib.PureWindowsPath("a/b"), bytearray(b"1"),
    2**10000, 2**10000 + 1, "x" * 10_000, "x" * 10_001, b"y" * 10_000,
]


def test_primitives_distinguish_type_and_value() -> None:
    tokens = [tokenize(x) for x in PRIMITIVES]
    assert len(set(tokens)) == len(PRIMITIVES)
    assert tokens == [tokenize(copy.deepcopy(x)) for x in PRIMITIVES]


def test_nan_equals_nan() -> None:
    assert tokenize(float("nan")) == tokenize(float("nan"))
    assert tokenize([float("nan")]) == tokenize([float("nan")])


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Level(enum.IntEnum):
    LOW = 1


def test_enums_and_primitive_subclasses() -> None:
    assert tokenize(Color.RED) == tokenize(Color(1))
    assert tokenize(Color.RED) != tokenize(Color.BLUE)
    assert tokenize(Level.LOW) != tokenize(1)

    class Meters(float):
        pass

    assert tokenize(Meters(1.0)) == tokenize(Meters(1.0))
    assert tokenize(Meters(1.0)) != tokenize(1.0)
    assert tokenize(Meters(1.0)) != tokenize(Meters(2.0))


def test_containers_include_their_type() -> None:
    values = [[1, 2], (1, 2), {1, 2}, frozenset({1, 2}), {1: 2}, [(1, 2)], ([1, 2],), [[1], 2], []]
    assert len({tokenize(v) for v in values}) == len(values)


def test_list_fast_path_agrees_with_slow_path() -> None:
    # A list gets the same token whichever path its elements take, because
    # the path depends only on the element types.
    assert tokenize([1, "a", 2**10000]) == tokenize([1, "a", 2**10000])
    assert tokenize([1, [2]]) != tokenize([1, "[2]"])
    assert tokenize(list(range(100_000))) != tokenize(list(range(100_001)))


def test_unordered_containers_ignore_insertion_order() -> None:
    words = [f"w{i}" for i in range(200)]
    assert tokenize(set(words)) == tokenize(set(reversed(words)))
    assert tokenize(dict.fromkeys(words, 1)) == tokenize(dict.fromkeys(reversed(words), 1))
    assert tokenize({1: "a", "1": "b", (1,): "c"}) == tokenize({(1,): "c", "1": "b", 1: "a"})
    assert tokenize({1, "1", (1,)}) == tokenize({(1,), "1", 1})


def test_self_referencing_containers_terminate() -> None:
    a: list[Any] = [1]
    a.append(a)
    b: list[Any] = [1]
    b.append(b)
    assert tokenize(a) == tokenize(b)
    c: list[Any] = [2]
    c.append(c)
    assert tokenize(a) != tokenize(c)
    d: dict[str, Any] = {}
    d["self"] = d
    tokenize(d)
    t: tuple[list[Any]] = ([],)
    t[0].append(t)
    tokenize(t)


class _Canon:
    """An independent structural key: 1, 1.0, True and -0.0 all differ."""

    @staticmethod
    def of(x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, tuple(_Canon.of(v) for v in x))
        if isinstance(x, dict):
            return ("dict", frozenset((_Canon.of(k), _Canon.of(v)) for k, v in x.items()))
        if isinstance(x, frozenset):
            return ("frozenset", frozenset(_Canon.of(v) for v in x))
        return (type(x).__name__, repr(x))


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.complex_numbers(allow_nan=False, max_magnitude=1e6)
)
hashables = st.recursive(
    scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3), max_leaves=6
)
nested = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(hashables, inner, max_size=4)
    | st.frozensets(hashables, max_size=4),
    max_leaves=15,
)


@given(nested)
@settings(max_examples=200, deadline=None)
def test_deepcopy_has_same_token(x: Any) -> None:
    assert tokenize(x) == tokenize(copy.deepcopy(x))


@given(nested, nested)
@settings(max_examples=300, deadline=None)
def test_different_values_have_different_tokens(x: Any, y: Any) -> None:
    if _Canon.of(x) != _Canon.of(y):
        assert tokenize(x) != tokenize(y)
    else:
        assert tokenize(x) == tokenize(y)


# --- user types ----------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: Any = None


class Plain:
    def __init__(self, value: Any) -> None:
        self.value = value


def test_dataclasses_by_type_and_fields() -> None:
    assert tokenize(Point(1, {"a"})) == tokenize(Point(1, {"a"}))
    assert tokenize(Point(1)) != tokenize(Point(2))
    assert tokenize(Point(1, 2)) != tokenize((1, 2))


def test_plain_objects_by_state() -> None:
    assert tokenize(Plain([1, 2])) == tokenize(Plain([1, 2]))
    assert tokenize(Plain([1, 2])) != tokenize(Plain([1, 3]))
    obj = Plain(None)
    obj.value = obj  # a cycle through an object's state
    tokenize(obj)


def test_dask_tokenize_is_honoured() -> None:
    class Named:
        def __init__(self, name: str, junk: object) -> None:
            self.name, self.junk = name, junk

        def __dask_tokenize__(self) -> object:
            return self.name

    class Child(Named):
        pass

    lock = threading.Lock()  # unpicklable, but never looked at
    assert tokenize(Named("a", lock), ensure_deterministic=True) == tokenize(Named("a", 2))
    assert tokenize(Named("a", 1)) != tokenize(Named("b", 1))
    assert tokenize(Child("a", 1)) != tokenize(Named("a", 1))

    class Loop:
        def __dask_tokenize__(self) -> object:
            return self

    tokenize(Loop())


def test_register_user_type_and_subclass_precedence() -> None:
    class Base:
        def __init__(self, value: int) -> None:
            self.value = value
            self.lock = threading.Lock()

        def __dask_tokenize__(self) -> object:
            return "dunder"

    class Sub(Base):
        pass

    @normalize_token.register(Sub)
    def _(x: Sub) -> object:
        return ("Sub", x.value)

    assert tokenize(Sub(1), ensure_deterministic=True) == tokenize(Sub(1))
    assert tokenize(Sub(1)) != tokenize(Sub(2))
    assert tokenize(Base(1)) == tokenize(Base(2))  # its own __dask_tokenize__

    class A:
        pass

    class B:
        pass

    normalize_token.register((A, B), lambda x: type(x).__name__)
    assert tokenize(A()) != tokenize(B())


# --- functions -----------------------------------------------------------------


def double(x: int) -> int:
    return 2 * x


def test_named_functions_by_identity() -> None:
    assert tokenize(double) == tokenize(pickle.loads(pickle.dumps(double)))
    assert tokenize(double) != tokenize(test_named_functions_by_identity)
    assert tokenize(len) == tokenize(len)
    assert tokenize(len) != tokenize(sum)
    assert tokenize(math.sqrt) != tokenize(math.exp)
    assert tokenize(str.upper) != tokenize(str.lower)


def test_lambdas_and_closures() -> None:
    f = lambda x: x + 1  # noqa: E731
    g = lambda x: x + 2  # noqa: E731
    assert tokenize(f) == tokenize(f)
    assert tokenize(f) != tokenize(g)

    def make(n: int) -> Any:
        def add(x: int) -> int:
            return x + n

        return add

    assert tokenize(make(1)) == tokenize(make(1))
    assert tokenize(make(1)) != tokenize(make(2))


def test_partials_and_methods() -> None:
    assert tokenize(functools.partial(double, 1)) == tokenize(functools.partial(double, 1))
    assert tokenize(functools.partial(double, 1)) != tokenize(functools.partial(double, 2))
    assert tokenize(functools.partial(double, x=1)) != tokenize(functools.partial(double, 1))
    assert tokenize([1].append) != tokenize([2].append)
    assert tokenize(Point(1).__eq__) == tokenize(Point(1).__eq__)

    class Counter:
        def __init__(self, n: int) -> None:
            self.n = n

        def bump(self) -> int:
            return self.n + 1

    assert tokenize(Counter(1).bump) == tokenize(Counter(1).bump)
    assert tokenize(Counter(1).bump) != tokenize(Counter(2).bump)


# --- determinism -----------------------------------------------------------------


def test_unpicklable_object_random_or_error() -> None:
    lock = threading.Lock()
    assert tokenize(lock) != tokenize(lock)  # random fallback, never a collision
    with pytest.raises(TokenizationError, match="_thread.lock") as info:
        tokenize([1, {"k": lock}], ensure_deterministic=True)
    assert isinstance(info.value, ShoalError) and isinstance(info.value, ValueError)
    assert "__dask_tokenize__" in str(info.value)
    assert "normalize_token.register" in str(info.value)
    with pytest.raises(TokenizationError, match="module level"):
        tokenize(lambda: lock, ensure_deterministic=True)
    with pytest.raises(TokenizationError):
        tokenize(object(), ensure_deterministic=True)


def test_ensure_deterministic_from_config_and_outer_call() -> None:
    from shoal import config

    lock = threading.Lock()
    with config.set({"tokenize.ensure-deterministic": True}):
        with pytest.raises(TokenizationError):
            tokenize(lock)
        tokenize(lock, ensure_deterministic=False)

    class Wrapper:
        def __dask_tokenize__(self) -> object:
            return tokenize(lock)  # nested call inherits the outer setting

    with pytest.raises(TokenizationError):
        tokenize(Wrapper(), ensure_deterministic=True)


def test_tokenization_error_pickles() -> None:
    err = TokenizationError("message")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is TokenizationError and str(again) == "message"


CROSS_PROCESS = """
import argparse, collections, datetime, functools, os.path
import numpy as np, pandas as pd
from shoal.graph.tokenize import tokenize

def values():
    words = {f"w{i}" for i in range(50)}
    return [
        words, frozenset(words), {w: len(w) for w in words}, ("a", 1, 2.5, None, b"x"),
        argparse.Namespace(tags=words, n=1), collections.OrderedDict(a=words),
        datetime.datetime(2020, 1, 2, 3), os.path.join, functools.partial(os.path.join, "a"),
        np.arange(12.0).reshape(3, 4).T, np.array(["a", None], dtype=object),
        np.float32(1.5), np.random.RandomState(0), np.dtype([("a", "<i4"), ("b", "<f8")]),
        pd.DataFrame({"a": [1, 2], "s": ["x", "y"], "c": pd.Categorical(["p", "q"])},
                     index=pd.date_range("2020", periods=2, tz="UTC")),
        pd.Series(pd.array(["x", None], dtype="string[pyarrow]"), name="s"),
        pd.MultiIndex.from_product([["a", "b"], [1, 2]]), pd.Timestamp("2020", tz="US/Eastern"),
    ]

print(" ".join(tokenize(v, ensure_deterministic=True) for v in values()))
"""


def test_tokens_agree_across_processes_and_hash_seeds() -> None:
    first = run_python(CROSS_PROCESS, PYTHONHASHSEED="0").split()
    second = run_python(CROSS_PROCESS, PYTHONHASHSEED="12345").split()
    assert first == second
    namespace: dict[str, Any] = {}
    exec(CROSS_PROCESS.replace("print(", "result = ("), namespace)  # this process's seed
    assert namespace["result"].split() == first
    assert len(set(first)) == len(first)


def test_importing_tokenize_does_not_import_numpy_or_pandas() -> None:
    run_python(
        "import shoal.graph.tokenize, sys; from shoal.graph.tokenize import tokenize;"
        "tokenize([1, {'a': (2.0, None)}, len]);"
        "assert 'numpy' not in sys.modules and 'pandas' not in sys.modules, "
        "[m for m in sys.modules if m.startswith(('numpy', 'pandas'))]"
    )


# --- NumPy ---------------------------------------------------------------------

array_dtypes = (
    hnp.scalar_dtypes()
    | hnp.byte_string_dtypes()
    | hnp.unicode_string_dtypes()
    | hnp.array_dtypes(max_size=3)
)


@given(hnp.arrays(array_dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
@settings(max_examples=150, deadline=None)
def test_arrays_equal_to_their_copies_and_views(x: Any) -> None:
    token = tokenize(x)
    assert token == tokenize(x.copy())
    assert tokenize(x.T) == tokenize(x.T.copy(order="C"))
    assert tokenize(x.copy(order="F")) == token
    if x.ndim and x.shape[0] > 1:
        assert tokenize(x[::2]) == tokenize(x[::2].copy())
        assert tokenize(x[::2]) != token


def test_arrays_differ_by_content_dtype_and_shape() -> None:
    x = np.arange(12, dtype="i8")
    variants = [x, x + 1, x.view("f8"), x.astype("i4"), x.reshape(3, 4), x.reshape(4, 3),
                x.astype(">i8"), x.astype("M8[s]"), x.astype("M8[ms]"), x.tolist()]
    assert len({tokenize(v) for v in variants}) == len(variants)
    assert tokenize(np.empty((0, 3))) != tokenize(np.empty((3, 0)))
    assert tokenize(np.array(1.0)) != tokenize(np.array([1.0]))


def test_big_array_hashed_by_content() -> None:
    x = np.random.default_rng(0).random(2_000_000)  # 16 MB, above the xxhash cutoff
    y = x.copy()
    assert tokenize(x) == tokenize(y)
    y[-1] += 1
    assert tokenize(x) != tokenize(y)


def test_object_string_and_structured_arrays() -> None:
    a = np.array([1, "a", None, (1, 2)], dtype=object)
    assert tokenize(a) == tokenize(copy.deepcopy(a))
    assert tokenize(a) != tokenize(np.array([1, "a", None, (1, 3)], dtype=object))
    s = np.array(["a", "bc"], dtype=np.dtypes.StringDType())
    assert tokenize(s) == tokenize(s.copy())
    assert tokenize(s) != tokenize(np.array(["a", "bd"], dtype=np.dtypes.StringDType()))
    assert tokenize(s) != tokenize(s.astype("U2"))
    rec = np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")])
    renamed = np.zeros(3, dtype=[("a", "<i4"), ("c", "<f8")])
    assert tokenize(rec) == tokenize(rec.copy())
    assert tokenize(rec) != tokenize(renamed)


def test_numpy_scalars_dtypes_and_random_state() -> None:
    values = [np.float64(1), np.float32(1), np.int64(1), 1.0, np.str_("a"), "a",
              np.datetime64("2020-01-01"), np.dtype("f8"), np.dtype("f4"), np.add, np.multiply]
    assert len({tokenize(v) for v in values}) == len(values)
    rs = np.random.RandomState(0)
    assert tokenize(rs) == tokenize(np.random.RandomState(0))
    before = tokenize(rs)
    rs.random()
    assert tokenize(rs) != before
    assert tokenize(np.random.default_rng(1)) == tokenize(np.random.default_rng(1))
    assert tokenize(np.random.default_rng(1)) != tokenize(np.random.default_rng(2))


def test_masked_arrays_include_the_mask() -> None:
    data = np.arange(4.0)
    a = np.ma.masked_array(data, mask=[0, 1, 0, 0])
    b = np.ma.masked_array(data, mask=[0, 0, 1, 0])
    assert tokenize(a) == tokenize(a.copy())
    assert tokenize(a) != tokenize(b)


def test_the_masked_constant_has_a_token() -> None:
    assert tokenize(np.ma.masked) == tokenize(np.ma.masked)
    assert tokenize(np.ma.masked) != tokenize(np.ma.masked_array([0.0], mask=[1]))


# --- pandas --------------------------------------------------------------------


def frame() -> Any:
    return pd.DataFrame(
        {"a": [1, 2, 3], "b": ["x", "y", None], "c": pd.Categorical(["p", "q", "p"])},
        index=pd.Index([10, 20, 30], name="i"),
    )


def test_dataframes() -> None:
    df = frame()
    token = tokenize(df)
    assert token == tokenize(frame()) == tokenize(df.copy())
    changed = [
        df.rename(columns={"a": "z"}),
        df.astype({"a": "f8"}),
        df.astype({"a": "Int64"}),
        df.astype({"b": "object"}),
        df.astype({"b": "string[python]"}),
        df.rename_axis("j"),
        df.reset_index(drop=True),
        df.assign(a=[1, 2, 4]),
        df[["b", "a", "c"]],
    ]
    tokens = [tokenize(v) for v in changed]
    assert token not in tokens and len(set(tokens)) == len(tokens)


def test_series_and_indexes() -> None:
    s = pd.Series([1.0, 2.0], name="s")
    assert tokenize(s) == tokenize(s.copy())
    assert tokenize(s) != tokenize(s.rename("t"))
    assert tokenize(pd.RangeIndex(5)) == tokenize(pd.RangeIndex(5))
    assert tokenize(pd.RangeIndex(5)) != tokenize(pd.RangeIndex(0, 5, 2))
    mi = pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["x", "y"])
    assert tokenize(mi) == tokenize(mi.copy())
    assert tokenize(mi) != tokenize(mi.set_names(["x", "z"]))
    naive = pd.date_range("2020", periods=3)
    assert tokenize(naive) == tokenize(naive.copy())
    assert tokenize(naive) != tokenize(naive.tz_localize("UTC"))
    assert tokenize(naive) != tokenize(naive.as_unit("ns"))


def test_extension_arrays() -> None:
    arrow = pd.array(["a", None, "bc"], dtype="string[pyarrow]")
    assert tokenize(arrow) == tokenize(pd.array(["a", None, "bc"], dtype="string[pyarrow]"))
    assert tokenize(arrow) == tokenize(pd.array(["z", "a", None, "bc"], dtype="string[pyarrow]")[1:])
    assert tokenize(arrow) != tokenize(pd.array(["a", None, "bd"], dtype="string[pyarrow]"))
    assert tokenize(arrow) != tokenize(pd.array(["a", None, "bc"], dtype="string[python]"))
    ints = pd.array([1, None, 3], dtype="Int64")
    assert tokenize(ints) == tokenize(pd.array([1, None, 3], dtype="Int64"))
    assert tokenize(ints) != tokenize(pd.array([1, 2, 3], dtype="Int64"))
    cat = pd.Categorical(["a", "b"])
    assert tokenize(cat) == tokenize(pd.Categorical(["a", "b"]))
    assert tokenize(cat) != tokenize(pd.Categorical(["a", "b"], ordered=True))
    assert tokenize(cat) != tokenize(pd.Categorical(["a", "b"], categories=["b", "a"]))
    iv = pd.arrays.IntervalArray.from_breaks([0, 1, 2])
    assert tokenize(iv) == tokenize(pd.arrays.IntervalArray.from_breaks([0, 1, 2]))
    assert tokenize(iv) != tokenize(pd.arrays.IntervalArray.from_breaks([0, 1, 3]))


def test_pandas_scalars_and_dtypes() -> None:
    values = [
        pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2020-01-02"),
        pd.Timedelta(1, "s"), pd.Timedelta(2, "s"), pd.Period("2020-01", "M"), pd.Period("2020", "Y"),
        pd.Interval(0, 1), pd.Interval(0, 1, closed="left"), pd.NaT, pd.NA,
        pd.CategoricalDtype(["a", "b"]), pd.CategoricalDtype(["a", "b"], ordered=True),
        pd.CategoricalDtype(["a", "c"]), pd.StringDtype("pyarrow"), pd.StringDtype("python"),
        pd.DatetimeTZDtype(tz="UTC"), datetime.datetime(2020, 1, 1),
    ]
    tokens = [tokenize(v) for v in values]
    assert len(set(tokens)) == len(values)
    assert tokens == [tokenize(copy.deepcopy(v)) for v in values]


# --- Dispatch ------------------------------------------------------------------


def test_dispatch_walks_the_mro_and_caches() -> None:
    describe = Dispatch("describe")
    describe.register(object, lambda x: "object")
    describe.register(int, lambda x: "int")
    assert describe(True) == "int"
    assert describe("s") == "object"
    assert describe.dispatch(bool) is describe.dispatch(bool)
    describe.register(bool, lambda x: "bool")  # clears the cache
    assert describe(True) == "bool"
    with pytest.raises(TypeError, match="No dispatch"):
        Dispatch("empty")(1)
    with pytest.raises(TypeError, match="expects a type"):
        describe.register("int")  # type: ignore[call-overload]


def test_register_lazy_runs_once_when_the_module_is_first_seen() -> None:
    describe = Dispatch("describe")
    describe.register(object, lambda x: "object")
    calls = []

    @describe.register_lazy("fakelib")
    def _() -> None:
        calls.append(1)
        describe.register(Fake, lambda x: "fake")

    Fake = type("Fake", (), {"__module__": "fakelib.core"})
    Derived = type("Derived", (Fake,), {"__module__": "userlib"})
    assert describe(1) == "object" and calls == []
    assert describe(Derived()) == "fake" and calls == [1]  # found through the MRO
    assert describe(Fake()) == "fake" and calls == [1]


def test_register_lazy_on_normalize_token() -> None:
    Thing = type("Thing", (), {"__module__": "shoal_lazy_test_lib.mod", "__init__": lambda self: None})

    @normalize_token.register_lazy("shoal_lazy_test_lib")
    def _() -> None:
        normalize_token.register(Thing, lambda x: "a thing")

    assert tokenize(Thing(), ensure_deterministic=True) == tokenize(Thing())
