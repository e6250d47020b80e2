"""`client.originals`: presigned links to the unwatermarked original photos.

Links are asked for by exactly one selector: a face search's `request_id`
(`selfie=`), a BIB (`bib=`), one `image_id` or a list of `image_ids`. They
expire about an hour after they are issued, so they are never cached.
"""

from __future__ import annotations

import builtins
import os
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import aiohttp
import msgspec

from .. import _protocol as protocol
from .._models import OriginalLink, OriginalLinksPage
from .._pagination import ItemIterator, PageIterator, ProgressCallback
from ._base import walk_pages
from .downloads import (
    DEFAULT_MAX_FILE_BYTES,
    DownloadProgress,
    DownloadReport,
    download_originals,
)

if TYPE_CHECKING:
    from .._client import NinePicClient

PAGE_SIZE = protocol.ORIGINALS_DEFAULT_PAGE_SIZE
MAX_PAGE_SIZE = protocol.ORIGINALS_MAX_PAGE_SIZE
# The request body lists every id, so a huge list would be a huge request.
MAX_IMAGE_IDS = 10_000


class _LinksRequest(msgspec.Struct):
    method: str
    identifier: str | builtins.list[str]


def links_body(
    *,
    selfie: str | uuid.UUID | None,
    bib: str | None,
    image_id: str | None,
    image_ids: Sequence[str] | None,
) -> bytes:
    """Return the JSON body for one selector, or raise `ValueError`/`TypeError`."""
    given = {
        name: value
        for name, value in (
            ("selfie", selfie),
            ("bib", bib),
            ("image_id", image_id),
            ("image_ids", image_ids),
        )
        if value is not None
    }
    if len(given) != 1:
        raise ValueError(
            f"pass exactly one of selfie=, bib=, image_id= or image_ids=, got "
            f"{sorted(given) or 'none'}"
        )
    if selfie is not None:
        request = _LinksRequest("selfie", protocol.canonical_request_id(selfie))
    elif bib is not None:
        protocol.path_segment("bib", bib)
        request = _LinksRequest("bib", bib)
    elif image_id is not None:
        protocol.path_segment("image_id", image_id)
        request = _LinksRequest("image_id", image_id)
    else:
        assert image_ids is not None
        if isinstance(image_ids, str):
            raise TypeError("image_ids must be a list of image ids, not one str; use image_id=")
        ids = list(image_ids)
        for value in ids:
            protocol.path_segment("each of image_ids", value)
        if not ids:
            raise ValueError("image_ids must not be empty")
        if len(ids) > MAX_IMAGE_IDS:
            raise ValueError(f"image_ids has {len(ids)} ids; ask for at most {MAX_IMAGE_IDS}")
        request = _LinksRequest("image_ids", ids)
    return msgspec.json.encode(request)


def links_of(page: OriginalLinksPage) -> tuple[OriginalLink, ...]:
    return page.presigned_urls


def entries_of(page: OriginalLinksPage) -> tuple[object, ...]:
    # A page whose every link failed is not the end of the result.
    return (*page.presigned_urls, *page.failed_urls)


def link_identity(link: OriginalLink) -> tuple[str, str]:
    """Return the key that distinguishes links: the file name and the URL without its query.

    The query is the presigned signature, which differs each time a link is issued, so the
    same file on two pages is one link; two files that share a name stay two. A plain split
    at `?`, unlike `urlsplit`, cannot fail on a malformed URL.
    """
    return link.filename, link.url.split("?", 1)[0]


class OriginalsResource:
    """Download Original Photos (`POST /original-photos`): presigned links, paginated."""

    def __init__(self, client: NinePicClient) -> None:
        self._client = client

    async def links(
        self,
        event_id: int,
        *,
        selfie: str | uuid.UUID | None = None,
        bib: str | None = None,
        image_id: str | None = None,
        image_ids: Sequence[str] | None = None,
        page: int = 1,
        page_size: int = PAGE_SIZE,
    ) -> OriginalLinksPage:
        """Return one page of presigned links (default 30, at most 60 a page); never cached.

        Images whose link failed are in `failed_urls`. Raises `BadRequestError`
        when a single `image_id` is unknown or no id of `image_ids` is valid.
        """
        body = links_body(selfie=selfie, bib=bib, image_id=image_id, image_ids=image_ids)
        return await self._links_page(event_id, body, page=page, page_size=page_size)

    async def _links_page(
        self, event_id: int, body: bytes, *, page: int, page_size: int
    ) -> OriginalLinksPage:
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        page, page_size = protocol.check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
        return await client._request(
            "POST",
            protocol.event_path(client.org_id, event_id, "original-photos"),
            protocol.ORIGINAL_LINKS_DECODER,
            params={"page": page, "page_size": page_size},
            json_body=body,
        )

    def iter_pages(
        self,
        event_id: int,
        *,
        selfie: str | uuid.UUID | None = None,
        bib: str | None = None,
        image_id: str | None = None,
        image_ids: Sequence[str] | None = None,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PageIterator[OriginalLinksPage]:
        """Iterate over the pages of links in order, `concurrency` at a time."""
        event_id = protocol.check_positive_int("event_id", event_id)
        body = links_body(selfie=selfie, bib=bib, image_id=image_id, image_ids=image_ids)

        async def fetch_page(number: int, fresh: bool) -> OriginalLinksPage:
            # Links are never cached, so every read is fresh.
            return await self._links_page(event_id, body, page=number, page_size=page_size)

        return walk_pages(
            self._client,
            fetch_page,
            entries_of,
            start_page=1,
            page_size=page_size,
            max_page_size=MAX_PAGE_SIZE,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )

    def iter_links(
        self,
        event_id: int,
        *,
        selfie: str | uuid.UUID | None = None,
        bib: str | None = None,
        image_id: str | None = None,
        image_ids: Sequence[str] | None = None,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ItemIterator[OriginalLinksPage, OriginalLink]:
        """Iterate over every presigned link; failed images are on the pages (`iter_pages`)."""
        pages = self.iter_pages(
            event_id,
            selfie=selfie,
            bib=bib,
            image_id=image_id,
            image_ids=image_ids,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return ItemIterator(pages.generator, links_of, link_identity)

    async def fetch_all(
        self,
        event_id: int,
        *,
        selfie: str | uuid.UUID | None = None,
        bib: str | None = None,
        image_id: str | None = None,
        image_ids: Sequence[str] | None = None,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[OriginalLink]:
        """Return every presigned link as one list; failed images are on the pages.

        Presigned links expire, so use them soon; `download` requests an
        expired link again by itself.
        """
        links = self.iter_links(
            event_id,
            selfie=selfie,
            bib=bib,
            image_id=image_id,
            image_ids=image_ids,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return await links.collect()

    async def download(
        self,
        event_id: int,
        dest_dir: str | os.PathLike[str],
        *,
        selfie: str | uuid.UUID | None = None,
        bib: str | None = None,
        image_id: str | None = None,
        image_ids: Sequence[str] | None = None,
        concurrency: int = 8,
        on_progress: DownloadProgress | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> DownloadReport:
        """Download the originals a selector names into `dest_dir`, `concurrency` at a time.

        Each file is streamed to disk under a temporary name and renamed when
        complete. A file already in `dest_dir` is skipped, so running again
        resumes an interrupted download. An expired link is requested again
        once. The report lists what was downloaded, skipped and failed, with
        the server's reason for images it could not link and with names that
        would leave `dest_dir`. `on_progress(files_done, files_total, bytes_written)`
        is called after each file. A file over `max_file_bytes` (512 MiB) is
        stopped and reported. Only `https://` links are fetched (`http://` to a
        loopback host too), and they are logged without their query.
        """
        body = links_body(selfie=selfie, bib=bib, image_id=image_id, image_ids=image_ids)
        event_id = protocol.check_positive_int("event_id", event_id)
        return await download_originals(
            self,
            event_id,
            dest_dir,
            body,
            concurrency=concurrency,
            on_progress=on_progress,
            max_file_bytes=max_file_bytes,
        )

    def iter_pages_for_body(self, event_id: int, body: bytes) -> PageIterator[OriginalLinksPage]:
        """Iterate over the link pages of an already encoded request body (60 links a page)."""

        async def fetch_page(number: int, fresh: bool) -> OriginalLinksPage:
            # Links are never cached, so every read is fresh.
            return await self._links_page(event_id, body, page=number, page_size=MAX_PAGE_SIZE)

        return walk_pages(
            self._client,
            fetch_page,
            entries_of,
            start_page=1,
            page_size=MAX_PAGE_SIZE,
            max_page_size=MAX_PAGE_SIZE,
            concurrency=None,
            max_pages=None,
            on_progress=None,
        )

    async def links_page(self, event_id: int, body: bytes, page: int) -> OriginalLinksPage:
        """Return one page (60 links) for an already encoded request body."""
        return await self._links_page(event_id, body, page=page, page_size=MAX_PAGE_SIZE)

    async def session(self) -> aiohttp.ClientSession:
        """Return the client's session, for requests to presigned URLs (no API key is sent)."""
        return await self._client._transport._session_for_running_loop()

    def download_timeout(self) -> aiohttp.ClientTimeout:
        """Return the client's connect and read limits, without a total: files may be large."""
        timeout = self._client.timeout
        return aiohttp.ClientTimeout(
            total=None, sock_connect=timeout.connect, sock_read=timeout.read
        )
