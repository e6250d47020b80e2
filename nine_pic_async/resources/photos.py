"""`client.photos`: an event's whole gallery, and 9Pic BibTrack, its photos by BIB number."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from .. import _protocol as protocol
from .._models import ImageItem, ImagePage
from .._pagination import ItemIterator, PageIterator, ProgressCallback
from ._base import cached_get, check_ttl_lifetime, walk_pages

if TYPE_CHECKING:
    from .._client import NinePicClient

PAGE_SIZE = protocol.IMAGES_DEFAULT_PAGE_SIZE
MAX_PAGE_SIZE = protocol.IMAGES_MAX_PAGE_SIZE


def images_of(page: ImagePage) -> tuple[ImageItem, ...]:
    return page.images


def image_id_of(image: ImageItem) -> str:
    return image.image_id


class PhotosResource:
    """The event's gallery (`GET /images`), ordered by capture time; untimed photos last."""

    def __init__(self, client: NinePicClient) -> None:
        self._client = client

    async def list(
        self,
        event_id: int,
        *,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        ttl: float | None = None,
        fresh: bool = False,
    ) -> ImagePage:
        """Return one page of the gallery; cached for `cache_ttls["images"]` seconds (60).

        New photos arrive while an event is processed, so the lifetime is short.
        With `fresh=True` the cached copy is skipped: the page is read from the
        API and replaces it.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        page, page_size = protocol.check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
        lifetime = check_ttl_lifetime(client, "images", ttl)
        return await cached_get(
            client,
            path=protocol.event_path(client.org_id, event_id, "images"),
            params={"page": page, "page_size": page_size},
            decoder=protocol.IMAGE_PAGE_DECODER,
            key=protocol.cache_key(client.org_id, event_id, "images", page, page_size),
            ttl=lifetime,
            fresh=fresh,
        )

    def iter_pages(
        self,
        event_id: int,
        *,
        page_size: int = PAGE_SIZE,
        start_page: int = 1,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PageIterator[ImagePage]:
        """Iterate over the gallery's pages in order, `concurrency` at a time (see `faces`)."""
        event_id = protocol.check_positive_int("event_id", event_id)

        async def fetch_page(number: int, fresh: bool) -> ImagePage:
            return await self.list(event_id, page=number, page_size=page_size, fresh=fresh)

        return walk_pages(
            self._client,
            fetch_page,
            images_of,
            start_page=start_page,
            page_size=page_size,
            max_page_size=MAX_PAGE_SIZE,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )

    def iter_images(
        self,
        event_id: int,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ItemIterator[ImagePage, ImageItem]:
        """Iterate over every photo of the gallery; one shifted onto the next page comes once."""
        pages = self.iter_pages(
            event_id,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return ItemIterator(pages.generator, images_of, image_id_of)

    async def fetch_all(
        self,
        event_id: int,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> builtins.list[ImageItem]:
        """Return every photo of the gallery as one list, in capture order."""
        images = self.iter_images(
            event_id,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return await images.collect()


class BibsResource:
    """9Pic BibTrack: photos tagged with a participant's BIB number (`GET /bibs/{bib}`)."""

    def __init__(self, client: NinePicClient) -> None:
        self._client = client

    async def search(
        self,
        event_id: int,
        bib: str,
        *,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        ttl: float | None = None,
        fresh: bool = False,
    ) -> ImagePage:
        """Return one page of the photos tagged with `bib`, which is case-insensitive.

        Cached for `cache_ttls["bibs"]` seconds (60) under the lower-cased BIB;
        `fresh=True` skips the cached copy and replaces it. An unknown BIB
        gives an empty page. Raises `PermissionDeniedError` when
        BIB search is disabled for the event, and `ValueError` for a BIB that
        is empty or contains `/`, `..` or control characters.
        """
        client = self._client
        event_id = protocol.check_positive_int("event_id", event_id)
        segment = protocol.path_segment("bib", bib)
        page, page_size = protocol.check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
        lifetime = check_ttl_lifetime(client, "bibs", ttl)
        key_bib = protocol.path_segment("bib", bib.lower())
        return await cached_get(
            client,
            path=protocol.event_path(client.org_id, event_id, f"bibs/{segment}"),
            params={"page": page, "page_size": page_size},
            decoder=protocol.IMAGE_PAGE_DECODER,
            key=protocol.cache_key(client.org_id, event_id, "bibs", key_bib, page, page_size),
            ttl=lifetime,
            feature_flag="bib_search",
            fresh=fresh,
        )

    def iter_pages(
        self,
        event_id: int,
        bib: str,
        *,
        page_size: int = PAGE_SIZE,
        start_page: int = 1,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PageIterator[ImagePage]:
        """Iterate over the pages of a BIB's photos in order, `concurrency` at a time."""
        event_id = protocol.check_positive_int("event_id", event_id)
        protocol.path_segment("bib", bib)

        async def fetch_page(number: int, fresh: bool) -> ImagePage:
            return await self.search(event_id, bib, page=number, page_size=page_size, fresh=fresh)

        return walk_pages(
            self._client,
            fetch_page,
            images_of,
            start_page=start_page,
            page_size=page_size,
            max_page_size=MAX_PAGE_SIZE,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )

    def iter_images(
        self,
        event_id: int,
        bib: str,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ItemIterator[ImagePage, ImageItem]:
        """Iterate over every photo tagged with `bib`, page after page."""
        pages = self.iter_pages(
            event_id,
            bib,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return ItemIterator(pages.generator, images_of, image_id_of)

    async def fetch_all(
        self,
        event_id: int,
        bib: str,
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int | None = None,
        max_pages: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[ImageItem]:
        """Return every photo tagged with `bib` as one list, in capture order."""
        images = self.iter_images(
            event_id,
            bib,
            page_size=page_size,
            concurrency=concurrency,
            max_pages=max_pages,
            on_progress=on_progress,
        )
        return await images.collect()
