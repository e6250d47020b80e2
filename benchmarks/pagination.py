"""Reading all pages of a 100-page result with 20 ms of server latency.

Run from the repository root: `python -m benchmarks.pagination [--quick] [--json]`. The
sandbox runs in its own process on loopback and adds the latency to every response. The SDK
(`faces.fetch_all`, no cache) at concurrency 1, 4, 16 and 64 is measured next to the API docs'
Python example run in a loop (`requests.get` per page), a sequential aiohttp loop, an unbounded
`asyncio.gather` of every page and a gather with 16 requests in flight, in alternating rounds in
one run. The ideal time at concurrency c is pages / c x latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import requests

from benchmarks._report import Column, Section, Target, count_of, measurements_from, ratio
from benchmarks._support import (
    free_port,
    measure,
    process_on_port,
    sandbox_command,
    section_main,
)
from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_API_KEY, DEMO_EVENT_ID, DEMO_ORG_ID, SAMPLE_SELFIES

NAME = "pagination"
LATENCY = 0.02
CONCURRENCY_LEVELS = (1, 4, 16, 64)
REQUESTS_LOOP = "requests.get per page, one after another (the API docs' example in a loop)"
AIOHTTP_LOOP = "aiohttp sequential loop"
SDK_16 = "SDK fetch_all, concurrency 16"
SDK_16_CACHED = "SDK fetch_all after search (page 1 cached), concurrency 16"


async def run(quick: bool) -> Section:
    # crowd.jpg matches 1,000 photos: 100 pages of 10, or 20 pages of 50 in a quick run.
    rounds, page_size = (1, 50) if quick else (5, 10)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with process_on_port(sandbox_command(port, latency=LATENCY), port):
        async with (
            NinePicClient(
                DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url, cache=None, max_concurrency=64
            ) as client,
            aiohttp.ClientSession(headers={"X-API-Key": DEMO_API_KEY}) as session,
        ):
            first = await client.faces.search(
                DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=page_size
            )
            pages = first.pagination.total_pages
            url = (
                f"{base_url}/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}"
                f"/faces/{first.request_id}"
            )
            cases = build_cases(client, session, url, first.request_id, pages, page_size)

            # After a search, page 1 is in the cache: give each round a client holding it.
            warm = [
                NinePicClient(DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url, max_concurrency=64)
                for _ in range(rounds)
            ]
            used: list[NinePicClient] = []
            for warm_client in warm:
                await warm_client.faces.get(DEMO_EVENT_ID, first.request_id, page_size=page_size)

            def fetch_all_with_page_1_cached() -> Awaitable[object]:
                used.append(warm.pop())
                return used[-1].faces.fetch_all(
                    DEMO_EVENT_ID, first.request_id, page_size=page_size, concurrency=16
                )

            cases[SDK_16_CACHED] = fetch_all_with_page_1_cached
            try:
                samples = await measure(cases, rounds=rounds, calls=1)
            finally:
                for warm_client in warm + used:
                    await warm_client.aclose()
    return build_section(samples, pages=pages, page_size=page_size, rounds=rounds)


def build_cases(
    client: NinePicClient,
    session: aiohttp.ClientSession,
    url: str,
    request_id: str,
    pages: int,
    page_size: int,
) -> dict[str, Callable[[], Awaitable[object]]]:
    async def read_page(number: int) -> list[object]:
        params = {"page": number, "page_size": page_size}
        async with session.get(url, params=params) as response:
            response.raise_for_status()
            body = await response.json()
        images: list[object] = body["data"]["images"]
        return images

    def requests_loop() -> list[object]:
        # As the API docs show it: one requests.get per page, each on a new connection.
        images: list[object] = []
        for number in range(1, pages + 1):
            response = requests.get(
                url,
                headers={"X-API-Key": DEMO_API_KEY},
                params={"page": number, "page_size": page_size},
                timeout=30,
            )
            response.raise_for_status()
            images.extend(response.json()["data"]["images"])
        return images

    async def aiohttp_loop() -> list[object]:
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
            DEMO_EVENT_ID, request_id, page_size=page_size, concurrency=concurrency
        )

    cases: dict[str, Callable[[], Awaitable[object]]] = {
        # The blocking loop runs in the default executor's thread, so it does not block the
        # event loop.
        REQUESTS_LOOP: lambda: asyncio.to_thread(requests_loop),
        AIOHTTP_LOOP: aiohttp_loop,
        "aiohttp unbounded gather": unbounded_gather,
        "aiohttp gather, 16 in flight": bounded_gather,
    }
    for concurrency in CONCURRENCY_LEVELS:
        cases[f"SDK fetch_all, concurrency {concurrency}"] = sdk(concurrency)
    return cases


def build_section(
    samples: dict[str, list[float]], *, pages: int, page_size: int, rounds: int
) -> Section:
    section = Section(
        name=NAME,
        title="All pages of a result",
        description=(
            f"All {pages} pages ({page_size} images each) of one face search, with the sandbox "
            f'adding {LATENCY * 1000:.0f} ms to every response, no cache. "x ideal" divides by '
            f"pages / concurrency x {LATENCY * 1000:.0f} ms. Median of {count_of(rounds, 'round')}."
        ),
        unit="s",
        columns=[
            Column("median", "median s", 3),
            Column("min", "min s", 3),
            Column("max", "max s", 3),
            Column("x_ideal", "x ideal", 2),
            Column("x_requests", "x faster than requests loop", 1),
            Column("x_aiohttp_loop", "x faster than aiohttp loop", 1),
        ],
        measurements=measurements_from(samples, scale=1.0),
    )
    requests_loop = section.measurement(REQUESTS_LOOP)
    aiohttp_loop = section.measurement(AIOHTTP_LOOP)
    for measurement in section.measurements:
        concurrency = _concurrency_of(measurement.case)
        ideal = pages / concurrency * LATENCY if concurrency else None
        measurement.extra["x_ideal"] = measurement.median / ideal if ideal else None
        measurement.extra["x_requests"] = ratio(requests_loop, measurement)
        measurement.extra["x_aiohttp_loop"] = ratio(aiohttp_loop, measurement)
    add_targets(section)
    return section


def add_targets(section: Section) -> None:
    extra: dict[str, Any] = section.measurement(SDK_16).extra
    cached: dict[str, Any] = section.measurement(SDK_16_CACHED).extra
    section.targets += [
        Target(
            case="all pages, concurrency 16",
            goal="within 1.3x of pages / concurrency x latency",
            measured=f"{extra['x_ideal']:.2f}x ideal",
            met=extra["x_ideal"] <= 1.3,
        ),
        Target(
            case="all pages, concurrency 16, page 1 cached",
            goal="within 1.3x of pages / concurrency x latency",
            measured=f"{cached['x_ideal']:.2f}x ideal",
            met=cached["x_ideal"] <= 1.3,
        ),
        Target(
            case="all pages, concurrency 16",
            goal="10x faster than the sequential requests loop",
            measured=f"{extra['x_requests']:.1f}x faster",
            met=extra["x_requests"] >= 10,
        ),
    ]


def _concurrency_of(case: str) -> int | None:
    if not case.startswith("SDK"):
        return None
    return int(case.rsplit(" ", 1)[1])


if __name__ == "__main__":
    section_main(__doc__.splitlines()[0], run)
