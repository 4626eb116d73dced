"""client.run on in-process workers: the calling thread is not inside a task afterwards."""

from __future__ import annotations


def test_client_run_on_an_in_process_worker_leaves_the_caller_outside_any_task():
    import asyncio

    from shoal.distributed import Client, get_worker

    def address_of_worker():
        return get_worker().address

    async def main() -> tuple[list[str], bool]:
        async with Client(processes=False, n_workers=1, asynchronous=True, dashboard_address=None,
                          set_as_default=False) as c:
            ran = await c.run(address_of_worker)
            try:
                get_worker()  # the workers share this thread's loop, but this code is not inside a task
            except ValueError:
                return list(ran.values()), True
            return list(ran.values()), False

    addresses, outside = asyncio.run(asyncio.wait_for(main(), 30))
    assert len(addresses) == 1 and outside
