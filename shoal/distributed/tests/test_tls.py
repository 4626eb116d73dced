"""TLS comms: ``tls://`` addresses, :class:`Security`, and refusing peers without the right certificate."""

from __future__ import annotations

import asyncio
import datetime
import select
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shoal.distributed import Client, CommClosedError, Security
from shoal.distributed.comm import connect, listen
from shoal.distributed.comm.tcp import TLSError
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _make_ca(directory: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _make_cert(directory: Path, name: str, ca_key: ec.EllipticCurvePrivateKey,
               ca_cert: x509.Certificate) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_path)
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert, ca_path = _make_ca(d, "ca")
    other_key, other_cert, other_path = _make_ca(d, "other-ca")
    out = {"ca": str(ca_path), "other_ca": str(other_path)}
    for role in ("scheduler", "worker", "client"):
        out[f"{role}_cert"], out[f"{role}_key"] = _make_cert(d, role, ca_key, ca_cert)
    out["rogue_cert"], out["rogue_key"] = _make_cert(d, "rogue", other_key, other_cert)
    return out


def _server_security(certs: dict[str, str]) -> Security:
    return Security(tls_ca_file=certs["ca"], tls_scheduler_cert=certs["scheduler_cert"],
                    tls_scheduler_key=certs["scheduler_key"], tls_worker_cert=certs["worker_cert"],
                    tls_worker_key=certs["worker_key"], require_encryption=True)


def _run(coro: object, timeout: float = 30.0) -> object:
    async def bounded() -> object:
        return await asyncio.wait_for(coro, timeout)  # type: ignore[arg-type]

    return asyncio.run(bounded())


async def _cluster(certs: dict[str, str]) -> tuple[SchedulerServer, WorkerServer]:
    sec = _server_security(certs)
    scheduler = await SchedulerServer("tls://127.0.0.1:0", security=sec).start()
    worker = WorkerServer(scheduler.address, nthreads=2, listen_address="tls://127.0.0.1:0", security=sec,
                          death_timeout=10)
    await worker.start()
    return scheduler, worker


def test_client_with_good_certificate_computes(certs: dict[str, str]) -> None:
    async def main() -> tuple[int, str, str]:
        scheduler, worker = await _cluster(certs)
        try:
            sec = Security(tls_ca_file=certs["ca"], tls_client_cert=certs["client_cert"],
                           tls_client_key=certs["client_key"], require_encryption=True)
            async with Client(scheduler.address, asynchronous=True, security=sec, set_as_default=False,
                              timeout=10) as client:
                futures = client.map(lambda i: i * i, range(10))
                total = await client.submit(sum, futures)
            return total, scheduler.address, worker.address
        finally:
            await worker.close()
            await scheduler.close()

    total, saddr, waddr = _run(main())  # type: ignore[misc]
    assert total == sum(i * i for i in range(10))
    assert saddr.startswith("tls://127.0.0.1:") and waddr.startswith("tls://127.0.0.1:")


@pytest.mark.parametrize("kind", ["rogue_cert", "no_cert", "other_ca"])
def test_client_without_right_certificate_is_refused(certs: dict[str, str], kind: str) -> None:
    if kind == "rogue_cert":
        # Trusts the right CA, but its own certificate comes from another: the scheduler refuses it.
        sec = Security(tls_ca_file=certs["ca"], tls_client_cert=certs["rogue_cert"], tls_client_key=certs["rogue_key"])
    elif kind == "no_cert":
        sec = Security(tls_ca_file=certs["ca"])
    else:
        # Trusts another CA: the client refuses the scheduler's certificate.
        sec = Security(tls_ca_file=certs["other_ca"], tls_client_cert=certs["rogue_cert"],
                       tls_client_key=certs["rogue_key"])

    async def main() -> None:
        scheduler, worker = await _cluster(certs)
        try:
            with pytest.raises(CommClosedError, match="TLS") as info:
                await Client(scheduler.address, asynchronous=True, security=sec, set_as_default=False, timeout=10)
            assert isinstance(info.value, TLSError)
        finally:
            await worker.close()
            await scheduler.close()

    _run(main())


def test_plain_tcp_client_cannot_talk_to_tls_scheduler(certs: dict[str, str]) -> None:
    async def main() -> None:
        scheduler, worker = await _cluster(certs)
        try:
            plain = scheduler.address.replace("tls://", "tcp://")
            comm = await connect(plain, timeout=5)
            await comm.write({"op": "identity"})
            with pytest.raises(CommClosedError):
                await asyncio.wait_for(comm.read(), 10)
            comm.abort()
        finally:
            await worker.close()
            await scheduler.close()

    _run(main())


def test_require_encryption_refuses_tcp_addresses(certs: dict[str, str]) -> None:
    args = _server_security(certs).get_connection_args("worker")

    async def main() -> None:
        with pytest.raises(ValueError, match="tls://"):
            await connect("tcp://127.0.0.1:1", timeout=1, **args)

        async def handler(comm: object) -> None:
            pass

        with pytest.raises(ValueError, match="tls://"):
            await listen("tcp://127.0.0.1:0", handler, **_server_security(certs).get_listen_args("scheduler"))

    _run(main())


def test_tls_address_without_ssl_context_is_a_clear_error() -> None:
    async def handler(comm: object) -> None:
        pass

    async def main() -> None:
        with pytest.raises(ValueError, match="ssl_context"):
            await listen("tls://127.0.0.1:0", handler)
        with pytest.raises(ValueError, match="ssl_context"):
            await connect("tls://127.0.0.1:1", timeout=1)

    _run(main())


def test_security_validates_its_files(certs: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tls_ca_file"):
        Security(tls_ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="tls_scheduler_cert"):
        Security(tls_ca_file=certs["ca"]).get_listen_args("scheduler")
    ctx = Security(tls_ca_file=certs["ca"], tls_client_cert=certs["client_cert"],
                   tls_client_key=certs["client_key"]).get_connection_args("client")["ssl_context"]
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED
    assert "require_encryption=False" in repr(Security())


def _read_address(proc: subprocess.Popen[str], prefix: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line.split(prefix, 1)[1].strip()
    raise AssertionError(f"no {prefix!r} line within {timeout} s")


def test_cli_scheduler_and_worker_over_tls(certs: dict[str, str]) -> None:
    def start(*argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "shoal.cli", *argv, "--tls-ca-file", certs["ca"]],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    procs = [start("scheduler", "--port", "0", "--no-dashboard", "--tls-cert", certs["scheduler_cert"],
                   "--tls-key", certs["scheduler_key"])]
    try:
        address = _read_address(procs[0], "Scheduler at:")
        assert address.startswith("tls://")
        procs.append(start("worker", address, "--nthreads", "1", "--tls-cert", certs["worker_cert"],
                           "--tls-key", certs["worker_key"]))
        assert _read_address(procs[1], "Worker at:").startswith("tls://")
        sec = Security(tls_ca_file=certs["ca"], tls_client_cert=certs["client_cert"],
                       tls_client_key=certs["client_key"], require_encryption=True)
        with Client(address, security=sec, set_as_default=False, timeout=20) as client:
            assert client.submit(lambda x: x + 1, 41).result(timeout=20) == 42
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
            if p.stdout is not None:
                p.stdout.close()
