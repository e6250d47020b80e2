"""Steps every resource shares: a cached read, a page walk, and a hint for disabled features."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from .. import _protocol as protocol
from .._errors import PermissionDeniedError
from .._pagination import PageFetcher, PageIterator, PageLike, ProgressCallback, iterate_pages

if TYPE_CHECKING:
    from .._client import NinePicClient

T = TypeVar("T")
P = TypeVar("P", bound=PageLike)


async def cached_get(
    client: NinePicClient,
    *,
    path: str,
    params: Mapping[str, str | int] | None,
    decoder: protocol.ResponseDecoder[T],
    key: str,
    ttl: float,
    feature_flag: str | None = None,
    fresh: bool = False,
) -> T:
    """Read `path` through the cache: a hit sends nothing, a miss is fetched once and stored.

    `feature_flag` names the event flag a 403 may come from, for the error message.
    With `fresh`, the cached copy is skipped and the fetched value replaces it.
    """
    if not fresh:
        cached: T | None = client._cache.peek(key)
        if cached is not None:
            return cached

    async def fetch() -> T:
        try:
            return await client._request("GET", path, decoder, params=params)
        except PermissionDeniedError as exc:
            if feature_flag is not None:
                add_flag_hint(exc, feature_flag)
            raise

    return await client._cache.get_or_fetch(key, decoder.model, ttl, fetch, fresh=fresh)


def walk_pages(
    client: NinePicClient,
    fetch_page: PageFetcher[P],
    items: Callable[[P], Sequence[object]],
    *,
    start_page: int,
    page_size: int,
    max_page_size: int,
    concurrency: int | None,
    max_pages: int | None,
    on_progress: ProgressCallback | None,
) -> PageIterator[P]:
    """Check a page walk's arguments now, before any request, and return its iterator."""
    protocol.check_page(start_page, page_size, max_page_size=max_page_size)
    if max_pages is not None:
        protocol.check_positive_int("max_pages", max_pages)
    window = protocol.check_positive_int(
        "concurrency", concurrency if concurrency is not None else client.max_concurrency
    )
    return PageIterator(
        iterate_pages(
            fetch_page,
            items,
            start_page=start_page,
            concurrency=window,
            max_pages=max_pages,
            on_progress=on_progress,
        )
    )


def add_flag_hint(exc: PermissionDeniedError, flag: str) -> None:
    """Name the event flag behind a 403 in its message, unless the server already did."""
    if flag in exc.message:
        return
    exc.message = (
        f"{exc.message} (this is also the answer when the event's {flag} flag is off; "
        f"check client.events.details(event_id))"
    )
    exc.args = (exc.message,)


def check_ttl_lifetime(client: NinePicClient, endpoint: str, ttl: float | None) -> float:
    """Check a per-call `ttl` and return it, or the client's lifetime for `endpoint`."""
    protocol.check_ttl(ttl)
    return ttl if ttl is not None else client.cache_ttls[endpoint]
