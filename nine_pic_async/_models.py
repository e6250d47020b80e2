"""Typed models of the API's payloads: frozen, keyword-only msgspec Structs.

Wire names are explicit per field because the API mixes `currentPage` with
`page_size`. Unknown fields are ignored so that an older client keeps working
when the server adds fields. Every field the docs show as nullable is
`... | None`.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "EventDetails",
    "FaceSearchPage",
    "ImageItem",
    "Pagination",
    "Ping",
]


class ImageItem(msgspec.Struct, frozen=True, kw_only=True):
    """One event photo: watermarked large and thumbnail URLs and its size in pixels."""

    image_id: str
    img_url: str
    thumbnail_url: str | None = None
    height: int | None = None
    width: int | None = None
    original_url: str | None = None


class Pagination(msgspec.Struct, frozen=True, kw_only=True):
    """Page metadata. An empty result has `current_page == 0` and `total_pages == 0`."""

    total: int
    current_page: int = msgspec.field(name="currentPage")
    total_pages: int = msgspec.field(name="totalPages")
    has_next_page: bool = msgspec.field(name="hasNextPage")
    has_previous_page: bool = msgspec.field(name="hasPreviousPage")
    page_size: int


class FaceSearchPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a face search result, from `POST /faces` or `GET /faces/{request_id}`.

    `message` is the server's human-readable text, for logs only. `total` in
    `pagination` counts matches over all pages and may differ from `len(images)`.
    """

    request_id: str
    images: tuple[ImageItem, ...]
    pagination: Pagination
    confidence_percentage: float | None = None
    message: str | None = None


class EventDetails(msgspec.Struct, frozen=True, kw_only=True):
    """An event's metadata and which search features are enabled for it.

    Flags missing from older responses (`video_search`, `video_selfie_search`,
    `timeline_search`) read as `False`. `event_date` is the server's ISO 8601
    text, without an offset in every documented example.
    """

    event_id: int
    event_name: str | None = None
    event_slug: str | None = None
    event_date: str | None = None
    status: str | None = None
    event_enabled: bool = False
    bib_search: bool = False
    selfie_search: bool = False
    name_search: bool = False
    video_search: bool = False
    video_selfie_search: bool = False
    timeline_search: bool = False


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    """The result of `GET /ping`: the key, host and event mapping were accepted."""

    status: str
    org_id: int
    event_id: int
