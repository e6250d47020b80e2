"""Typed models of the API's payloads: frozen, keyword-only msgspec Structs.

Wire names are explicit per field because the API mixes `currentPage` with
`page_size`. Unknown fields are ignored so that an older client keeps working
when the server adds fields. Every field the docs show as nullable is
`... | None`.

The structs with only scalar fields (`ImageItem`, `Pagination` and the other
leaves) set `gc=False`: they cannot be part of a reference cycle, so the
garbage collector need not track them. That made decoding a page of 100
images 6% faster (25.5 µs against 27 µs, `python -m benchmarks --only
decoding`), and keeps a cache full of images out of every GC pass.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "EventDetails",
    "EventListItem",
    "EventListPage",
    "FaceSearchPage",
    "FailedLink",
    "ImageItem",
    "ImagePage",
    "OriginalLink",
    "OriginalLinksPage",
    "Pagination",
    "Ping",
    "TimelineDay",
    "TimelineDays",
    "TimelineHour",
]


class ImageItem(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One event photo: watermarked large and thumbnail URLs and its size in pixels."""

    image_id: str
    img_url: str
    thumbnail_url: str | None = None
    height: int | None = None
    width: int | None = None
    original_url: str | None = None


class Pagination(msgspec.Struct, frozen=True, kw_only=True, gc=False):
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


class ImagePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of event photos: the gallery, a BIB search or a timeline window."""

    images: tuple[ImageItem, ...]
    pagination: Pagination
    message: str | None = None


class EventListItem(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An event of the organisation. `cover_image` may be a URL or a path."""

    event_id: int
    event_name: str | None = None
    event_slug: str | None = None
    event_date: str | None = None
    status: str | None = None
    cover_image: str | None = None


class EventListPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the organisation's events."""

    events: tuple[EventListItem, ...]
    pagination: Pagination
    message: str | None = None


class OriginalLink(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A presigned link to an original photo; it expires about an hour after it is issued."""

    url: str
    filename: str


class FailedLink(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An image whose presigned link could not be generated, and why."""

    image_id: str
    error: str | None = None
    path: str | None = None


class OriginalLinksPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of presigned links to originals, with the images that failed.

    `identifier` is the BIB or `request_id` asked for, and `None` for a list of
    image ids. `message` explains an empty result.
    """

    presigned_urls: tuple[OriginalLink, ...]
    failed_urls: tuple[FailedLink, ...] = ()
    pagination: Pagination
    total_images: int = 0
    successful_count: int = 0
    failed_count: int = 0
    identifier: str | None = None
    message: str | None = None


class TimelineHour(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The number of photos captured in one UTC hour (0 to 23) of a day."""

    hour: int
    count: int


class TimelineDay(msgspec.Struct, frozen=True, kw_only=True):
    """The photos captured on one UTC calendar day (`YYYY-MM-DD`), by hour."""

    date: str
    total: int
    hours: tuple[TimelineHour, ...] = ()


class TimelineDays(msgspec.Struct, frozen=True, kw_only=True):
    """The days, ascending, on which the event's timestamped photos were captured."""

    days: tuple[TimelineDay, ...]
    message: str | None = None
