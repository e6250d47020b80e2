"""Helpers shared by the benchmarks: servers in their own processes, and alternating rounds."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def process_on_port(command: list[str], port: int) -> Iterator[None]:
    """Run `command` until the block ends; wait until it accepts connections on `port`."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[0]} did not start on port {port}") from None
                time.sleep(0.05)
        yield
    finally:
        process.kill()
        process.wait()


async def measure(
    cases: dict[str, Callable[[], Awaitable[object]]], *, rounds: int, calls: int
) -> dict[str, list[float]]:
    """Return, per case, the mean seconds per call of each round; cases alternate each round."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(rounds):
        order = list(cases.items())
        if round_number % 2:
            order.reverse()
        for name, call in order:
            started = time.perf_counter()
            for _ in range(calls):
                await call()
            samples[name].append((time.perf_counter() - started) / calls)
    return samples


def sandbox_command(port: int, *, latency: float = 0.0) -> list[str]:
    """Return the command that runs `ninepic sandbox` on `port` with added `latency` seconds."""
    command = [sys.executable, "-m", "nine_pic_async", "sandbox", "--port", str(port)]
    if latency:
        command += ["--latency", str(latency)]
    return command
