"""The event list, gallery, BIB search, originals and timeline, end to end against the sandbox."""

from __future__ import annotations

import aiohttp
import pytest

from nine_pic_async import (
    BadRequestError,
    NinePicClient,
    PermissionDeniedError,
)
from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    DISABLED_EVENT_ID,
    NO_TIMELINE_EVENT_ID,
    SAMPLE_BIBS,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    Sandbox,
    original_bytes,
)

# -- Events --------------------------------------------------------------------------------------


async def test_event_list_pages_and_caches(client: NinePicClient, sandbox: Sandbox) -> None:
    first = await client.events.list()
    again = await client.events.list()
    events = await client.events.fetch_all()

    ids = [event.event_id for event in events]
    assert len(first.events) == 10
    assert again == first
    assert DEMO_EVENT_ID in ids
    assert len(ids) == len(set(ids)) == first.pagination.total
    assert sandbox.stats.requests["events.list"] == first.pagination.total_pages


# -- Gallery ---------------------------------------------------------------------------------------


async def test_gallery_is_in_capture_order(client: NinePicClient, sandbox: Sandbox) -> None:
    images = await client.photos.fetch_all(DEMO_EVENT_ID, page_size=100, concurrency=8)

    times = [sandbox.capture_timestamp(DEMO_EVENT_ID, image.image_id) for image in images]
    timed = [time for time in times if time is not None]
    assert len(images) == sandbox.event(DEMO_EVENT_ID).photo_count
    assert len({image.image_id for image in images}) == len(images)
    assert timed == sorted(timed)
    assert times[: len(timed)] == timed  # Photos without a capture time come last.


# -- BIB search ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bib", sorted(SAMPLE_BIBS))
async def test_bib_search_finds_its_photos(client: NinePicClient, bib: str) -> None:
    images = await client.bibs.fetch_all(DEMO_EVENT_ID, bib, page_size=50)

    assert len(images) == SAMPLE_BIBS[bib]


async def test_bib_is_case_insensitive_and_cached_once(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    upper = await client.bibs.search(DEMO_EVENT_ID, "A123")
    lower = await client.bibs.search(DEMO_EVENT_ID, "a123")

    assert lower == upper
    assert len(upper.images) == SAMPLE_BIBS["A123"]
    assert sandbox.stats.requests["bibs.search"] == 1


async def test_disabled_bib_search_names_the_flag(client: NinePicClient) -> None:
    with pytest.raises(PermissionDeniedError, match="bib_search"):
        await client.bibs.search(DISABLED_EVENT_ID, "1234")


@pytest.mark.parametrize("bib", ["", "12/34", "..", "12\n34"])
async def test_bad_bib_is_rejected_before_network(
    client: NinePicClient, sandbox: Sandbox, bib: str
) -> None:
    with pytest.raises(ValueError, match="bib must be"):
        await client.bibs.search(DEMO_EVENT_ID, bib)

    assert sandbox.stats.total_requests == 0


# -- Originals -----------------------------------------------------------------------------------


async def test_selfie_links_cover_every_match(client: NinePicClient, sandbox: Sandbox) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])

    link_pages = [
        p async for p in client.originals.iter_pages(DEMO_EVENT_ID, selfie=page.request_id)
    ]
    links = [link for p in link_pages for link in p.presigned_urls]
    failed = [item for p in link_pages for item in p.failed_urls]

    assert len(links) + len(failed) == SAMPLE_MATCHES["runner.jpg"]
    assert len(link_pages) == 3
    assert all(link.url.startswith(sandbox.base_url) for link in links)


async def test_links_are_never_cached(client: NinePicClient, sandbox: Sandbox) -> None:
    await client.originals.links(DEMO_EVENT_ID, bib="777")
    await client.originals.links(DEMO_EVENT_ID, bib="777")

    assert sandbox.stats.requests["originals.links"] == 2


async def test_link_downloads_the_original(client: NinePicClient, sandbox: Sandbox) -> None:
    gallery = await client.photos.list(DEMO_EVENT_ID, page_size=5)
    image_id = gallery.images[1].image_id

    page = await client.originals.links(DEMO_EVENT_ID, image_id=image_id)
    async with aiohttp.ClientSession() as session, session.get(page.presigned_urls[0].url) as got:
        body = await got.read()

    assert page.identifier == image_id
    assert body == original_bytes(DEMO_EVENT_ID, image_id, sandbox.original_size)


async def test_image_ids_keep_their_order(client: NinePicClient) -> None:
    gallery = await client.photos.list(DEMO_EVENT_ID, page_size=5)
    wanted = [image.image_id for image in reversed(gallery.images[1:4])]

    page = await client.originals.links(DEMO_EVENT_ID, image_ids=wanted)

    assert [link.filename for link in page.presigned_urls] == [f"{i}.jpg" for i in wanted]
    assert page.identifier is None


async def test_unknown_image_id_is_bad_request(client: NinePicClient) -> None:
    with pytest.raises(BadRequestError):
        await client.originals.links(DEMO_EVENT_ID, image_id="not-an-image")


@pytest.mark.parametrize("page_size", [0, 61])
async def test_links_page_size_is_checked(
    client: NinePicClient, sandbox: Sandbox, page_size: int
) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await client.originals.links(DEMO_EVENT_ID, bib="1234", page_size=page_size)

    assert sandbox.stats.total_requests == 0


async def test_flat_links_body_decodes() -> None:
    async with (
        Sandbox(legacy_flat=True) as server,
        NinePicClient(server.api_key, server.org_id, base_url=server.base_url) as client,
    ):
        page = await client.originals.links(DEMO_EVENT_ID, bib="A123")

    assert len(page.presigned_urls) + len(page.failed_urls) == SAMPLE_BIBS["A123"]
    assert page.identifier == "A123"


# -- Timeline ------------------------------------------------------------------------------------


async def test_timeline_days_count_the_timed_photos(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    days = await client.timeline.days(DEMO_EVENT_ID)
    images = await client.photos.fetch_all(DEMO_EVENT_ID, page_size=100)

    timed = [i for i in images if sandbox.capture_timestamp(DEMO_EVENT_ID, i.image_id) is not None]
    assert sum(day.total for day in days.days) == len(timed)
    assert all(day.total == sum(hour.count for hour in day.hours) for day in days.days)


async def test_timeline_window_is_half_open(client: NinePicClient, sandbox: Sandbox) -> None:
    gallery = await client.photos.list(DEMO_EVENT_ID, page_size=10)
    times = [sandbox.capture_timestamp(DEMO_EVENT_ID, image.image_id) for image in gallery.images]
    start, end = times[0], times[6]
    assert start is not None
    assert end is not None

    window = await client.timeline.fetch_all(DEMO_EVENT_ID, start, end)

    inside = [sandbox.capture_timestamp(DEMO_EVENT_ID, image.image_id) for image in window]
    assert all(time is not None and start <= time < end for time in inside)
    assert window[0].image_id == gallery.images[0].image_id
    assert gallery.images[6].image_id not in {image.image_id for image in window}


async def test_timeline_off_names_the_flag(client: NinePicClient) -> None:
    with pytest.raises(PermissionDeniedError, match="timeline_search"):
        await client.timeline.days(NO_TIMELINE_EVENT_ID)


@pytest.mark.parametrize(("start", "end"), [(10, 10), (20, 10), (-1, 5)])
async def test_bad_timeline_window_is_rejected(
    client: NinePicClient, sandbox: Sandbox, start: int, end: int
) -> None:
    with pytest.raises(ValueError, match=r"start|end"):
        await client.timeline.images(DEMO_EVENT_ID, start, end)

    assert sandbox.stats.total_requests == 0


# -- Feature flags before a search ---------------------------------------------------------------


async def test_check_event_uploads_nothing_when_selfie_search_is_off(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    with pytest.raises(PermissionDeniedError, match="selfie_search"):
        await client.faces.search(DISABLED_EVENT_ID, SAMPLE_SELFIES["runner.jpg"], check_event=True)

    assert sandbox.stats.requests["faces.search"] == 0
    assert sandbox.stats.requests["events.details"] == 1


async def test_check_event_reads_details_once(client: NinePicClient, sandbox: Sandbox) -> None:
    for name in ("runner.jpg", "cyclist.png"):
        await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES[name], check_event=True)

    assert sandbox.stats.requests["events.details"] == 1
    assert sandbox.stats.billable_searches == 2
