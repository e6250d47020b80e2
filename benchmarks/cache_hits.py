"""Cache-hit latency of `client.faces.get` for each backend, next to a network read.

Run from the repository root: `python -m benchmarks.cache_hits [--quick]`. The sandbox
runs in its own process on loopback; redis-server and memcached are started on free
loopback ports when installed. Cases are measured in alternating rounds in one run, and
each figure is the median over rounds of the mean time per call, with min and max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

from aiocache import SimpleMemoryCache
from aiocache.base import BaseCache

from benchmarks._support import free_port, measure, process_on_port, sandbox_command
from nine_pic_async import NinePicClient, memcached_cache, memory_cache, redis_cache
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES

PAGE_SIZE = 100


async def run(quick: bool) -> dict[str, Any]:
    rounds, calls = (3, 20) if quick else (15, 200)
    sandbox_port = free_port()
    base_url = f"http://127.0.0.1:{sandbox_port}"
    stack: list[Any] = []
    with process_on_port(sandbox_command(sandbox_port), sandbox_port):
        backends: dict[str, BaseCache] = {
            "memory (MemoryCache)": memory_cache(),
            "aiocache SimpleMemoryCache": SimpleMemoryCache(),
        }
        servers = []
        redis_binary = shutil.which("redis-server")
        if redis_binary:
            redis_port = free_port()
            servers.append(
                process_on_port(
                    [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
                    redis_port,
                )
            )
            backends["redis"] = redis_cache(f"redis://127.0.0.1:{redis_port}/0")
        memcached_binary = shutil.which("memcached")
        if memcached_binary:
            memcached_port = free_port()
            user = ["-u", "root"] if os.geteuid() == 0 else []
            servers.append(
                process_on_port(
                    [memcached_binary, "-p", str(memcached_port), "-l", "127.0.0.1", *user],
                    memcached_port,
                )
            )
            backends["memcached"] = memcached_cache("127.0.0.1", memcached_port)
        for server in servers:
            server.__enter__()
            stack.append(server)
        try:
            return await measure_backends(base_url, backends, rounds=rounds, calls=calls)
        finally:
            for cache in backends.values():
                await cache.close()
            for server in reversed(stack):
                server.__exit__(None, None, None)


async def measure_backends(
    base_url: str, backends: dict[str, BaseCache], *, rounds: int, calls: int
) -> dict[str, Any]:
    def open_client(cache: BaseCache | None) -> NinePicClient:
        return NinePicClient("sandbox-key", 903, base_url=base_url, cache=cache)

    async with open_client(None) as network:
        page = await network.faces.search(
            DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=PAGE_SIZE
        )
        clients = {name: open_client(cache) for name, cache in backends.items()}
        cases: dict[str, Callable[[], Awaitable[object]]] = {}

        def read_with(client: NinePicClient) -> Callable[[], Awaitable[object]]:
            return lambda: client.faces.get(
                DEMO_EVENT_ID, page.request_id, page=2, page_size=PAGE_SIZE
            )

        cases["network read (no cache)"] = read_with(network)
        for name, client in clients.items():
            await read_with(client)()  # Fill the cache.
            cases[f"{name} hit"] = read_with(client)
        try:
            samples = await measure(cases, rounds=rounds, calls=calls)
        finally:
            for client in clients.values():
                await client.aclose()

    network_median = statistics.median(samples["network read (no cache)"])
    results = []
    for name, values in samples.items():
        median = statistics.median(values)
        results.append(
            {
                "case": name,
                "median_us": median * 1e6,
                "min_us": min(values) * 1e6,
                "max_us": max(values) * 1e6,
                "speedup_vs_network": network_median / median,
            }
        )
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "page_size": PAGE_SIZE,
        "rounds": rounds,
        "calls_per_round": calls,
        "results": results,
    }


def print_table(report: dict[str, Any]) -> None:
    print(
        f"faces.get of one {report['page_size']}-image page, {report['machine']}; "
        f"median of {report['rounds']} rounds of {report['calls_per_round']} calls"
    )
    print()
    print("| case | median µs | min µs | max µs | x faster than network |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in report["results"]:
        print(
            f"| {row['case']} | {row['median_us']:.1f} | {row['min_us']:.1f} | "
            f"{row['max_us']:.1f} | {row['speedup_vs_network']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, to check it runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = asyncio.run(run(args.quick))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
