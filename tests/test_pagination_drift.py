"""A result that changes while it is read: every image once, none dropped, none twice.

The gallery server here builds each response from the gallery as it is at that
moment, after a delay chosen per request, and inserts or removes photos between
responses. Pages read concurrently then come from different
states of the gallery, as they do from the real API while an event is being
uploaded.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import msgspec
import pytest
from aiohttp import web

from nine_pic_async import NinePicClient, memory_cache
from nine_pic_async.testing import DEMO_EVENT_ID
from tests.servers import serve

# Called after a response is built, with the number of that request (from 1) and the gallery.
Mutation = Callable[[int, list[str]], None]


@dataclass
class ChangingGallery:
    """`GET /images` on loopback over a list of image ids that mutations change."""

    ids: list[str]
    delay: Callable[[int, int], float] = lambda request, page: 0.0
    mutate: Mutation = lambda request, ids: None
    requests: int = 0
    pages_requested: list[int] = field(default_factory=list)
    base_url: str = ""

    def body(self, page: int, page_size: int) -> bytes:
        total = len(self.ids)
        total_pages = math.ceil(total / page_size)
        window = self.ids[(page - 1) * page_size : page * page_size]
        data = {
            "images": [
                {"image_id": image_id, "img_url": "http://127.0.0.1/x.jpg"} for image_id in window
            ],
            "pagination": {
                "total": total,
                "currentPage": page if window else 0,
                "totalPages": total_pages,
                "hasNextPage": page < total_pages,
                "hasPreviousPage": page > 1,
                "page_size": page_size,
            },
        }
        envelope = {"responseType": "success", "message": "Records for all images", "data": data}
        return msgspec.json.encode(envelope)

    async def handle(self, request: web.Request) -> web.Response:
        page = int(request.query["page"])
        page_size = int(request.query["page_size"])
        self.requests += 1
        number = self.requests
        self.pages_requested.append(page)
        await asyncio.sleep(self.delay(number, page))
        body = self.body(page, page_size)
        self.mutate(number, self.ids)
        return web.Response(body=body, content_type="application/json")


@pytest.fixture
async def gallery() -> AsyncIterator[ChangingGallery]:
    server = ChangingGallery(ids=[f"img-{index:05d}" for index in range(200)])
    app = web.Application()
    app.router.add_get("/api/v1/ext/903/event/{event_id}/images", server.handle)
    async with serve(app) as base_url:
        server.base_url = base_url
        yield server


def client_of(gallery: ChangingGallery, **options: object) -> NinePicClient:
    options.setdefault("cache", None)
    return NinePicClient("key", 903, base_url=gallery.base_url, **options)  # type: ignore[arg-type]


def insert_after(request_number: int, position: int, count: int) -> Mutation:
    """Insert `count` new ids at `position` after building the response to `request_number`."""

    def mutate(number: int, ids: list[str]) -> None:
        if number == request_number:
            ids[position:position] = [f"new-{index:03d}" for index in range(count)]

    return mutate


async def read_ids(
    client: NinePicClient, *, page_size: int = 20, concurrency: int = 4
) -> list[str]:
    images = client.photos.iter_images(DEMO_EVENT_ID, page_size=page_size, concurrency=concurrency)
    return [image.image_id async for image in images]


async def test_page_read_before_growth_is_read_again(gallery: ChangingGallery) -> None:
    # Page 3 is served at once, and then 5 photos are inserted at the front. Page 2 is
    # served after that, so the photos that were at its end have moved onto page 3.
    gallery.delay = lambda request, page: 0.05 if page == 2 else 0.0
    gallery.mutate = insert_after(3, position=0, count=5)
    original = list(gallery.ids)

    async with client_of(gallery) as client:
        ids = await read_ids(client)

    # Page 1 was read before the insertion, so the new photos at the front are not seen.
    assert ids == original
    assert gallery.pages_requested.count(3) == 2


async def test_growth_by_one_page_is_no_repeat(gallery: ChangingGallery) -> None:
    # After page 1, one page's worth of photos is inserted at the front: page 2 now contains
    # exactly what page 1 contained.
    gallery.mutate = insert_after(1, position=0, count=20)
    original = list(gallery.ids)

    async with client_of(gallery) as client:
        ids = await read_ids(client, concurrency=1)

    assert ids == original


async def test_stale_cached_page_is_read_again(gallery: ChangingGallery) -> None:
    original = list(gallery.ids)

    async with client_of(gallery, cache=memory_cache()) as client:
        await client.photos.list(DEMO_EVENT_ID, page=3, page_size=20)
        gallery.ids[0:0] = [f"new-{index:03d}" for index in range(5)]
        ids = await read_ids(client)

    # Page 3 came from the cache, older than pages 1 and 2: it is read again from the server.
    assert ids == gallery.ids
    assert set(original) <= set(ids)
    assert gallery.pages_requested.count(3) == 2


async def test_shrinking_result_warns(
    gallery: ChangingGallery, caplog: pytest.LogCaptureFixture
) -> None:
    def remove_five(number: int, ids: list[str]) -> None:
        if number == 2:
            del ids[0:5]

    gallery.mutate = remove_five

    with caplog.at_level(logging.WARNING, logger="nine_pic_async"):
        async with client_of(gallery) as client:
            ids = await read_ids(client, concurrency=1)

    assert len(ids) == len(set(ids))
    warnings = [record.getMessage() for record in caplog.records]
    assert any("shrank from 200 to 195" in message for message in warnings), warnings


async def test_repeated_shrinking_is_summed_up(
    gallery: ChangingGallery, caplog: pytest.LogCaptureFixture
) -> None:
    def remove_three_twice(number: int, ids: list[str]) -> None:
        if number in (2, 6):
            del ids[0:3]

    gallery.mutate = remove_three_twice

    with caplog.at_level(logging.WARNING, logger="nine_pic_async"):
        async with client_of(gallery) as client:
            await read_ids(client, concurrency=1)

    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 2, warnings
    assert "shrank from 200 to 197" in warnings[0]
    assert "shrank 2 times while it was read, by at least 6 items in all" in warnings[1]


async def test_equal_gain_and_loss_is_no_repeat(gallery: ChangingGallery) -> None:
    gallery.ids[10:] = []

    def churn(number: int, ids: list[str]) -> None:
        if number == 1:
            ids[0:0] = ["new-0", "new-1"]
            del ids[-2:]

    gallery.mutate = churn
    original = list(gallery.ids)

    async with client_of(gallery) as client:
        ids = await read_ids(client, page_size=2, concurrency=1)

    # Page 2 now contains what page 1 contained; the total did not change.
    assert ids == original[:8]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("seed", range(25))
async def test_random_growth_keeps_every_photo_once(gallery: ChangingGallery, seed: int) -> None:
    rng = random.Random(seed)
    delays = {number: rng.choice([0.0, 0.0, 0.002, 0.005, 0.01]) for number in range(1, 200)}
    insertions = {
        rng.randrange(1, 20): (rng.randrange(0, 200), rng.randrange(1, 45)) for _ in range(4)
    }

    def grow(number: int, ids: list[str]) -> None:
        if number in insertions:
            position, count = insertions[number]
            ids[position:position] = [f"new-{number}-{index:03d}" for index in range(count)]

    gallery.delay = lambda request, page: delays.get(request, 0.0)
    gallery.mutate = grow
    original = list(gallery.ids)
    page_size = rng.choice([7, 20, 50])
    concurrency = rng.choice([2, 4, 16])

    async with client_of(gallery) as client:
        ids = await read_ids(client, page_size=page_size, concurrency=concurrency)

    assert len(ids) == len(set(ids)), "an image was yielded twice"
    assert set(original) - set(ids) == set(), "an image present all along was dropped"
    # A photo inserted behind the pages already read can come later than its place, but
    # the photos present all along keep their order.
    present_all_along = [image_id for image_id in ids if image_id in set(original)]
    assert present_all_along == original, "images present all along came out of gallery order"
