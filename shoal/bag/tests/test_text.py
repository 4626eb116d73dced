"""read_text and to_textfiles on real files, and the seed pipeline over JSON lines."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.bag as db


def write(path, text: str, encoding: str = "utf-8", opener=open) -> str:
    with opener(path, "wt", encoding=encoding, newline="") as f:
        f.write(text)
    return str(path)


def plain_lines(path, encoding: str = "utf-8", newline: str | None = None) -> list[str]:
    with open(path, encoding=encoding, newline=newline) as f:
        return list(f)


@pytest.fixture
def json_folder(tmp_path):
    """Three files of JSON lines, as in the seed example ``read_text('data/*.json')``."""
    folder = tmp_path / "data"
    folder.mkdir()
    records = []
    for part in range(3):
        lines = []
        for i in range(25):
            record = {"id": part * 100 + i, "count": (i * 7 + part) % 23, "text": f"word{i % 4} text {part}"}
            records.append(record)
            lines.append(json.dumps(record))
        (folder / f"part-{part}.json").write_text("\n".join(lines) + "\n")
    (folder / "notes.txt").write_text("not json\n")
    return folder, records


def test_seed_pipeline(json_folder, monkeypatch) -> None:
    folder, records = json_folder
    monkeypatch.chdir(folder.parent)
    b = db.read_text("data/*.json").map(json.loads)
    assert b.npartitions == 3
    assert b.take(2) == tuple(records[:2])
    assert b.filter(lambda r: r["count"] > 10).take(2) == tuple([r for r in records if r["count"] > 10][:2])
    assert b.map(lambda r: r["text"]).take(2) == tuple(r["text"] for r in records[:2])
    assert b.count().compute() == len(records)
    assert b.pluck("count").sum().compute() == sum(r["count"] for r in records)
    assert b.pluck("text").str.split().flatten().frequencies(sort=True).topk(3, key=1).compute() == sorted(
        _word_counts(records).items(), key=lambda kv: kv[1], reverse=True
    )[:3]


def _word_counts(records):
    counts: dict[str, int] = {}
    for r in records:
        for w in r["text"].split():
            counts[w] = counts.get(w, 0) + 1
    return counts


def test_read_text_paths_globs_and_lists(json_folder) -> None:
    folder, _ = json_folder
    files = sorted(folder.glob("*.json"))
    expected = [line for p in files for line in plain_lines(p)]
    assert db.read_text(str(folder / "*.json")).compute() == expected
    assert db.read_text([str(p) for p in files]).compute() == expected
    assert db.read_text(files[0]).compute() == plain_lines(files[0])
    assert db.read_text(str(folder / "*.json"), files_per_partition=2).npartitions == 2
    assert db.read_text(str(folder / "*.json"), files_per_partition=2).compute() == expected
    assert db.read_text(f"file://{folder}/*.txt").compute() == ["not json\n"]
    delayed_parts = db.read_text(str(folder / "*.json"), collection=False)
    assert [d.compute() for d in delayed_parts] == [plain_lines(p) for p in files]


def test_read_text_missing_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no files matching"):
        db.read_text(str(tmp_path / "nothing-*.json"))


@pytest.mark.parametrize(("suffix", "opener"), [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_read_text_compressed(tmp_path, suffix: str, opener) -> None:
    text = "".join(f"line {i}\n" for i in range(200))
    path = write(tmp_path / f"a.txt{suffix}", text, opener=opener)
    assert db.read_text(path).compute() == text.splitlines(keepends=True)
    explicit = tmp_path / "noext"
    with opener(explicit, "wt") as f:
        f.write(text)
    name = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}[suffix]
    assert db.read_text(str(explicit), compression=name).compute() == text.splitlines(keepends=True)
    with pytest.raises(ValueError, match="cannot cut compressed files"):
        db.read_text(path, blocksize=100)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12),
             max_size=30),
    st.integers(1, 64),
    st.booleans(),
)
def test_read_text_blocksize_keeps_every_line_once(tmp_path, lines: list[str], blocksize: int,
                                                   final_newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    path = write(tmp_path / "blocks.txt", text)
    b = db.read_text(path, blocksize=blocksize)
    size = os.path.getsize(path)
    assert b.npartitions == max(1, size // blocksize)  # Dask: size // blocksize equal blocks, at least one
    assert b.compute() == plain_lines(path)


def test_read_text_blocksize_string_and_several_files(tmp_path) -> None:
    paths = [write(tmp_path / f"{i}.txt", "".join(f"{i}-{j}\n" for j in range(300))) for i in range(3)]
    b = db.read_text(str(tmp_path / "*.txt"), blocksize="0.5kB")
    assert b.npartitions == sum(os.path.getsize(p) // 500 for p in paths) > 3
    assert b.compute() == [line for p in paths for line in plain_lines(p)]
    with pytest.raises(ValueError, match="not both"):
        db.read_text(paths, blocksize=10, files_per_partition=2)


def test_read_text_include_path(tmp_path) -> None:
    a = write(tmp_path / "a.txt", "1\n2\n")
    b = write(tmp_path / "b.txt", "3\n")
    got = db.read_text(str(tmp_path / "*.txt"), include_path=True).compute()
    assert [line for line, _ in got] == ["1\n", "2\n", "3\n"]
    assert [os.path.normpath(p) for _, p in got] == [a, a, b]
    blocks = db.read_text(str(tmp_path / "*.txt"), include_path=True, blocksize=2).compute()
    assert [(line, os.path.normpath(p)) for line, p in blocks] == [("1\n", a), ("2\n", a), ("3\n", b)]


@pytest.mark.parametrize("delimiter", [None, "\n", "\r\n", "\r", "|", ";;"])
@pytest.mark.parametrize("blocksize", [None, 7])
def test_read_text_linedelimiter(tmp_path, delimiter: str | None, blocksize: int | None) -> None:
    text = "a\r\nbb\ncc|dd;;e\rf\r\n;;g"
    path = write(tmp_path / "lines.txt", text)
    got = db.read_text(path, linedelimiter=delimiter, blocksize=blocksize).compute()
    if delimiter in (None, "\n", "\r\n", "\r"):
        assert got == plain_lines(path, newline=delimiter)
    else:
        pieces = text.split(delimiter)
        assert got == [p + delimiter for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


def test_read_text_linedelimiter_empty_is_an_error(tmp_path) -> None:
    path = write(tmp_path / "x.txt", "a\n")
    with pytest.raises(ValueError, match="linedelimiter"):
        db.read_text(path, linedelimiter="")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16"])
def test_read_text_encoding(tmp_path, encoding: str) -> None:
    text = "caf\u00e9\nna\u00efve\n\u00fcber\n"
    path = write(tmp_path / "enc.txt", text, encoding=encoding)
    assert db.read_text(path, encoding=encoding).compute() == text.splitlines(keepends=True)
    if encoding == "utf-16":
        with pytest.raises(ValueError, match="encodings that write newlines as single bytes"):
            db.read_text(path, encoding=encoding, blocksize=4)
    else:
        assert db.read_text(path, encoding=encoding, blocksize=4).compute() == text.splitlines(keepends=True)


def test_read_text_decode_errors(tmp_path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(UnicodeDecodeError) as info:
        db.read_text(str(path)).compute()
    assert "partition 0" in "\n".join(info.value.__notes__)
    assert db.read_text(str(path), errors="replace").compute() == ["ok\n", "\ufffd\ufffd\n"]


def test_read_text_memory_filesystem() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/shoal-bag-test/a.txt", b"x\ny\n")
    fs.pipe("/shoal-bag-test/b.txt", b"z\n")
    try:
        assert db.read_text("memory://shoal-bag-test/*.txt").compute() == ["x\n", "y\n", "z\n"]
        assert db.read_text("memory://shoal-bag-test/*.txt", blocksize=2).compute() == ["x\n", "y\n", "z\n"]
    finally:
        fs.rm("/shoal-bag-test", recursive=True)


def test_to_textfiles_glob_and_roundtrip(tmp_path) -> None:
    lines = [f"row {i}" for i in range(10)]
    b = db.from_sequence(lines, npartitions=3)
    paths = b.to_textfiles(str(tmp_path / "out" / "*.txt"))
    assert [os.path.basename(p) for p in paths] == ["0.txt", "1.txt", "2.txt"]
    assert (tmp_path / "out" / "0.txt").read_text() == "row 0\nrow 1\nrow 2\nrow 3"
    assert db.read_text(str(tmp_path / "out" / "*.txt")).str.rstrip("\n").compute() == lines
    assert sorted(os.listdir(tmp_path / "out")) == ["0.txt", "1.txt", "2.txt"]


def test_to_textfiles_name_function_directory_and_list(tmp_path) -> None:
    b = db.from_sequence(["a", "b", "c"], npartitions=3)
    paths = b.to_textfiles(str(tmp_path / "part-*.txt"), name_function=lambda i: f"{i:03d}", last_endline=True)
    assert [os.path.basename(p) for p in paths] == ["part-000.txt", "part-001.txt", "part-002.txt"]
    assert (tmp_path / "part-001.txt").read_text() == "b\n"
    folder = tmp_path / "dir"
    b.to_textfiles(str(folder))
    assert sorted(os.listdir(folder)) == ["0.part", "1.part", "2.part"]
    explicit = [str(tmp_path / n) for n in ("x.txt", "y.txt", "z.txt")]
    assert b.to_textfiles(explicit) == explicit
    with pytest.raises(ValueError, match="one path per partition"):
        b.to_textfiles([str(tmp_path / "only.txt")])


@pytest.mark.parametrize(("suffix", "opener"), [(".gz", gzip.open), (".bz2", bz2.open)])
def test_to_textfiles_compression(tmp_path, suffix: str, opener) -> None:
    lines = [f"line {i}" for i in range(20)]
    b = db.from_sequence(lines, npartitions=2)
    paths = b.to_textfiles(str(tmp_path / f"*.txt{suffix}"))
    with opener(paths[0], "rt") as f:
        assert f.read() == "\n".join(lines[:10])
    assert db.read_text(str(tmp_path / f"*.txt{suffix}")).str.strip().compute() == lines
    plain = b.to_textfiles(str(tmp_path / "raw-*.dat"), compression="gzip")
    with gzip.open(plain[1], "rt") as f:
        assert f.read() == "\n".join(lines[10:])


def test_to_textfiles_lazy_and_bad_elements(tmp_path) -> None:
    b = db.from_sequence(["a", 1, "c"], npartitions=1)
    with pytest.raises(TypeError, match=r"found a int.*map\(json.dumps\)"):
        b.to_textfiles(str(tmp_path / "*.txt"))
    assert os.listdir(tmp_path) == []
    good = db.from_sequence(["a", "b"], npartitions=2)
    parts = good.to_textfiles(str(tmp_path / "*.txt"), compute=False)
    assert not (tmp_path / "0.txt").exists()
    assert [p.compute() for p in parts] == [[str(tmp_path / "0.txt")], [str(tmp_path / "1.txt")]]
    assert (tmp_path / "1.txt").read_text() == "b"


def test_to_textfiles_encoding(tmp_path) -> None:
    db.from_sequence(["caf\u00e9"], npartitions=1).to_textfiles(str(tmp_path / "*.txt"), encoding="latin-1")
    assert (tmp_path / "0.txt").read_bytes() == "caf\u00e9".encode("latin-1")
    assert db.read_text(str(tmp_path / "*.txt"), encoding="latin-1").compute() == ["caf\u00e9"]
