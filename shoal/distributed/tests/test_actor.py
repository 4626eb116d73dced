"""Actors: ``submit(cls, actor=True)`` keeps an object on a worker; the proxy calls its methods there.

Every test drives an actor and a plain local instance of the same class with the same calls and compares
what the calls return and the final state, in-process and with worker processes.
"""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shoal.distributed import Actor, ActorFuture, BaseActorFuture, Client, LocalCluster


class Account:
    """Order-sensitive state: a balance and the history of operations."""

    kind = "account"

    def __init__(self, owner: str, balance: int = 0) -> None:
        self.owner = owner
        self.balance = balance
        self.history: list[tuple[str, int]] = []

    def deposit(self, amount: int) -> int:
        self.balance += amount
        self.history.append(("deposit", amount))
        return self.balance

    def withdraw(self, amount: int) -> int:
        if amount > self.balance:
            raise ValueError(f"insufficient funds: {self.balance} < {amount}")
        self.balance -= amount
        self.history.append(("withdraw", amount))
        return self.balance

    def slow_increment(self) -> int:
        # Read, pause, write: two calls running at once would lose an update.
        value = self.balance
        time.sleep(0.002)
        self.balance = value + 1
        return threading.get_ident()

    def total_via_self(self, proxy: Any) -> int:
        # A method calling its own actor runs directly instead of waiting behind itself.
        return proxy.deposit(0).result(timeout=5) + proxy.balance

    @property
    def doubled(self) -> int:
        return 2 * self.balance

    async def async_deposit(self, amount: int) -> int:
        await asyncio.sleep(0)
        return self.deposit(amount)


def _operations() -> list[tuple[str, int]]:
    return [("deposit", 50), ("withdraw", 20), ("deposit", 7), ("withdraw", 30), ("deposit", 1)]


def _apply(account: Any, ops: list[tuple[str, int]]) -> list[int]:
    """Run ``ops`` on a plain Account or an Actor of one (then each call gives a future)."""
    out = []
    for name, amount in ops:
        got = getattr(account, name)(amount)
        out.append(got.result(timeout=30) if isinstance(got, BaseActorFuture) else got)
    return out


def _deposit_in_task(account: Any, amount: int) -> int:
    return account.deposit(amount).result(timeout=30)


def _actors_held(dask_worker: Any) -> int:
    return len(dask_worker.actors.instances)


@pytest.fixture(scope="module", params=["threads", "processes"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    processes = request.param == "processes"
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=processes, dashboard_address=None,
                      validate=True) as cluster, \
            Client(cluster, set_as_default=False) as c:
        yield c


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_calls_match_a_plain_object(client: Client) -> None:
    future = client.submit(Account, "ann", 10, actor=True)
    actor = future.result(timeout=30)
    assert isinstance(actor, Actor)
    local = Account("ann", 10)
    ops = _operations()
    assert _apply(actor, ops) == _apply(local, ops)
    assert (actor.balance, actor.history, actor.owner, actor.kind, actor.doubled) == \
        (local.balance, local.history, local.owner, local.kind, local.doubled)
    call = actor.deposit(5)
    assert isinstance(call, ActorFuture) and isinstance(call, BaseActorFuture)
    assert call.result(timeout=30) == local.deposit(5)
    assert call.done() and repr(call) == "<ActorFuture>"
    assert actor.history == local.history


def test_method_errors_reach_the_caller(client: Client) -> None:
    actor = client.submit(Account, "bob", 5, actor=True).result(timeout=30)
    with pytest.raises(ValueError, match="insufficient funds: 5 < 9"):
        actor.withdraw(9).result(timeout=30)
    assert actor.balance == 5 and actor.history == []  # the failed call changed nothing
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        actor.nope  # noqa: B018
    with pytest.raises(AttributeError, match="call that method"):
        actor.balance = 3
    with pytest.raises(TypeError, match="expects a callable"):
        client.submit(42, actor=True)


def test_calls_run_one_at_a_time_in_the_actors_thread(client: Client) -> None:
    actor = client.submit(Account, "cy", actor=True).result(timeout=30)
    calls: list[ActorFuture[int]] = []
    lock = threading.Lock()

    def fire() -> None:
        for _ in range(15):
            future = actor.slow_increment()
            with lock:
                calls.append(future)

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    idents = {c.result(timeout=30) for c in calls}
    assert actor.balance == 60  # no update lost: the calls did not overlap
    assert len(idents) == 1  # all in the actor's own thread


def test_actor_passed_to_tasks(client: Client) -> None:
    future = client.submit(Account, "dee", actor=True)
    actor = future.result(timeout=30)
    local = Account("dee")
    # Passed as the proxy, and as the future (the task receives the proxy either way).
    by_proxy = client.map(_deposit_in_task, [actor] * 5, range(1, 6), pure=False)
    by_future = client.map(_deposit_in_task, [future] * 5, range(10, 15), pure=False)
    client.gather(by_proxy + by_future)
    for amount in [*range(1, 6), *range(10, 15)]:
        local.deposit(amount)
    assert actor.balance == local.balance
    assert sorted(actor.history) == sorted(local.history)


def test_map_makes_independent_actors(client: Client) -> None:
    futures = client.map(Account, ["a", "b", "c"], [1, 2, 3], actor=True)
    assert len({f.key for f in futures}) == 3
    actors = client.gather(futures)
    for i, actor in enumerate(actors):
        actor.deposit(10 * i).result(timeout=30)
    assert [a.balance for a in actors] == [1, 12, 23]
    assert [a.owner for a in actors] == ["a", "b", "c"]
    # Equal calls still make distinct actors (actor=True is never pure).
    again = client.submit(Account, "a", 1, actor=True)
    assert again.key not in {f.key for f in futures}


def test_async_method_and_self_call(client: Client) -> None:
    actor = client.submit(Account, "eve", 3, actor=True).result(timeout=30)
    assert actor.async_deposit(4).result(timeout=30) == 7
    assert actor.total_via_self(actor).result(timeout=30) == 14
    assert actor.history == [("deposit", 4), ("deposit", 0)]


def test_instance_lives_until_released(client: Client) -> None:
    def held() -> int:
        return sum(client.run(_actors_held).values())

    before = held()
    future = client.submit(Account, "fay", actor=True)
    actor = future.result(timeout=30)
    del future  # the proxy alone keeps it alive
    actor.deposit(1).result(timeout=30)
    assert held() == before + 1
    assert actor.balance == 1
    del actor
    _wait_for(lambda: held() == before)


def test_proxy_pickles_and_tokenizes(client: Client) -> None:
    actor = client.submit(Account, "gus", actor=True).result(timeout=30)
    copy = pickle.loads(pickle.dumps(actor))
    assert (copy.key, repr(copy)) == (actor.key, repr(actor))
    assert "deposit" in dir(copy) and "owner" in dir(copy)
    from shoal.graph.tokenize import tokenize

    assert tokenize(copy) == tokenize(actor)


def test_asynchronous_client() -> None:
    async def main() -> None:
        async with Client(processes=False, n_workers=1, asynchronous=True, set_as_default=False) as c:
            actor = await c.submit(Account, "hal", 1, actor=True)
            local = Account("hal", 1)
            for name, amount in _operations():
                assert await getattr(actor, name)(amount) == getattr(local, name)(amount)
            assert await actor.async_deposit(2) == local.deposit(2)
            assert await actor.balance == local.balance
            assert await actor.history == local.history

    asyncio.run(asyncio.wait_for(main(), 60))


class Buffer:
    """Defines names the worker's size estimate probes (``nbytes``, ``memory_usage``, ``index``)."""

    index = 0

    def __init__(self) -> None:
        self.data = bytearray(1000)

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def memory_usage(self, deep: bool = False, index: bool = True) -> int:
        return len(self.data)

    def size(self) -> int:
        return self.nbytes


def test_size_probes_stay_local_and_released_actor_is_reported(client: Client) -> None:
    buffer = client.submit(Buffer, actor=True).result(timeout=30)
    assert buffer.size().result(timeout=30) == 1000
    assert buffer.nbytes < 1000  # the proxy's size, answered locally
    assert buffer.memory_usage().result(timeout=30) == 1000

    def ask_missing(dask_worker: Any) -> Any:
        return dask_worker.actors.attribute("no-such-actor", "n")

    reply = next(iter(client.run(ask_missing).values()))
    assert reply["ok"] is False
    from shoal.distributed.server.actors import _unpack

    with pytest.raises(ValueError, match="it was released"):
        raise _unpack(reply["exception"])
