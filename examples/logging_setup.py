"""Send the SDK's log lines where your application's go, at the level you choose.

The SDK logs on the `nine_pic_async` logger and its children, and adds no handler of its own:

- `nine_pic_async`: INFO, one line per HTTP exchange (method, path without the query, status,
  milliseconds), and a WARNING when the server returns another request_id than the one sent;
- `nine_pic_async.retry`: DEBUG, each retry and its wait;
- `nine_pic_async.cache`: WARNING once per outage of a cache server, INFO when it recovers,
  and a WARNING for the first cache entry that cannot be decoded;
- `nine_pic_async.downloads`: INFO, one line per original downloaded (the link without its
  query, which contains the signature);
- `nine_pic_async.testing`: the sandbox, when you run one in-process.

The API key is never logged.

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/logging_setup.py http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_EVENT_ID


def configure_logging() -> None:
    # The application decides the format and the handlers, once, at startup.
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING
    )
    # One line per HTTP exchange with the API. Use WARNING in production to see only problems.
    logging.getLogger("nine_pic_async").setLevel(logging.INFO)
    # Retry decisions, when you investigate a flaky network.
    logging.getLogger("nine_pic_async.retry").setLevel(logging.DEBUG)


async def main(base_url: str) -> None:
    async with NinePicClient(base_url=base_url) as client:
        await client.events.details(DEMO_EVENT_ID)  # logged: GET .../details 200
        await client.events.details(DEMO_EVENT_ID)  # a cache hit: nothing is sent or logged
        await client.bibs.fetch_all(DEMO_EVENT_ID, "A123")  # one line per page


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Show the SDK's log lines.")
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    configure_logging()
    asyncio.run(main(args.base_url))
