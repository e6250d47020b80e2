"""Reading all pages of a 100-page result with 20 ms of server latency.

Run from the repository root: `python -m benchmarks.pagination [--quick] [--json]`. The
sandbox runs in its own process on loopback and adds the latency to every response. The SDK
(`faces.fetch_all`, no cache) at concurrency 1, 4, 16 and 64 is measured next to a sequential
aiohttp loop and an unbounded `asyncio.gather` of every page, in alternating rounds in one
run. The ideal time at concurrency c is pages / c x latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from benchmarks._support import free_port, measure, process_on_port, sandbox_command
from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES

LATENCY = 0.02
PAGE_SIZE = 10  # crowd.jpg matches 1,000 photos: 100 pages.
CONCURRENCY_LEVELS = (1, 4, 16, 64)


async def run(quick: bool) -> dict[str, Any]:
    rounds = 1 if quick else 5
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with process_on_port(sandbox_command(port, latency=LATENCY), port):
        async with (
            NinePicClient(
                "sandbox-key", 903, base_url=base_url, cache=None, max_concurrency=64
            ) as client,
            aiohttp.ClientSession(headers={"X-API-Key": "sandbox-key"}) as session,
        ):
            first = await client.faces.search(
                DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=PAGE_SIZE
            )
            pages = first.pagination.total_pages
            url = f"{base_url}/api/v1/ext/903/event/{DEMO_EVENT_ID}/faces/{first.request_id}"
            cases = build_cases(client, session, url, first.request_id, pages)

            # After a search, page 1 is in the cache: give each round a client holding it.
            warm = [
                NinePicClient("sandbox-key", 903, base_url=base_url, max_concurrency=64)
                for _ in range(rounds)
            ]
            for warm_client in warm:
                await warm_client.faces.get(DEMO_EVENT_ID, first.request_id, page_size=PAGE_SIZE)
            cases["SDK fetch_all after search (page 1 cached), concurrency 16"] = lambda: (
                warm.pop().faces.fetch_all(
                    DEMO_EVENT_ID, first.request_id, page_size=PAGE_SIZE, concurrency=16
                )
            )
            try:
                samples = await measure(cases, rounds=rounds, calls=1)
            finally:
                for warm_client in warm:
                    await warm_client.aclose()

    results = []
    for name, values in samples.items():
        median = statistics.median(values)
        concurrency = int(name.rsplit(" ", 1)[1]) if name.startswith("SDK") else None
        ideal = pages / concurrency * LATENCY if concurrency else None
        results.append(
            {
                "case": name,
                "median_s": median,
                "min_s": min(values),
                "max_s": max(values),
                "vs_ideal": median / ideal if ideal else None,
                "vs_sequential_aiohttp": statistics.median(samples["aiohttp sequential loop"])
                / median,
            }
        )
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "pages": pages,
        "latency_s": LATENCY,
        "rounds": rounds,
        "results": results,
    }


def build_cases(
    client: NinePicClient,
    session: aiohttp.ClientSession,
    url: str,
    request_id: str,
    pages: int,
) -> dict[str, Callable[[], Awaitable[object]]]:
    async def read_page(number: int) -> list[object]:
        params = {"page": number, "page_size": PAGE_SIZE}
        async with session.get(url, params=params) as response:
            body = await response.json()
        images: list[object] = body["data"]["images"]
        return images

    async def sequential() -> list[object]:
        images: list[object] = []
        for number in range(1, pages + 1):
            images.extend(await read_page(number))
        return images

    async def unbounded_gather() -> list[object]:
        results = await asyncio.gather(*(read_page(n) for n in range(1, pages + 1)))
        return [image for page in results for image in page]

    async def bounded_gather() -> list[object]:
        # The best 16 requests in flight can do: no ordering, no page read alone first.
        slots = asyncio.Semaphore(16)

        async def read_in_slot(number: int) -> list[object]:
            async with slots:
                return await read_page(number)

        results = await asyncio.gather(*(read_in_slot(n) for n in range(1, pages + 1)))
        return [image for page in results for image in page]

    def sdk(concurrency: int) -> Callable[[], Awaitable[object]]:
        return lambda: client.faces.fetch_all(
            DEMO_EVENT_ID, request_id, page_size=PAGE_SIZE, concurrency=concurrency
        )

    cases: dict[str, Callable[[], Awaitable[object]]] = {
        "aiohttp sequential loop": sequential,
        "aiohttp unbounded gather": unbounded_gather,
        "aiohttp gather, 16 in flight": bounded_gather,
    }
    for concurrency in CONCURRENCY_LEVELS:
        cases[f"SDK fetch_all, concurrency {concurrency}"] = sdk(concurrency)
    return cases


def print_table(report: dict[str, Any]) -> None:
    print(
        f"All {report['pages']} pages with {report['latency_s'] * 1000:.0f} ms of server "
        f"latency, {report['machine']}; median of {report['rounds']} rounds"
    )
    print()
    print("| case | median s | min s | max s | x ideal | x faster than sequential |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in report["results"]:
        ideal = f"{row['vs_ideal']:.2f}" if row["vs_ideal"] else "-"
        print(
            f"| {row['case']} | {row['median_s']:.3f} | {row['min_s']:.3f} | "
            f"{row['max_s']:.3f} | {ideal} | {row['vs_sequential_aiohttp']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, to check it runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = asyncio.run(run(args.quick))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
