"""Helpers shared by the benchmarks: servers in their own processes, alternating rounds, and
the machine and package versions a run is recorded with."""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._report import Section

REQUESTS_PATH = "/_benchmark/requests"
"""Route of the benchmark sandbox that returns its request counters per route, as JSON."""

COMPARED_PACKAGES = (
    "nine-pic-async",
    "aiohttp",
    "msgspec",
    "aiocache",
    "redis",
    "httpx",
    "pydantic",
    "requests",
    "aiohttp-client-cache",
    "matplotlib",
    "uvloop",
)


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


def sandbox_command(port: int, *, latency: float = 0.0) -> list[str]:
    """Return the command that runs the benchmark sandbox on `port`, adding `latency` seconds.

    It is the SDK's sandbox with a `REQUESTS_PATH` route that returns its request counters.
    """
    command = [sys.executable, "-m", "benchmarks._servers", "sandbox", "--port", str(port)]
    if latency:
        command += ["--latency", str(latency)]
    return command


def large_result_command(port: int, *, images: int) -> list[str]:
    """Return the command that serves one face search result of `images` images on `port`."""
    return [
        sys.executable,
        "-m",
        "benchmarks._servers",
        "large-result",
        "--port",
        str(port),
        "--images",
        str(images),
    ]


@contextmanager
def redis_server() -> Iterator[int | None]:
    """Run redis-server on a free loopback port and yield the port, or None if it is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    with process_on_port([*command, "--appendonly", "no"], port):
        yield port


@contextmanager
def memcached_server() -> Iterator[int | None]:
    """Run memcached on a free loopback port and yield the port, or None if it is missing."""
    binary = shutil.which("memcached")
    if binary is None:
        yield None
        return
    port = free_port()
    # memcached exits at once when started as root without `-u USER`.
    user = ["-u", "root"] if os.geteuid() == 0 else []
    with process_on_port([binary, "-p", str(port), "-l", "127.0.0.1", "-U", "0", *user], port):
        yield port


async def request_counts(base_url: str) -> collections.Counter[str]:
    """Return how many requests the benchmark sandbox at `base_url` has received, per route."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url + REQUESTS_PATH) as response,
    ):
        response.raise_for_status()
        counts: dict[str, int] = await response.json()
    return collections.Counter(counts)


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


def measure_sync(
    cases: dict[str, Callable[[], object]], *, rounds: int, calls: int
) -> dict[str, list[float]]:
    """Do what `measure` does for plain functions, with no event loop in the timed loop."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(rounds):
        order = list(cases.items())
        if round_number % 2:
            order.reverse()
        for name, call in order:
            started = time.perf_counter()
            for _ in range(calls):
                call()
            samples[name].append((time.perf_counter() - started) / calls)
    return samples


def machine_info() -> dict[str, str]:
    """Return the architecture (`uname -m`), usable CPUs (`nproc`), CPU model, Python and OS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # Not on Linux.
        cpus = os.cpu_count() or 0
    return {
        "arch": platform.machine(),
        "cpus": str(cpus),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "system": platform.system(),
    }


def package_versions() -> dict[str, str]:
    """Return the version of each package and cache server the benchmarks use or compare with."""
    versions = {}
    for name in COMPARED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["redis-server"] = _server_version("redis-server", "--version")
    versions["memcached"] = _server_version("memcached", "-V")
    return versions


def command_line() -> str:
    """Return how this process was started, as `python -m MODULE ARGS`."""
    module = sys.modules["__main__"].__spec__
    name = module.name.removesuffix(".__main__") if module is not None else sys.argv[0]
    return " ".join(["python -m", name, *sys.argv[1:]])


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def section_main(description: str, run: Callable[[bool], Coroutine[Any, Any, Section]]) -> None:
    """Run one benchmark module from the command line and print its table or its JSON."""
    from benchmarks._report import Report

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="run few rounds on small inputs, to check that it runs"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    section = asyncio.run(run(args.quick))
    report = Report(
        command=command_line(),
        timestamp=utc_now(),
        quick=args.quick,
        machine=machine_info(),
        versions=package_versions(),
        sections=[section],
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(report.to_markdown(), end="")


def _server_version(name: str, flag: str) -> str:
    """Return the first line that `name flag` prints, such as `memcached 1.6.18`."""
    binary = shutil.which(name)
    if binary is None:
        return "not installed"
    result = subprocess.run([binary, flag], capture_output=True, text=True, timeout=10, check=False)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor()
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
