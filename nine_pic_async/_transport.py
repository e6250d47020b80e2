"""The aiohttp shell: one session per event loop, the concurrency and rate limits, one attempt.

`Transport.send` sends exactly one request and hands status and body to the
pure functions of `_protocol`; retries live above it, in `_retry`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TypeVar

import aiohttp

from . import _protocol as protocol
from ._config import Timeout
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ResponseValidationError,
)

T = TypeVar("T")

logger = logging.getLogger("nine_pic_async")


class RateLimiter:
    """A token bucket: at most `rate` requests per second, in bursts of at most `burst`."""

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1e6:
            raise ValueError(f"max_requests_per_second must be a positive number, got {rate!r}")
        self.rate = float(rate)
        self.burst = burst if burst is not None else max(1, int(rate))
        self._clock = clock
        self._tokens = float(self.burst)
        self._updated = clock()

    def reserve(self) -> float:
        """Take one token and return the seconds to wait before using it."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class Transport:
    """The connection side of a client, shared by the client and its `with_options` views.

    The session is created in the running loop on first use. When that loop
    ends (`asyncio.run` returns), the session is closed with it, so a client
    kept at module level can be used again in a later `asyncio.run()`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        max_concurrency: int,
        session: aiohttp.ClientSession | None,
        max_requests_per_second: float | None,
        max_response_bytes: int,
    ) -> None:
        self.base_url = base_url
        self.max_response_bytes = max_response_bytes
        # With a borrowed session, waiting for its connector's pool would count against
        # the request timeout, but waiting for our own slot does not. So allow no more.
        connector_limit = session.connector.limit if session and session.connector else 0
        if connector_limit:
            max_concurrency = min(max_concurrency, connector_limit)
        self.max_concurrency = max_concurrency
        self.closed = False
        self._headers = dict(headers)
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._borrowed_session = session
        self._session: aiohttp.ClientSession | None = session
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._keeper: AsyncIterator[None] | None = None
        self._limiter = (
            RateLimiter(max_requests_per_second) if max_requests_per_second is not None else None
        )

    async def aclose(self) -> None:
        """Close the session this transport created; a borrowed session stays open."""
        if self.closed:
            return
        self.closed = True
        keeper, self._keeper = self._keeper, None
        session = self._session
        if session is not None and session is not self._borrowed_session:
            self._session = None
            await session.close()
        if keeper is not None:
            await keeper.aclose()  # type: ignore[attr-defined]

    async def send(
        self,
        method: str,
        path: str,
        decoder: protocol.ResponseDecoder[T],
        *,
        params: Mapping[str, str | int] | None,
        form: Callable[[], aiohttp.FormData] | None,
        timeout: Timeout,
        deadline: float | None,
        json_body: bytes | None = None,
    ) -> T:
        """Send one request and return its decoded success body, or raise its error.

        `deadline` is a `time.monotonic()` instant that caps this attempt's total
        time. Waiting for a concurrency slot or for the rate limit is not
        counted against `timeout`.
        """
        session = await self._session_for_running_loop()
        semaphore = self._semaphore
        assert semaphore is not None
        data: aiohttp.FormData | bytes | None = form() if form is not None else json_body
        headers = self._headers if json_body is None else self._json_headers

        async with semaphore:
            # aclose() may have run while this request waited for its slot.
            self.check_open()
            if self._limiter is not None:
                wait = self._limiter.reserve()
                if wait > 0:
                    await asyncio.sleep(wait)
                    self.check_open()
            request_timeout = _cap_total(timeout, deadline, method=method, path=path)
            started = time.perf_counter()
            failure: APIConnectionError | None = None
            try:
                async with session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=request_timeout,
                ) as response:
                    body = await _read_capped(response, self.max_response_bytes, path)
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
            except (asyncio.TimeoutError, TimeoutError) as exc:
                failure = APITimeoutError("request timed out", method=method, path=path)
                failure.__cause__ = exc
            except aiohttp.ClientResponseError as exc:
                # Not chained: its request_info contains the request headers, API key included.
                failure = APIConnectionError(
                    f"invalid response: {type(exc).__name__}: {exc.message}",
                    method=method,
                    path=path,
                )
            except aiohttp.ClientError as exc:
                failure = APIConnectionError(
                    f"connection failed: {type(exc).__name__}: {exc}", method=method, path=path
                )
                failure.__cause__ = exc
        if failure is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s failed after %.1fms: %s", method, path, elapsed_ms, failure.message)
            raise failure
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s %d %.1fms", method, path, status, elapsed_ms)

        if 200 <= status < 300:
            return protocol.decode_success(decoder, body, status=status, path=path)
        raise protocol.status_error(status, body, method=method, path=path, retry_after=retry_after)

    def check_open(self) -> None:
        if self.closed:
            raise ClientClosedError(
                "this NinePicClient is closed; create a new one, or keep it open for the "
                "lifetime of your application"
            )

    async def _session_for_running_loop(self) -> aiohttp.ClientSession:
        self.check_open()
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._bind(loop)
        if self._session is None:
            # A keeper of this session exists only for a session we create.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_concurrency),
            )
            self._keeper = self._close_with_loop(self._session)
            await self._keeper.__anext__()
        return self._session

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        previous = self._loop
        if previous is not None and not previous.is_closed():
            raise RuntimeError(
                "this NinePicClient is in use by another running event loop; create one "
                "client per event loop (for example inside the coroutine passed to asyncio.run)"
            )
        if previous is not None and self._borrowed_session is not None:
            raise RuntimeError(
                "the aiohttp session passed as session= belongs to an event loop that has "
                "ended; pass a session created in the running loop"
            )
        # The previous loop has ended and its keeper closed the session.
        self._loop = loop
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        self._keeper = None
        if self._borrowed_session is None:
            self._session = None

    async def _close_with_loop(self, session: aiohttp.ClientSession) -> AsyncIterator[None]:
        # asyncio.run() closes every async generator still open when its loop ends
        # (loop.shutdown_asyncgens), which runs this finally block inside that loop.
        try:
            yield
        finally:
            if self._session is session:
                self._session = None
            await session.close()


async def _read_capped(response: aiohttp.ClientResponse, limit: int, path: str) -> bytes:
    """Read a response body, or raise `ResponseValidationError` once it passes `limit` bytes."""
    declared = response.content_length
    compressed = "Content-Encoding" in response.headers
    if declared is not None and declared <= limit and not compressed:
        return await response.read()
    if compressed:
        # The declared length is the compressed one; count the bytes after decompression.
        declared = None

    chunks: list[bytes] = []
    size = 0
    if declared is None:
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            chunks.append(chunk)
            if size > limit:
                break
    if declared is not None or size > limit:
        head = b"".join(chunks)[: protocol.EXCERPT_BYTES]
        raise ResponseValidationError(
            f"response body is over the client's max_response_bytes of {limit} bytes",
            status=response.status,
            path=path,
            body_excerpt=protocol.excerpt(head),
        )
    return b"".join(chunks)


def _cap_total(
    timeout: Timeout, deadline: float | None, *, method: str, path: str
) -> aiohttp.ClientTimeout:
    total = timeout.total
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise APITimeoutError("deadline exceeded before sending", method=method, path=path)
        total = remaining if total is None else min(total, remaining)
    return aiohttp.ClientTimeout(total=total, sock_connect=timeout.connect, sock_read=timeout.read)
