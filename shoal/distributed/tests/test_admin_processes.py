"""restart and upload_file with worker processes: new pids, and a module that exists only on the workers."""

from __future__ import annotations

import importlib
import os
import time
import uuid

import pytest

from shoal.distributed import Client


def pid():
    return os.getpid()


@pytest.fixture
def proc_client():
    with Client(n_workers=2, threads_per_worker=1, processes=True, set_as_default=False, memory_limit=0) as c:
        yield c


def test_restart_replaces_worker_processes(proc_client):
    c = proc_client
    before = set(c.run(pid).values())
    x = c.submit(pid, pure=False)
    assert x.result() in before
    c.restart()
    deadline = time.monotonic() + 10
    while x.status != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert x.status == "cancelled"
    after = set(c.run(pid).values())
    assert len(after) == 2 and not after & before
    assert c.submit(pid, pure=False).result() in after


def test_upload_file_reaches_worker_processes(proc_client, tmp_path):
    name = f"shoal_remote_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.py"
    path.write_text("VALUE = 7\n\ndef triple(x):\n    return 3 * x\n")
    proc_client.upload_file(str(path))
    os.remove(path)  # the workers use their own copies
    with pytest.raises(ImportError):
        importlib.import_module(name)
    out = proc_client.submit(lambda v: importlib.import_module(name).triple(v), 5).result()
    assert out == 15
    assert set(proc_client.run(lambda: importlib.import_module(name).VALUE).values()) == {7}
