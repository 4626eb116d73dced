"""Readers and writers over fsspec URLs: ``http://`` from a local server, ``s3://`` from moto's server."""

from __future__ import annotations

import functools
import http.server
import threading

import numpy as np
import pandas as pd
import pytest

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(0, 100, n), "b": rng.normal(size=n).round(4),
                         "s": rng.choice(["x", "yy", "zzz"], n)})


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with ``Range: bytes=a-b`` support, which fsspec uses to read byte blocks."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def send_head(self):
        range_header = self.headers.get("Range")
        if not range_header:
            return super().send_head()
        path = self.translate_path(self.path)
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by copyfile's caller
        except OSError:
            self.send_error(404)
            return None
        size = f.seek(0, 2)
        start_text, _, stop_text = range_header.split("=", 1)[1].partition("-")
        start = int(start_text)
        stop = min(int(stop_text) if stop_text else size - 1, size - 1)
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{stop}/{size}")
        self.send_header("Content-Length", str(stop - start + 1))
        self.end_headers()
        return _Limited(f, stop - start + 1)


class _Limited:
    def __init__(self, f, n):
        self.f, self.left = f, n

    def read(self, size=-1):
        size = self.left if size < 0 else min(size, self.left)
        data = self.f.read(size)
        self.left -= len(data)
        return data

    def close(self):
        self.f.close()


@pytest.fixture
def http_dir(tmp_path):
    handler = functools.partial(_RangeHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_read_csv_over_http(http_dir):
    root, url = http_dir
    frames = [_frame(300, i) for i in range(2)]
    for i, pdf in enumerate(frames):
        pdf.to_csv(root / f"f{i}.csv", index=False)
    whole = sd.read_csv([f"{url}/f0.csv", f"{url}/f1.csv"], blocksize=None)
    assert whole.npartitions == 2
    assert_eq(whole, pd.concat(frames, ignore_index=True), check_index=False)
    blocks = sd.read_csv(f"{url}/f0.csv", blocksize=2000)
    assert blocks.npartitions > 1
    assert_eq(blocks, frames[0], check_index=False)
    assert_eq(blocks.a.sum(), frames[0].a.sum())
    with pytest.raises(FileNotFoundError):
        sd.read_csv(f"{url}/missing.csv")


@pytest.fixture(scope="module")
def s3():
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint,
                                                                        "region_name": "eu-west-1"},
               "skip_instance_cache": True}
    import s3fs

    fs = s3fs.S3FileSystem(**options)
    fs.mkdir("shoal-test")
    try:
        yield fs, options
    finally:
        server.stop()


def test_csv_on_s3(s3):
    fs, options = s3
    frames = [_frame(200, i) for i in range(3)]
    for i, pdf in enumerate(frames):
        with fs.open(f"shoal-test/csv/f{i}.csv", "wb") as f:
            f.write(pdf.to_csv(index=False).encode())
    df = sd.read_csv("s3://shoal-test/csv/*.csv", blocksize=1500, storage_options=options)
    assert df.npartitions > 3
    assert_eq(df, pd.concat(frames, ignore_index=True), check_index=False)
    out = sd.from_pandas(frames[0], npartitions=2).to_csv("s3://shoal-test/out-csv/*.csv", index=False,
                                                        storage_options=options)
    assert len(out) == 2
    assert sorted(fs.ls("shoal-test/out-csv")) == ["shoal-test/out-csv/0.csv", "shoal-test/out-csv/1.csv"]
    assert_eq(sd.read_csv("s3://shoal-test/out-csv/*.csv", storage_options=options), frames[0], check_index=False)


def test_parquet_on_s3(s3):
    fs, options = s3
    pdf = _frame(400, 7)
    sd.from_pandas(pdf, npartitions=4).to_parquet("s3://shoal-test/pq", storage_options=options)
    assert len(fs.ls("shoal-test/pq")) == 4
    df = sd.read_parquet("s3://shoal-test/pq", storage_options=options)
    assert df.npartitions == 4
    assert_eq(df, pdf, check_divisions=False)
    filtered = sd.read_parquet("s3://shoal-test/pq", columns=["a", "s"], filters=[("b", ">", 0.5)],
                               storage_options=options)
    assert_eq(filtered, pdf[pdf.b > 0.5][["a", "s"]], check_divisions=False)


def test_json_on_s3(s3):
    fs, options = s3
    pdf = _frame(100, 3)
    sd.from_pandas(pdf, npartitions=2).to_json("s3://shoal-test/js/*.json", storage_options=options)
    back = sd.read_json("s3://shoal-test/js/*.json", storage_options=options)
    assert_eq(back, pdf, check_index=False)
