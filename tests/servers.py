"""Real web servers for tests: `python -m app.cli serve` processes, as operators run them,
and uvicorn in a thread of the test process when the test needs the app's objects."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def server_process(
    settings: Settings, *, env: dict[str, str] | None = None, ready: str = "/readyz"
) -> Iterator[str]:
    """One `trialfinder serve` process on a free port; yields its base URL once ready."""
    port = free_port()
    environment = {
        **os.environ,
        "TRIALFINDER_ENV": settings.env,
        "TRIALFINDER_DATABASE_URL": settings.database_url,
        "TRIALFINDER_MAIL_DIR": settings.mail_dir,
        **(env or {}),
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below; a pipe could fill and block
    process = subprocess.Popen(  # noqa: S603 - our own command
        command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the server stopped: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(base + ready, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def server_processes(settings: Settings, count: int) -> Iterator[list[str]]:
    """`count` server processes sharing one database."""
    with ExitStack() as stack:
        yield [stack.enter_context(server_process(settings)) for _ in range(count)]


@contextmanager
def uvicorn_in_thread(
    app: FastAPI, *, port: int | None = None, stop_wait: float = 10
) -> Iterator[str]:
    """`app` under uvicorn on 127.0.0.1 in a daemon thread; yields its base URL once started.

    `stop_wait`: how long to let requests still running end after the test (a client that
    gave up leaves its request running) before the database is cleaned for the next test.
    """
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(stop_wait)
