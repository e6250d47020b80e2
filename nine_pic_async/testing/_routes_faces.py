"""Sandbox handlers of Face Search, Event Details and Ping.

Each handler runs after ``Sandbox`` has counted the request, applied faults and chaos and
checked the API key and org, and it raises ``ApiError`` for the error envelope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._data import SandboxEvent
from ._http import (
    FACES_MAX_PAGE_SIZE,
    ApiError,
    RequestBody,
    canonical_request_id,
    flat_response,
    pagination,
    parse_page_query,
    success_response,
    unprocessable,
)

if TYPE_CHECKING:
    from ._server import Sandbox


@dataclass(frozen=True)
class StoredSearch:
    """A face search result, kept for GET and for Download Originals."""

    request_id: str
    photo_indices: tuple[int, ...]
    confidence_percentage: int


def require_selfie_search(sandbox: Sandbox, request: web.Request) -> SandboxEvent:
    event = sandbox._require_event(request)
    if not event.selfie_search:
        raise ApiError(403, "Selfie search is disabled for this event (selfie_search is false)")
    return event


def face_search_body(
    sandbox: Sandbox, event_id: int, search: StoredSearch, page: int, page_size: int
) -> dict[str, Any]:
    total = len(search.photo_indices)
    start = (page - 1) * page_size
    images = sandbox._image_items(event_id, search.photo_indices[start : start + page_size])
    return {
        "request_id": search.request_id,
        "confidence_percentage": search.confidence_percentage,
        "images": images,
        "pagination": pagination(total, page, page_size),
    }


def face_search_response(
    sandbox: Sandbox, event_id: int, search: StoredSearch, page: int, page_size: int
) -> web.Response:
    body = face_search_body(sandbox, event_id, search, page, page_size)
    message = (
        "Computed face search" if search.photo_indices else "No image found similar to your selfie"
    )
    return success_response(message, body)


async def handle_faces_search(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.Response:
    event = require_selfie_search(sandbox, request)
    form = await body.selfie_form()
    page, page_size, errors = parse_page_query(request.query, max_page_size=FACES_MAX_PAGE_SIZE)
    if form.file is None:
        errors.append("body.file: Field required")
    if errors:
        raise unprocessable(errors)
    assert form.file is not None
    if not form.file:
        raise ApiError(400, "The uploaded selfie file is empty.")

    if form.request_id is None:
        request_id = str(uuid.uuid4())
    else:
        request_id = canonical_request_id(form.request_id)

    key = (event.event_id, request_id)
    search = sandbox._searches.get(key)
    if search is None:
        search = StoredSearch(
            request_id=request_id,
            photo_indices=sandbox._match_selfie(form.file, event),
            confidence_percentage=event.confidence_percentage,
        )
        sandbox._searches[key] = search
        sandbox.stats.billable_searches += 1
    return face_search_response(sandbox, event.event_id, search, page, page_size)


async def handle_faces_get(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.Response:
    event = require_selfie_search(sandbox, request)
    page, page_size, errors = parse_page_query(request.query, max_page_size=FACES_MAX_PAGE_SIZE)
    if errors:
        raise unprocessable(errors)
    request_id = canonical_request_id(request.match_info["request_id"])
    search = sandbox._searches.get((event.event_id, request_id))
    if search is None:
        raise ApiError(404, f"No face search with request_id {request_id} exists for this event.")
    return face_search_response(sandbox, event.event_id, search, page, page_size)


async def handle_event_details(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.Response:
    event = sandbox._require_event(request)
    if sandbox.legacy_flat:
        return flat_response(event.legacy_details())
    return success_response("Event details", event.details())


async def handle_event_ping(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.Response:
    event = sandbox._require_event(request)
    data = {"status": "ok", "org_id": sandbox.org_id, "event_id": event.event_id}
    if sandbox.legacy_flat:
        return flat_response(data)
    return success_response("pong", data)
