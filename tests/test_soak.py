"""A bounded soak test: 200 searches and all their pages through a sandbox that misbehaves."""

from __future__ import annotations

import asyncio
import hashlib

from nine_pic_async import FaceSearchPage, ImageItem, NinePicClient, RetryPolicy
from nine_pic_async.testing import DEMO_EVENT_ID, Chaos, Sandbox

SEARCHES = 200
# 20% of responses are faulted: server errors with JSON, HTML or text bodies, connections
# dropped before and after the search is recorded, truncated bodies, and 429 bursts.
CHAOS = Chaos(
    error_rate=0.06,
    drop_before_rate=0.03,
    drop_after_rate=0.04,
    truncate_rate=0.03,
    rate_limit_rate=0.04,
    retry_after="0.01",
    latency_jitter=0.002,
)
RETRIES = RetryPolicy(max_retries=8, initial_delay=0.001, max_delay=0.02)


def selfie(number: int) -> bytes:
    """Return distinct bytes with a JPEG signature; the sandbox matches any upload."""
    return b"\xff\xd8\xff\xe0" + hashlib.sha256(str(number).encode()).digest() * 8


async def search_and_read_all(
    client: NinePicClient, number: int
) -> tuple[FaceSearchPage, list[ImageItem]]:
    first = await client.faces.search(DEMO_EVENT_ID, selfie(number), page_size=20)
    images = await client.faces.fetch_all(
        DEMO_EVENT_ID, first.request_id, page_size=20, concurrency=4
    )
    return first, images


async def test_soak_with_faults_bills_each_search_once() -> None:
    async with Sandbox(chaos=CHAOS, seed=2026) as sandbox:
        async with NinePicClient(
            sandbox.api_key,
            sandbox.org_id,
            base_url=sandbox.base_url,
            retry_policy=RETRIES,
            max_concurrency=32,
        ) as client:
            results = await asyncio.wait_for(
                asyncio.gather(*(search_and_read_all(client, n) for n in range(SEARCHES))),
                timeout=120,
            )
        faults = sum(sandbox.stats.faults.values())
        requests = sandbox.stats.total_requests
        billed = sandbox.stats.billable_searches

        # Read every result again with chaos off and no cache, as the expected result.
        sandbox.set_chaos(None)
        async with NinePicClient(
            sandbox.api_key, sandbox.org_id, base_url=sandbox.base_url, cache=None
        ) as reference:
            expected = [
                await reference.faces.fetch_all(DEMO_EVENT_ID, first.request_id, page_size=20)
                for first, _images in results
            ]

    assert billed == SEARCHES
    assert faults >= requests * 0.1
    assert len({first.request_id for first, _images in results}) == SEARCHES
    for (first, images), reference_images in zip(results, expected, strict=True):
        ids = [image.image_id for image in images]
        assert len(ids) == len(set(ids)), f"duplicate images in {first.request_id}"
        assert len(images) == first.pagination.total
        assert images == reference_images
