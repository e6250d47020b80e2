"""The paginator shared by every paginated endpoint: ordered pages, a bounded window ahead.

The walk is written against a `fetch_page(number)` coroutine, so every page
goes through the same cache, single-flight and retry layers as a single read.
The first page is read alone, because it tells how many pages there are; then
up to `concurrency` later pages are in flight at once, and pages are yielded
strictly in order. Only the pages of that window are held in memory.

When the walk ends early (the consumer breaks out of the loop, raises, or a
page fails), every request still in flight is cancelled and awaited before
the error or the end reaches the caller; with `async with` that happens at
once, and with a bare `async for` as soon as the loop runs again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from ._errors import ResponseValidationError
from ._models import ImageItem, Pagination

__all__ = ["ImageIterator", "PageIterator", "iterate_pages"]

# A walk that has not ended after this many pages is treated as a server bug.
SAFETY_MAX_PAGES = 10_000


class PageLike(Protocol):
    @property
    def pagination(self) -> Pagination: ...

    @property
    def images(self) -> Sequence[ImageItem]: ...


P = TypeVar("P", bound=PageLike)
ProgressCallback = Callable[[int, int], object]
"""Called as `on_progress(pages_done, pages_total)` after each page; the total may grow."""


class _ClosingIterator(Generic[P]):
    def __init__(self, generator: AsyncGenerator[P, None]) -> None:
        self.generator = generator

    async def aclose(self) -> None:
        """Stop the walk: cancel and await every request still in flight."""
        await self.generator.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class PageIterator(_ClosingIterator[P]):
    """An async iterator over the pages of a result, in page order.

    Use it in `async for`, or as `async with ... as pages:` to cancel the
    requests still in flight the moment the block is left.
    """

    def __aiter__(self) -> PageIterator[P]:
        return self

    async def __anext__(self) -> P:
        return await self.generator.__anext__()

    async def __aenter__(self) -> PageIterator[P]:
        return self


class ImageIterator(_ClosingIterator[P]):
    """An async iterator over the images of a result, page after page.

    An image that appears again on the next page, because the result grew and
    shifted while it was being read, is yielded once.
    """

    def __init__(self, generator: AsyncGenerator[P, None]) -> None:
        super().__init__(generator)
        self._buffer: Sequence[ImageItem] = ()
        self._position = 0
        self._previous_ids: set[str] = set()
        self._current_ids: set[str] = set()

    def __aiter__(self) -> ImageIterator[P]:
        return self

    async def __anext__(self) -> ImageItem:
        while True:
            while self._position < len(self._buffer):
                image = self._buffer[self._position]
                self._position += 1
                if image.image_id in self._previous_ids:
                    continue
                self._current_ids.add(image.image_id)
                return image
            page = await self.generator.__anext__()
            self._previous_ids, self._current_ids = self._current_ids, set()
            self._buffer, self._position = page.images, 0

    async def __aenter__(self) -> ImageIterator[P]:
        return self


async def iterate_pages(
    fetch_page: Callable[[int], Awaitable[P]],
    *,
    start_page: int = 1,
    concurrency: int = 1,
    max_pages: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> AsyncGenerator[P, None]:
    """Yield pages from `start_page` on, in order, until the result ends.

    The walk stops after a page whose `has_next_page` is false, whose number
    reaches `total_pages`, or that holds no images, and after `max_pages`
    pages. A page that repeats the images of the one before, or whose
    `current_page` is not the page requested, raises `ResponseValidationError`
    instead of looping; so does a walk past 10,000 pages without `max_pages`.
    """
    limit = max_pages if max_pages is not None else SAFETY_MAX_PAGES
    page = await fetch_page(start_page)
    pages_done = 1
    _report(on_progress, pages_done, start_page, page)
    yield page
    if _is_last(page, start_page) or pages_done >= limit:
        return

    planned_last = max(page.pagination.total_pages, start_page + 1)
    pending: dict[int, asyncio.Future[P]] = {}
    number = start_page + 1
    next_to_schedule = number
    try:
        while True:
            if pages_done >= SAFETY_MAX_PAGES:
                raise _walk_error(f"the result did not end after {SAFETY_MAX_PAGES} pages")
            last_allowed = min(planned_last, start_page + limit - 1)
            while len(pending) < concurrency and next_to_schedule <= last_allowed:
                pending[next_to_schedule] = asyncio.ensure_future(fetch_page(next_to_schedule))
                next_to_schedule += 1
            if number not in pending:
                # The result grew past the pages planned so far: read one more.
                pending[number] = asyncio.ensure_future(fetch_page(number))
                next_to_schedule = number + 1

            previous, page = page, await pending.pop(number)
            if page.images and page.pagination.current_page != number:
                raise _walk_error(
                    f"page {number} was requested, page {page.pagination.current_page} returned"
                )
            if page.images and page.images == previous.images:
                raise _walk_error(f"page {number} repeats the images of page {number - 1}")
            pages_done += 1
            planned_last = max(planned_last, page.pagination.total_pages)
            _report(on_progress, pages_done, start_page, page)
            yield page
            if _is_last(page, number) or pages_done >= limit:
                return
            number += 1
    finally:
        for task in pending.values():
            task.cancel()
        if pending:
            await asyncio.gather(*pending.values(), return_exceptions=True)


def _is_last(page: PageLike, number: int) -> bool:
    info = page.pagination
    return not info.has_next_page or number >= info.total_pages or not page.images


def _report(on_progress: ProgressCallback | None, done: int, start_page: int, page: P) -> None:
    if on_progress is not None:
        total = max(done, page.pagination.total_pages - start_page + 1)
        on_progress(done, total)


def _walk_error(message: str) -> ResponseValidationError:
    return ResponseValidationError(
        f"pagination stopped: {message}", status=200, path="(pagination)", body_excerpt=""
    )
