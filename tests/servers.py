"""Servers on free loopback ports: small aiohttp apps, and real redis-server and memcached.

A missing binary skips the test with the command that installs it, except
when `NINEPIC_REQUIRE_SERVERS=1` (set by CI), where it fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

INSTALL_HINT = "install it with 'apt-get install redis-server memcached' to run these tests"


@asynccontextmanager
async def serve(app: web.Application, **runner_options: Any) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port until the block ends, and yield its base URL."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def find_binary(name: str) -> str:
    path = shutil.which(name) or next(
        (
            f"{folder}/{name}"
            for folder in ("/usr/bin", "/usr/sbin")
            if os.path.exists(f"{folder}/{name}")
        ),
        None,
    )
    if path is None:
        message = f"{name} is not installed; {INSTALL_HINT}"
        if os.environ.get("NINEPIC_REQUIRE_SERVERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


class ServerProcess:
    """A server binary run on one fixed loopback port, which can be stopped and restarted."""

    def __init__(self, name: str, arguments: list[str], port: int) -> None:
        self.binary = find_binary(name)
        self.arguments = arguments
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, *self.arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.binary} did not start listening on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None


def redis_process() -> ServerProcess:
    port = free_port()
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return ServerProcess("redis-server", arguments, port)


def memcached_process() -> ServerProcess:
    port = free_port()
    arguments = ["-p", str(port), "-l", "127.0.0.1", "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        arguments += ["-u", "root"]
    return ServerProcess("memcached", arguments, port)
