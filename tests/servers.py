"""Real web server processes for tests: `python -m app.cli serve`, as operators run it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

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
