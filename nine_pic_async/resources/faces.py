"""`client.faces`: 9Pic FaceFind, searching an event's photos with a selfie.

A search is billed, so the client fixes the `request_id` before the first
upload: retries of `POST /faces` reuse it, and the server returns the stored
result instead of searching again. Every page, including the one the POST
returns, is cached under `(org_id, event_id, request_id, page, page_size)`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import stat
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Union

import aiohttp

from .. import _protocol as protocol
from .._errors import NinePicError, PermissionDeniedError, ResponseValidationError
from .._models import FaceSearchPage, ImageItem
from .._pagination import ItemIterator, PageIterator, ProgressCallback, iterate_pages
from ._base import add_flag_hint

if TYPE_CHECKING:
    from .._client import NinePicClient

logger = logging.getLogger("nine_pic_async")

Selfie = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
"""A selfie: a file path, the image's bytes, or a binary file object."""

PAGE_SIZE = protocol.FACES_DEFAULT_PAGE_SIZE


class FacesResource:
    """Face search (`POST /faces`) and its stored results (`GET /faces/{request_id}`)."""

    def __init__(self, client: NinePicClient) -> None:
        self._client = client

    async def search(
        self,
        event_id: int,
        selfie: Selfie,
        *,
        request_id: str | uuid.UUID | None = None,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        ttl: float | None = None,
        check_event: bool = False,
    ) -> FaceSearchPage:
        """Upload a selfie and return one page of the event's matching photos.

        The selfie is read and checked (JPEG or PNG, not empty, at most
        `client.max_selfie_bytes`) before anything is sent. Without
        `request_id` the client generates a UUID4; pass your own to make a
        repeated call idempotent across processes. When that page of that
        `request_id` is already cached, no request is sent at all. The
        returned page is cached (for `ttl` seconds, by default
        `client.cache_ttls["faces"]`), so `get(event_id, page.request_id)` of
        the same page is served locally.

        With `check_event=True` the event's details (cached) are read first,
        and a disabled `selfie_search` raises `PermissionDeniedError` before any
        upload. Raises `PermissionDeniedError` when selfie search is disabled
        for the event, and `ValueError`/`TypeError` for a selfie that cannot be
        sent.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        page, page_size = protocol.check_page(
            page, page_size, max_page_size=protocol.FACES_MAX_PAGE_SIZE
        )
        request_id = (
            protocol.canonical_request_id(request_id)
            if request_id is not None
            else str(uuid.uuid4())
        )
        protocol.check_ttl(ttl)
        data, filename = await _read_selfie(selfie, client.max_selfie_bytes)
        content_type = protocol.selfie_content_type(data, max_bytes=client.max_selfie_bytes)
        key = protocol.faces_page_key(client.org_id, event_id, request_id, page, page_size)
        cached: FaceSearchPage | None = client._cache.peek(key)
        if cached is not None:
            return cached

        if filename is None:
            filename = "selfie.png" if content_type == "image/png" else "selfie.jpg"

        path = protocol.event_path(client.org_id, event_id, "faces")
        if check_event:
            details = await client.events.details(event_id)
            if not details.selfie_search:
                raise PermissionDeniedError(
                    f"selfie search is disabled for event {event_id} (its selfie_search flag "
                    f"is false), so no selfie was uploaded",
                    status=403,
                    method="POST",
                    path=path,
                )
        params = {"page": page, "page_size": page_size}

        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            # A stream, not bytes: aiohttp warns about raw bytes over 1 MiB.
            body.add_field("file", io.BytesIO(data), filename=filename, content_type=content_type)
            body.add_field("request_id", request_id)
            return body

        async def fetch() -> FaceSearchPage:
            try:
                result = await client._request(
                    "POST", path, protocol.FACE_PAGE_DECODER, params=params, form=form
                )
            except PermissionDeniedError as exc:
                add_flag_hint(exc, "selfie_search")
                raise
            await self._check_echoed_request_id(event_id, request_id, result, page, page_size, ttl)
            return result

        try:
            return await self._cached_page(event_id, request_id, key, ttl, fetch)
        except NinePicError as exc:
            exc.request_id = request_id
            raise

    async def get(
        self,
        event_id: int,
        request_id: str | uuid.UUID,
        *,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        ttl: float | None = None,
        fresh: bool = False,
    ) -> FaceSearchPage:
        """Return one page of a stored search result; no new search is run.

        Served from the cache when that page was read or returned by `search`
        before; a fetched page is cached for `ttl` seconds (by default
        `client.cache_ttls["faces"]`). With `fresh=True` the cached copy is
        skipped: the page is read from the API and replaces it. Raises
        `NotFoundError` for an unknown `request_id`.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        request_id = protocol.canonical_request_id(request_id)
        page, page_size = protocol.check_page(
            page, page_size, max_page_size=protocol.FACES_MAX_PAGE_SIZE
        )
        protocol.check_ttl(ttl)
        key = protocol.faces_page_key(client.org_id, event_id, request_id, page, page_size)
        if not fresh:
            cached: FaceSearchPage | None = client._cache.peek(key)
            if cached is not None:
                return cached

        path = protocol.event_path(client.org_id, event_id, f"faces/{request_id}")
        params = {"page": page, "page_size": page_size}

        async def fetch() -> FaceSearchPage:
            return await client._request("GET", path, protocol.FACE_PAGE_DECODER, params=params)

        return await self._cached_page(event_id, request_id, key, ttl, fetch, fresh=fresh)

    async def _check_echoed_request_id(
        self,
        event_id: int,
        request_id: str,
        result: FaceSearchPage,
        page: int,
        page_size: int,
        ttl: float | None,
    ) -> None:
        """Cache the page under the server's `request_id` too when it differs from ours."""
        try:
            echoed = protocol.canonical_request_id(result.request_id)
        except ValueError:
            raise ResponseValidationError(
                f"the search response carries an invalid request_id: {result.request_id[:80]!r}",
                status=200,
                path=protocol.event_path(self._client.org_id, event_id, "faces"),
                body_excerpt="",
            ) from None
        if echoed == request_id:
            return
        logger.warning(
            "the server returned request_id %s for a search sent with request_id %s; it did "
            "not keep the client's id, so a retried upload of this search may be billed again",
            echoed,
            request_id,
        )
        key = protocol.faces_page_key(self._client.org_id, event_id, echoed, page, page_size)
        group = protocol.cache_key(self._client.org_id, event_id, "faces", echoed)
        lifetime = ttl if ttl is not None else self._client.cache_ttls["faces"]
        await self._client._cache.store(key, result, lifetime, group=group)

    async def forget(self, event_id: int, request_id: str | uuid.UUID) -> int:
        """Remove every cached page of a search result, in every page size; return how many.

        With a shared backend the pages are found through an index stored next
        to them. A page that another process stored at the same instant as a
        sibling page can be missing from that index, and then stays until its
        TTL ends.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        request_id = protocol.canonical_request_id(request_id)
        group = protocol.cache_key(client.org_id, event_id, "faces", request_id)
        return await client._cache.forget(group)

    async def _cached_page(
        self,
        event_id: int,
        request_id: str,
        key: str,
        ttl: float | None,
        fetch: Callable[[], Awaitable[FaceSearchPage]],
        *,
        fresh: bool = False,
    ) -> FaceSearchPage:
        client = self._client
        group = protocol.cache_key(client.org_id, event_id, "faces", request_id)
        lifetime = ttl if ttl is not None else client.cache_ttls["faces"]
        return await client._cache.get_or_fetch(
            key, FaceSearchPage, lifetime, fetch, group=group, fresh=fresh
        )

    def iter_pages(
        self,
        event_id: int,
        request_id: str | uuid.UUID,
        *,
        page_size: int = PAGE_SIZE,
        start_page: int = 1,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
        first_page: FaceSearchPage | None = None,
    ) -> PageIterator[FaceSearchPage]:
        """Iterate over the pages of a stored search result, in order, each through the cache.

        After the first page, up to `concurrency` pages (default: the client's
        `max_concurrency`) are fetched at once, and at most `2 * concurrency`
        are held in memory. The walk stops after the last page (`has_next_page`
        false), on an empty page, or after `max_pages` pages;
        `on_progress(done, total)` is called after each page. Pass the page
        `search` returned as `first_page` to start from it without reading it
        again, even with `cache=None`. Arguments are checked here, before any
        request.
        """
        event_id = protocol.check_positive_int("event_id", event_id)
        request_id = protocol.canonical_request_id(request_id)
        protocol.check_page(start_page, page_size, max_page_size=protocol.FACES_MAX_PAGE_SIZE)
        if first_page is not None:
            _check_first_page(first_page, request_id, start_page, page_size)
        if max_pages is not None:
            protocol.check_positive_int("max_pages", max_pages)
        window = protocol.check_positive_int(
            "concurrency", concurrency if concurrency is not None else self._client.max_concurrency
        )

        async def fetch_page(number: int, fresh: bool) -> FaceSearchPage:
            return await self.get(
                event_id, request_id, page=number, page_size=page_size, fresh=fresh
            )

        return PageIterator(
            iterate_pages(
                fetch_page,
                _images_of,
                start_page=start_page,
                concurrency=window,
                max_pages=max_pages,
                on_progress=on_progress,
                first_page=first_page,
            )
        )

    def iter_images(
        self,
        event_id: int,
        request_id: str | uuid.UUID,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
        first_page: FaceSearchPage | None = None,
    ) -> ItemIterator[FaceSearchPage, ImageItem]:
        """Iterate over every matched image of a stored search result, page after page.

        Pages are fetched as `iter_pages` does. An image repeated at the start
        of the next page is yielded once.
        """
        pages = self.iter_pages(
            event_id,
            request_id,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
            first_page=first_page,
        )
        return ItemIterator(pages.generator, _images_of, _image_id_of)

    async def fetch_all(
        self,
        event_id: int,
        request_id: str | uuid.UUID,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
        first_page: FaceSearchPage | None = None,
    ) -> list[ImageItem]:
        """Return every matched image of a stored search result as one list, in page order.

        `first_page` is the page `search` returned, as in `iter_pages`.
        """
        images = self.iter_images(
            event_id,
            request_id,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
            first_page=first_page,
        )
        return await images.collect()


def _check_first_page(
    first_page: FaceSearchPage, request_id: str, start_page: int, page_size: int
) -> None:
    """Reject a `first_page` that is not page `start_page` of this result in this page size."""
    if not isinstance(first_page, FaceSearchPage):
        raise TypeError(
            f"first_page must be the FaceSearchPage that search() returned, "
            f"got {type(first_page).__name__}"
        )
    try:
        same_search = protocol.canonical_request_id(first_page.request_id) == request_id
    except ValueError:
        same_search = False
    if not same_search:
        raise ValueError(
            f"first_page belongs to request_id {first_page.request_id[:80]!r}, not {request_id}; "
            f"pass the page of this search, or no first_page"
        )
    info = first_page.pagination
    if info.page_size != page_size:
        raise ValueError(
            f"first_page was read with page_size={info.page_size}, but page_size={page_size} "
            f"was passed; pass page_size={info.page_size} so that the pages line up"
        )
    if info.current_page not in (0, start_page):
        raise ValueError(
            f"first_page is page {info.current_page}, but the walk starts at page {start_page}"
        )


def _images_of(page: FaceSearchPage) -> tuple[ImageItem, ...]:
    return page.images


def _image_id_of(image: ImageItem) -> str:
    return image.image_id


async def _read_selfie(selfie: Selfie, max_bytes: int) -> tuple[bytes, str | None]:
    """Read a selfie into memory once, so every upload attempt sends the whole file.

    Returns the bytes and a file name to send, when one is known. Reads at most
    one byte past `max_bytes`, so an oversized file is never loaded whole.
    """
    if isinstance(selfie, (bytes, bytearray, memoryview)):
        return bytes(selfie), None

    if isinstance(selfie, (str, os.PathLike)):
        path = Path(selfie)
        try:
            data = await asyncio.to_thread(_read_head, path, max_bytes + 1)
        except FileNotFoundError:
            raise ValueError(f"selfie file not found: {str(path)[:200]!r}") from None
        except IsADirectoryError:
            raise ValueError(f"selfie path is a directory: {str(path)[:200]!r}") from None
        except OSError as exc:
            raise ValueError(
                f"selfie file cannot be read: {str(path)[:200]!r}: {exc.strerror or exc}"
            ) from None
        return data, path.name

    read = getattr(selfie, "read", None)
    if read is None:
        raise TypeError(
            f"selfie must be a path, bytes or a binary file object, got {type(selfie).__name__}"
        )
    chunk = read(max_bytes + 1)
    if isinstance(chunk, str):
        raise TypeError("selfie file object is in text mode; open it with 'rb'")
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"selfie file object's read() returned {type(chunk).__name__}, expected bytes"
        )
    name = getattr(selfie, "name", None)
    return bytes(chunk), os.path.basename(name) if isinstance(name, str) and name else None


def _read_head(path: Path, size: int) -> bytes:
    # Opening a FIFO or a device would block until something writes to it.
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(mode):
        raise ValueError(f"selfie path is not a regular file: {str(path)[:200]!r}")
    with path.open("rb") as file:
        return file.read(size)
