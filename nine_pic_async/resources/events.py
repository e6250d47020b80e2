"""`client.events`: event details (with the search feature flags) and ping."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _protocol as protocol
from .._models import EventDetails, Ping

if TYPE_CHECKING:
    from .._client import NinePicClient


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
