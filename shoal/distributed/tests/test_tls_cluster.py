"""LocalCluster and Client over TLS with Security.temporary(): real worker processes, foreign clients refused."""

from __future__ import annotations

import pytest

from shoal.distributed import Client, LocalCluster, Security
from shoal.distributed.comm.tcp import TLSError

pytest.importorskip("cryptography")


def inc(x):
    return x + 1


def test_local_cluster_over_tls():
    security = Security.temporary()
    with LocalCluster(n_workers=2, threads_per_worker=1, security=security, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        with Client(cluster, set_as_default=False) as client:
            assert all(w.startswith("tls://") for w in client.nthreads())
            futures = client.map(inc, range(50))
            assert client.gather(futures) == list(range(1, 51))
            # results move between workers over tls too
            assert client.submit(sum, futures, workers=[sorted(client.nthreads())[0]]).result(timeout=30) == 1275
        with pytest.raises(ValueError, match="ssl_context"):  # no certificate at all
            Client(cluster.scheduler_address, set_as_default=False, timeout=3)
        with pytest.raises(TLSError, match="certificate verify failed"):  # one from another CA
            Client(cluster.scheduler_address, security=Security.temporary(), set_as_default=False, timeout=3)


def test_client_starts_a_tls_cluster():
    with Client(n_workers=1, threads_per_worker=1, security=Security.temporary(), dashboard_address=None,
                set_as_default=False) as client:
        assert client.scheduler_address.startswith("tls://")
        assert client.submit(inc, 1).result(timeout=30) == 2


def test_security_needs_worker_certificates():
    sec = Security.temporary()
    partial = Security(tls_ca_file=sec.tls_ca_file, tls_client_cert=sec.tls_client_cert,
                       tls_client_key=sec.tls_client_key)
    with pytest.raises(ValueError, match="tls_worker_cert"):
        LocalCluster(n_workers=0, security=partial)
