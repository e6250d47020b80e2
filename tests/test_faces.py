"""Face search end to end against the sandbox on loopback."""

from __future__ import annotations

import asyncio
import io
import math
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import pytest

from nine_pic_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NinePicClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeout,
    UnprocessableEntityError,
)
from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    DISABLED_EVENT_ID,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    Fault,
    Sandbox,
)

RUNNER = SAMPLE_SELFIES["runner.jpg"]


def pipe_holding(data: bytes) -> BinaryIO:
    """Return the read end of a pipe that contains `data`, a file object that cannot seek."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(data)
    return os.fdopen(read_end, "rb")


FAST_RETRIES = RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.01)


@pytest.fixture
async def retrying_client(sandbox: Sandbox) -> AsyncIterator[NinePicClient]:
    async with NinePicClient(
        api_key=sandbox.api_key,
        org_id=sandbox.org_id,
        base_url=sandbox.base_url,
        retry_policy=FAST_RETRIES,
    ) as instance:
        yield instance


# -- The happy path --------------------------------------------------------------------------------


async def test_search_returns_first_page(client: NinePicClient, sandbox: Sandbox) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, RUNNER)

    assert uuid.UUID(page.request_id).version == 4
    assert page.pagination.total == SAMPLE_MATCHES["runner.jpg"]
    assert page.pagination.current_page == 1
    assert len(page.images) == 32
    assert page.message == "Computed face search"
    assert sandbox.stats.billable_searches == 1
    assert sandbox.stats.requests["faces.search"] == 1


async def test_every_page_then_again_from_cache(client: NinePicClient, sandbox: Sandbox) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, RUNNER)
    expected_pages = math.ceil(SAMPLE_MATCHES["runner.jpg"] / 32)

    first_walk = [p async for p in client.faces.iter_pages(DEMO_EVENT_ID, page.request_id)]
    requests_after_first_walk = sandbox.stats.total_requests
    second_walk = [p async for p in client.faces.iter_pages(DEMO_EVENT_ID, page.request_id)]

    assert len(first_walk) == expected_pages
    assert second_walk == first_walk
    # Page 1 came with the POST, so the first walk fetched only the other pages.
    assert sandbox.stats.requests["faces.get"] == expected_pages - 1
    assert sandbox.stats.total_requests == requests_after_first_walk
    assert sandbox.stats.billable_searches == 1
    assert client.cache_stats.hits >= expected_pages + 1


async def test_get_of_searched_page_is_served_from_cache(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, RUNNER)

    again = await client.faces.get(DEMO_EVENT_ID, page.request_id, page=1)

    assert again == page
    assert sandbox.stats.requests["faces.get"] == 0


async def test_fetch_all_returns_every_match_once(client: NinePicClient) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=100)

    images = await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id, page_size=100)

    assert len(images) == SAMPLE_MATCHES["crowd.jpg"]
    assert len({image.image_id for image in images}) == len(images)


async def test_iter_images_matches_fetch_all(client: NinePicClient) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["cyclist.png"], page_size=5)

    streamed = [
        i async for i in client.faces.iter_images(DEMO_EVENT_ID, page.request_id, page_size=5)
    ]
    listed = await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id, page_size=5)

    assert streamed == listed
    assert len(streamed) == SAMPLE_MATCHES["cyclist.png"]


async def test_no_match_selfie_gives_one_empty_page(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["stranger.png"])

    pages = [p async for p in client.faces.iter_pages(DEMO_EVENT_ID, page.request_id)]

    assert page.images == ()
    assert page.pagination.total_pages == 0
    assert len(pages) == 1
    assert sandbox.stats.requests["faces.get"] == 0


async def test_selfie_as_bytes_and_file_objects(client: NinePicClient, sandbox: Sandbox) -> None:
    data = RUNNER.read_bytes()

    from_bytes = await client.faces.search(DEMO_EVENT_ID, data)
    from_buffer = await client.faces.search(DEMO_EVENT_ID, io.BytesIO(data))
    with RUNNER.open("rb") as file:
        from_file = await client.faces.search(DEMO_EVENT_ID, file)

    assert from_bytes.images == from_buffer.images == from_file.images
    assert sandbox.stats.billable_searches == 3


async def test_search_with_cached_request_id_sends_nothing(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, RUNNER)

    again = await client.faces.search(DEMO_EVENT_ID, RUNNER, request_id=page.request_id.upper())

    assert again == page
    assert sandbox.stats.requests["faces.search"] == 1


async def test_repeated_request_id_is_not_billed_twice(sandbox: Sandbox) -> None:
    request_id = str(uuid.uuid4())

    for _ in range(2):
        async with NinePicClient(
            api_key=sandbox.api_key, org_id=sandbox.org_id, base_url=sandbox.base_url
        ) as fresh_client:
            await fresh_client.faces.search(DEMO_EVENT_ID, RUNNER, request_id=request_id)

    assert sandbox.stats.requests["faces.search"] == 2
    assert sandbox.stats.billable_searches == 1


async def test_concurrent_identical_gets_send_one_request(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    page = await client.faces.search(DEMO_EVENT_ID, RUNNER)

    results = await asyncio.gather(
        *(client.faces.get(DEMO_EVENT_ID, page.request_id, page=2) for _ in range(20))
    )

    assert all(result == results[0] for result in results)
    assert sandbox.stats.requests["faces.get"] == 1
    assert client.cache_stats.coalesced == 19


async def test_no_cache_reads_the_network_every_time(sandbox: Sandbox) -> None:
    async with NinePicClient(
        api_key=sandbox.api_key, org_id=sandbox.org_id, base_url=sandbox.base_url, cache=None
    ) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
        await uncached.faces.get(DEMO_EVENT_ID, page.request_id)
        await uncached.faces.get(DEMO_EVENT_ID, page.request_id)

    assert sandbox.stats.requests["faces.get"] == 2


# -- Retries ---------------------------------------------------------------------------------------


async def test_post_dropped_after_recording_is_billed_once(
    retrying_client: NinePicClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("faces.search", Fault(drop="after"))

    page = await retrying_client.faces.search(DEMO_EVENT_ID, RUNNER)

    assert sandbox.stats.requests["faces.search"] == 2
    assert sandbox.stats.billable_searches == 1
    assert page.pagination.total == SAMPLE_MATCHES["runner.jpg"]


async def test_post_dropped_before_recording_is_retried(
    retrying_client: NinePicClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("faces.search", Fault(drop="before"), times=2)

    page = await retrying_client.faces.search(DEMO_EVENT_ID, RUNNER)

    assert sandbox.stats.requests["faces.search"] == 3
    assert sandbox.stats.billable_searches == 1
    assert len(page.images) == 32


async def test_retried_upload_from_unseekable_stream_sends_whole_file(
    retrying_client: NinePicClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("faces.search", Fault(drop="before"))

    with pipe_holding(RUNNER.read_bytes()) as stream:
        assert stream.seekable() is False
        page = await retrying_client.faces.search(DEMO_EVENT_ID, stream)

    # The sandbox picks matches by the bytes it received, so only the whole file gives 87.
    assert page.pagination.total == SAMPLE_MATCHES["runner.jpg"]
    assert sandbox.stats.billable_searches == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried(
    retrying_client: NinePicClient, sandbox: Sandbox, status: int
) -> None:
    sandbox.add_fault(
        "events.details", Fault(status=status, body=b"<html>oops</html>", content_type="text/html")
    )

    details = await retrying_client.events.details(DEMO_EVENT_ID)

    assert details.event_id == DEMO_EVENT_ID
    assert sandbox.stats.requests["events.details"] == 2


async def test_rate_limit_waits_for_retry_after(
    retrying_client: NinePicClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": "0.2"}))
    loop = asyncio.get_running_loop()

    started = loop.time()
    ping = await retrying_client.events.ping(DEMO_EVENT_ID)

    assert ping.status == "ok"
    assert loop.time() - started >= 0.2
    assert sandbox.stats.requests["events.ping"] == 2


async def test_exhausted_retries_raise_last_error(
    retrying_client: NinePicClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("events.ping", Fault(status=429), times=10)

    with pytest.raises(RateLimitError) as caught:
        await retrying_client.events.ping(DEMO_EVENT_ID)

    assert caught.value.status == 429
    assert sandbox.stats.requests["events.ping"] == FAST_RETRIES.max_retries + 1


async def test_connection_refused_raises_connection_error() -> None:
    async with Sandbox() as server:
        base_url = server.base_url
    async with NinePicClient(
        api_key="k", org_id=903, base_url=base_url, retry_policy=FAST_RETRIES
    ) as orphan:
        with pytest.raises(APIConnectionError) as caught:
            await orphan.events.ping(DEMO_EVENT_ID)

    assert caught.value.method == "GET"
    assert caught.value.path.endswith("/ping")


# -- Status errors ---------------------------------------------------------------------------------


async def test_disabled_selfie_search_names_the_flag(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    with pytest.raises(PermissionDeniedError, match="selfie_search") as caught:
        await client.faces.search(DISABLED_EVENT_ID, RUNNER)

    assert caught.value.status == 403
    assert sandbox.stats.billable_searches == 0


async def test_wrong_key_is_permission_denied(sandbox: Sandbox) -> None:
    async with NinePicClient(
        api_key="wrong", org_id=sandbox.org_id, base_url=sandbox.base_url
    ) as wrong:
        with pytest.raises(PermissionDeniedError) as caught:
            await wrong.events.ping(DEMO_EVENT_ID)

    assert "wrong" not in str(caught.value)
    assert sandbox.stats.requests["events.ping"] == 1


async def test_unknown_request_id_is_not_found_and_not_cached(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    unknown = str(uuid.uuid4())

    for _ in range(2):
        with pytest.raises(NotFoundError):
            await client.faces.get(DEMO_EVENT_ID, unknown)

    assert sandbox.stats.requests["faces.get"] == 2


async def test_unknown_event_is_not_found(client: NinePicClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.events.details(999)

    assert caught.value.path == "/api/v1/ext/903/event/999/details"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
    ],
)
async def test_client_errors_are_raised_without_retry(
    retrying_client: NinePicClient, sandbox: Sandbox, status: int, expected: type[Exception]
) -> None:
    message = "query.page_size: Input should be less than or equal to 100"
    body = f'{{"responseType":"error","message":"{message}","data":null}}'.encode()
    sandbox.add_fault("faces.search", Fault(status=status, body=body))

    with pytest.raises(expected, match="page_size"):
        await retrying_client.faces.search(DEMO_EVENT_ID, RUNNER)

    assert sandbox.stats.requests["faces.search"] == 1
    assert sandbox.stats.billable_searches == 0


async def test_server_error_after_retries(retrying_client: NinePicClient, sandbox: Sandbox) -> None:
    sandbox.add_fault("faces.get", Fault(status=500), times=10)

    with pytest.raises(ServerError):
        await retrying_client.faces.get(DEMO_EVENT_ID, uuid.uuid4())


# -- Bad input never reaches the network -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"event_id": 0}, ValueError, "event_id must be a positive integer"),
        ({"event_id": "456"}, TypeError, "event_id must be an int"),
        ({"page": 0}, ValueError, "page must be a positive integer"),
        ({"page_size": 101}, ValueError, "page_size must be between 1 and 100"),
        ({"request_id": "not-a-uuid"}, ValueError, "request_id must be a UUID"),
        ({"selfie": b""}, ValueError, "selfie is empty"),
        ({"selfie": b"GIF89a\x00\x00"}, ValueError, "neither JPEG nor PNG"),
        ({"selfie": b"\xff\xd8\xff" + bytes(6 * 1024 * 1024)}, ValueError, "over the limit"),
        ({"selfie": "/nonexistent/selfie.jpg"}, ValueError, "selfie file not found"),
        ({"selfie": io.StringIO("text")}, TypeError, "text mode"),
        ({"selfie": 12345}, TypeError, "selfie must be a path"),
    ],
)
async def test_bad_search_input_is_rejected_before_network(
    client: NinePicClient,
    sandbox: Sandbox,
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    arguments: dict[str, object] = {"event_id": DEMO_EVENT_ID, "selfie": RUNNER, **kwargs}

    with pytest.raises(error, match=message):
        await client.faces.search(**arguments)  # type: ignore[arg-type]

    assert sandbox.stats.total_requests == 0


async def test_selfie_path_to_directory_is_rejected(
    client: NinePicClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="directory"):
        await client.faces.search(DEMO_EVENT_ID, tmp_path)

    assert sandbox.stats.total_requests == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"request_id": "../../details"}, ValueError),
        ({"page_size": 0}, ValueError),
        ({"start_page": -1}, ValueError),
        ({"max_pages": 0}, ValueError),
    ],
)
async def test_bad_iteration_input_is_rejected_before_network(
    client: NinePicClient, sandbox: Sandbox, kwargs: dict[str, object], error: type[Exception]
) -> None:
    arguments: dict[str, object] = {"request_id": uuid.uuid4(), **kwargs}

    with pytest.raises(error):
        async for _ in client.faces.iter_pages(DEMO_EVENT_ID, **arguments):  # type: ignore[arg-type]
            pass

    assert sandbox.stats.total_requests == 0


# -- Timeouts and cancellation ---------------------------------------------------------------------


async def test_slow_response_raises_timeout_error(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(delay=2.0))

    async with NinePicClient(
        api_key=sandbox.api_key,
        org_id=sandbox.org_id,
        base_url=sandbox.base_url,
        timeout=Timeout(total=0.2),
        max_retries=0,
    ) as impatient:
        with pytest.raises(APITimeoutError) as caught:
            await impatient.events.ping(DEMO_EVENT_ID)

    assert isinstance(caught.value, TimeoutError)
    assert sandbox.stats.requests["events.ping"] == 1


async def test_timeout_is_retried(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(delay=2.0))

    async with NinePicClient(
        api_key=sandbox.api_key,
        org_id=sandbox.org_id,
        base_url=sandbox.base_url,
        timeout=Timeout(total=0.2),
        retry_policy=FAST_RETRIES,
    ) as patient:
        ping = await patient.events.ping(DEMO_EVENT_ID)

    assert ping.status == "ok"
    assert sandbox.stats.requests["events.ping"] == 2


async def test_cancelled_search_propagates_and_client_stays_usable(
    client: NinePicClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("faces.search", Fault(delay=2.0))
    task = asyncio.create_task(client.faces.search(DEMO_EVENT_ID, RUNNER))
    for _ in range(500):  # Up to 5 s for the upload to reach the server.
        if sandbox.stats.requests["faces.search"]:
            break
        await asyncio.sleep(0.01)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)  # Lets the loop finish closing the retry loop's async generator.
    # The sandbox's own connection handlers run in this loop too; the client left none.
    leftovers = [
        other
        for other in asyncio.all_tasks()
        if other is not asyncio.current_task() and "RequestHandler" not in repr(other)
    ]

    page = await client.faces.search(DEMO_EVENT_ID, RUNNER)
    assert leftovers == []
    assert page.pagination.total == SAMPLE_MATCHES["runner.jpg"]
