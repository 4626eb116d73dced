"""Client.forward_logging: records logged in tasks on worker processes are re-emitted by the client's loggers."""

from __future__ import annotations

import logging
import time

import pytest

from shoal.distributed import Client, LocalCluster

LOGGER = "shoal_s7_user"


def _log(message, level):
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)  # the worker-side logger lets everything through; the plugin's level filters
    logger.log(level, "%s from a task", message)
    return message


def _forwarded(caplog, message):
    return [r for r in caplog.records if r.name == LOGGER and r.getMessage() == f"{message} from a task"]


def _wait_for(caplog, message, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not _forwarded(caplog, message):
        if time.monotonic() > deadline:
            raise AssertionError(f"{message!r} was not forwarded within {timeout}s")
        time.sleep(0.05)
    return _forwarded(caplog, message)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
        yield c


def test_records_from_tasks_reach_the_client_logger(cluster, caplog):
    with Client(cluster, set_as_default=False) as client, caplog.at_level(logging.DEBUG, logger=LOGGER):
        (address,) = client.nthreads()
        assert client.forward_logging(LOGGER, level=logging.INFO) == {address: None}
        assert client.submit(_log, "info", logging.INFO).result(timeout=30) == "info"
        (record,) = _wait_for(caplog, "info")
        assert record.levelno == logging.INFO and record.worker == address
        # Below the forwarding level: handled on the worker, not forwarded. An error after it proves the order.
        client.submit(_log, "debug", logging.DEBUG).result(timeout=30)
        client.submit(_log, "error", logging.ERROR).result(timeout=30)
        _wait_for(caplog, "error")
        assert not _forwarded(caplog, "debug")
        client.unforward_logging(LOGGER)
        client.submit(_log, "after", logging.ERROR).result(timeout=30)
        client.submit(_log, "after", logging.ERROR, pure=False).result(timeout=30)
        assert not _forwarded(caplog, "after")


def test_client_side_level_decides_what_is_emitted(cluster, caplog):
    with Client(cluster, set_as_default=False) as client, caplog.at_level(logging.ERROR, logger=LOGGER):
        client.forward_logging()  # the root logger: every logger
        try:
            client.submit(_log, "warning", logging.WARNING).result(timeout=30)
            client.submit(_log, "critical", logging.CRITICAL).result(timeout=30)
            _wait_for(caplog, "critical")
            assert not _forwarded(caplog, "warning")  # the client's logger is at ERROR
        finally:
            client.unforward_logging()
