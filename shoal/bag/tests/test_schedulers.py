"""Pipelines on the sync, threads and processes schedulers, and the errors users see from them."""

from __future__ import annotations

import json
import operator
import threading
from collections import Counter

import pytest

import shoal
import shoal.bag as db
from shoal import config
from shoal.bag._core import Bag


def is_big(record: dict) -> bool:
    return record["count"] > 10


@pytest.fixture
def data_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    records = []
    for part in range(4):
        lines = []
        for i in range(40):
            record = {"count": (i * 5 + part) % 17, "user": f"u{i % 6}", "text": f"a b{i % 3} c{part}"}
            records.append(record)
            lines.append(json.dumps(record))
        (folder / f"part-{part}.json").write_text("\n".join(lines) + "\n")
    return folder, records


def pipelines(folder) -> dict[str, object]:
    b = db.read_text(str(folder / "*.json")).map(json.loads)
    return {
        "users": b.filter(is_big).pluck("user").frequencies().topk(3, key=1),
        "words": b.pluck("text").str.split().flatten().frequencies(sort=True),
        "count": b.count(),
        "mean": b.pluck("count").mean(),
        "groups": b.pluck("user").groupby(len, npartitions=2).map(lambda kv: (kv[0], len(kv[1]))),
    }


def expected_results(records) -> dict[str, object]:
    users = Counter(r["user"] for r in records if r["count"] > 10)
    words = Counter(w for r in records for w in r["text"].split())
    return {
        "users": sorted(users.items(), key=lambda kv: kv[1], reverse=True)[:3],
        "words": sorted(words.items(), key=lambda kv: kv[1], reverse=True),
        "count": len(records),
        "mean": sum(r["count"] for r in records) / len(records),
        "groups": [(2, len(records))],
    }


@pytest.mark.parametrize("scheduler", ["sync", "threads", "processes"])
def test_pipelines_on_every_scheduler(data_folder, scheduler: str, tmp_path) -> None:
    folder, records = data_folder
    expected = expected_results(records)
    with config.set({"temporary-directory": str(tmp_path)}):
        results = shoal.compute(pipelines(folder), scheduler=scheduler)[0]
    assert results["users"] == expected["users"]
    assert [c for _, c in results["words"]] == [c for _, c in expected["words"]]
    assert dict(results["words"]) == dict(expected["words"])
    assert results["count"] == expected["count"]
    assert results["mean"] == pytest.approx(expected["mean"])
    assert results["groups"] == expected["groups"]


def test_default_scheduler_is_processes() -> None:
    assert Bag.__dask_scheduler__ is shoal.local.selection.SCHEDULER_NAMES["processes"]


@pytest.fixture
def bad_json_folder(tmp_path):
    """``data/part-3.json`` has a broken line; with blocksize=100 it falls in partition 6.

    Files 0-2 are 200 bytes (two blocks each, as Dask cuts them), file 3 is 174 bytes (one block).
    """
    folder = tmp_path / "data"
    folder.mkdir()
    for part in range(4):
        lines = [json.dumps({"i": i, "pad": "x" * 30}) for i in range(4)]
        if part == 3:
            lines[3] = '{"i": 3, "pad": broken}'
        (folder / f"part-{part}.json").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("scheduler", ["sync", "threads", "processes"])
def test_json_error_names_partition_and_path(bad_json_folder, scheduler: str) -> None:
    b = db.read_text(str(bad_json_folder / "*.json"), blocksize=100).map(json.loads)
    sizes = [d.compute(scheduler="sync") for d in db.read_text(str(bad_json_folder / "*.json"),
                                                                  blocksize=100).to_delayed()]
    bad = next(i for i, lines in enumerate(sizes) if any("broken" in line for line in lines))
    assert bad == 6
    with pytest.raises(json.JSONDecodeError) as info:
        b.pluck("i").sum().compute(scheduler=scheduler)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "partition 6" in notes
    assert "part-3.json" in notes
    assert "map-loads" in notes


def test_json_error_without_blocksize_names_file_partition(bad_json_folder) -> None:
    b = db.read_text(str(bad_json_folder / "*.json")).map(json.loads).filter(bool)
    with pytest.raises(json.JSONDecodeError) as info:
        b.compute()
    notes = "\n".join(info.value.__notes__)
    assert "partition 3" in notes and "part-3.json" in notes


def test_errors_keep_their_type_and_name_the_partition() -> None:
    def fail_on_13(x: int) -> int:
        if x == 13:
            raise KeyError("thirteen")
        return x

    b = db.from_sequence(range(20), npartitions=4).map(fail_on_13)
    with pytest.raises(KeyError, match="thirteen") as info:
        b.sum().compute()
    assert "partition 2" in "\n".join(info.value.__notes__)


def test_unpicklable_function_under_processes_suggests_threads() -> None:
    lock = threading.Lock()

    def locked_double(x: int) -> int:
        with lock:
            return 2 * x

    b = db.from_sequence(range(4), npartitions=2).map(locked_double)
    with pytest.raises(Exception, match=r"(?s)(pickle|serializ).*scheduler=.threads.") as info:
        b.compute(scheduler="processes")
    assert "lock" in str(info.value).lower()
    assert b.compute(scheduler="threads") == [0, 2, 4, 6]


def test_threads_scheduler_map_with_items() -> None:
    b = db.from_sequence(range(100), npartitions=8)
    shifted = b.map(operator.sub, b.min()).filter(lambda x: x % 3 == 0)
    assert shifted.sum().compute(scheduler="threads") == sum(x for x in range(100) if x % 3 == 0)
