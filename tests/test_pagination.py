"""The paginator: concurrent, ordered, bounded, and safe to leave early."""

from __future__ import annotations

import asyncio
import gc
import math
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import msgspec
import pytest
from aiohttp import web

from nine_pic_async import (
    ImageItem,
    NinePicClient,
    NotFoundError,
    ResponseValidationError,
)
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_MATCHES, SAMPLE_SELFIES, Sandbox
from tests.servers import serve

REQUEST_ID = "ddc661a7-8861-4793-9437-af42a82d12f8"


@dataclass
class PagedServer:
    """A face search endpoint on loopback whose pages can be slow, wrong or endless."""

    total: int = 100
    delays: dict[int, float] = field(default_factory=dict)
    missing_pages: set[int] = field(default_factory=set)
    repeat_first_page: bool = False
    wrong_current_page: bool = False
    endless: bool = False
    overlap: int = 0
    requested: list[int] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    cancelled: int = 0
    base_url: str = ""

    def image(self, index: int) -> dict[str, object]:
        return {"image_id": f"img-{index:07d}", "img_url": f"http://127.0.0.1/{index}.jpg"}

    def body(self, page: int, page_size: int) -> bytes:
        total_pages = math.ceil(self.total / page_size)
        source = 1 if self.repeat_first_page else page
        # With overlap, each page starts with the last images of the one before, as when a
        # result grows at its front while it is read.
        start = max(0, (source - 1) * page_size - (self.overlap if source > 1 else 0))
        stop = min(self.total, start + page_size) if not self.endless else start + page_size
        data = {
            "request_id": REQUEST_ID,
            "images": [self.image(index) for index in range(start, stop)],
            "pagination": {
                "total": self.total,
                "currentPage": page + 1 if self.wrong_current_page else page,
                "totalPages": 10**9 if self.endless else total_pages,
                "hasNextPage": True if self.endless else page < total_pages,
                "hasPreviousPage": page > 1,
                "page_size": page_size,
            },
        }
        return msgspec.json.encode({"responseType": "success", "message": "ok", "data": data})

    async def handle(self, request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        page_size = int(request.query.get("page_size", "32"))
        self.requested.append(page)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delays.get(page, 0.0))
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        if page in self.missing_pages:
            error = {"responseType": "error", "message": "gone", "data": None}
            return web.Response(status=404, body=msgspec.json.encode(error))
        return web.Response(body=self.body(page, page_size), content_type="application/json")


@pytest.fixture
async def paged() -> AsyncIterator[PagedServer]:
    server = PagedServer()
    app = web.Application()
    app.router.add_get("/api/v1/ext/903/event/456/faces/{request_id}", server.handle)
    async with serve(app, handler_cancellation=True) as base_url:
        server.base_url = base_url
        yield server


def client_of(paged: PagedServer, **options: object) -> NinePicClient:
    return NinePicClient("key", 903, base_url=paged.base_url, cache=None, **options)  # type: ignore[arg-type]


def client_leftovers() -> list[asyncio.Task[object]]:
    """Return tasks other than this test's and the loopback servers' connection handlers."""
    return [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and "RequestHandler" not in repr(task)
    ]


# -- Results -------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 7, 32, 100])
@pytest.mark.parametrize("concurrency", [1, 4, 16])
async def test_concurrent_walk_equals_sequential(
    sandbox: Sandbox, page_size: int, concurrency: int
) -> None:
    async with NinePicClient(sandbox.api_key, 903, base_url=sandbox.base_url, cache=None) as c:
        page = await c.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        sequential: list[ImageItem] = []
        number = 1
        while True:
            current = await c.faces.get(
                DEMO_EVENT_ID, page.request_id, page=number, page_size=page_size
            )
            sequential.extend(current.images)
            if not current.pagination.has_next_page:
                break
            number += 1

        walked = await c.faces.fetch_all(
            DEMO_EVENT_ID, page.request_id, page_size=page_size, concurrency=concurrency
        )

    assert walked == sequential
    assert len(walked) == SAMPLE_MATCHES["runner.jpg"]


async def test_search_page_starts_walk_without_cache(sandbox: Sandbox) -> None:
    async with NinePicClient(sandbox.api_key, 903, base_url=sandbox.base_url, cache=None) as c:
        page = await c.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"], page_size=10)
        images = await c.faces.fetch_all(
            DEMO_EVENT_ID, page.request_id, page_size=10, first_page=page
        )

    assert len(images) == SAMPLE_MATCHES["runner.jpg"]
    assert images[:10] == list(page.images)
    # Page 1 came from the search; only the pages after it were read.
    assert sandbox.stats.requests["faces.get"] == page.pagination.total_pages - 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"page_size": 20}, "page_size=10"),
        ({"request_id": "ddc661a7-8861-4793-9437-af42a82d12f8"}, "belongs to request_id"),
        ({"start_page": 2}, "starts at page 2"),
    ],
)
async def test_mismatched_first_page_is_rejected(
    sandbox: Sandbox, changes: dict[str, object], message: str
) -> None:
    async with NinePicClient(sandbox.api_key, 903, base_url=sandbox.base_url, cache=None) as c:
        page = await c.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"], page_size=10)
        arguments: dict[str, object] = {"request_id": page.request_id, "page_size": 10}
        arguments.update(changes)
        requests_before = sandbox.stats.total_requests

        with pytest.raises(ValueError, match=message):
            c.faces.iter_pages(DEMO_EVENT_ID, first_page=page, **arguments)  # type: ignore[arg-type]

    assert sandbox.stats.total_requests == requests_before


async def test_pages_come_in_order_when_later_ones_answer_first(paged: PagedServer) -> None:
    paged.delays = {2: 0.3, 3: 0.1}

    async with client_of(paged) as client:
        pages = [
            p.pagination.current_page
            async for p in client.faces.iter_pages(
                DEMO_EVENT_ID, REQUEST_ID, page_size=10, concurrency=4
            )
        ]

    assert pages == list(range(1, 11))
    assert paged.max_in_flight == 4
    assert paged.requested[:5] == [1, 2, 3, 4, 5]


async def test_window_bounds_requests_in_flight(paged: PagedServer) -> None:
    paged.delays = {page: 0.02 for page in range(1, 11)}

    async with client_of(paged) as client:
        images = await client.faces.fetch_all(
            DEMO_EVENT_ID, REQUEST_ID, page_size=10, concurrency=3
        )

    assert len(images) == 100
    assert paged.max_in_flight == 3


async def test_slow_page_does_not_hold_back_later_requests(paged: PagedServer) -> None:
    paged.total = 300
    paged.delays = {2: 0.5}

    async with client_of(paged) as client:
        walk = asyncio.ensure_future(
            client.faces.fetch_all(DEMO_EVENT_ID, REQUEST_ID, page_size=10, concurrency=4)
        )
        await asyncio.sleep(0.25)
        requested_while_page_2_waits = sorted(paged.requested)
        images = await walk

    # Page 1 is handed out; requests go on up to twice the concurrency past it (page 9),
    # never further while page 2 is awaited.
    assert requested_while_page_2_waits == list(range(1, 10))
    assert len(images) == 300
    assert paged.max_in_flight == 4


async def test_progress_reports_every_page(paged: PagedServer) -> None:
    progress: list[tuple[int, int]] = []

    async with client_of(paged) as client:
        await client.faces.fetch_all(
            DEMO_EVENT_ID,
            REQUEST_ID,
            page_size=25,
            on_progress=lambda d, t: progress.append((d, t)),
        )

    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]


async def test_overlapping_pages_yield_each_image_once(paged: PagedServer) -> None:
    paged.overlap = 3

    async with client_of(paged) as client:
        images = await client.faces.fetch_all(DEMO_EVENT_ID, REQUEST_ID, page_size=10)

    # Pages 2 to 10 each start with the last 3 images of the page before: 0 to 96 are served.
    ids = [image.image_id for image in images]
    assert ids == [f"img-{index:07d}" for index in range(97)]


# -- Leaving early ---------------------------------------------------------------------------------


async def test_break_cancels_requests_in_flight(paged: PagedServer) -> None:
    paged.delays = {page: 1.0 for page in range(3, 11)}

    async with client_of(paged) as client:
        async with client.faces.iter_pages(
            DEMO_EVENT_ID, REQUEST_ID, page_size=10, concurrency=8
        ) as pages:
            async for page in pages:
                if page.pagination.current_page == 2:
                    break
        leftovers = client_leftovers()
        await asyncio.sleep(0.05)  # Let the server notice the closed connections.

    assert leftovers == []
    assert paged.cancelled >= 1
    assert max(paged.requested) <= 10


async def test_bare_break_drains_on_next_loop_turn(paged: PagedServer) -> None:
    paged.delays = {page: 1.0 for page in range(3, 11)}

    async with client_of(paged) as client:
        async for page in client.faces.iter_pages(DEMO_EVENT_ID, REQUEST_ID, page_size=10):
            if page.pagination.current_page == 2:
                break
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)
        leftovers = client_leftovers()

    assert leftovers == []


async def test_consumer_exception_cancels_requests(paged: PagedServer) -> None:
    paged.delays = {page: 1.0 for page in range(3, 11)}

    async def consume(client: NinePicClient) -> None:
        async with client.faces.iter_images(
            DEMO_EVENT_ID, REQUEST_ID, page_size=10, concurrency=8
        ) as images:
            async for image in images:
                raise KeyError(image.image_id)

    async with client_of(paged) as client:
        with pytest.raises(KeyError):
            await consume(client)
        leftovers = client_leftovers()

    assert leftovers == []


async def test_failed_page_cancels_the_others(paged: PagedServer) -> None:
    paged.missing_pages = {3}
    paged.delays = {page: 1.0 for page in range(4, 11)}

    async with client_of(paged, max_retries=0) as client:
        with pytest.raises(NotFoundError):
            await client.faces.fetch_all(DEMO_EVENT_ID, REQUEST_ID, page_size=10, concurrency=8)
        leftovers = client_leftovers()

    assert leftovers == []


# -- Servers that would loop -----------------------------------------------------------------------


async def test_repeated_page_is_an_error(paged: PagedServer) -> None:
    paged.repeat_first_page = True

    async with client_of(paged) as client:
        with pytest.raises(ResponseValidationError, match="repeats the items of page 1"):
            await client.faces.fetch_all(DEMO_EVENT_ID, REQUEST_ID, page_size=10)


async def test_wrong_current_page_is_an_error(paged: PagedServer) -> None:
    paged.wrong_current_page = True

    async with client_of(paged) as client:
        with pytest.raises(ResponseValidationError, match="page 2 was requested, page 3"):
            await client.faces.fetch_all(DEMO_EVENT_ID, REQUEST_ID, page_size=10)


async def test_endless_result_stops_at_max_pages(paged: PagedServer) -> None:
    paged.endless = True

    async with client_of(paged) as client:
        images = await client.faces.fetch_all(
            DEMO_EVENT_ID, REQUEST_ID, page_size=10, max_pages=7, concurrency=4
        )

    assert len(images) == 70
    assert max(paged.requested) == 7


@pytest.mark.parametrize("concurrency", [0, -2, True])
def test_invalid_concurrency_is_rejected(concurrency: int) -> None:
    client = NinePicClient("key", 903, base_url="http://127.0.0.1:9")

    with pytest.raises((TypeError, ValueError), match="concurrency"):
        client.faces.iter_pages(DEMO_EVENT_ID, uuid.uuid4(), concurrency=concurrency)


# -- Memory --------------------------------------------------------------------------------------


async def test_large_result_streams_in_bounded_memory(paged: PagedServer) -> None:
    paged.total = 100_000

    async with client_of(paged) as client:
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        count = 0
        async for _image in client.faces.iter_images(
            DEMO_EVENT_ID, REQUEST_ID, page_size=100, concurrency=8
        ):
            count += 1
        peak_while_streaming = tracemalloc.get_traced_memory()[1] - baseline
        everything = await client.faces.fetch_all(
            DEMO_EVENT_ID, REQUEST_ID, page_size=100, concurrency=8
        )
        whole_result = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()

    assert count == 100_000
    assert len(everything) == 100_000
    # tracemalloc's peak over the whole stream, decoding and the hash log of keys included.
    assert peak_while_streaming < whole_result / 10
