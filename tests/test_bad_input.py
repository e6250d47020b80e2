"""Every public method checks its arguments before any request: a typed error, no traffic."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Sandbox

SELFIE = SAMPLE_SELFIES["runner.jpg"]
REQUEST_ID = str(uuid.uuid4())
Call = Callable[[NinePicClient], Awaitable[object]]


async def collect(iterator: object) -> None:
    async for _ in iterator:  # type: ignore[attr-defined]
        pass


BAD_CALLS: list[tuple[str, Call, type[Exception]]] = [
    ("event_id zero", lambda c: c.events.details(0), ValueError),
    ("event_id str", lambda c: c.events.ping("456"), TypeError),  # type: ignore[arg-type]
    ("event_id bool", lambda c: c.photos.list(True), TypeError),
    ("events page zero", lambda c: c.events.list(page=0), ValueError),
    ("events page_size 101", lambda c: c.events.list(page_size=101), ValueError),
    ("details ttl negative", lambda c: c.events.details(DEMO_EVENT_ID, ttl=-1), ValueError),
    (
        "search page_size 0",
        lambda c: c.faces.search(DEMO_EVENT_ID, SELFIE, page_size=0),
        ValueError,
    ),
    (
        "search request_id",
        lambda c: c.faces.search(DEMO_EVENT_ID, SELFIE, request_id="x"),
        ValueError,
    ),
    ("search empty selfie", lambda c: c.faces.search(DEMO_EVENT_ID, b""), ValueError),
    ("get request_id path", lambda c: c.faces.get(DEMO_EVENT_ID, "../../events"), ValueError),
    (
        "get page_size 101",
        lambda c: c.faces.get(DEMO_EVENT_ID, REQUEST_ID, page_size=101),
        ValueError,
    ),
    ("forget request_id", lambda c: c.faces.forget(DEMO_EVENT_ID, "nope"), ValueError),
    (
        "iter pages start",
        lambda c: collect(c.faces.iter_pages(DEMO_EVENT_ID, REQUEST_ID, start_page=0)),
        ValueError,
    ),
    ("gallery page_size", lambda c: c.photos.list(DEMO_EVENT_ID, page_size=1000), ValueError),
    (
        "gallery concurrency",
        lambda c: collect(c.photos.iter_images(DEMO_EVENT_ID, concurrency=0)),
        ValueError,
    ),
    ("bib slash", lambda c: c.bibs.search(DEMO_EVENT_ID, "1/2"), ValueError),
    ("bib dot dot", lambda c: c.bibs.fetch_all(DEMO_EVENT_ID, ".."), ValueError),
    ("bib not str", lambda c: c.bibs.search(DEMO_EVENT_ID, 1234), TypeError),  # type: ignore[arg-type]
    ("links no selector", lambda c: c.originals.links(DEMO_EVENT_ID), ValueError),
    (
        "links two selectors",
        lambda c: c.originals.links(DEMO_EVENT_ID, bib="1", image_id="a"),
        ValueError,
    ),
    (
        "links image_id slash",
        lambda c: c.originals.links(DEMO_EVENT_ID, image_id="a/b"),
        ValueError,
    ),
    (
        "links page_size 61",
        lambda c: c.originals.links(DEMO_EVENT_ID, bib="1", page_size=61),
        ValueError,
    ),
    ("links ids empty", lambda c: c.originals.links(DEMO_EVENT_ID, image_ids=[]), ValueError),
    (
        "download concurrency",
        lambda c: c.originals.download(DEMO_EVENT_ID, "/tmp/x", bib="1", concurrency=0),
        ValueError,
    ),
    (
        "download folder type",
        lambda c: c.originals.download(DEMO_EVENT_ID, 5, bib="1"),  # type: ignore[arg-type]
        TypeError,
    ),
    ("timeline window empty", lambda c: c.timeline.images(DEMO_EVENT_ID, 10, 10), ValueError),
    ("timeline start type", lambda c: c.timeline.images(DEMO_EVENT_ID, "0", 10), TypeError),  # type: ignore[arg-type]
    ("timeline ttl", lambda c: c.timeline.days(DEMO_EVENT_ID, ttl=0), ValueError),
]


@pytest.mark.parametrize(
    ("call", "error"), [(c, e) for _n, c, e in BAD_CALLS], ids=[name for name, _c, _e in BAD_CALLS]
)
async def test_bad_argument_sends_nothing(
    client: NinePicClient, sandbox: Sandbox, call: Call, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await call(client)

    assert sandbox.stats.total_requests == 0


async def test_download_into_a_file_sends_nothing(
    client: NinePicClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("x")

    with pytest.raises(ValueError, match="not a folder"):
        await client.originals.download(DEMO_EVENT_ID, blocker, bib="1234")

    assert sandbox.stats.total_requests == 0
