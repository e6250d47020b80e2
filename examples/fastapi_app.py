"""A FastAPI service that searches an event by selfie and pages through the results.

One NinePicClient serves every request. The lifespan opens it when the application starts
and closes it when the application stops. Needs `pip install fastapi uvicorn
python-multipart` (python-multipart parses the uploaded selfie).

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/fastapi_app.py http://127.0.0.1:8080 --port 8082
    curl -F selfie=@nine_pic_async/testing/selfies/runner.jpg \\
        http://127.0.0.1:8082/events/456/searches
    curl 'http://127.0.0.1:8082/events/456/searches/REQUEST_ID?page=2'
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from nine_pic_async import (
    APIConnectionError,
    NinePicClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

logger = logging.getLogger("photo_service")

PAGE_SIZE = 24

router = APIRouter()


def create_app(base_url: str) -> FastAPI:
    """Build the application; the API key and org id come from NINEPIC_API_KEY and _ORG_ID."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with NinePicClient(base_url=base_url) as client:
            app.state.ninepic = client
            yield  # the application serves requests here; the client closes after it stops

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(PermissionDeniedError, forbidden)
    for unavailable in (RateLimitError, ServerError, APIConnectionError):
        app.add_exception_handler(unavailable, service_unavailable)
    return app


def ninepic(request: Request) -> NinePicClient:
    """Return the application's client; used as a FastAPI dependency."""
    client: NinePicClient = request.app.state.ninepic
    return client


Client = Annotated[NinePicClient, Depends(ninepic)]


@router.post("/events/{event_id}/searches", status_code=201)
async def search(event_id: int, selfie: UploadFile, client: Client) -> dict[str, object]:
    """Search with the uploaded `selfie` field and return the first page."""
    try:
        page = await client.faces.search(
            event_id, await selfie.read(), page_size=PAGE_SIZE, check_event=True
        )
    except ValueError as exc:  # empty, too large, or neither JPEG nor PNG
        raise HTTPException(400, str(exc)) from None
    return {
        "request_id": page.request_id,
        "total": page.pagination.total,
        "images": [image.img_url for image in page.images],
    }


@router.get("/events/{event_id}/searches/{request_id}")
async def results(
    event_id: int, request_id: str, client: Client, page: Annotated[int, Query(ge=1)] = 1
) -> dict[str, object]:
    """Return one page of a stored search; reads never search again and are cached."""
    try:
        result = await client.faces.get(event_id, request_id, page=page, page_size=PAGE_SIZE)
    except ValueError as exc:  # a request_id that is not a UUID
        raise HTTPException(400, str(exc)) from None
    return {
        "page": result.pagination.current_page,
        "total_pages": result.pagination.total_pages,
        "images": [image.img_url for image in result.images],
    }


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "no such event or search"}, status_code=404)


async def forbidden(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PermissionDeniedError)
    return JSONResponse({"detail": exc.message}, status_code=403)


async def service_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Already retried by the client; tell our caller to come back later.
    logger.warning("9Pic is unavailable for %s: %s", request.url.path, exc)
    return JSONResponse({"detail": "photo search is unavailable, try again"}, status_code=503)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Run the example photo service.")
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    parser.add_argument("--port", type=int, default=8082, help="port to serve on (default: 8082)")
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    uvicorn.run(create_app(args.base_url), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
