"""Worker specs of a SpecCluster: checking them, groups (one entry, several workers), capacity, Nanny flags.

A worker spec may hold ``"group": [suffix, ...]``: the entry stands for one
worker per suffix, named ``f"{name}{suffix}"`` (Dask's convention, e.g.
``{"cls": Nanny, "options": {...}, "group": ["-0", "-1"]}`` gives workers
``name-0`` and ``name-1``). :class:`~shoal.distributed.SpecCluster` counts,
scales and retires entries: removing an entry stops all its workers, and
asking to stop one worker of a group stops its whole entry, as in Dask.

- For the built-in classes (``WorkerServer``, ``Nanny``), each of which runs
  one worker, the cluster starts one object per suffix with the entry's
  options and holds them as one :class:`WorkerGroup`.
- Any other class is called once for the entry, with ``name=`` the entry's
  name, and must start the suffixed workers itself (Dask's contract).

Capacity (:func:`entry_capacity`) is what one more entry of the template
brings, for ``scale(memory=, cores=)`` and ``adapt(minimum_cores=, ...)``:
Dask reads it from the template's options (``nthreads``/``ncores``/
``threads``/``cores``, ``memory_limit``/``memory``); for a group of a
built-in class shoal multiplies it by the group's size, since each member
gets those options (Dask leaves groups to the class).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from shoal.distributed.memory import parse_memory_limit
from shoal.distributed.nanny import Nanny
from shoal.distributed.server.worker import WorkerServer
from shoal.utils import parse_bytes

__all__ = ["WorkerGroup", "check_group", "check_spec", "entry_capacity", "is_builtin", "member_names", "nanny_args",
           "tls_args"]

_THREAD_OPTIONS = ("nthreads", "ncores", "threads", "cores")
_MEMORY_OPTIONS = ("memory_limit", "memory")


def check_group(where: str, group: Any) -> list[str]:
    """The suffixes of a spec's ``"group"``, checked: a non-empty list of distinct strings."""
    if isinstance(group, str) or not isinstance(group, (list, tuple)) or not group \
            or not all(isinstance(s, str) for s in group):
        raise TypeError(f"SpecCluster: 'group' of {where} must be a non-empty list of name suffixes such as "
                        f"['-0', '-1'], got {group!r}.")
    if len(set(group)) != len(group):
        raise ValueError(f"SpecCluster: 'group' of {where} repeats a suffix: {list(group)}; each worker of the "
                         f"group needs its own name.")
    return list(group)


def member_names(name: str, spec: dict[str, Any]) -> list[str]:
    """The names the workers of one spec entry register with."""
    group = spec.get("group")
    return [name] if group is None else [f"{name}{suffix}" for suffix in group]


def check_spec(where: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or "cls" not in spec or not callable(spec["cls"]):
        raise TypeError(f"SpecCluster: {where} must be a dict like {{'cls': WorkerServer, 'options': {{...}}}}, "
                        f"got {spec!r}.")
    options = spec.get("options", {})
    if not isinstance(options, dict):
        raise TypeError(f"SpecCluster: 'options' of {where} must be a dict, got {type(options).__name__}.")
    out = {"cls": spec["cls"], "options": dict(options)}
    if spec.get("group") is not None:
        out["group"] = check_group(where, spec["group"])
    return out


def nanny_args(name: str, options: dict[str, Any]) -> tuple[list[str], int, dict[str, str]]:
    """``shoal worker`` flags, memory limit and environment for a Nanny spec's Dask-style ``options``."""
    known = {"nthreads", "memory_limit", "resources", "death_timeout", "env", "name"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"SpecCluster: Nanny worker {name!r} got options {unknown} it does not understand; "
                        f"it takes {sorted(known)}.")
    memory = parse_memory_limit(options.get("memory_limit") or 0, int(options.get("nthreads", 1)))
    args = ["--nthreads", str(options.get("nthreads", 1)), "--name", str(options.get("name", name)),
            "--memory-limit", str(memory), "--death-timeout", str(options.get("death_timeout", 10)),
            "--no-reconnect", "--log-level", "error"]
    for res, amount in (options.get("resources") or {}).items():
        args += ["--resources", f"{res}={amount}"]
    # As LocalCluster: worker processes import what this process can, so functions defined in modules on our
    # sys.path unpickle there too.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.update({str(k): str(v) for k, v in (options.get("env") or {}).items()})
    return args, memory, env


def is_builtin(cls: Any) -> bool:
    """Whether ``cls`` runs one worker that the cluster configures itself (WorkerServer, Nanny)."""
    return isinstance(cls, type) and issubclass(cls, (WorkerServer, Nanny))


def tls_args(name: str, security: Any) -> list[str]:
    """``shoal worker`` TLS flags for a Nanny worker from a Security holding worker certificates."""
    if not (security.tls_ca_file and security.tls_worker_cert):
        raise ValueError(f"SpecCluster: Nanny worker {name!r} joins a tls:// scheduler but its security has no "
                         f"{'tls_ca_file' if not security.tls_ca_file else 'tls_worker_cert'}. Pass a Security with "
                         f"tls_ca_file, tls_worker_cert (and tls_worker_key), or Security.temporary().")
    args = ["--tls-ca-file", security.tls_ca_file, "--tls-cert", security.tls_worker_cert]
    if security.tls_worker_key:
        args += ["--tls-key", security.tls_worker_key]
    return args


def entry_capacity(spec: dict[str, Any] | None, kind: str, builtin: bool) -> float:
    """Threads (``kind="cores"``) or bytes (``kind="memory"``) one entry like ``spec`` brings.

    Raises ValueError, saying what the template lacks, when it cannot tell.
    """
    names = _THREAD_OPTIONS if kind == "cores" else _MEMORY_OPTIONS
    call = "scale(cores=...)" if kind == "cores" else "scale(memory=...)"
    if spec is None:
        raise ValueError(f"SpecCluster.{call} needs a template for new workers: pass worker={{'cls': ..., "
                         f"'options': {{...}}}} to SpecCluster.")
    options = spec["options"]
    found = next((n for n in names if options.get(n) not in (None, 0, "0", "auto")), None)
    if found is None:
        if kind == "cores" and builtin:
            value: float = 1  # WorkerServer and Nanny default to one thread
        else:
            raise ValueError(f"SpecCluster.{call} needs the template's options to give {names[0]!r} (how much "
                             f"one worker has), got options {sorted(options)}.")
    elif kind == "cores":
        value = float(options[found])
    else:
        raw = options[found]
        value = float(parse_bytes(raw) if isinstance(raw, str) else raw)
    if value <= 0:
        raise ValueError(f"SpecCluster.{call}: the template's {found!r} must be positive, got {options[found]!r}.")
    if builtin:
        value *= len(spec.get("group") or [None])
    return value


class WorkerGroup:
    """The workers of one group entry of a built-in class, started and closed together.

    ``status`` is ``"running"`` only while every member is up (``is_up``), so that the cluster replaces
    the whole entry when one member is gone.
    """

    def __init__(self, members: dict[str, Any], is_up: Callable[[Any], bool]) -> None:
        #: Worker objects by the name they register with.
        self.members = members
        self._is_up = is_up

    async def start(self) -> WorkerGroup:
        await asyncio.gather(*(m.start() for m in self.members.values()))
        return self

    async def close(self) -> None:
        await asyncio.gather(*(m.close() for m in self.members.values()), return_exceptions=True)

    @property
    def status(self) -> str:
        return "running" if all(self._is_up(m) for m in self.members.values()) else "closed"

    def __repr__(self) -> str:
        return f"<WorkerGroup {sorted(self.members)} {self.status}>"
