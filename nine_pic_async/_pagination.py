"""The paginator shared by every paginated endpoint: ordered pages, a bounded window ahead.

The walk is written against a `fetch_page(number, fresh)` coroutine, so every
page goes through the same cache, single-flight and retry layers as a single
read. The first page is read alone, because it contains the number of pages.
Then up to `concurrency` later pages are in flight at once, and pages are
yielded strictly in order. A finished request starts the next one even while
an earlier page is still awaited, up to `2 * concurrency` pages past the last
one yielded, so at most that many pages are held in memory.

When the walk ends early (the consumer breaks out of the loop, raises, or a
page fails), every request still in flight is cancelled and awaited before
the error or the end reaches the caller. With `async with` that happens at
once, and with a bare `async for` as soon as the loop runs again.

A result can change while it is read (a gallery grows during the event), so
pages read at different moments can come from different states of it. Each
page's `total` tells which: a page whose total is below the one before it was
read earlier, or came from the cache, and is read again from the API. Then
every page is at least as new as the one before it. When only insertions
happen, that means no item present for the whole walk is skipped, and
`ItemIterator` drops the items that moved onto the next page, so none comes
twice. Removed items move later ones back, which can skip some. The walk then
logs a WARNING.
"""

from __future__ import annotations

import asyncio
import logging
from array import array
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from ._errors import ResponseValidationError
from ._models import Pagination

__all__ = ["ItemIterator", "PageFetcher", "PageIterator", "iterate_pages"]

logger = logging.getLogger("nine_pic_async")

# A walk that has not ended after this many pages is treated as a server bug.
SAFETY_MAX_PAGES = 10_000
# Fresh reads of a page whose total stays below the page before it, before the walk goes on.
MAX_FRESH_READS = 2


class PageLike(Protocol):
    @property
    def pagination(self) -> Pagination: ...


P = TypeVar("P", bound=PageLike)
T = TypeVar("T")
ProgressCallback = Callable[[int, int], object]
"""Called as `on_progress(pages_done, pages_total)` after each page; the total may grow."""
PageFetcher = Callable[[int, bool], Awaitable[P]]
"""Called as `fetch_page(number, fresh)`; `fresh=True` skips the cached copy of the page."""


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


class ItemIterator(_ClosingIterator[P], Generic[P, T]):
    """An async iterator over the items of a result (images, events, links), page after page.

    An item already yielded is skipped when it comes again, as it does when the
    result grows while it is read and items move onto the next pages. To know
    them, the iterator logs the 64-bit hash of every key it yields (8 bytes an
    item), and keeps the keys of the current and the previous page. Only once a
    page's `total` differs from the first page's does it look items up in that
    log, as a set.
    """

    def __init__(
        self,
        generator: AsyncGenerator[P, None],
        items: Callable[[P], Sequence[T]],
        key: Callable[[T], object],
    ) -> None:
        super().__init__(generator)
        self._items = items
        self._key = key
        self._buffer: Sequence[T] = ()
        self._position = 0
        self._previous_keys: set[object] = set()
        self._current_keys: set[object] = set()
        self._hash_log = array("q")
        self._first_total: int | None = None
        # The hashes of every yielded key, built from the log once the result has changed.
        self._yielded_hashes: set[int] | None = None

    def __aiter__(self) -> ItemIterator[P, T]:
        return self

    async def __anext__(self) -> T:
        while True:
            while self._position < len(self._buffer):
                item = self._buffer[self._position]
                self._position += 1
                key = self._key(item)
                if key in self._previous_keys or key in self._current_keys:
                    continue
                key_hash = hash(key)
                yielded = self._yielded_hashes
                if yielded is not None:
                    # NOTE: two keys with equal 64-bit hashes would count as one; for 100,000
                    # items the chance is about 3 in 10 billion.
                    if key_hash in yielded:
                        continue
                    yielded.add(key_hash)
                self._current_keys.add(key)
                self._hash_log.append(key_hash)
                return item
            page = await self.generator.__anext__()
            self._previous_keys, self._current_keys = self._current_keys, set()
            self._buffer, self._position = self._items(page), 0
            self._notice_change(page)

    def _notice_change(self, page: P) -> None:
        total = page.pagination.total
        if self._first_total is None:
            self._first_total = total
        elif total != self._first_total and self._yielded_hashes is None:
            self._yielded_hashes = set(self._hash_log)

    async def __aenter__(self) -> ItemIterator[P, T]:
        return self

    async def collect(self) -> list[T]:
        """Return every item as one list, and close the walk however it ends."""
        async with self:
            return [item async for item in self]


async def iterate_pages(
    fetch_page: PageFetcher[P],
    items: Callable[[P], Sequence[object]],
    *,
    start_page: int = 1,
    concurrency: int = 1,
    max_pages: int | None = None,
    on_progress: ProgressCallback | None = None,
    first_page: P | None = None,
) -> AsyncGenerator[P, None]:
    """Yield pages from `start_page` on, in order, until the result ends.

    `first_page`, when given, is page `start_page` already in hand (the page
    a search returned), and is not fetched again.

    The walk stops after a page whose `has_next_page` is false, whose number
    reaches `total_pages`, or whose `items` are empty, and after `max_pages`
    pages. A page that repeats the items of the one before while `total`
    stays the same, or whose `current_page` is not the page requested, raises
    `ResponseValidationError` instead of looping. So does a walk past 10,000
    pages without `max_pages`. A page whose `total` is below the one before
    it is read again, fresh, up to twice (see the module's docstring).
    """
    limit = max_pages if max_pages is not None else SAFETY_MAX_PAGES
    page = first_page if first_page is not None else await fetch_page(start_page, False)
    pages_done = 1
    _report(on_progress, pages_done, start_page, page)
    yield page
    if _is_last(page, items(page), start_page) or pages_done >= limit:
        return
    if max_pages is None and pages_done >= SAFETY_MAX_PAGES:
        raise _walk_error(f"the result did not end after {SAFETY_MAX_PAGES} pages")

    planned_last = max(page.pagination.total_pages, start_page + 1)
    number = start_page + 1
    window: _Window[P] = _Window(fetch_page, concurrency, number)
    pending = window.pending
    shrinks = _Shrinks(page.pagination.total)
    try:
        while True:
            if pages_done >= SAFETY_MAX_PAGES:
                raise _walk_error(f"the result did not end after {SAFETY_MAX_PAGES} pages")
            window.last_allowed = min(planned_last, start_page + limit - 1)
            window.fill()
            if number not in pending:
                # The result grew past the pages planned so far: read one more.
                window.start(number, fresh=False)
                window.next_to_schedule = number + 1

            previous, page = page, await pending.pop(number)
            window.handed_out = number
            if page.pagination.total < previous.pagination.total:
                page = await _catch_up(window, number, previous, page)
                if page.pagination.total < previous.pagination.total:
                    shrinks.record(number, previous.pagination.total, page.pagination.total)

            page_items = items(page)
            if page_items and page.pagination.current_page != number:
                raise _walk_error(
                    f"page {number} was requested, page {page.pagination.current_page} returned"
                )
            same_total = page.pagination.total == previous.pagination.total
            if page_items and same_total and page_items == items(previous):
                # A server repeating a page, or a result that gained as many items in front
                # as it lost further on. Only in the second case has the previous page changed.
                again = await fetch_page(number - 1, True)
                if items(again) == items(previous):
                    raise _walk_error(f"page {number} repeats the items of page {number - 1}")
            pages_done += 1
            planned_last = max(planned_last, page.pagination.total_pages)
            _report(on_progress, pages_done, start_page, page)
            yield page
            if _is_last(page, page_items, number):
                return
            if pages_done >= limit:
                if max_pages is None:
                    raise _walk_error(f"the result did not end after {SAFETY_MAX_PAGES} pages")
                return
            number += 1
    finally:
        shrinks.summarize()
        window.closed = True
        for task in pending.values():
            task.cancel()
        if pending:
            await asyncio.gather(*pending.values(), return_exceptions=True)


class _Window(Generic[P]):
    """The pages requested ahead of the consumer.

    Up to `concurrency` requests are in flight, and a finished one starts the
    next at once, even while an earlier page is still awaited. Pages ahead of
    the last one handed out are bounded by twice `concurrency`, so at most
    that many are held in memory.
    """

    def __init__(self, fetch_page: PageFetcher[P], concurrency: int, first: int) -> None:
        self.fetch_page = fetch_page
        self.concurrency = concurrency
        self.pending: dict[int, asyncio.Future[P]] = {}
        self.in_flight = 0
        self.next_to_schedule = first
        self.last_allowed = first - 1
        self.handed_out = first - 1
        self.closed = False

    def fill(self) -> None:
        """Start pages in order while a request slot is free and the buffer bound allows."""
        ahead_limit = self.handed_out + 2 * self.concurrency
        while (
            not self.closed
            and self.in_flight < self.concurrency
            and self.next_to_schedule <= min(self.last_allowed, ahead_limit)
        ):
            self.start(self.next_to_schedule, fresh=False)
            self.next_to_schedule += 1

    def start(self, number: int, *, fresh: bool) -> None:
        task = asyncio.ensure_future(self.fetch_page(number, fresh))
        self.pending[number] = task
        self.in_flight += 1
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[P]) -> None:
        self.in_flight -= 1
        self.fill()


async def _catch_up(window: _Window[P], number: int, previous: P, page: P) -> P:
    """Read page `number` again, skipping the cache, until it is as new as `previous`.

    Its `total` below the previous page's means it was read before the result
    grew, or came from the cache. Pages that arrived with it may be just as
    old, so once a fresh read confirms the growth, those are read again too,
    all at once, instead of one after another as their turn comes.
    """
    wanted = previous.pagination.total
    for _ in range(MAX_FRESH_READS):
        page = await window.fetch_page(number, True)
        if page.pagination.total >= wanted:
            _refresh_older(window, page.pagination.total)
            break
    return page


def _refresh_older(window: _Window[P], total: int) -> None:
    for later, task in list(window.pending.items()):
        arrived = task.done() and not task.cancelled() and task.exception() is None
        if arrived and task.result().pagination.total < total:
            window.start(later, fresh=True)


class _Shrinks:
    """The times the result shrank during a walk: the first is logged, the rest summed up.

    Only a total below every total seen before counts. A page read before the shrink can
    still come after it with the larger total, and the next page's smaller one is no
    new removal. Growth between two removals hides some of them, so the sum is a lower
    bound.
    """

    def __init__(self, first_total: int) -> None:
        self.count = 0
        self.items = 0
        self.lowest = first_total

    def record(self, number: int, before: int, after: int) -> None:
        lowest = min(self.lowest, before)
        if after >= lowest:
            return
        self.lowest = after
        self.count += 1
        self.items += lowest - after
        if self.count == 1:
            logger.warning(
                "the result shrank from %d to %d items while it was read (at page %d); items "
                "after a removed one move back, so some may have been skipped. Read the result "
                "again to get them",
                lowest,
                after,
                number,
            )

    def summarize(self) -> None:
        if self.count > 1:
            logger.warning(
                "the result shrank %d times while it was read, by at least %d items in all; some "
                "items may have been skipped. Read the result again to get them",
                self.count,
                self.items,
            )


def _is_last(page: PageLike, page_items: Sequence[object], number: int) -> bool:
    info = page.pagination
    return not info.has_next_page or number >= info.total_pages or not page_items


def _report(on_progress: ProgressCallback | None, done: int, start_page: int, page: P) -> None:
    if on_progress is not None:
        total = max(done, page.pagination.total_pages - start_page + 1)
        on_progress(done, total)


def _walk_error(message: str) -> ResponseValidationError:
    return ResponseValidationError(
        f"pagination stopped: {message}", status=200, path="(pagination)", body_excerpt=""
    )
