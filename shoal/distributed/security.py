"""TLS settings for clients, schedulers and workers.

A :class:`Security` names the certificate files each role uses and turns
them into :class:`ssl.SSLContext` objects for the ``tls://`` comm backend.
Every side verifies its peer against ``tls_ca_file`` (mutual TLS), so a
client without a certificate signed by that CA is refused by the scheduler.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Security"]

_ROLES = ("client", "scheduler", "worker")


@dataclass
class Security:
    """Certificates for TLS between clients, the scheduler and workers.

    Parameters
    ----------
    tls_ca_file : str, optional
        PEM file with the certificate authority every peer's certificate must be signed by.
    tls_client_cert, tls_client_key : str, optional
        The client's certificate and private key (the key may be inside the certificate file).
    tls_scheduler_cert, tls_scheduler_key, tls_worker_cert, tls_worker_key : str, optional
        The same for the scheduler and for workers.
    require_encryption : bool
        Refuse plain ``tcp://`` addresses.
    tls_min_version : ssl.TLSVersion
        The oldest TLS version accepted.

    Examples
    --------
    >>> sec = Security(require_encryption=True)
    >>> sec.get_connection_args("client")
    {'ssl_context': None, 'require_encryption': True}
    """

    tls_ca_file: str | None = None
    tls_client_cert: str | None = None
    tls_client_key: str | None = None
    tls_scheduler_cert: str | None = None
    tls_scheduler_key: str | None = None
    tls_worker_cert: str | None = None
    tls_worker_key: str | None = None
    require_encryption: bool = False
    tls_min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("tls_") and f.name != "tls_min_version" and value is not None:
                if not os.path.isfile(value):
                    raise FileNotFoundError(f"Security({f.name}={value!r}): no such file; pass the path of a PEM "
                                            f"file.")

    def __repr__(self) -> str:
        # Only which files are set: the paths can be long and the repr shows up in logs.
        shown = [f"{f.name}=..." for f in fields(self) if f.name.startswith("tls_") and f.name != "tls_min_version"
                 and getattr(self, f.name) is not None]
        return f"Security({', '.join([*shown, f'require_encryption={self.require_encryption}'])})"

    @classmethod
    def temporary(cls) -> Security:
        """Throw-away certificates for every role (needs ``cryptography``), with encryption required.

        Only processes given this object (or its files) can join: pass it to
        ``LocalCluster(security=...)`` and ``Client(security=...)``. The files
        are removed when this interpreter exits.
        """
        from shoal.distributed._temporary_certs import temporary_certificates

        paths = temporary_certificates()
        return cls(tls_ca_file=paths["ca"], require_encryption=True,
                   **{f"tls_{role}_{part}": paths[part] for role in _ROLES for part in ("cert", "key")})

    def _cert(self, role: str) -> tuple[str | None, str | None]:
        if role not in _ROLES:
            raise ValueError(f"Unknown role {role!r}; use one of {_ROLES}.")
        return getattr(self, f"tls_{role}_cert"), getattr(self, f"tls_{role}_key")

    def _context(self, role: str, purpose: ssl.Purpose) -> ssl.SSLContext | None:
        cert, key = self._cert(role)
        if self.tls_ca_file is None and cert is None:
            return None
        if self.tls_ca_file is None:
            raise ValueError(f"Security: tls_{role}_cert is set but tls_ca_file is not; TLS needs the CA that "
                             f"signed the peers' certificates.")
        ctx = ssl.create_default_context(purpose, cafile=self.tls_ca_file)
        ctx.minimum_version = self.tls_min_version
        # Peers are identified by the CA's signature, not by host name: workers listen on whatever address they got.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
        if cert is not None:
            ctx.load_cert_chain(cert, key)
        elif purpose is ssl.Purpose.CLIENT_AUTH:
            raise ValueError(f"Security: a {role} serving TLS needs tls_{role}_cert (and tls_{role}_key).")
        return ctx

    def get_connection_args(self, role: str) -> dict[str, Any]:
        """Keyword arguments for :func:`~shoal.distributed.comm.connect` made by ``role``."""
        return {"ssl_context": self._context(role, ssl.Purpose.SERVER_AUTH),
                "require_encryption": self.require_encryption}

    def get_listen_args(self, role: str) -> dict[str, Any]:
        """Keyword arguments for :func:`~shoal.distributed.comm.listen` by ``role``."""
        return {"ssl_context": self._context(role, ssl.Purpose.CLIENT_AUTH),
                "require_encryption": self.require_encryption}
