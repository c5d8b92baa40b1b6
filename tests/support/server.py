"""A real `tokenward serve` process for end-to-end tests, or an app served in this process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn
from starlette.types import ASGIApp

from tests.support.cli import clean_env
from tests.support.log_scan import track_serve_log
from tests.support.postgres import free_port

STARTUP_TIMEOUT = 30.0


class ServeProcess:
    def __init__(
        self,
        cwd: Path,
        *args: str,
        env: dict[str, str] | None = None,
        port: int | None = None,
        command: list[str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        """Start `tokenward serve --port <port> <args>`, or ``command`` (which must read the
        port from the PORT environment variable), and wait until it accepts connections."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (log_dir or cwd) / f"serve-{self.port}.log"
        track_serve_log(self.log)
        self._handle = self.log.open("w")
        argv = command or [sys.executable, "-m", "tokenward", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*argv, *args],
            cwd=cwd,
            env={**(env if env is not None else clean_env()), "PORT": str(self.port)},
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                httpx.get(self.url + "/hello", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError(f"serve did not start listening:\n{self.output()}")

    def output(self) -> str:
        if not self._handle.closed:
            self._handle.flush()
        return self.log.read_text()

    def terminate(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._handle.close()
        return self.process.returncode

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.terminate()


@contextmanager
def serve_in_thread(make_app: Callable[[int], ASGIApp]) -> Iterator[int]:
    """``make_app(port)`` served by uvicorn on 127.0.0.1:<port> in a background thread of this
    process (so a test can hold its clock or its senders); yields the port once it listens.
    The port is known before the app is made (its settings name it, e.g. ``api_domain``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    # No access log and no logging setup: the run's logging (and its secret scan) stays as it is.
    config = uvicorn.Config(
        make_app(port), lifespan="on", log_config=None, access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-thread server did not start")
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()
