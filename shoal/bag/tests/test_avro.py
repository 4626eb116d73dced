"""read_avro and Bag.to_avro against records written and read with fastavro directly."""

from __future__ import annotations

import gzip
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.bag as db
from shoal.delayed import Delayed

fastavro = pytest.importorskip("fastavro")

SCHEMA = {
    "name": "Event",
    "namespace": "test",
    "type": "record",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "double"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "int"}},
        {"name": "blob", "type": "bytes"},
    ],
}


def make_records(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "id": i,
            "name": f"event-{i}",
            "score": None if i % 3 == 0 else i / 7,
            "tags": [f"t{j}" for j in range(i % 4)],
            "attrs": {f"k{j}": i * j for j in range(i % 3)},
            "blob": bytes([i % 256]) * (i % 5),
        }
        for i in range(start, start + n)
    ]


def write_avro(path, records, **kwargs) -> str:
    with open(path, "wb") as f:
        fastavro.writer(f, SCHEMA, records, **kwargs)
    return str(path)


def read_with_fastavro(path) -> list[dict]:
    with open(path, "rb") as f:
        return list(fastavro.reader(f))


def files_in(folder) -> list[str]:
    return sorted(os.listdir(folder))


# --------------------------------------------------------------------------- read_avro


def test_read_glob_one_partition_per_file(tmp_path) -> None:
    expected = []
    for part in range(3):
        records = make_records(20, start=100 * part)
        expected.extend(records)
        write_avro(tmp_path / f"part-{part}.avro", records)
    (tmp_path / "notes.txt").write_text("not avro\n")
    b = db.read_avro(str(tmp_path / "*.avro"))
    assert b.npartitions == 3
    assert b.compute() == expected
    assert b.pluck("id").sum().compute() == sum(r["id"] for r in expected)
    assert b.take(2) == tuple(expected[:2])


def test_read_list_of_paths_and_pathlike(tmp_path) -> None:
    first = write_avro(tmp_path / "a.avro", make_records(3))
    second = write_avro(tmp_path / "b.avro", make_records(2, start=3))
    assert db.read_avro([second, first]).compute() == make_records(2, start=3) + make_records(3)
    assert db.read_avro(tmp_path / "a.avro", blocksize=None).compute() == make_records(3)


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard", "lz4"])
def test_blocksize_splits_on_block_boundaries(tmp_path, codec) -> None:
    records = make_records(500)
    path = write_avro(tmp_path / "big.avro", records, codec=codec, sync_interval=200)
    size = os.path.getsize(path)
    b = db.read_avro(path, blocksize=size // 7)
    assert b.npartitions >= 7
    parts = [p.compute() for p in b.to_delayed()]
    assert sum(1 for p in parts if p) >= 5  # many blocks: the records really are spread out
    assert [r for p in parts for r in p] == records
    assert db.read_avro(path, blocksize=None).npartitions == 1
    assert db.read_avro(path).npartitions == 1  # smaller than the default 100 MB


@given(
    n=st.integers(0, 120),
    sync_interval=st.integers(1, 400),
    blocksize=st.integers(1, 3000),
    codec=st.sampled_from(["null", "deflate", "snappy", "zstandard", "lz4"]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_blocksize_reads_every_record_once_in_order(tmp_path, n, sync_interval, blocksize, codec) -> None:
    records = make_records(n)
    path = write_avro(tmp_path / "h.avro", records, codec=codec, sync_interval=sync_interval)
    assert db.read_avro(path, blocksize=blocksize).compute() == read_with_fastavro(path) == records


def test_sync_marker_inside_record_bytes_does_not_split_a_block(tmp_path) -> None:
    marker = bytes(range(100, 116))
    records = make_records(60)
    for r in records[::2]:
        r["blob"] = b"xx" + marker + b"yy"  # the marker appears inside the data, not only between blocks
    path = write_avro(tmp_path / "m.avro", records, sync_marker=marker, sync_interval=300)
    for blocksize in (17, 64, 150, 333, 1000):
        assert db.read_avro(path, blocksize=blocksize).compute() == records


def test_header_larger_than_first_read(tmp_path) -> None:
    records = make_records(30)
    path = write_avro(tmp_path / "meta.avro", records, metadata={"note": "x" * 20000}, sync_interval=100)
    assert db.read_avro(path, blocksize=5000).compute() == records


def test_empty_file_has_no_records(tmp_path) -> None:
    path = write_avro(tmp_path / "empty.avro", [])
    assert db.read_avro(path).compute() == []
    assert db.read_avro(path, blocksize=10).compute() == []


def test_gzip_compressed_files(tmp_path) -> None:
    plain = write_avro(tmp_path / "plain.avro", make_records(10))
    with open(plain, "rb") as src, gzip.open(tmp_path / "c.avro.gz", "wb") as dst:
        dst.write(src.read())
    b = db.read_avro(str(tmp_path / "c.avro.gz"), blocksize=None, compression="gzip")
    assert b.compute() == make_records(10)
    assert db.read_avro(str(tmp_path / "c.avro.gz"), blocksize=None, compression="infer").compute() == make_records(10)
    with pytest.raises(ValueError, match="cannot cut compressed files.*blocksize=None"):
        db.read_avro(str(tmp_path / "c.avro.gz"), compression="gzip")


def test_read_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no files matching"):
        db.read_avro(str(tmp_path / "*.avro"))
    (tmp_path / "fake.avro").write_text("hello, world\n")
    b = db.read_avro(str(tmp_path / "fake.avro"), blocksize=4)
    with pytest.raises(ValueError, match="fake.avro.*is not an Avro object container file"):
        b.compute()
    with pytest.raises(ValueError, match="blocksize >= 1"):
        db.read_avro(str(tmp_path / "fake.avro"), blocksize=0)


def test_read_errors_name_the_file_and_partition(tmp_path) -> None:
    (tmp_path / "fake.avro").write_bytes(b"not avro at all")
    with pytest.raises(ValueError) as info:
        db.read_avro(str(tmp_path / "fake.avro")).compute()
    assert any("partition 0" in note and "fake.avro" in note for note in info.value.__notes__)


def test_fused_with_later_steps(tmp_path) -> None:
    records = make_records(200)
    path = write_avro(tmp_path / "f.avro", records, sync_interval=500)
    b = db.read_avro(path, blocksize=2000).filter(lambda r: r["id"] % 2).pluck("name")
    assert b.compute() == [r["name"] for r in records if r["id"] % 2]


# --------------------------------------------------------------------------- to_avro


def test_to_avro_round_trip(tmp_path) -> None:
    records = make_records(50)
    b = db.from_sequence(records, npartitions=4)
    paths = b.to_avro(str(tmp_path / "out-*.avro"), SCHEMA)
    assert [os.path.basename(p) for p in paths] == [f"out-{i}.avro" for i in range(4)]
    parts = [p.compute() for p in b.to_delayed()]
    assert [read_with_fastavro(p) for p in paths] == parts
    assert db.read_avro(str(tmp_path / "out-*.avro")).compute() == records
    assert files_in(tmp_path) == [f"out-{i}.avro" for i in range(4)]  # no temporary files left


@pytest.mark.parametrize("codec", ["deflate", "snappy", "zstandard", "lz4"])
def test_to_avro_codec_metadata_and_sync_interval(tmp_path, codec) -> None:
    records = make_records(300)
    b = db.from_sequence(records, npartitions=2)
    paths = b.to_avro(str(tmp_path / "*.avro"), SCHEMA, codec=codec, sync_interval=100,
                      metadata={"origin": "shoal"})
    for path in paths:
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            assert reader.codec == codec
            assert reader.metadata["origin"] == "shoal"
            assert reader.writer_schema["name"] == "test.Event"
    assert db.read_avro(str(tmp_path / "*.avro"), blocksize=1000).compute() == records
    assert db.read_avro(str(tmp_path / "*.avro"), blocksize=1000).npartitions > 2


def test_to_avro_name_function_and_list_of_paths(tmp_path) -> None:
    b = db.from_sequence(make_records(6), npartitions=3)
    paths = b.to_avro(str(tmp_path / "n-*.avro"), SCHEMA, name_function=lambda i: f"{i:03d}")
    assert [os.path.basename(p) for p in paths] == ["n-000.avro", "n-001.avro", "n-002.avro"]
    targets = [str(tmp_path / "sub" / f"{name}.avro") for name in "xyz"]
    assert b.to_avro(targets, SCHEMA) == targets
    assert [r for t in targets for r in read_with_fastavro(t)] == make_records(6)
    with pytest.raises(ValueError, match="2 paths for a bag with 3 partitions"):
        b.to_avro(targets[:2], SCHEMA)


def test_to_avro_compute_false_returns_delayed(tmp_path) -> None:
    b = db.from_sequence(make_records(8), npartitions=2)
    values = b.to_avro(str(tmp_path / "*.avro"), SCHEMA, compute=False)
    assert len(values) == 2 and all(isinstance(v, Delayed) for v in values)
    assert files_in(tmp_path) == []
    assert values[1].compute() == [str(tmp_path / "1.avro")]
    assert files_in(tmp_path) == ["1.avro"]
    assert read_with_fastavro(tmp_path / "1.avro") == make_records(4, start=4)


def test_to_avro_empty_partition_writes_a_valid_empty_file(tmp_path) -> None:
    b = db.from_sequence(make_records(10), npartitions=2).filter(lambda r: r["id"] < 5)
    paths = b.to_avro(str(tmp_path / "*.avro"), SCHEMA)
    assert read_with_fastavro(paths[1]) == []
    assert db.read_avro(str(tmp_path / "*.avro")).compute() == make_records(5)


def test_to_avro_non_record_schema(tmp_path) -> None:
    paths = db.from_sequence([1, 2, 3], npartitions=1).to_avro(str(tmp_path / "*.avro"), "long")
    assert read_with_fastavro(paths[0]) == [1, 2, 3]


@pytest.mark.parametrize(
    ("schema", "error", "match"),
    [
        ({"type": "record", "fields": []}, ValueError, "could not use the schema.*'name'"),
        ({"name": "T", "type": "recrd", "fields": []}, ValueError, "could not use the schema.*recrd"),
        ({"name": "T", "type": "record", "fields": [{"name": "a", "type": "integer"}]}, ValueError, "integer"),
        (5, TypeError, "schema as a dict.*got int"),
    ],
)
def test_bad_schema_raises_at_build_time_and_writes_nothing(tmp_path, schema, error, match) -> None:
    b = db.from_sequence(make_records(4), npartitions=2)
    with pytest.raises(error, match=match):
        b.to_avro(str(tmp_path / "*.avro"), schema)
    with pytest.raises(error, match=match):
        b.to_avro(str(tmp_path / "*.avro"), schema, compute=False)
    assert files_in(tmp_path) == []


def test_bad_options_raise_at_build_time(tmp_path) -> None:
    b = db.from_sequence(make_records(4), npartitions=2)
    with pytest.raises(ValueError, match="codec='bogus'"):
        b.to_avro(str(tmp_path / "*.avro"), SCHEMA, codec="bogus")
    with pytest.raises(TypeError, match="not str to str.*'n': 1"):
        b.to_avro(str(tmp_path / "*.avro"), SCHEMA, metadata={"n": 1})
    with pytest.raises(ValueError, match="sync_interval"):
        b.to_avro(str(tmp_path / "*.avro"), SCHEMA, sync_interval=0)
    assert files_in(tmp_path) == []


def test_record_not_matching_schema_leaves_no_target_file(tmp_path) -> None:
    records = make_records(6)
    del records[4]["name"]
    b = db.from_sequence(records, npartitions=2)
    with pytest.raises(ValueError, match="name") as info:
        b.to_avro(str(tmp_path / "*.avro"), SCHEMA)
    notes = "\n".join(info.value.__notes__)
    assert "record 1 of the partition" in notes and "partition 1" in notes
    assert "1.avro" not in files_in(tmp_path)
    assert not [f for f in files_in(tmp_path) if "shoal-tmp" in f]


def test_round_trip_through_an_fsspec_filesystem() -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    records = make_records(120)
    try:
        db.from_sequence(records, npartitions=3).to_avro("memory://avro-test/*.avro", SCHEMA, sync_interval=300)
        assert sorted(fs.ls("/avro-test", detail=False)) == [f"/avro-test/{i}.avro" for i in range(3)]
        b = db.read_avro("memory://avro-test/*.avro", blocksize=700)
        assert b.npartitions > 3
        assert b.compute() == records
    finally:
        fs.rm("/avro-test", recursive=True)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_other_schedulers(tmp_path, scheduler) -> None:
    records = make_records(40)
    db.from_sequence(records, npartitions=2).to_avro(str(tmp_path / "*.avro"), SCHEMA, scheduler=scheduler)
    b = db.read_avro(str(tmp_path / "*.avro"), blocksize=500)
    assert b.compute(scheduler=scheduler) == records
