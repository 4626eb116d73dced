from __future__ import annotations

import io
import logging
import re
import time

import numpy as np
import pytest

import shoal.array as da
from shoal.distributed import Client, performance_report, progress, wait
from shoal.distributed.diagnostics import prefix_summary


def slow_inc(x: int) -> int:
    time.sleep(0.02)
    return x + 1


def boom(x: int) -> int:
    raise ValueError(f"boom {x}")


@pytest.fixture(scope="module")
def client():
    with Client(processes=False, n_workers=2, threads_per_worker=2, set_as_default=False) as c:
        yield c


def last_frame(text: str) -> str:
    return text.rstrip("\n").split("\r")[-1]


def test_progress_text_bar_reaches_100(client, capsys):
    futures = client.map(slow_inc, range(12))
    progress(futures, interval=0.01, timeout=60)
    out = capsys.readouterr().out
    final = last_frame(out)
    assert "100% Completed" in final
    assert "| 12 / 12 |" in final
    assert final.startswith("[" + "#" * 40 + "]")
    assert out.endswith("\n")
    assert client.gather(futures) == [x + 1 for x in range(12)]


def test_progress_counts_are_monotonic_and_match(client):
    futures = client.map(slow_inc, range(100, 110))
    buf = io.StringIO()
    progress(*futures, out=buf, interval=0.005, timeout=60)
    counts = [int(m.group(1)) for m in re.finditer(r"\| (\d+) / 10 \|", buf.getvalue())]
    assert counts and counts == sorted(counts) and counts[-1] == 10


def test_progress_persisted_collection(client):
    x = da.ones((40, 40), chunks=(10, 10)) + 1
    x = client.persist(x)
    buf = io.StringIO()
    progress(x, out=buf, timeout=60)
    assert "| 16 / 16 |" in last_frame(buf.getvalue())
    np.testing.assert_array_equal(client.compute(x).result(), np.ones((40, 40)) + 1)


def test_progress_reports_errors(client):
    futures = client.map(boom, range(3))
    buf = io.StringIO()
    progress(futures, out=buf, timeout=60)
    final = last_frame(buf.getvalue())
    assert "100% Completed" in final and "3 erred" in final


def test_progress_rejects_unpersisted_collection():
    with pytest.raises(ValueError, match="persist it first"):
        progress(da.ones(4, chunks=2))
    with pytest.raises(ValueError, match="expects futures"):
        progress([1, 2])


def test_performance_report(client, tmp_path):
    client.gather(client.map(slow_inc, range(500, 505)))  # before the block: must not be in the report
    path = tmp_path / "report.html"
    with performance_report(filename=path, client=client):
        x = da.arange(1000, chunks=100)
        total = client.compute((x * 2).sum()).result()
        client.gather(client.map(slow_inc, range(8), key=[f"myinc-{i}" for i in range(8)]))
    assert total == np.arange(1000).sum() * 2
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<svg" in page and page.count("<rect") >= 8 + 10
    row = re.search(r"myinc</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert row is not None and row.groups() == ("8", "0")
    assert "slow_inc" not in page  # only work inside the block
    assert "Bandwidth" in page


def test_profile_aggregates_task_stream(client):
    start = time.time()
    fs = client.map(slow_inc, range(6), key=[f"prof-{i}" for i in range(6)])
    wait(fs, timeout=60)
    prof = client.profile(start=start)
    assert prof["prof"]["count"] == 6
    assert prof["prof"]["total"] >= prof["prof"]["max"] > 0
    assert client.profile(start=start, key="prof") == {"prof": prof["prof"]}
    assert client.profile(start=start, workers=["tcp://nowhere:1"]) == {}
    stream = client.get_task_stream(start=start)
    assert prefix_summary(stream)["prof"]["count"] == 6


def test_get_worker_logs(client):
    def log_on_worker(x):
        logging.getLogger("shoal.distributed.worker").warning("hello from task %d", x)
        return x

    client.submit(log_on_worker, 7).result()
    logs = client.get_worker_logs()
    assert set(logs) == set(client.scheduler_info()["workers"])
    assert any(("WARNING", "hello from task 7") == rec for recs in logs.values() for rec in recs)
    one = next(iter(logs))
    assert list(client.get_worker_logs(n=1, workers=one)) == [one]
    assert len(client.get_worker_logs(n=1, workers=one)[one]) <= 1


def test_get_task_stream_collects_the_tasks_of_the_block(client):
    from shoal.distributed import get_task_stream

    client.gather(client.map(lambda v: v - 1, range(3)))  # before the block: not collected
    with get_task_stream(client=client) as ts:
        futures = client.map(lambda v: v * 7, range(6), key=[f"stream-{i}" for i in range(6)])
        assert client.gather(futures) == [v * 7 for v in range(6)]
    keys = {rec["key"] for rec in ts.data}
    assert {f"stream-{i}" for i in range(6)} <= keys
    assert all(rec["stop"] >= ts.start and rec["status"] == "OK" for rec in ts.data)
    assert len(ts.data) == 6
    with pytest.raises(NotImplementedError, match="performance_report"):
        get_task_stream(client=client, plot=True)
