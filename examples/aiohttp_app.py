"""An aiohttp.web service that searches an event by selfie and pages through the results.

One NinePicClient serves every request. A cleanup context opens it when the application
starts and closes it when the application stops.

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/aiohttp_app.py http://127.0.0.1:8080 --port 8081
    curl -F selfie=@nine_pic_async/testing/selfies/runner.jpg \\
        http://127.0.0.1:8081/events/456/searches
    curl 'http://127.0.0.1:8081/events/456/searches/REQUEST_ID?page=2'
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from nine_pic_async import (
    APIConnectionError,
    NinePicClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

logger = logging.getLogger("photo_service")

CLIENT = web.AppKey("ninepic", NinePicClient)
PAGE_SIZE = 24


def create_app(base_url: str) -> web.Application:
    """Build the application; the API key and org id come from NINEPIC_API_KEY and _ORG_ID."""

    async def ninepic_client(app: web.Application) -> AsyncIterator[None]:
        async with NinePicClient(base_url=base_url) as client:
            app[CLIENT] = client
            yield  # the application serves requests here; the client closes after it stops

    app = web.Application(middlewares=[api_errors])
    app.cleanup_ctx.append(ninepic_client)
    app.router.add_post("/events/{event_id:\\d+}/searches", search)
    app.router.add_get("/events/{event_id:\\d+}/searches/{request_id}", results)
    return app


async def search(request: web.Request) -> web.Response:
    """Search with the uploaded `selfie` field and return the first page."""
    client = request.app[CLIENT]
    event_id = int(request.match_info["event_id"])
    form = await request.post()
    selfie = form.get("selfie")
    if not isinstance(selfie, web.FileField):
        raise web.HTTPBadRequest(text="upload the selfie as the multipart field 'selfie'")
    try:
        page = await client.faces.search(
            event_id, selfie.file.read(), page_size=PAGE_SIZE, check_event=True
        )
    except ValueError as exc:  # empty, too large, or neither JPEG nor PNG
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response(
        {
            "request_id": page.request_id,
            "total": page.pagination.total,
            "images": [image.img_url for image in page.images],
        },
        status=201,
    )


async def results(request: web.Request) -> web.Response:
    """Return one page of a stored search; reads never search again and are cached."""
    client = request.app[CLIENT]
    event_id = int(request.match_info["event_id"])
    try:
        page_number = int(request.query.get("page", "1"))
        page = await client.faces.get(
            event_id, request.match_info["request_id"], page=page_number, page_size=PAGE_SIZE
        )
    except ValueError as exc:  # a page below 1 or a request_id that is not a UUID
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response(
        {
            "page": page.pagination.current_page,
            "total_pages": page.pagination.total_pages,
            "images": [image.img_url for image in page.images],
        }
    )


@web.middleware
async def api_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn the SDK's errors into HTTP statuses for this service's own callers."""
    try:
        return await handler(request)
    except NotFoundError:
        raise web.HTTPNotFound(text="no such event or search") from None
    except PermissionDeniedError as exc:
        raise web.HTTPForbidden(text=exc.message) from None
    except (RateLimitError, ServerError, APIConnectionError) as exc:
        # Already retried by the client; tell our caller to come back later.
        logger.warning("9Pic is unavailable for %s: %s", request.path, exc)
        raise web.HTTPServiceUnavailable(text="photo search is unavailable, try again") from None


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the example photo service.")
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    parser.add_argument("--port", type=int, default=8081, help="port to serve on (default: 8081)")
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    logging.basicConfig(level=logging.INFO)
    web.run_app(create_app(args.base_url), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
