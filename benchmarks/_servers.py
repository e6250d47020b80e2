"""Servers that the benchmarks run in their own processes, always on 127.0.0.1.

`python -m benchmarks._servers sandbox --port PORT [--latency SECONDS]` runs the SDK's
sandbox, delaying every API response by `latency`. It adds one route, `GET /_benchmark/requests`,
which returns the sandbox's request counters per route as JSON, so that a benchmark can count
what reached the network.

`python -m benchmarks._servers large-result --port PORT --images N` serves one stored face
search result of N images under any event and `request_id`, for
`GET /api/v1/ext/{org_id}/event/{event_id}/faces/{request_id}?page=&page_size=`. The sandbox's
results hold at most 1,000 images. This server checks neither the API key nor the ids.

Both run on uvloop when it is installed (the `bench` extra installs it where it builds, so not
on Windows). The servers stand in for the API, whose own CPU time is not what the benchmarks
measure: on asyncio's loop, the sandbox spends about 120 µs of CPU a response, so 16 requests
arriving together wait up to 2 ms for one another, which delays the client and its
hand-written rivals alike.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

import msgspec
from aiohttp import web

from benchmarks._support import REQUESTS_PATH
from nine_pic_async.testing import Chaos, Sandbox

HOST = "127.0.0.1"
FACES_PATH = "/api/v1/ext/{org_id}/event/{event_id}/faces/{request_id}"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 32

_encode = msgspec.json.Encoder().encode


async def serve_sandbox(port: int, latency: float) -> None:
    sandbox = Sandbox(host=HOST, port=port, chaos=Chaos(latency=latency) if latency else None)

    async def request_counts(request: web.Request) -> web.Response:
        return web.json_response(dict(sandbox.stats.requests))

    # Added before start(), while the router can still change. The sandbox counts only its
    # own API and media routes, so reading the counters does not change them.
    sandbox.app.router.add_get(REQUESTS_PATH, request_counts)
    async with sandbox:
        await asyncio.get_running_loop().create_future()


def large_result_app(base_url: str, images: int) -> web.Application:
    """Build the app that serves one face search result of `images` images."""

    async def faces_page(request: web.Request) -> web.Response:
        try:
            page = int(request.query.get("page", "1"))
            page_size = int(request.query.get("page_size", str(DEFAULT_PAGE_SIZE)))
        except ValueError:
            return _error(422, "page and page_size must be integers")
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            return _error(422, f"page must be >= 1 and page_size between 1 and {MAX_PAGE_SIZE}")
        start = (page - 1) * page_size
        indices = range(start, min(start + page_size, images))
        total_pages = -(-images // page_size)
        data = {
            "request_id": request.match_info["request_id"],
            "confidence_percentage": 90,
            "images": [_image_item(base_url, index) for index in indices],
            "pagination": {
                "total": images,
                "currentPage": page,
                "totalPages": total_pages,
                "hasNextPage": page < total_pages,
                "hasPreviousPage": page > 1,
                "page_size": page_size,
            },
        }
        body = _encode({"responseType": "success", "message": "Computed face search", "data": data})
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(FACES_PATH, faces_page)
    return app


async def serve_large_result(port: int, images: int) -> None:
    runner = web.AppRunner(large_result_app(f"http://{HOST}:{port}", images), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
        await asyncio.get_running_loop().create_future()
    finally:
        await runner.cleanup()


def _image_item(base_url: str, index: int) -> dict[str, Any]:
    """Build an image shaped like the sandbox's, about 300 bytes of JSON."""
    image_id = str(uuid.UUID(int=index + 1))
    return {
        "img_url": f"{base_url}/media/456/large/{image_id}.jpg",
        "height": 4860,
        "width": 3240,
        "image_id": image_id,
        "thumbnail_url": f"{base_url}/media/456/small/{image_id}.jpg",
        "original_url": None,
    }


def _error(status: int, message: str) -> web.Response:
    body = _encode({"responseType": "error", "message": message, "data": None})
    return web.Response(status=status, body=body, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="the SDK's sandbox with request counters")
    sandbox.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    sandbox.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every API response"
    )
    large = commands.add_parser("large-result", help="one face search result of many images")
    large.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    large.add_argument("--images", type=int, required=True, help="number of images in the result")
    args = parser.parse_args()
    if args.command == "sandbox":
        run_server(serve_sandbox(args.port, args.latency))
    else:
        run_server(serve_large_result(args.port, args.images))


def run_server(server: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(server)
    else:
        uvloop.run(server)


if __name__ == "__main__":
    main()
