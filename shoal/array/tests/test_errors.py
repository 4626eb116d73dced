"""Bad input fails when the expression is built, with NumPy's exception type and a message naming the culprits.

Each case is checked against what NumPy raises for the same input (same exception class), and the shoal
message must name the shapes, chunks or axis involved. Nothing here is computed: the error must come from the
metadata alone.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import shoal.array as sa

XN = np.arange(24.0).reshape(4, 6)


@pytest.fixture
def x():
    return sa.from_array(XN, chunks=(2, 4))


def numpy_error(func):
    """The exception class NumPy raises for ``func()`` (which must raise)."""
    try:
        func()
    except Exception as exc:  # noqa: BLE001 - we want the exact class NumPy picks
        return type(exc)
    raise AssertionError("NumPy accepted the input; the case is not an error case")


def check(shoal_call, numpy_call, *fragments):
    """shoal raises (a subclass of) NumPy's exception class, with every fragment in its message."""
    expected = numpy_error(numpy_call)
    with pytest.raises(Exception) as info:
        shoal_call()
    if expected.__module__.startswith("numpy._"):
        # NumPy's private subclasses (UFuncTypeError, ...): their public base is the contract.
        expected = next(c for c in expected.__mro__ if c.__module__ == "builtins")
    assert isinstance(info.value, expected), (
        f"shoal raised {type(info.value).__name__}, NumPy raises {expected.__name__}: {info.value}"
    )
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# -- mismatched shapes -------------------------------------------------------------------------------------


def test_elementwise_shapes_that_do_not_broadcast(x):
    check(lambda: x + sa.ones(5, chunks=2), lambda: XN + np.ones(5), "(4, 6)", "(5,)")
    check(lambda: x * np.ones((3, 6)), lambda: XN * np.ones((3, 6)), "(4, 6)", "(3, 6)")
    check(lambda: sa.where(x > 1, x, np.ones(5)), lambda: np.where(XN > 1, XN, np.ones(5)), "(5,)")
    check(lambda: np.add(x, np.ones(4)), lambda: np.add(XN, np.ones(4)), "(4, 6)", "(4,)")


def test_products_with_mismatched_inner_lengths(x):
    check(lambda: sa.dot(x, x), lambda: np.dot(XN, XN), "(4,6)", "6", "4")
    check(lambda: x @ x, lambda: XN @ XN, "(4, 6)")
    check(lambda: np.matmul(x, x), lambda: np.matmul(XN, XN), "(4, 6)")
    check(lambda: sa.tensordot(x, x, axes=([0], [1])), lambda: np.tensordot(XN, XN, axes=([0], [1])), "(4, 6)")
    check(lambda: sa.einsum("ij,ij->i", x, x.T), lambda: np.einsum("ij,ij->i", XN, XN.T), "(4,6)", "(6,4)")
    check(lambda: x @ 3, lambda: XN @ 3, "scalars")


def test_joins_with_mismatched_shapes(x):
    check(lambda: sa.concatenate([x, x.T]), lambda: np.concatenate([XN, XN.T]), "(4, 6)", "(6, 4)")
    check(lambda: sa.concatenate([x, x[0]]), lambda: np.concatenate([XN, XN[0]]), "(6,)")
    check(lambda: sa.stack([x, x.T]), lambda: np.stack([XN, XN.T]), "(4, 6)", "(6, 4)")
    check(lambda: sa.block([[x, x[:1]]]), lambda: np.block([[XN, XN[:1]]]), "(1, 6)")
    check(lambda: sa.concatenate([]), lambda: np.concatenate([]))


def test_reshape_broadcast_and_assignment_with_wrong_sizes(x):
    check(lambda: x.reshape(5, 5), lambda: XN.reshape(5, 5), "(4, 6)", "(5, 5)")
    check(lambda: x.reshape(-1, 5), lambda: XN.reshape(-1, 5), "(-1, 5)")
    check(lambda: x.reshape(-1, -1), lambda: XN.reshape(-1, -1), "one unknown dimension")
    check(lambda: sa.broadcast_to(x, (3, 6)), lambda: np.broadcast_to(XN, (3, 6)), "(4, 6)", "(3, 6)")

    def assign():
        x[0:2] = np.ones(5)

    def assign_np():
        XN.copy()[0:2] = np.ones(5)

    check(assign, assign_np, "(5,)", "(2, 6)")

    def assign_mask():
        x[XN > 3] = np.ones(3)

    def assign_mask_np():
        XN.copy()[XN > 3] = np.ones(3)

    check(assign_mask, assign_mask_np, "3", "20")


def test_fancy_and_boolean_indexes_that_do_not_fit(x):
    check(lambda: x[np.ones(3, bool)], lambda: XN[np.ones(3, bool)], "4", "3")
    check(lambda: x.vindex[[0, 1], [0, 1, 2]], lambda: XN[[0, 1], [0, 1, 2]], "(2,)", "(3,)")
    check(lambda: x[10], lambda: XN[10], "10", "axis 0", "4")
    check(lambda: x[:, -7], lambda: XN[:, -7], "-7", "axis 1")
    check(lambda: x[[0, 9]], lambda: XN[[0, 9]], "9")
    check(lambda: x[0, 0, 0], lambda: XN[0, 0, 0], "2-dimensional", "3")
    check(lambda: x[1.5], lambda: XN[1.5], "1.5")
    check(lambda: sa.take(x, [10], axis=0), lambda: np.take(XN, [10], axis=0), "10")


def test_linalg_shape_errors(x):
    check(lambda: sa.linalg.inv(x), lambda: np.linalg.inv(XN), "(4, 6)")
    check(lambda: sa.linalg.cholesky(x), lambda: np.linalg.cholesky(XN), "(4, 6)")
    eye = sa.from_array(np.eye(4), chunks=2)
    check(lambda: sa.linalg.solve(eye, sa.ones(5, chunks=2)), lambda: np.linalg.solve(np.eye(4), np.ones(5)),
          "(4, 4)", "(5,)")


# -- bad chunks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "fragments"),
    [
        (((1, 2), (6,)), ["(1, 2)", "axis 0", "(4, 6)"]),
        ((2, 2, 2), ["(2, 2, 2)", "2 dimensions", "(4, 6)"]),
        (-2, ["-2"]),
        (0, ["0"]),
        (2.5, ["2.5"]),
        ("abc", ["'abc'"]),
    ],
)
def test_bad_chunks_raise_value_error_naming_them(chunks, fragments):
    for build in (lambda: sa.from_array(XN, chunks=chunks), lambda: sa.ones((4, 6), chunks=chunks),
                  lambda: sa.from_array(XN, chunks=3).rechunk(chunks)):
        with pytest.raises(ValueError) as info:
            build()
        for fragment in fragments:
            assert fragment in str(info.value)


def test_rechunk_axis_out_of_range(x):
    with pytest.raises(ValueError, match="axis 5"):
        x.rechunk({5: 2})


# -- axis out of range -------------------------------------------------------------------------------------


REDUCTIONS = ["sum", "prod", "mean", "std", "var", "min", "max", "argmin", "argmax", "any", "all", "nansum",
              "nanprod", "nanmean", "nanstd", "nanvar", "nanmin", "nanmax", "nanargmin", "nanargmax", "cumsum",
              "cumprod", "nancumsum", "nancumprod"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3])
def test_reductions_axis_out_of_range(x, name, axis):
    check(lambda: getattr(sa, name)(x, axis=axis), lambda: getattr(np, name)(XN, axis=axis),
          f"axis {axis}", "dimension 2")
    check(lambda: getattr(np, name)(x, axis=axis), lambda: getattr(np, name)(XN, axis=axis), f"axis {axis}")


def test_reduction_axis_errors_of_other_kinds(x):
    check(lambda: x.sum(axis=(0, 0)), lambda: XN.sum(axis=(0, 0)), "duplicate", "(0, 0)")
    check(lambda: x.argmax(axis=(0, 1)), lambda: XN.argmax(axis=(0, 1)), "(0, 1)")
    check(lambda: x.sum(axis=1.0), lambda: XN.sum(axis=1.0), "1.0")
    check(lambda: sa.moment(x, 2, axis=2), lambda: np.mean(XN, axis=2), "axis 2")
    # NumPy reports the empty axis before the dtype it cannot subtract.
    empty = np.array([], dtype=bool)
    check(lambda: sa.ptp(sa.from_array(empty, chunks=1)), lambda: np.ptp(empty), "zero-size", "(0,)")


@pytest.mark.parametrize(
    ("shoal_call", "numpy_call", "fragment"),
    [
        (lambda x: x.transpose(0, 2), lambda: XN.transpose(0, 2), "axis 2"),
        (lambda x: x.transpose(0, 0), lambda: XN.transpose(0, 0), "repeated axis"),
        (lambda x: x.transpose(0), lambda: XN.transpose(0), "axes don't match"),
        (lambda x: sa.moveaxis(x, 2, 0), lambda: np.moveaxis(XN, 2, 0), "axis 2"),
        (lambda x: x.swapaxes(0, 3), lambda: XN.swapaxes(0, 3), "axis 3"),
        (lambda x: x.squeeze(0), lambda: XN.squeeze(0), "size not equal to one"),
        (lambda x: x.squeeze(3), lambda: XN.squeeze(3), "axis 3"),
        (lambda x: sa.expand_dims(x, 4), lambda: np.expand_dims(XN, 4), "axis 4"),
        (lambda x: sa.flip(x, 2), lambda: np.flip(XN, 2), "axis 2"),
        (lambda x: sa.roll(x, 1, axis=2), lambda: np.roll(XN, 1, axis=2), "axis 2"),
        (lambda x: sa.diff(x, axis=2), lambda: np.diff(XN, axis=2), "axis 2"),
        (lambda x: sa.take(x, [0], axis=2), lambda: np.take(XN, [0], axis=2), "axis 2"),
        (lambda x: sa.concatenate([x, x], axis=2), lambda: np.concatenate([XN, XN], axis=2), "axis 2"),
        (lambda x: sa.concatenate([x, x], axis=-3), lambda: np.concatenate([XN, XN], axis=-3), "axis -3"),
        (lambda x: sa.stack([x, x], axis=3), lambda: np.stack([XN, XN], axis=3), "axis 3"),
        (lambda x: sa.repeat(x, 2, axis=2), lambda: np.repeat(XN, 2, axis=2), "axis 2"),
        (lambda x: np.cumsum(x, axis=-3), lambda: np.cumsum(XN, axis=-3), "axis -3"),
    ],
)
def test_shape_functions_axis_out_of_range(x, shoal_call, numpy_call, fragment):
    check(lambda: shoal_call(x), numpy_call, fragment)


def test_routines_axis_out_of_range(x):
    with pytest.raises(np.exceptions.AxisError, match="axis 2"):
        sa.topk(x, 2, axis=2)
    with pytest.raises(ValueError, match=re.escape("drop_axis=3")):
        x.map_blocks(lambda b: b, drop_axis=3)
    with pytest.raises(ValueError, match=re.escape("new_axis=5")):
        x.map_blocks(lambda b: b, new_axis=5)


# -- dtype errors ------------------------------------------------------------------------------------------


def test_operators_on_unsupported_dtypes_raise_type_error(x):
    strings = np.array(["a", "b"])
    s = sa.from_array(strings, chunks=1)
    check(lambda: x & x, lambda: XN & XN, "float64", "bitwise_and")
    check(lambda: ~x, lambda: ~XN, "float64", "invert")
    check(lambda: x << 1, lambda: XN << 1, "float64")
    check(lambda: s + 1, lambda: strings + 1, "<U1")
    check(lambda: sa.exp(s), lambda: np.exp(strings), "<U1")
    check(lambda: np.exp(s), lambda: np.exp(strings), "<U1")
    check(lambda: s.mean(), lambda: strings.mean(), "<U1")


def test_bad_dtype_names_and_casts(x):
    check(lambda: x.astype("notadtype"), lambda: XN.astype("notadtype"), "notadtype")
    check(lambda: x.astype("i4", casting="safe"), lambda: XN.astype("i4", casting="safe"), "float64", "int32")
    check(lambda: sa.ones(3, dtype="foo", chunks=2), lambda: np.ones(3, dtype="foo"), "foo")
    check(lambda: x.sum(dtype="foo"), lambda: XN.sum(dtype="foo"), "foo")


def test_bad_creation_arguments():
    check(lambda: sa.ones(-3, chunks=2), lambda: np.ones(-3), "negative", "(-3,)")
    check(lambda: sa.zeros(3.5, chunks=2), lambda: np.zeros(3.5), "3.5")
    check(lambda: sa.arange(0, 10, 0, chunks=2), lambda: np.arange(0, 10, 0), "step")
    check(lambda: sa.linspace(0, 1, -1, chunks=2), lambda: np.linspace(0, 1, -1), "-1")
    check(lambda: sa.eye(-1, chunks=2), lambda: np.eye(-1), "negative")
    check(lambda: sa.random.random((3, -1), chunks=2), lambda: np.random.random((3, -1)), "(3, -1)")
    check(lambda: sa.percentile(sa.arange(5, chunks=2), 200), lambda: np.percentile(np.arange(5), 200), "100")


# -- unknown (nan) chunks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda y, x: y.reshape(2, -1),
        lambda y, x: y[3],
        lambda y, x: y[1:3],
        lambda y, x: sa.dot(y, y),
        lambda y, x: y.rechunk(2),
        lambda y, x: len(y),
        lambda y, x: sa.stack([y, y]),
        lambda y, x: sa.topk(y, 2),
        lambda y, x: y + x[0],
        lambda y, x: y + sa.concatenate([y, y]),
    ],
)
def test_unknown_chunks_tell_to_call_compute_chunk_sizes(x, operation):
    y = x[x > 5]
    with pytest.raises(ValueError, match=re.escape("compute_chunk_sizes()")):
        operation(y, x)


def test_compute_chunk_sizes_then_the_operations_work(x):
    y = x[x > 5]
    assert y.compute_chunk_sizes() is y
    expected = XN[XN > 5]
    np.testing.assert_array_equal(y.reshape(2, -1).compute(), expected.reshape(2, -1))
    np.testing.assert_array_equal((y + x.ravel()[6:]).compute(), expected + XN.ravel()[6:])
    assert len(y) == expected.size


def test_assignment_with_lazy_mask_and_non_scalar_value_explains(x):
    y = x + 0
    with pytest.raises(NotImplementedError, match="scalar value"):
        y[y > 5] = y[y > 5] * 2
