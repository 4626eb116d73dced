"""The ``shoal`` command line: ``shoal scheduler`` and ``shoal worker ADDRESS``.

Both print the address they serve at and shut down cleanly on SIGINT or
SIGTERM. ``shoal-scheduler`` and ``shoal-worker`` are the same commands.
A worker runs under a nanny by default (``--no-nanny`` turns it off); only
such a worker gets a fresh process from ``client.restart``.

Dask's options mean the same here: ``--memory-limit`` (bytes, ``4GiB``, a
fraction like ``0.5``, ``auto``), ``--nworkers N --name qw`` (workers
``qw-0`` ... ``qw-{N-1}``), ``--worker-port`` (a port, or ``first:last`` for
several workers), ``--local-directory`` (where spilled results and scratch
files go), ``--lifetime`` with ``--lifetime-stagger`` and
``--lifetime-restart`` (retire the worker, moving its results to the others,
after that long), ``--pid-file``, and for the scheduler ``--idle-timeout``
(exit once no task has been waiting or running for that long) and
``--pid-file``. ``--dashboard-address`` and ``--no-dashboard`` of a worker
are accepted and ignored: a shoal worker serves no dashboard of its own (the
scheduler's shows every worker).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

__all__ = ["main", "scheduler_main", "worker_main"]


def _tls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tls-ca-file", default=None, help="CA certificate (PEM); turns on tls:// with mutual TLS")
    parser.add_argument("--tls-cert", default=None, help="this server's certificate (PEM)")
    parser.add_argument("--tls-key", default=None, help="this server's private key (PEM), if not in --tls-cert")


def _security(args: argparse.Namespace, role: str) -> object:
    """A Security from the --tls-* options, or None when they are not given."""
    if not (args.tls_ca_file or args.tls_cert or args.tls_key):
        return None
    if not (args.tls_ca_file and args.tls_cert):
        raise SystemExit("shoal: TLS needs both --tls-ca-file and --tls-cert (and --tls-key unless the key is "
                         "inside the certificate file).")
    from shoal.distributed.security import Security

    return Security(tls_ca_file=args.tls_ca_file, require_encryption=True,
                    **{f"tls_{role}_cert": args.tls_cert, f"tls_{role}_key": args.tls_key})


def _scheduler_parser(parser: argparse.ArgumentParser) -> None:
    _tls_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8786, help="TCP port (default 8786; 0 picks a free port)")
    parser.add_argument("--dashboard-address", default=":8787",
                        help="where the dashboard listens (default :8787 on --host; a busy port falls back to a free "
                             "one); 'none' turns it off")
    parser.add_argument("--no-dashboard", dest="dashboard_address", action="store_const", const="none",
                        help="do not serve the dashboard")
    parser.add_argument("--scheduler-file", default=None,
                        help="write the scheduler's address as JSON to this file (for Client(scheduler_file=...))")
    parser.add_argument("--idle-timeout", default=None,
                        help="exit after no task has waited or run for this long, e.g. 60, '1h' (default: never)")
    parser.add_argument("--pid-file", default="", help="write this process's id to the file (removed at exit)")
    parser.add_argument("--log-level", default="info")


def _worker_parser(parser: argparse.ArgumentParser) -> None:
    _tls_options(parser)
    parser.add_argument("address", nargs="?", default=None,
                        help="the scheduler, e.g. tcp://127.0.0.1:8786 (or give --scheduler-file)")
    parser.add_argument("--scheduler-file", default=None,
                        help="read the scheduler's address from this JSON file (waits --death-timeout for it)")
    parser.add_argument("--nthreads", type=int, default=0, help="threads per worker (default: cores / nworkers)")
    parser.add_argument("--nworkers", type=int, default=1, help="worker processes to start")
    parser.add_argument("--memory-limit", default="auto",
                        help="per worker: bytes, a size like 4GiB, a fraction of the machine's memory like 0.5, "
                             "'auto' (the machine's memory times nthreads / cores) or 0 for no limit")
    parser.add_argument("--name", default=None,
                        help="the worker's name; with --nworkers N the workers are NAME-0 ... NAME-{N-1}")
    parser.add_argument("--host", default="127.0.0.1", help="interface the worker listens on")
    parser.add_argument("--worker-port", default=None,
                        help="port the worker listens on (default: a free one); 'first:last' gives each of "
                             "--nworkers its own port from that range")
    parser.add_argument("--local-directory", default=None,
                        help="directory for the worker's spilled results and scratch files (default: the "
                             "system's temporary directory)")
    parser.add_argument("--lifetime", default=None,
                        help="retire the worker after this long, e.g. '1 hour' or 3600 (its results move to "
                             "the other workers first)")
    parser.add_argument("--lifetime-stagger", default=None,
                        help="vary --lifetime by up to this much either way, at random")
    parser.add_argument("--lifetime-restart", dest="lifetime_restart", action="store_true", default=False,
                        help="under a nanny, start a fresh worker when the lifetime is up instead of exiting")
    parser.add_argument("--no-lifetime-restart", dest="lifetime_restart", action="store_false")
    parser.add_argument("--pid-file", default="", help="write this process's id to the file (removed at exit)")
    parser.add_argument("--dashboard-address", default=None,
                        help="accepted for Dask's command line; a shoal worker serves no dashboard (the "
                             "scheduler's dashboard shows every worker)")
    parser.add_argument("--dashboard", dest="dashboard", action="store_true", default=True, help=argparse.SUPPRESS)
    parser.add_argument("--no-dashboard", dest="dashboard", action="store_false",
                        help="accepted for Dask's command line; a shoal worker serves no dashboard anyway")
    parser.add_argument("--resources", action="append", default=[], help="NAME=AMOUNT, repeatable")
    parser.add_argument("--nanny", dest="nanny", action="store_true", default=True,
                        help="run the worker in a child process that is restarted when it dies or passes the "
                             "terminate memory fraction (default)")
    parser.add_argument("--no-nanny", dest="nanny", action="store_false", help="run the worker in this process")
    parser.add_argument("--death-timeout", type=float, default=60.0,
                        help="seconds to keep trying to reach the scheduler before exiting")
    parser.add_argument("--no-reconnect", dest="reconnect", action="store_false", default=True,
                        help="exit when the scheduler goes away instead of reconnecting")
    parser.add_argument("--parent-pid", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="info")


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not the main thread / Windows
            pass


def _seconds(value: str | None, option: str) -> float:
    """Seconds in a duration option (``60``, ``"1h"``, ``"30 minutes"``); 0 when not given."""
    if value is None or str(value).strip() == "":
        return 0.0
    from shoal.utils import parse_timedelta

    try:
        return float(parse_timedelta(value))
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"shoal: {option} {value!r} is not a duration ({exc}); give seconds like 60 or a "
                         f"duration like '10 minutes'.") from None


def _write_pid_file(path: str) -> None:
    """``--pid-file``: write our process id, and remove the file when we exit."""
    if not path:
        return
    with open(path, "w") as f:
        f.write(str(os.getpid()))

    def remove() -> None:
        try:
            os.remove(path)
        except OSError:
            pass

    atexit.register(remove)


def _is_idle(server: object) -> bool:
    """Whether no task waits, is queued or runs (Dask's ``Scheduler.check_idle``)."""
    busy = ("waiting", "queued", "processing", "no-worker")
    tasks = server.state.tasks.values()  # type: ignore[attr-defined]
    return not any(ts.status in busy for ts in tasks)


async def _run_scheduler(args: argparse.Namespace) -> int:
    from shoal.distributed.server.scheduler import SchedulerServer

    stop = asyncio.Event()
    _install_signals(stop)
    dashboard = None if str(args.dashboard_address).lower() == "none" else args.dashboard_address
    if isinstance(dashboard, str) and dashboard.startswith(":"):
        dashboard = f"{args.host}{dashboard}"
    security = _security(args, "scheduler")
    scheme = "tls" if security is not None else "tcp"
    server = await SchedulerServer(f"{scheme}://{args.host}:{args.port}", dashboard_address=dashboard,
                                   security=security).start()
    if args.scheduler_file:  # before the address is printed: a script reading it finds the file there
        from shoal.distributed.server.scheduler_extras import write_scheduler_file

        # As Dask: the scheduler's identity, the same dict as client.scheduler_info() (no workers yet).
        write_scheduler_file(args.scheduler_file, server.rpc_scheduler_info())
    print(f"Scheduler at: {server.address}", flush=True)
    if server.dashboard is not None:
        print(f"Dashboard at: {server.dashboard.link}", flush=True)
    idle_timeout = _seconds(args.idle_timeout, "--idle-timeout")
    idle_since = time.monotonic()
    while server.status != "closed":  # Client.shutdown() closes the server from within
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
            break
        except TimeoutError:
            pass
        if idle_timeout:
            if not _is_idle(server):
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > idle_timeout:
                print(f"Scheduler closing after being idle for {args.idle_timeout}", flush=True)
                break
    print("Scheduler closing", flush=True)
    await server.close()
    return 0


def _nthreads(args: argparse.Namespace) -> int:
    return int(args.nthreads or max(1, (os.cpu_count() or 1) // max(args.nworkers, 1)))


def _memory_limit(args: argparse.Namespace) -> int:
    """Bytes per worker (see :func:`~shoal.distributed.memory.parse_memory_limit`); 0 for no limit."""
    from shoal.distributed.memory import parse_memory_limit

    try:
        return parse_memory_limit(args.memory_limit, _nthreads(args), where="--memory-limit")
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"shoal: {exc}") from None


def _worker_ports(spec: str | None, n: int) -> list[int]:
    """``--worker-port``: one port per worker process (0: a free one)."""
    if spec is None or str(spec).strip() in ("", "0"):
        return [0] * n
    try:
        first, _, last = str(spec).partition(":")
        ports = list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise SystemExit(f"shoal: --worker-port {spec!r} is not a port or a range like 9000:9010.") from None
    if len(ports) < n or (n > 1 and not last):
        raise SystemExit(f"shoal: --worker-port {spec!r} gives {len(ports)} port(s) for {n} workers; give a range "
                         f"'first:last' with at least {n} ports, or leave it out for free ports.")
    return ports[:n]


def _scheduler_address(args: argparse.Namespace) -> str:
    scheme = "tls" if (args.tls_ca_file or args.tls_cert) else "tcp"
    return args.address if "://" in args.address else f"{scheme}://{args.address}"


def _child_worker_args(args: argparse.Namespace, memory: int) -> list[str]:
    """The options of one worker process that a nanny starts (everything but the address)."""
    out = ["--nthreads", str(_nthreads(args)), "--memory-limit", str(memory), "--host", args.host,
           "--death-timeout", str(args.death_timeout), "--log-level", str(args.log_level)]
    for option in ("name", "worker_port", "local_directory", "lifetime", "lifetime_stagger"):
        if getattr(args, option) is not None:
            out += ["--" + option.replace("_", "-"), str(getattr(args, option))]
    if args.lifetime_restart:
        out.append("--lifetime-restart")
    for item in args.resources:
        out += ["--resources", item]
    if not args.reconnect:
        out.append("--no-reconnect")
    for option in ("tls_ca_file", "tls_cert", "tls_key"):
        if getattr(args, option):
            out += ["--" + option.replace("_", "-"), getattr(args, option)]
    return out


async def _run_nanny(args: argparse.Namespace) -> int:
    from shoal.distributed.nanny import Nanny

    stop = asyncio.Event()
    _install_signals(stop)
    memory = _memory_limit(args)
    # The nanny's own port and its calls to the scheduler use the worker's certificates: without them a nanny
    # cannot register with a TLS scheduler (no nanny plugins, no restarts through it).
    nanny = await Nanny(_scheduler_address(args), _child_worker_args(args, memory), memory_limit=memory,
                        security=_security(args, "worker")).start()
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(nanny.finished())]
    if args.parent_pid:
        waits.append(asyncio.ensure_future(_watch_parent(args.parent_pid)))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    return await nanny.close()


async def _run_worker(args: argparse.Namespace) -> int:
    from shoal.distributed.nanny import EXIT_RESTART, EXIT_START_FAILED, accept_restarts, under_nanny
    from shoal.distributed.server.worker import WorkerServer

    stop = asyncio.Event()
    _install_signals(stop)
    resources = {}
    for item in args.resources:
        for part in item.replace(",", " ").split():
            name, _, amount = part.partition("=")
            resources[name] = float(amount)
    nthreads = _nthreads(args)
    memory = _memory_limit(args)
    security = _security(args, "worker")
    scheme = "tls" if security is not None else "tcp"
    address = _scheduler_address(args)
    port = _worker_ports(args.worker_port, 1)[0]
    worker = WorkerServer(address, nthreads=nthreads, listen_address=f"{scheme}://{args.host}:{port}", name=args.name,
                          memory_limit=memory, resources=resources, death_timeout=args.death_timeout,
                          reconnect=args.reconnect, security=security)
    try:
        await worker.start()
    except Exception as exc:  # noqa: BLE001 - reported, and the exit status tells a nanny not to retry
        logging.getLogger("shoal.distributed.worker").error("the worker could not start: %s", exc)
        await worker.close(report=False)
        return EXIT_START_FAILED
    print(f"Worker at: {worker.address}", flush=True)
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(worker.finished())]
    if args.parent_pid:
        waits.append(asyncio.ensure_future(_watch_parent(args.parent_pid)))
    # Under a nanny, client.restart asks for a fresh process: close cleanly, and the nanny starts a new one.
    restart = accept_restarts(worker) if under_nanny() else None
    if restart is not None:
        waits.append(asyncio.ensure_future(restart.wait()))
    lifetime = _seconds(args.lifetime, "--lifetime")
    aged = None
    if lifetime:
        lifetime += (2 * random.random() - 1) * _seconds(args.lifetime_stagger, "--lifetime-stagger")
        aged = asyncio.ensure_future(_retire_after(worker, max(lifetime, 0.0)))
        waits.append(aged)
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    await worker.close()
    if restart is not None and (restart.is_set() or (aged is not None and aged.done() and args.lifetime_restart)):
        return EXIT_RESTART
    return 0


async def _retire_after(worker: object, seconds: float) -> None:
    """``--lifetime``: after ``seconds``, ask the scheduler to retire this worker (moving its results away)."""
    await asyncio.sleep(seconds)
    log = logging.getLogger("shoal.distributed.worker")
    log.info("worker %s reached its lifetime (%.1fs); retiring", worker.address, seconds)  # type: ignore[attr-defined]
    try:
        await asyncio.wait_for(worker.pool.call(  # type: ignore[attr-defined]
            worker.scheduler_address, {"op": "retire_workers", "workers": [worker.address]}), 60)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - the worker closes anyway
        log.warning("worker %s could not retire gracefully (%s); closing", worker.address, exc)  # type: ignore[attr-defined]


async def _watch_parent(pid: int) -> None:
    while os.getppid() == pid:
        await asyncio.sleep(0.5)


def _spawn_many(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``--nworkers N``: run N single-worker processes and forward signals to them."""
    child_argv = _drop_options(list(argv), ("--nworkers", "--name", "--worker-port", "--pid-file"))
    # Memory and threads are resolved (and bad values reported) once, here, not in every child.
    child_argv += ["--memory-limit", str(_memory_limit(args)), "--nthreads", str(_nthreads(args)),
                   "--parent-pid", str(os.getpid())]
    ports = _worker_ports(args.worker_port, args.nworkers)
    procs = []
    for i in range(args.nworkers):
        # As Dask: --name qw with several workers names them qw-0, qw-1, ... (a scheduler refuses a taken name).
        own = ([] if args.name is None else ["--name", f"{args.name}-{i}"]) + (
            ["--worker-port", str(ports[i])] if ports[i] else [])
        procs.append(subprocess.Popen([sys.executable, "-m", "shoal.cli", *child_argv, *own]))

    def forward(signum: int, frame: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return max(p.wait() for p in procs)


def _drop_options(argv: list[str], options: Sequence[str]) -> list[str]:
    """``argv`` without ``options`` (each taking one value, as ``--name X`` or ``--name=X``)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in options:
            skip = True
        elif not any(arg.startswith(option + "=") for option in options):
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shoal`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="shoal", description="shoal command line")
    sub = parser.add_subparsers(dest="command", required=True)
    _scheduler_parser(sub.add_parser("scheduler", help="start a scheduler"))
    _worker_parser(sub.add_parser("worker", help="start a worker connected to a scheduler"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "scheduler":
        _seconds(args.idle_timeout, "--idle-timeout")  # bad values fail now, not after starting
        _write_pid_file(args.pid_file)
        return asyncio.run(_run_scheduler(args))
    _seconds(args.lifetime, "--lifetime")
    _seconds(args.lifetime_stagger, "--lifetime-stagger")
    _memory_limit(args)
    _worker_ports(args.worker_port, max(args.nworkers, 1))
    _write_pid_file(args.pid_file)
    if args.local_directory:
        # Spilled results (SpillBuffer) and the worker's scratch directory live under temporary-directory.
        from shoal import config

        os.makedirs(args.local_directory, exist_ok=True)
        config.set({"temporary-directory": os.path.abspath(args.local_directory)})
    if args.address is None:
        if not args.scheduler_file:
            parser.error("shoal worker needs the scheduler's address or --scheduler-file PATH")
        from shoal.distributed.server.scheduler_extras import read_scheduler_file

        args.address = read_scheduler_file(args.scheduler_file, args.death_timeout)["address"]
    if args.nworkers < 0:  # as Dask: -1 means one per core, -2 one fewer, ...
        args.nworkers = (os.cpu_count() or 1) + 1 + args.nworkers
    if args.nworkers <= 0:
        parser.error(f"--nworkers must give at least one worker process, got {args.nworkers}.")
    if args.nworkers > 1:
        return _spawn_many(args, argv)
    if args.nanny:
        return asyncio.run(_run_nanny(args))
    return asyncio.run(_run_worker(args))


def scheduler_main() -> int:
    """Entry point of ``shoal-scheduler``."""
    return main(["scheduler", *sys.argv[1:]])


def worker_main() -> int:
    """Entry point of ``shoal-worker``."""
    return main(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
