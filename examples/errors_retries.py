"""Handle the SDK's errors and tune its retries, against a sandbox.

Shows what each kind of failure raises and which ones the client retries by itself:

- a search in an event whose selfie search is off (PermissionDeniedError, not retried),
- a result that does not exist (NotFoundError, not retried),
- a selfie that cannot be sent (ValueError, raised before any request),
- a search that failed after the upload, repeated with its request_id so that it is billed
  at most once,
- per-call retry and time settings with `with_options`, and a deadline that ends a call.

Retries are logged at DEBUG level on the `nine_pic_async.retry` logger, which this example
prints.

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/errors_retries.py http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import uuid

from nine_pic_async import (
    APIConnectionError,
    APITimeoutError,
    NinePicClient,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    Timeout,
)
from nine_pic_async.testing import DEMO_EVENT_ID, DISABLED_EVENT_ID, SAMPLE_SELFIES

SELFIE = SAMPLE_SELFIES["runner.jpg"]


async def search_billed_once(client: NinePicClient, event_id: int) -> str:
    """Search, and when every retry failed to get a response, try once more later.

    The error carries the request_id the search was sent with. Sending that id again returns
    the stored result if the server had recorded the search, so it is billed at most once.
    """
    try:
        page = await client.faces.search(event_id, SELFIE)
    except APIConnectionError as exc:
        print(f"search failed after its retries ({exc}); trying request_id {exc.request_id}")
        await asyncio.sleep(1)
        page = await client.faces.search(event_id, SELFIE, request_id=exc.request_id)
    return page.request_id


async def main(base_url: str) -> None:
    # Retry settings for the whole client: up to 4 retries, waits from 0.2 s doubling to 2 s
    # (with jitter), and a Retry-After of up to 30 s honoured in full.
    policy = RetryPolicy(max_retries=4, initial_delay=0.2, max_delay=2.0, max_retry_after=30)
    timeout = Timeout(connect=5, read=15, total=30)
    async with NinePicClient(base_url=base_url, retry_policy=policy, timeout=timeout) as client:
        request_id = await search_billed_once(client, DEMO_EVENT_ID)
        print(f"search stored as {request_id}")

        try:
            await client.faces.search(DISABLED_EVENT_ID, SELFIE)
        except PermissionDeniedError as exc:
            print(f"403, not retried: {exc.message}")

        try:
            await client.faces.get(DEMO_EVENT_ID, uuid.uuid4())
        except NotFoundError as exc:
            print(f"404, not retried: {exc.status} {exc.method} {exc.path}")

        try:
            await client.faces.search(DEMO_EVENT_ID, b"not an image")
        except ValueError as exc:
            print(f"rejected before sending: {exc}")

        # Per-call settings: no retries and at most 2 seconds for this one call.
        quick = client.with_options(max_retries=0, deadline=2.0)
        try:
            details = await quick.events.details(DEMO_EVENT_ID)
            print(f"details in under 2 s: {details.event_name}")
        except APITimeoutError:
            print("the event details took longer than 2 s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Show errors and retries against a sandbox.")
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    logging.getLogger("nine_pic_async.retry").setLevel(logging.DEBUG)
    asyncio.run(main(args.base_url))
