"""`client.events`: the event list, event details (with the feature flags) and ping."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from .. import _protocol as protocol
from .._models import EventDetails, EventListItem, EventListPage, Ping
from .._pagination import ItemIterator, PageIterator, ProgressCallback
from ._base import cached_get, check_ttl_lifetime, walk_pages

if TYPE_CHECKING:
    from .._client import NinePicClient


EVENTS_PAGE_SIZE = protocol.EVENTS_DEFAULT_PAGE_SIZE
EVENTS_MAX_PAGE_SIZE = 100


class EventsResource:
    """Event-level endpoints of one organisation."""

    def __init__(self, client: NinePicClient) -> None:
        self._client = client

    async def details(self, event_id: int, *, ttl: float | None = None) -> EventDetails:
        """Fetch an event's metadata and feature flags (`selfie_search`, `bib_search`, ...).

        Cached for `client.cache_ttls["details"]` seconds (60 by default) unless
        `ttl` is given. Raises `NotFoundError` for an unknown event and
        `PermissionDeniedError` for an event outside the key's organisation.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        protocol.check_ttl(ttl)
        key = protocol.cache_key(client.org_id, event_id, "details")
        cached: EventDetails | None = client._cache.peek(key)
        if cached is not None:
            return cached

        path = protocol.event_path(client.org_id, event_id, "details")

        async def fetch() -> EventDetails:
            return await client._request("GET", path, protocol.EVENT_DETAILS_DECODER)

        protocol.check_ttl(ttl)
        lifetime = ttl if ttl is not None else client.cache_ttls["details"]
        return await client._cache.get_or_fetch(key, EventDetails, lifetime, fetch)

    async def ping(self, event_id: int) -> Ping:
        """Check the key, host and event mapping in one round trip; never cached."""
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        path = protocol.event_path(client.org_id, event_id, "ping")
        return await client._request("GET", path, protocol.PING_DECODER)

    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = EVENTS_PAGE_SIZE,
        ttl: float | None = None,
        fresh: bool = False,
    ) -> EventListPage:
        """Return one page of the organisation's events, cached for `cache_ttls["events"]`.

        With `fresh=True` the cached copy is skipped: the page is read from the
        API and replaces it.
        """
        client = self._client
        page, page_size = protocol.check_page(page, page_size, max_page_size=EVENTS_MAX_PAGE_SIZE)
        lifetime = check_ttl_lifetime(client, "events", ttl)
        return await cached_get(
            client,
            path=f"{protocol.API_PREFIX}/{client.org_id}/events",
            params={"page": page, "page_size": page_size},
            decoder=protocol.EVENT_LIST_DECODER,
            key=protocol.org_cache_key(client.org_id, "events", page, page_size),
            ttl=lifetime,
            fresh=fresh,
        )

    def iter_pages(
        self,
        *,
        page_size: int = EVENTS_PAGE_SIZE,
        start_page: int = 1,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PageIterator[EventListPage]:
        """Iterate over the pages of the event list in order, `concurrency` at a time."""

        async def fetch_page(number: int, fresh: bool) -> EventListPage:
            return await self.list(page=number, page_size=page_size, fresh=fresh)

        return walk_pages(
            self._client,
            fetch_page,
            _events_of,
            start_page=start_page,
            page_size=page_size,
            max_page_size=EVENTS_MAX_PAGE_SIZE,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )

    def iter_events(
        self,
        *,
        page_size: int = EVENTS_PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ItemIterator[EventListPage, EventListItem]:
        """Iterate over every event of the organisation, page after page."""
        pages = self.iter_pages(
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return ItemIterator(pages.generator, _events_of, _event_id_of)

    async def fetch_all(
        self,
        *,
        page_size: int = EVENTS_PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> builtins.list[EventListItem]:
        """Return every event of the organisation as one list."""
        events = self.iter_events(
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return await events.collect()


def _events_of(page: EventListPage) -> tuple[EventListItem, ...]:
    return page.events


def _event_id_of(event: EventListItem) -> int:
    return event.event_id
