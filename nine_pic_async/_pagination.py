"""Walking a paginated endpoint page by page.

The walk is written against a `fetch_page(number)` coroutine, so every page
goes through the same cache, single-flight and retry layers as a single read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sized
from typing import Protocol, TypeVar

from ._models import Pagination

# A walk that has not ended after this many pages is treated as a server bug.
DEFAULT_MAX_PAGES = 100_000


class PageLike(Protocol):
    @property
    def pagination(self) -> Pagination: ...


P = TypeVar("P", bound=PageLike)


async def iterate_pages(
    fetch_page: Callable[[int], Awaitable[P]],
    items: Callable[[P], Sized],
    *,
    start_page: int = 1,
    max_pages: int | None = None,
) -> AsyncIterator[P]:
    """Yield pages from `start_page` on, in order, until the result ends.

    The walk stops after a page whose `has_next_page` is false, whose number
    reaches `total_pages`, or that holds no items, and after `max_pages` pages.
    """
    limit = max_pages if max_pages is not None else DEFAULT_MAX_PAGES
    number = start_page
    for _ in range(limit):
        page = await fetch_page(number)
        yield page

        info = page.pagination
        if not info.has_next_page or number >= info.total_pages or len(items(page)) == 0:
            return
        number += 1
