"""`client.timeline`: Photo Timeline, the event's photos by capture time.

Only photos with a capture timestamp are included. The docs describe the
window of `GET /timeline/images` as half-open, `[from, to)`, in Unix epoch
seconds, but the text was cut off before naming its query parameters and page
sizes: the client sends `from` and `to`, and assumes the 32/100 page sizes of
the other photo endpoints.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import TYPE_CHECKING

from .. import _protocol as protocol
from .._models import ImageItem, ImagePage, TimelineDays
from .._pagination import ItemIterator, PageIterator, ProgressCallback
from ._base import cached_get, check_ttl_lifetime, walk_pages
from .photos import MAX_PAGE_SIZE, PAGE_SIZE, image_id_of, images_of

if TYPE_CHECKING:
    from .._client import NinePicClient

# The end of the year 9999 UTC, the last instant a datetime can hold.
MAX_EPOCH_SECONDS = 253_402_300_799

Instant = int | float | datetime
"""A point in time: Unix epoch seconds, or a timezone-aware `datetime`."""


def epoch_seconds(name: str, value: Instant) -> int:
    """Return `value` as whole Unix epoch seconds, or raise `ValueError`/`TypeError`."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"{name} is a naive datetime; give it a timezone (timeline hours are UTC)"
            )
        seconds: float = value.timestamp()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be epoch seconds or a datetime, got {value!r}")
    else:
        seconds = value
    if not 0 <= seconds <= MAX_EPOCH_SECONDS:
        raise ValueError(
            f"{name} must be between 0 and {MAX_EPOCH_SECONDS} epoch seconds "
            f"(1970 to 9999), got {seconds}"
        )
    return int(seconds)


class TimelineResource:
    """Day and hour buckets of capture times, and the photos of a time window."""

    def __init__(self, client: NinePicClient) -> None:
        self._client = client

    async def days(self, event_id: int, *, ttl: float | None = None) -> TimelineDays:
        """Return the UTC days, ascending, with photo counts per hour.

        Cached for `cache_ttls["timeline"]` seconds (60). Raises
        `PermissionDeniedError` when the event's `timeline_search` flag is off.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        lifetime = check_ttl_lifetime(client, "timeline", ttl)
        return await cached_get(
            client,
            path=protocol.event_path(client.org_id, event_id, "timeline/days"),
            params=None,
            decoder=protocol.TIMELINE_DAYS_DECODER,
            key=protocol.cache_key(client.org_id, event_id, "timeline-days"),
            ttl=lifetime,
            feature_flag="timeline_search",
        )

    async def images(
        self,
        event_id: int,
        start: Instant,
        end: Instant,
        *,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        ttl: float | None = None,
        fresh: bool = False,
    ) -> ImagePage:
        """Return one page of the photos captured in `[start, end)`, in capture order.

        With `fresh=True` the cached copy is skipped: the page is read from the
        API and replaces it.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        window_start, window_end = _window(start, end)
        page, page_size = protocol.check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
        lifetime = check_ttl_lifetime(client, "timeline", ttl)
        return await cached_get(
            client,
            path=protocol.event_path(client.org_id, event_id, "timeline/images"),
            params={"from": window_start, "to": window_end, "page": page, "page_size": page_size},
            decoder=protocol.IMAGE_PAGE_DECODER,
            key=protocol.cache_key(
                client.org_id, event_id, "timeline", window_start, window_end, page, page_size
            ),
            ttl=lifetime,
            feature_flag="timeline_search",
            fresh=fresh,
        )

    def iter_pages(
        self,
        event_id: int,
        start: Instant,
        end: Instant,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PageIterator[ImagePage]:
        """Iterate over the pages of a time window in order, `concurrency` at a time."""
        event_id = protocol.check_positive_int("event_id", event_id)
        window_start, window_end = _window(start, end)

        async def fetch_page(number: int, fresh: bool) -> ImagePage:
            return await self.images(
                event_id, window_start, window_end, page=number, page_size=page_size, fresh=fresh
            )

        return walk_pages(
            self._client,
            fetch_page,
            images_of,
            start_page=1,
            page_size=page_size,
            max_page_size=MAX_PAGE_SIZE,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )

    def iter_images(
        self,
        event_id: int,
        start: Instant,
        end: Instant,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ItemIterator[ImagePage, ImageItem]:
        """Iterate over every photo captured in `[start, end)`, page after page."""
        pages = self.iter_pages(
            event_id,
            start,
            end,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return ItemIterator(pages.generator, images_of, image_id_of)

    async def fetch_all(
        self,
        event_id: int,
        start: Instant,
        end: Instant,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> builtins.list[ImageItem]:
        """Return every photo captured in `[start, end)` as one list."""
        images = self.iter_images(
            event_id,
            start,
            end,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return await images.collect()


def _window(start: Instant, end: Instant) -> tuple[int, int]:
    window_start = epoch_seconds("start", start)
    window_end = epoch_seconds("end", end)
    if window_end <= window_start:
        raise ValueError(
            f"end ({window_end}) must be after start ({window_start}); the window is [start, end)"
        )
    return window_start, window_end
