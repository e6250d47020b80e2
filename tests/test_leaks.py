"""After 10,000 requests with faults mixed in, file descriptors and memory are back to normal."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

import pytest

from nine_pic_async import NinePicClient, NinePicError, RetryPolicy
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Chaos, Sandbox

REQUESTS = 10_000
BATCH = 500
CHAOS = Chaos(
    error_rate=0.04,
    drop_before_rate=0.02,
    drop_after_rate=0.02,
    truncate_rate=0.02,
    rate_limit_rate=0.02,
    retry_after="0.001",
)
FD_FOLDER = Path("/proc/self/fd")


def open_descriptors() -> int:
    return len(os.listdir(FD_FOLDER))


async def descriptors_settle(limit: int) -> int:
    """Wait up to 2 s for the count of open descriptors to fall to `limit`; return it."""
    count = open_descriptors()
    for _ in range(200):
        if count <= limit:
            break
        await asyncio.sleep(0.01)
        count = open_descriptors()
    return count


@pytest.mark.skipif(not FD_FOLDER.exists(), reason="needs /proc/self/fd (Linux)")
async def test_many_faulty_requests_leak_nothing() -> None:
    async with Sandbox(chaos=CHAOS, seed=99) as sandbox:
        # The sandbox's chaos faults the search too; enough retries make its failure negligible.
        async with NinePicClient(
            sandbox.api_key,
            sandbox.org_id,
            base_url=sandbox.base_url,
            cache=None,
            retry_policy=RetryPolicy(max_retries=8, initial_delay=0.0005, max_delay=0.005),
        ) as seeding:
            page = await seeding.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"])
        baseline_descriptors = await descriptors_settle(0)
        client = NinePicClient(
            sandbox.api_key,
            sandbox.org_id,
            base_url=sandbox.base_url,
            cache=None,
            max_concurrency=32,
            retry_policy=RetryPolicy(max_retries=8, initial_delay=0.0005, max_delay=0.005),
        )

        async def one(number: int) -> object:
            if number % 3 == 0:
                return await client.events.ping(DEMO_EVENT_ID)
            if number % 3 == 1:
                return await client.events.details(DEMO_EVENT_ID)
            return await client.faces.get(DEMO_EVENT_ID, page.request_id, page=1 + number % 30)

        failures = 0
        warm_objects = 0
        for start in range(0, REQUESTS, BATCH):
            results = await asyncio.gather(
                *(one(n) for n in range(start, start + BATCH)), return_exceptions=True
            )
            failures += sum(isinstance(result, NinePicError) for result in results)
            assert not [
                r
                for r in results
                if isinstance(r, BaseException) and not isinstance(r, NinePicError)
            ]
            if start + BATCH == 2_000:
                gc.collect()
                warm_objects = len(gc.get_objects())
        gc.collect()
        grown_objects = len(gc.get_objects()) - warm_objects
        faults = sum(sandbox.stats.faults.values())
        await client.aclose()
        after_descriptors = await descriptors_settle(baseline_descriptors)

    assert faults > REQUESTS * 0.05
    assert failures == 0
    assert after_descriptors <= baseline_descriptors
    # 8,000 requests after the warm-up may leave at most a few hundred objects behind, not
    # one per request. gc counts containers (lists, dicts, tasks, responses), not bare objects.
    assert grown_objects < 1_000
