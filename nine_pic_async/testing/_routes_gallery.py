"""Sandbox handlers of List Events, All Photos, BIB Search and Photo Timeline.

Each handler runs after ``Sandbox`` has counted the request, applied faults and chaos and
checked the API key and org, and it raises ``ApiError`` for the error envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._data import SandboxEvent
from ._http import (
    ApiError,
    RequestBody,
    pagination,
    parse_page_query,
    parse_required_int,
    success_response,
    unprocessable,
)

if TYPE_CHECKING:
    from ._server import Sandbox

EVENTS_DEFAULT_PAGE_SIZE = 10
EVENTS_MAX_PAGE_SIZE = 100
PHOTOS_MAX_PAGE_SIZE = 100
"""Largest ``page_size`` of All Photos, BIB Search and Photo Timeline images."""


def require_bib_search(sandbox: Sandbox, request: web.Request) -> SandboxEvent:
    """Return the event of the request, or raise 404 if unknown and 403 if BIB search is off."""
    event = sandbox._require_event(request)
    if not event.bib_search:
        raise ApiError(403, "BIB search is disabled for this event (bib_search is false)")
    return event


def require_timeline_search(sandbox: Sandbox, request: web.Request) -> SandboxEvent:
    """Return the event of the request, or raise 404 if unknown and 403 if the timeline is off."""
    event = sandbox._require_event(request)
    if not event.timeline_search:
        raise ApiError(403, "Photo timeline is disabled for this event (timeline_search is false)")
    return event


def image_page(
    sandbox: Sandbox,
    event_id: int,
    indices: Sequence[int],
    page: int,
    page_size: int,
    *,
    low: int = 0,
    high: int | None = None,
) -> dict[str, Any]:
    """Build ``{"images", "pagination"}`` for one page of ``indices[low:high]``.

    Only the photos of the page are sliced out, so a page costs the same however many photos
    match.
    """
    end = len(indices) if high is None else high
    start = low + (page - 1) * page_size
    page_indices = indices[start : min(start + page_size, end)] if start < end else ()
    return {
        "images": sandbox._image_items(event_id, page_indices),
        "pagination": pagination(end - low, page, page_size),
    }


async def handle_events_list(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """List the events of the organisation, ordered by event id ascending.

    The docs do not state an order. Event id order is stable and matches their example.
    """
    page, page_size, errors = parse_page_query(
        request.query,
        max_page_size=EVENTS_MAX_PAGE_SIZE,
        default_page_size=EVENTS_DEFAULT_PAGE_SIZE,
    )
    if errors:
        raise unprocessable(errors)
    event_ids = sorted(sandbox._events)
    start = (page - 1) * page_size
    events = [
        sandbox._events[event_id].list_item(sandbox.base_url)
        for event_id in event_ids[start : start + page_size]
    ]
    data = {"events": events, "pagination": pagination(len(event_ids), page, page_size)}
    return success_response("Records for events", data)


async def handle_photos_list(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """List every photo of the event in gallery order.

    Gallery order is by capture timestamp ascending, then the photos without a timestamp, each
    group in a stable order. The message is "No images found" when the event has no photos,
    as in the All Photos example, and "Records for all images" otherwise, including on a
    page past the end.
    """
    event = sandbox._require_event(request)
    page, page_size, errors = parse_page_query(request.query, max_page_size=PHOTOS_MAX_PAGE_SIZE)
    if errors:
        raise unprocessable(errors)
    order = sandbox._gallery(event).order
    message = "Records for all images" if order else "No images found"
    return success_response(message, image_page(sandbox, event.event_id, order, page, page_size))


async def handle_bibs_search(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """List the photos tagged with a BIB, compared case-insensitively, in gallery order.

    A BIB that tags no photo returns 200 with no images, as the BibSearchResponse example
    does. The docs also show the error "BIB number 1234 not found for this event" without its
    status, and the sandbox does not use it.
    """
    event = require_bib_search(sandbox, request)
    page, page_size, errors = parse_page_query(request.query, max_page_size=PHOTOS_MAX_PAGE_SIZE)
    if errors:
        raise unprocessable(errors)
    # aiohttp has already percent-decoded the path segment, "%2F" included.
    bib = request.match_info["bib"]
    photos = sandbox._gallery(event).bib(bib)
    data = image_page(sandbox, event.event_id, photos, page, page_size)
    return success_response(f"Records for bib number {bib}", data)


async def handle_timeline_days(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """Count the timestamped photos of the event per UTC day and hour. Takes no query."""
    event = require_timeline_search(sandbox, request)
    days = sandbox._gallery(event).days
    if not days:
        return success_response("No timeline data", {"days": []})
    return success_response("Timeline buckets", {"days": list(days)})


async def handle_timeline_images(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """List the photos captured in [from, to), in Unix seconds, in gallery order.

    The docs are cut off after the half-open window. The query names ``from`` and ``to``, the
    page size (default 32, max 100, as for All Photos) and the messages "Records for timeline
    images" and "No images found" are the sandbox's choice. ``from`` and ``to`` are required
    integers with ``from < to``, otherwise the response is 422.
    """
    event = require_timeline_search(sandbox, request)
    errors: list[str] = []
    start = parse_required_int(request.query, "from", errors)
    end = parse_required_int(request.query, "to", errors)
    page, page_size, page_errors = parse_page_query(
        request.query, max_page_size=PHOTOS_MAX_PAGE_SIZE
    )
    errors += page_errors
    if start is not None and end is not None and start >= end:
        errors.append(f"query.to: Input should be greater than from ({start})")
    if errors:
        raise unprocessable(errors)
    assert start is not None
    assert end is not None

    gallery = sandbox._gallery(event)
    low, high = gallery.window(start, end)
    data = image_page(sandbox, event.event_id, gallery.order, page, page_size, low=low, high=high)
    message = "Records for timeline images" if high > low else "No images found"
    return success_response(message, data)
