"""One uncached read of a 100-image page: `client.faces.get` next to raw aiohttp and httpx.

Run from the repository root: `python -m benchmarks.single_read [--quick] [--json]`. The
sandbox runs in its own process on loopback with no added latency, so the figures are the
clients' own cost plus a loopback round trip. Each side checks the status and decodes the
JSON: the SDK into its models, the raw clients into dicts with `resp.json()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import httpx

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

NAME = "single_read"
PAGE_SIZE = 100
SDK = "SDK faces.get, no cache"
AIOHTTP = "aiohttp session.get + resp.json()"
HTTPX = "httpx AsyncClient.get + resp.json()"


async def run(quick: bool) -> Section:
    rounds, calls = (3, 20) if quick else (15, 200)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": DEMO_API_KEY}
    with process_on_port(sandbox_command(port), port):
        async with (
            NinePicClient(DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url, cache=None) as client,
            aiohttp.ClientSession(headers=headers) as session,
            httpx.AsyncClient(headers=headers) as http,
        ):
            first = await client.faces.search(
                DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=PAGE_SIZE
            )
            url = (
                f"{base_url}/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}"
                f"/faces/{first.request_id}"
            )
            params = {"page": 2, "page_size": PAGE_SIZE}

            async def read_with_sdk() -> object:
                return await client.faces.get(
                    DEMO_EVENT_ID, first.request_id, page=2, page_size=PAGE_SIZE
                )

            async def read_with_aiohttp() -> object:
                async with session.get(url, params=params) as response:
                    response.raise_for_status()
                    return await response.json()

            async def read_with_httpx() -> object:
                response = await http.get(url, params=params)
                response.raise_for_status()
                return response.json()

            cases: dict[str, Callable[[], Awaitable[object]]] = {
                SDK: read_with_sdk,
                AIOHTTP: read_with_aiohttp,
                HTTPX: read_with_httpx,
            }
            for read in cases.values():
                await read()  # Open each client's connection before timing.
            samples = await measure(cases, rounds=rounds, calls=calls)

    section = Section(
        name=NAME,
        title="One uncached page read",
        description=(
            f"One read of a {PAGE_SIZE}-image face search page from the sandbox on loopback, "
            f"no added latency. Median of {count_of(rounds, 'round')} of {calls} calls per case."
        ),
        unit="µs",
        columns=[
            Column("median", "median µs"),
            Column("min", "min µs"),
            Column("max", "max µs"),
            Column("x_aiohttp", "time / raw aiohttp", 2),
        ],
        measurements=measurements_from(samples, scale=1e6),
    )
    baseline = section.measurement(AIOHTTP)
    for measurement in section.measurements:
        measurement.extra["x_aiohttp"] = ratio(measurement, baseline)
    sdk_ratio = ratio(section.measurement(SDK), baseline)
    section.targets.append(
        Target(
            case="one uncached page read",
            goal="SDK no slower than raw aiohttp (time ratio <= 1.00)",
            measured=f"{sdk_ratio:.2f}x the time of raw aiohttp",
            met=sdk_ratio <= 1.0,
        )
    )
    return section


if __name__ == "__main__":
    section_main(__doc__.splitlines()[0], run)
