"""`NinePicClient`: the session, the send path and the resources hanging off it.

The send path is layered. A resource method checks its arguments and builds a
cache key. `ResponseCache.get_or_fetch` serves hits and coalesces identical
misses. `call_with_retries` repeats failed attempts. `Transport.send` sends one
request and hands status and body to the pure functions of `_protocol`.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from aiocache.base import BaseCache

from . import _protocol as protocol
from ._cache import DEFAULT_TTLS, MemoryCache
from ._config import Timeout
from ._response_cache import CacheStats, ResponseCache
from ._retry import RetryPolicy, call_with_retries
from ._transport import Transport
from ._version import __version__
from .resources.events import EventsResource
from .resources.faces import FacesResource
from .resources.originals import OriginalsResource
from .resources.photos import BibsResource, PhotosResource
from .resources.timeline import TimelineResource

__all__ = ["DEFAULT_BASE_URL", "NinePicClient"]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.9pic.ai"
# The key `nine_pic_async.testing.Sandbox` accepts by default; it never belongs at the real API.
SANDBOX_API_KEY = "sandbox-key"

logger = logging.getLogger("nine_pic_async")


class _DefaultCache:
    def __repr__(self) -> str:
        return "<default MemoryCache>"


_DEFAULT_CACHE: Any = _DefaultCache()


class NinePicClient:
    """An asyncio client of the 9Pic API; use one per process and event loop.

    `api_key`, `org_id` and `base_url` fall back to the environment variables
    `NINEPIC_API_KEY`, `NINEPIC_ORG_ID` and `NINEPIC_BASE_URL`. The aiohttp
    session is created on first use inside the running loop and closed by
    `aclose()`, or when that loop ends. A session passed as `session=` is
    borrowed and left open.

    `cache` is any aiocache backend (see `memory_cache`, `redis_cache`,
    `memcached_cache`), `None` to turn caching off, or by default a fresh
    `MemoryCache`. `cache_ttls` overrides the seconds an endpoint's responses
    stay fresh (`"faces"`, `"details"`, ...). `cache_lock_lease` turns on a
    lock in a shared backend so that processes missing the same key make one
    request between them. It is the longest wait in seconds for another
    process's request.

    `max_retries` counts retries after the first attempt of a retryable
    failure (connection errors, timeouts, 429, 500/502/503/504). `deadline`
    bounds a whole call, retries and waits included, in seconds.
    `max_concurrency` bounds requests in flight and `max_requests_per_second`
    their rate; waiting for either does not count against `timeout`. A response
    body over `max_response_bytes` raises `ResponseValidationError` unread.
    """

    faces: FacesResource
    """9Pic FaceFind: selfie search, and the stored result's pages by `request_id`."""
    events: EventsResource
    """The organisation's events: list, details and ping."""
    photos: PhotosResource
    """An event's whole gallery, in capture order."""
    bibs: BibsResource
    """9Pic BibTrack: an event's photos by BIB number."""
    originals: OriginalsResource
    """Presigned links to the unwatermarked originals, and downloads to disk."""
    timeline: TimelineResource
    """An event's photos by capture time: days with hourly counts, and time windows."""

    def __init__(
        self,
        api_key: str | None = None,
        org_id: int | None = None,
        *,
        base_url: str | None = None,
        cache: BaseCache | None = _DEFAULT_CACHE,
        timeout: Timeout | float | None = None,
        max_retries: int = 2,
        deadline: float | None = None,
        max_concurrency: int = 16,
        max_requests_per_second: float | None = None,
        session: aiohttp.ClientSession | None = None,
        max_selfie_bytes: int = protocol.DEFAULT_MAX_SELFIE_BYTES,
        max_response_bytes: int = protocol.DEFAULT_MAX_RESPONSE_BYTES,
        allow_insecure_http: bool = False,
        retry_policy: RetryPolicy | None = None,
        cache_ttls: Mapping[str, float] | None = None,
        cache_lock_lease: float | None = None,
    ) -> None:
        api_key = _resolve_api_key(api_key)
        self.org_id = _resolve_org_id(org_id)
        self.base_url = protocol.normalize_base_url(
            base_url or os.environ.get("NINEPIC_BASE_URL") or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
        )
        if api_key == SANDBOX_API_KEY and self.base_url == DEFAULT_BASE_URL:
            raise ValueError(
                f"api_key is the sandbox's key {SANDBOX_API_KEY!r}, but base_url is the real API "
                f"({DEFAULT_BASE_URL}); pass the sandbox's URL as base_url= or set "
                f"NINEPIC_BASE_URL"
            )
        self.timeout = Timeout.coerce(timeout)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.deadline = _check_deadline(deadline)
        self.max_selfie_bytes = protocol.check_positive_int("max_selfie_bytes", max_selfie_bytes)
        if cache is _DEFAULT_CACHE:
            cache = MemoryCache()
        if cache is not None and not isinstance(cache, BaseCache):
            raise TypeError(
                f"cache must be an aiocache backend (aiocache.base.BaseCache) or None, "
                f"got {type(cache).__name__}"
            )
        self.cache_ttls: dict[str, float] = {**DEFAULT_TTLS, **_check_ttls(cache_ttls or {})}

        if cache_lock_lease is not None:
            protocol.check_seconds(
                "cache_lock_lease", cache_lock_lease, maximum=MAX_SETTING_SECONDS
            )
        self._cache = ResponseCache(cache, lock_lease=cache_lock_lease)
        self._transport = Transport(
            base_url=self.base_url,
            headers={
                "X-API-Key": api_key,
                "Accept": "application/json",
                "User-Agent": f"nine-pic-async/{__version__}",
            },
            max_concurrency=protocol.check_positive_int("max_concurrency", max_concurrency),
            session=session,
            max_requests_per_second=max_requests_per_second,
            max_response_bytes=protocol.check_positive_int(
                "max_response_bytes", max_response_bytes
            ),
        )
        self._rng = random.Random()
        self._bind_resources()

    def with_options(
        self,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> NinePicClient:
        """Return a view of this client with other retry or time settings, for some calls.

        The view shares the session, the cache and the limits with this client,
        and closing either closes both. `deadline=None` keeps this client's.

            page = await client.with_options(deadline=5, max_retries=0).faces.get(...)
        """
        view = copy.copy(self)
        if timeout is not None:
            view.timeout = Timeout.coerce(timeout)
        if retry_policy is not None:
            view.retry_policy = retry_policy
        if max_retries is not None:
            view.retry_policy = dataclasses.replace(view.retry_policy, max_retries=max_retries)
        if deadline is not None:
            view.deadline = _check_deadline(deadline)
        view._bind_resources()
        return view

    def _bind_resources(self) -> None:
        self.faces = FacesResource(self)
        self.events = EventsResource(self)
        self.photos = PhotosResource(self)
        self.bibs = BibsResource(self)
        self.originals = OriginalsResource(self)
        self.timeline = TimelineResource(self)

    def __repr__(self) -> str:
        return f"NinePicClient(org_id={self.org_id}, base_url={self.base_url!r})"

    async def __aenter__(self) -> NinePicClient:
        self._transport.check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def max_concurrency(self) -> int:
        """The maximum number of requests this client has in flight at once."""
        return self._transport.max_concurrency

    @property
    def closed(self) -> bool:
        """Whether `aclose()` has been called."""
        return self._transport.closed

    @property
    def cache(self) -> BaseCache | None:
        """The aiocache backend in use, or `None` when caching is off."""
        return self._cache.backend

    @property
    def cache_stats(self) -> CacheStats:
        """A snapshot of the cache's hit, miss, coalesced-wait and error counters."""
        return self._cache.snapshot()

    async def aclose(self) -> None:
        """Close the session the client created; calling it again does nothing.

        A session passed in as `session=` belongs to the caller and stays open.
        A cache passed in as `cache=` stays open too.
        """
        await self._transport.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        decoder: protocol.ResponseDecoder[T],
        *,
        params: Mapping[str, str | int] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        json_body: bytes | None = None,
    ) -> T:
        """Send a request with retries and return the decoded success body.

        `form` builds the multipart body anew for every attempt, because a
        `FormData` can be sent only once.
        """
        self._transport.check_open()
        deadline_at = time.monotonic() + self.deadline if self.deadline is not None else None

        async def attempt() -> T:
            return await self._transport.send(
                method,
                path,
                decoder,
                params=params,
                form=form,
                timeout=self.timeout,
                deadline=deadline_at,
                json_body=json_body,
            )

        return await call_with_retries(
            attempt, self.retry_policy, rng=self._rng, deadline_at=deadline_at
        )


# One day: the longest deadline, timeout or lock lease accepted.
MAX_SETTING_SECONDS = 24 * 3600.0


def _check_deadline(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return protocol.check_seconds("deadline", deadline, maximum=MAX_SETTING_SECONDS)


def _check_ttls(ttls: Mapping[str, float]) -> dict[str, float]:
    unknown = set(ttls) - set(DEFAULT_TTLS)
    if unknown:
        raise ValueError(
            f"cache_ttls has unknown endpoints {sorted(unknown)}; known: {sorted(DEFAULT_TTLS)}"
        )
    for endpoint, seconds in ttls.items():
        protocol.check_seconds(
            f"cache_ttls[{endpoint!r}]", seconds, maximum=protocol.MAX_TTL_SECONDS
        )
    return dict(ttls)


def _resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("NINEPIC_API_KEY")
    if not key:
        raise ValueError(
            "api_key is missing: pass api_key= or set the NINEPIC_API_KEY environment variable"
        )
    if not isinstance(key, str) or not key.isascii() or not key.isprintable() or key != key.strip():
        raise ValueError(
            "api_key must be printable ASCII without surrounding spaces; check for a stray "
            "space, line break or quote copied with it"
        )
    return key


def _resolve_org_id(org_id: int | None) -> int:
    if org_id is not None:
        return protocol.check_positive_int("org_id", org_id)
    text = os.environ.get("NINEPIC_ORG_ID")
    if not text:
        raise ValueError(
            "org_id is missing: pass org_id= or set the NINEPIC_ORG_ID environment variable"
        )
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"NINEPIC_ORG_ID must be a positive integer, got {text!r}") from None
    return protocol.check_positive_int("NINEPIC_ORG_ID", value)
