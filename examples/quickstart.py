"""Search an event with a selfie, page through every match, and read a page again.

Start a sandbox in another terminal, then run this against it:

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/quickstart.py http://127.0.0.1:8080

The base URL comes from the first argument or from NINEPIC_BASE_URL. The API key and the
organisation id come from NINEPIC_API_KEY and NINEPIC_ORG_ID.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES


async def main(base_url: str, event_id: int, selfie: str) -> None:
    async with NinePicClient(base_url=base_url) as client:
        details = await client.events.details(event_id)
        print(f"event {event_id}: {details.event_name}, selfie search on: {details.selfie_search}")

        # One billed search. Keep page.request_id: every later read uses it and is free.
        page = await client.faces.search(event_id, selfie)
        print(f"request_id {page.request_id}: {page.pagination.total} matching photos")

        images = await client.faces.fetch_all(event_id, page.request_id)
        for image in images[:3]:
            print(f"  {image.image_id} {image.img_url}")
        print(f"  ... {len(images)} images in all")

        again = await client.faces.get(event_id, page.request_id, page=1)
        print(f"page 1 again: {len(again.images)} images, cache hits so far:", end=" ")
        print(client.cache_stats.hits)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    parser.add_argument("--event-id", type=int, default=DEMO_EVENT_ID, help="default: 456")
    parser.add_argument(
        "--selfie",
        default=str(SAMPLE_SELFIES["runner.jpg"]),
        help="path of a JPEG or PNG selfie (default: the sample runner.jpg)",
    )
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments.base_url, arguments.event_id, arguments.selfie))
