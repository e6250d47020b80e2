"""Tests of `build_album` against the sandbox: seeded data, faults and request counts.

Run them with `python -m pytest examples/testing`. They need pytest-asyncio, with
`asyncio_mode = "auto"` in the pytest configuration (or a `@pytest.mark.asyncio` mark on each
test).
"""

from __future__ import annotations

import pytest

from nine_pic_async import NinePicClient, RetryPolicy
from nine_pic_async.testing import DEMO_EVENT_ID, Fault, Sandbox, make_selfie

from .photo_service import build_album  # in your project: from yourapp.photos import ...

EVENT_ID = 7001


@pytest.fixture
def fast_client(ninepic_client: NinePicClient) -> NinePicClient:
    """The plugin's client with short retry waits, so that fault tests run fast."""
    return ninepic_client.with_options(retry_policy=RetryPolicy(initial_delay=0.01))


async def test_album_lists_seeded_photos(
    ninepic_sandbox: Sandbox, ninepic_client: NinePicClient
) -> None:
    ninepic_sandbox.add_event(EVENT_ID, photo_count=200, name="Club 10K")
    alice = make_selfie("alice")
    expected_ids = ninepic_sandbox.add_selfie(alice, event_id=EVENT_ID, matches=40)

    album = await build_album(ninepic_client, EVENT_ID, alice)

    assert len(album.photo_urls) == 40
    assert [url.rsplit("/", 1)[1] for url in album.photo_urls] == [
        f"{image_id}.jpg" for image_id in expected_ids
    ]
    assert ninepic_sandbox.stats.billable_searches == 1


async def test_album_for_disabled_event(
    ninepic_sandbox: Sandbox, ninepic_client: NinePicClient
) -> None:
    ninepic_sandbox.add_event(EVENT_ID, selfie_search=False)

    album = await build_album(ninepic_client, EVENT_ID, make_selfie("alice"))

    assert album.note == "Selfie search is turned off for this event."
    assert ninepic_sandbox.stats.requests["faces.search"] == 0  # nothing uploaded


async def test_album_when_api_is_down(ninepic_sandbox: Sandbox, fast_client: NinePicClient) -> None:
    # The first attempt and both retries get a 503.
    ninepic_sandbox.add_fault("faces.search", Fault(status=503), times=3)

    album = await build_album(fast_client, DEMO_EVENT_ID, make_selfie("alice"))

    assert album.note == "Photo search is busy; try again in a minute."
    assert ninepic_sandbox.stats.requests["faces.search"] == 3


async def test_album_survives_dropped_response(
    ninepic_sandbox: Sandbox, fast_client: NinePicClient
) -> None:
    # The search is recorded and billed, then the connection drops before the response.
    ninepic_sandbox.add_fault("faces.search", Fault(drop="after"))

    album = await build_album(fast_client, DEMO_EVENT_ID, make_selfie("alice"))

    assert album.photo_urls
    assert ninepic_sandbox.stats.requests["faces.search"] == 2
    assert ninepic_sandbox.stats.billable_searches == 1  # the retry was not billed again


async def test_client_from_environment(ninepic_env: Sandbox) -> None:
    # For code that builds its own client from NINEPIC_API_KEY, _ORG_ID and _BASE_URL.
    request_id = ninepic_env.add_search(matches=3)

    async with NinePicClient() as client:
        images = await client.faces.fetch_all(DEMO_EVENT_ID, request_id)

    assert len(images) == 3
