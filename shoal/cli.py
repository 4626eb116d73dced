"""The ``shoal`` command line: ``shoal scheduler`` and ``shoal worker ADDRESS``.

Both print the address they serve at and shut down cleanly on SIGINT or
SIGTERM. ``shoal-scheduler`` and ``shoal-worker`` are the same commands.
A worker runs under a nanny by default (``--no-nanny`` turns it off); only
such a worker gets a fresh process from ``client.restart``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
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
    parser.add_argument("--log-level", default="info")


def _worker_parser(parser: argparse.ArgumentParser) -> None:
    _tls_options(parser)
    parser.add_argument("address", nargs="?", default=None,
                        help="the scheduler, e.g. tcp://127.0.0.1:8786 (or give --scheduler-file)")
    parser.add_argument("--scheduler-file", default=None,
                        help="read the scheduler's address from this JSON file (waits --death-timeout for it)")
    parser.add_argument("--nthreads", type=int, default=0, help="threads per worker (default: cores / nworkers)")
    parser.add_argument("--nworkers", type=int, default=1, help="worker processes to start")
    parser.add_argument("--memory-limit", default="auto", help="bytes per worker, e.g. 4GiB; 'auto' or 0")
    parser.add_argument("--name", default=None)
    parser.add_argument("--host", default="127.0.0.1", help="interface the worker listens on")
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
    print(f"Scheduler at: {server.address}", flush=True)
    if args.scheduler_file:
        from shoal.distributed.server.scheduler_extras import write_scheduler_file

        write_scheduler_file(args.scheduler_file, {"type": "Scheduler", "id": server.id, "address": server.address,
                                                   "services": {"dashboard": server.dashboard.port}
                                                   if server.dashboard is not None else {}})
    if server.dashboard is not None:
        print(f"Dashboard at: {server.dashboard.link}", flush=True)
    while server.status != "closed":  # Client.shutdown() closes the server from within
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
            break
        except TimeoutError:
            pass
    print("Scheduler closing", flush=True)
    await server.close()
    return 0


def _memory_limit(args: argparse.Namespace) -> int:
    """Bytes per worker: ``auto`` shares the machine's memory among ``--nworkers``."""
    memory = args.memory_limit
    if str(memory).lower() == "auto":
        try:
            import psutil

            return int(psutil.virtual_memory().total // max(args.nworkers, 1))
        except Exception:  # noqa: BLE001
            return 0
    from shoal.utils import parse_bytes

    return parse_bytes(memory) if memory and str(memory) != "0" else 0


def _scheduler_address(args: argparse.Namespace) -> str:
    scheme = "tls" if (args.tls_ca_file or args.tls_cert) else "tcp"
    return args.address if "://" in args.address else f"{scheme}://{args.address}"


def _child_worker_args(args: argparse.Namespace, memory: int) -> list[str]:
    """The options of one worker process that a nanny starts (everything but the address)."""
    nthreads = args.nthreads or max(1, (os.cpu_count() or 1) // max(args.nworkers, 1))
    out = ["--nthreads", str(nthreads), "--memory-limit", str(memory), "--host", args.host,
           "--death-timeout", str(args.death_timeout), "--log-level", str(args.log_level)]
    if args.name is not None:
        out += ["--name", args.name]
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
    nthreads = args.nthreads or max(1, (os.cpu_count() or 1) // max(args.nworkers, 1))
    memory = _memory_limit(args)
    security = _security(args, "worker")
    scheme = "tls" if security is not None else "tcp"
    address = _scheduler_address(args)
    worker = WorkerServer(address, nthreads=nthreads, listen_address=f"{scheme}://{args.host}:0", name=args.name,
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
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    await worker.close()
    return EXIT_RESTART if restart is not None and restart.is_set() else 0


async def _watch_parent(pid: int) -> None:
    while os.getppid() == pid:
        await asyncio.sleep(0.5)


def _spawn_many(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``--nworkers N``: run N single-worker processes and forward signals to them."""
    child_argv = [a for a in argv]
    i = child_argv.index("--nworkers") if "--nworkers" in child_argv else -1
    if i >= 0:
        del child_argv[i:i + 2]
    child_argv = [a for a in child_argv if not a.startswith("--nworkers=")]
    # Each process gets its share of memory, resolved here ("auto" in a child would mean the whole machine).
    nthreads = args.nthreads or max(1, (os.cpu_count() or 1) // args.nworkers)
    child_argv += ["--memory-limit", str(_memory_limit(args)), "--nthreads", str(nthreads),
                   "--parent-pid", str(os.getpid())]
    procs = [subprocess.Popen([sys.executable, "-m", "shoal.cli", *child_argv]) for _ in range(args.nworkers)]

    def forward(signum: int, frame: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return max(p.wait() for p in procs)


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
        return asyncio.run(_run_scheduler(args))
    if args.address is None:
        if not args.scheduler_file:
            parser.error("shoal worker needs the scheduler's address or --scheduler-file PATH")
        from shoal.distributed.server.scheduler_extras import read_scheduler_file

        args.address = read_scheduler_file(args.scheduler_file, args.death_timeout)["address"]
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
