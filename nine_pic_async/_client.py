"""`NinePicClient`: the session, the send path and the resources hanging off it.

The send path is layered: a resource method checks its arguments and builds a
cache key, `ResponseCache.get_or_fetch` serves hits and coalesces identical
misses, `call_with_retries` repeats failed attempts, and `_attempt` sends one
request and hands status and body to the pure functions of `_protocol`.
"""

from __future__ import annotations

import asyncio
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
from ._errors import APIConnectionError, APITimeoutError, ClientClosedError
from ._response_cache import CacheStats, ResponseCache
from ._retry import RetryPolicy, call_with_retries
from ._version import __version__
from .resources.events import EventsResource
from .resources.faces import FacesResource

__all__ = ["DEFAULT_BASE_URL", "NinePicClient"]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.9pic.ai"

logger = logging.getLogger("nine_pic_async")


class _DefaultCache:
    def __repr__(self) -> str:
        return "<default MemoryCache>"


_DEFAULT_CACHE: Any = _DefaultCache()


class NinePicClient:
    """An asyncio client of the 9Pic API; use one per process and event loop.

    `api_key`, `org_id` and `base_url` fall back to the environment variables
    `NINEPIC_API_KEY`, `NINEPIC_ORG_ID` and `NINEPIC_BASE_URL`. The aiohttp
    session is created on first use inside the running loop, or borrowed from
    `session=` and then left open on `aclose()`.

    `cache` is any aiocache backend (see `memory_cache`, `redis_cache`,
    `memcached_cache`), `None` to turn caching off, or by default a fresh
    `MemoryCache`. `cache_ttls` overrides the seconds an endpoint's responses
    stay fresh (`"faces"`, `"details"`). `cache_lock_lease` turns on a lock in
    a shared backend so that processes missing the same key make one request
    between them; it is the longest wait in seconds for another process's
    request. `max_concurrency` bounds requests in flight.
    `max_retries` counts retries after the first attempt of a retryable
    failure (connection errors, timeouts, 429, 500/502/503/504).
    """

    def __init__(
        self,
        api_key: str | None = None,
        org_id: int | None = None,
        *,
        base_url: str | None = None,
        cache: BaseCache | None = _DEFAULT_CACHE,
        timeout: Timeout | float | None = None,
        max_retries: int = 2,
        max_concurrency: int = 16,
        session: aiohttp.ClientSession | None = None,
        max_selfie_bytes: int = protocol.DEFAULT_MAX_SELFIE_BYTES,
        allow_insecure_http: bool = False,
        retry_policy: RetryPolicy | None = None,
        cache_ttls: Mapping[str, float] | None = None,
        cache_lock_lease: float | None = None,
    ) -> None:
        self._api_key = _resolve_api_key(api_key)
        self.org_id = _resolve_org_id(org_id)
        self.base_url = protocol.normalize_base_url(
            base_url or os.environ.get("NINEPIC_BASE_URL") or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
        )
        self.timeout = Timeout.coerce(timeout)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.max_concurrency = protocol.check_positive_int("max_concurrency", max_concurrency)
        self.max_selfie_bytes = protocol.check_positive_int("max_selfie_bytes", max_selfie_bytes)
        if cache is _DEFAULT_CACHE:
            cache = MemoryCache()
        if cache is not None and not isinstance(cache, BaseCache):
            raise TypeError(
                f"cache must be an aiocache backend (aiocache.base.BaseCache) or None, "
                f"got {type(cache).__name__}"
            )
        self.cache_ttls: dict[str, float] = {**DEFAULT_TTLS, **_check_ttls(cache_ttls or {})}

        self._cache = ResponseCache(cache, lock_lease=cache_lock_lease)
        self._borrowed_session = session
        self._session: aiohttp.ClientSession | None = session
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._closed = False
        self._rng = random.Random()
        self._headers = {
            "X-API-Key": self._api_key,
            "Accept": "application/json",
            "User-Agent": f"nine-pic-async/{__version__}",
        }

        self.faces = FacesResource(self)
        self.events = EventsResource(self)

    def __repr__(self) -> str:
        return f"NinePicClient(org_id={self.org_id}, base_url={self.base_url!r})"

    async def __aenter__(self) -> NinePicClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether `aclose()` has been called."""
        return self._closed

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
        """
        if self._closed:
            return
        self._closed = True
        session, self._session = self._session, None
        if session is not None and session is not self._borrowed_session:
            await session.close()

    # -- The send path ---------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        decoder: protocol.ResponseDecoder[T],
        *,
        params: Mapping[str, str | int] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
    ) -> T:
        """Send a request with retries and return the decoded success body.

        `form` builds the multipart body anew for every attempt, because a
        `FormData` can be sent only once.
        """

        async def attempt() -> T:
            return await self._attempt(method, path, decoder, params=params, form=form)

        return await call_with_retries(attempt, self.retry_policy, rng=self._rng)

    async def _attempt(
        self,
        method: str,
        path: str,
        decoder: protocol.ResponseDecoder[T],
        *,
        params: Mapping[str, str | int] | None,
        form: Callable[[], aiohttp.FormData] | None,
    ) -> T:
        session = self._session_for_running_loop()
        semaphore = self._semaphore
        assert semaphore is not None
        data = form() if form is not None else None

        async with semaphore:
            started = time.perf_counter()
            try:
                async with session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=data,
                    headers=self._headers,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
            except (asyncio.TimeoutError, TimeoutError) as exc:
                raise APITimeoutError("request timed out", method=method, path=path) from exc
            except aiohttp.ClientError as exc:
                raise APIConnectionError(
                    f"connection failed: {type(exc).__name__}: {exc}", method=method, path=path
                ) from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s %d %.1fms", method, path, status, elapsed_ms)

        if 200 <= status < 300:
            return protocol.decode_success(decoder, body, status=status, path=path)
        raise protocol.status_error(status, body, method=method, path=path, retry_after=retry_after)

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(
                "this NinePicClient is closed; create a new one, or keep it open for the "
                "lifetime of your application"
            )

    def _session_for_running_loop(self) -> aiohttp.ClientSession:
        self._check_open()
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        elif self._loop is not loop:
            raise RuntimeError(
                "this NinePicClient was first used in another event loop; create one client "
                "per event loop (for example inside the coroutine passed to asyncio.run)"
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout.to_aiohttp(),
                connector=aiohttp.TCPConnector(limit=self.max_concurrency),
            )
        return self._session


def _check_ttls(ttls: Mapping[str, float]) -> dict[str, float]:
    unknown = set(ttls) - set(DEFAULT_TTLS)
    if unknown:
        raise ValueError(
            f"cache_ttls has unknown endpoints {sorted(unknown)}; known: {sorted(DEFAULT_TTLS)}"
        )
    for endpoint, seconds in ttls.items():
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"cache_ttls[{endpoint!r}] must be a positive number of seconds")
    return dict(ttls)


def _resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("NINEPIC_API_KEY")
    if not key:
        raise ValueError(
            "api_key is missing: pass api_key= or set the NINEPIC_API_KEY environment variable"
        )
    if not isinstance(key, str) or any(ch in key for ch in "\r\n\x00"):
        raise ValueError("api_key must be a str without line breaks or NUL characters")
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
