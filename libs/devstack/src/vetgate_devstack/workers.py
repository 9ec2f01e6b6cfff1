"""Several worker processes on one port, each with its own SO_REUSEPORT listener.

With one shared listening socket (uvicorn's ``--workers``), whichever worker wakes first accepts, and
long-lived keep-alive connections pile up unevenly; per-worker listeners let the kernel spread
connections by hash, which keeps tail latency down when the service is busy.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
from typing import Any

import uvicorn

from vetgate_devstack.processes import die_with_parent


def _listener(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(app: str, options: dict[str, Any]) -> None:
    die_with_parent()
    config = uvicorn.Config(app, factory=True, **options)
    uvicorn.Server(config).run(sockets=[_listener(options["host"], options["port"])])


def run_reuseport_workers(app: str, workers: int, options: dict[str, Any]) -> None:
    """Start ``workers`` processes and wait; SIGTERM/SIGINT stop them all."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(app, options), daemon=False) for _ in range(workers)]
    for process in processes:
        process.start()

    def stop(*_: object) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
