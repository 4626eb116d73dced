from __future__ import annotations

import operator
import pickle
from dataclasses import dataclass

import pytest

import shoal
from shoal import delayed
from shoal.delayed import Delayed
from shoal.local import Callback


def inc(x):
    return x + 1


def double(x):
    return x * 2


def add(x, y):
    return x + y


def f(x, y):
    return x * y


def g(x, y):
    return x - y


def test_seed_example_add_inc():
    @shoal.delayed
    def inc_(x):
        return x + 1

    @shoal.delayed
    def add_(x, y):
        return x + y

    a = inc_(1)
    b = inc_(2)
    c = add_(a, b)
    assert isinstance(c, Delayed)
    assert c.compute() == 5


def test_seed_example_inc_double_add_over_a_list():
    data = [1, 2, 3, 4, 5]
    output = []
    for x in data:
        a = delayed(inc)(x)
        b = delayed(double)(x)
        output.append(delayed(add)(a, b))
    total = delayed(sum)(output)
    assert total.compute() == 50
    assert len(total.dask) == 16  # 5 * (inc, double, add) + sum


def test_seed_example_nested_loop_with_branch():
    A, B = [1, 5, 9], [2, 6]
    results, expected = [], []
    for x in A:
        for y in B:
            if x < y:
                z = delayed(f)(x, y)
            else:
                z = delayed(g)(x, y)
            results.append(z)
            expected.append(f(x, y) if x < y else g(x, y))
    assert shoal.compute(*results) == tuple(expected)


def test_delayed_function_and_value_forms():
    x = delayed(inc)(1)
    y = delayed(inc)(2)
    z = delayed(add)(x, y)
    assert z.compute() == 5
    assert delayed(10).compute() == 10
    assert delayed([1, x, {"k": y}]).compute() == [1, 2, {"k": 3}]


@pytest.mark.parametrize("scheduler", ["sync", "threads", "processes"])
def test_compute_on_every_scheduler(scheduler):
    parts = [delayed(inc)(i) for i in range(20)]
    assert delayed(sum)(parts).compute(scheduler=scheduler) == sum(range(1, 21))


def test_pure_calls_share_keys_and_impure_do_not():
    assert delayed(inc, pure=True)(1).key == delayed(inc, pure=True)(1).key
    assert delayed(inc, pure=True)(1).key != delayed(inc, pure=True)(2).key
    assert delayed(inc)(1).key != delayed(inc)(1).key
    assert delayed(inc)(1, pure=True).key == delayed(inc)(1, pure=True).key
    with shoal.config.set(delayed_pure=True):
        assert delayed(inc)(5).key == delayed(inc)(5).key


def test_dask_key_name_and_key_prefix():
    x = delayed(inc)(1, dask_key_name="my-key")
    assert x.key == "my-key"
    assert delayed(inc)(1).key.startswith("inc-")
    assert delayed(lambda v: v)(1).key.startswith("lambda-")


def test_shared_work_runs_once_across_compute_arguments():
    calls = []

    def record(v):
        calls.append(v)
        return v

    x = delayed(record, pure=True)(7)
    a, b = shoal.compute(x + 1, x * 2, scheduler="sync")
    assert (a, b) == (8, 14)
    assert calls == [7]


def test_attribute_access_method_calls_and_operators():
    x = delayed([3, 1, 2])
    assert x.count(1).compute() == 1
    assert x.index(2).compute() == 2
    s = delayed("Hello")
    assert s.upper().compute() == "HELLO"
    assert s.lower.__class__.__name__ == "_DelayedAttr"
    n = delayed(7)
    cases = [
        (n + 1, 8), (1 + n, 8), (n - 2, 5), (10 - n, 3), (n * 3, 21), (n / 2, 3.5), (n // 2, 3),
        (n % 4, 3), (n ** 2, 49), (2 ** n, 128), (-n, -7), (abs(-n), 7), (n > 3, True), (n <= 3, False),
        (n == 7, True), (n != 7, False), (n & 3, 3), (n | 8, 15), (n ^ 1, 6), (n << 1, 14), (n >> 1, 3),
        (~n, -8),
    ]
    for lazy, expected in cases:
        assert isinstance(lazy, Delayed)
        assert lazy.compute(scheduler="sync") == expected


def test_getitem_and_slices_with_delayed_bounds():
    x = delayed(list(range(10)))
    assert x[3].compute() == 3
    assert x[2:5].compute() == [2, 3, 4]
    stop = delayed(4)
    assert x[1:stop].compute() == [1, 2, 3]


def test_nout_iteration_and_unpacking():
    q, r = delayed(divmod, nout=2)(17, 5)
    assert shoal.compute(q, r) == (3, 2)
    assert len(delayed(divmod, nout=2)(1, 1)) == 2
    with pytest.raises(TypeError, match="nout"):
        list(delayed(divmod)(1, 1))
    with pytest.raises(TypeError, match="nout"):
        len(delayed(divmod)(1, 1))


def test_bool_and_mutation_are_refused_with_advice():
    x = delayed(1)
    with pytest.raises(TypeError, match="compute"):
        bool(x)
    with pytest.raises(TypeError, match="immutable"):
        x.attr = 1
    with pytest.raises(TypeError, match="immutable"):
        x[0] = 1


def test_calling_a_delayed_value():
    fn = delayed(lambda: operator.add)()
    assert fn(1, 2).compute() == 3


def test_decorator_with_options():
    @delayed(pure=True)
    def square(x):
        return x * x

    assert square(3).key == square(3).key
    assert square(4).compute() == 16


def test_traverse_false_keeps_containers_opaque():
    x = delayed(inc)(1)
    held = delayed([x], traverse=False).compute()
    assert isinstance(held[0], Delayed)


def test_compute_traverses_nested_structures():
    x = delayed(inc)(1)
    out = shoal.compute({"a": [x, (x, 3)], "b": {x}}, 5)
    assert out == ({"a": [2, (2, 3)], "b": {2}}, 5)
    assert shoal.compute([x], traverse=False)[0][0] is x


def test_persist_holds_results():
    calls = []

    def record(v):
        calls.append(v)
        return v + 1

    x = delayed(record)(1)
    y = x.persist(scheduler="sync")
    assert y.key == x.key and len(y.dask) == 1
    assert (y * 10).compute(scheduler="sync") == 20
    assert calls == [1]
    (z,) = shoal.persist(x + 1, scheduler="sync")
    assert z.compute() == 3


def test_optimize_returns_equivalent_collection():
    x = delayed(inc)(1)
    (y,) = shoal.optimize(x + 1)
    assert y.compute() == 3


def test_is_dask_collection():
    assert shoal.is_dask_collection(delayed(1))
    assert not shoal.is_dask_collection(1)
    assert not shoal.is_dask_collection(Delayed)


def test_delayed_pickles():
    x = delayed(add)(delayed(inc)(1), 3)
    y = pickle.loads(pickle.dumps(x))
    assert y.key == x.key and y.compute() == 5


def test_error_in_task_raises_original_with_key():
    def fail(v):
        raise KeyError(f"no {v}")

    x = delayed(fail)(1, dask_key_name="failing-task")
    with pytest.raises(KeyError, match="no 1") as info:
        (x + 1).compute()
    assert "failing-task" in "\n".join(info.value.__notes__)


def test_annotations_attach_to_tasks():
    with shoal.annotate(retries=2):
        with shoal.annotate(priority=3):
            x = delayed(inc)(1)
    assert x.annotations == {"retries": 2, "priority": 3}
    assert delayed(inc)(1).annotations is None
    with pytest.raises(TypeError, match="priority"):
        with shoal.annotate(priority="high"):
            pass


def test_dataclass_and_custom_objects_pass_through():
    @dataclass
    class Point:
        x: int
        y: int

    p = delayed(Point)(1, delayed(inc)(1))
    assert p.compute() == Point(1, 2)
    assert p.x.compute() == 1


def test_delayed_module_is_callable_after_import():
    import shoal.delayed as module

    assert module(inc)(1).compute() == 2
    assert shoal.delayed(inc)(2).compute() == 3


def test_graph_construction_is_linear_in_chain_length():
    x = delayed(0)
    for _ in range(5000):
        x = delayed(inc)(x)
    assert len(x.dask) == 5001
    assert x.compute(scheduler="sync") == 5000
    assert x.compute(scheduler="threads") == 5000


def test_progress_of_delayed_callbacks_count_tasks():
    seen = []
    parts = [delayed(inc)(i) for i in range(10)]
    with Callback(posttask=lambda key, result, graph, state, wid: seen.append(key)):
        delayed(sum)(parts).compute()
    assert len(seen) == 11
