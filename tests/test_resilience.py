"""Retry limits, deadlines, cancellation, concurrency and rate limits, and event loops."""

from __future__ import annotations

import asyncio
import email.utils
import subprocess
import sys
import time
from collections.abc import Iterator

import aiohttp
import pytest

from nine_pic_async import (
    APITimeoutError,
    NinePicClient,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeout,
)
from nine_pic_async._transport import RateLimiter
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Fault, Sandbox
from tests.servers import free_port

FAST_RETRIES = RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.01)


def client_for(sandbox: Sandbox, **options: object) -> NinePicClient:
    return NinePicClient(
        sandbox.api_key,
        sandbox.org_id,
        base_url=sandbox.base_url,
        **options,  # type: ignore[arg-type]
    )


async def wait_for_request(sandbox: Sandbox, route: str) -> None:
    for _ in range(500):  # Up to 5 s for the request to reach the server.
        if sandbox.stats.requests[route]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {route} request reached the sandbox")


# -- Per-call settings ---------------------------------------------------------------------------


async def test_view_without_retries_raises_at_once(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(status=503), times=2)

    async with client_for(sandbox, retry_policy=FAST_RETRIES) as client:
        with pytest.raises(ServerError):
            await client.with_options(max_retries=0).events.ping(DEMO_EVENT_ID)
        ping = await client.events.ping(DEMO_EVENT_ID)

    assert ping.status == "ok"
    assert sandbox.stats.requests["events.ping"] == 3


async def test_view_shares_cache_and_close(sandbox: Sandbox) -> None:
    client = client_for(sandbox)
    view = client.with_options(timeout=5, deadline=10)

    first = await client.events.details(DEMO_EVENT_ID)
    second = await view.events.details(DEMO_EVENT_ID)
    await view.aclose()

    assert second == first
    assert view.timeout == Timeout(total=5.0)
    assert client.timeout == Timeout()
    assert sandbox.stats.requests["events.details"] == 1
    assert client.closed is True


async def test_deadline_cuts_a_slow_request(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(delay=3.0))

    async with client_for(sandbox, deadline=0.3, retry_policy=FAST_RETRIES) as client:
        with pytest.raises(APITimeoutError):
            await client.events.ping(DEMO_EVENT_ID)

    assert sandbox.stats.requests["events.ping"] == 1


async def test_deadline_skips_a_wait_that_would_pass_it(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": "30"}))

    async with client_for(sandbox, deadline=2, retry_policy=FAST_RETRIES) as client:
        with pytest.raises(RateLimitError) as caught:
            await asyncio.wait_for(client.events.ping(DEMO_EVENT_ID), timeout=10)

    assert caught.value.retry_after == 30.0
    assert sandbox.stats.requests["events.ping"] == 1


@pytest.mark.parametrize("deadline", [0, -1, True])
def test_invalid_deadline_is_rejected(deadline: float) -> None:
    with pytest.raises(ValueError, match="deadline must be"):
        NinePicClient("k", 1, deadline=deadline)


# -- Retry-After -------------------------------------------------------------------------------


async def test_retry_after_http_date_is_honoured(sandbox: Sandbox) -> None:
    soon = email.utils.formatdate(time.time() + 1, usegmt=True)
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": soon}))

    async with client_for(sandbox, retry_policy=FAST_RETRIES) as client:
        ping = await client.events.ping(DEMO_EVENT_ID)

    assert ping.status == "ok"
    assert sandbox.stats.requests["events.ping"] == 2


async def test_retry_after_in_the_past_falls_back_to_backoff(sandbox: Sandbox) -> None:
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": past}), times=2)

    async with client_for(sandbox, retry_policy=FAST_RETRIES) as client:
        ping = await client.events.ping(DEMO_EVENT_ID)

    assert ping.status == "ok"
    assert sandbox.stats.requests["events.ping"] == 3


# -- Cancellation --------------------------------------------------------------------------------


async def test_cancel_during_backoff_ends_the_call(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": "30"}))
    client = client_for(sandbox, retry_policy=RetryPolicy(max_retries=1))
    task = asyncio.create_task(client.events.ping(DEMO_EVENT_ID))
    await wait_for_request(sandbox, "events.ping")
    await asyncio.sleep(0.05)  # Let the client read the 429 and start waiting.

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
    await client.aclose()

    # The sandbox's own connection handlers run in this loop too; the client left none.
    leftovers = [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and "RequestHandler" not in repr(task)
    ]
    assert sandbox.stats.requests["events.ping"] == 1
    assert leftovers == []


async def test_cancelled_waiter_leaves_the_shared_request_running(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.details", Fault(delay=0.3))
    async with client_for(sandbox) as client:
        first = asyncio.create_task(client.events.details(DEMO_EVENT_ID))
        await wait_for_request(sandbox, "events.details")
        second = asyncio.create_task(client.events.details(DEMO_EVENT_ID))
        await asyncio.sleep(0.01)

        second.cancel()
        details = await first

    assert second.cancelled() is True
    assert details.event_id == DEMO_EVENT_ID
    assert sandbox.stats.requests["events.details"] == 1


# -- Limits --------------------------------------------------------------------------------------


async def test_waiting_for_a_slot_is_not_a_timeout(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(delay=0.4), times=2)

    async with client_for(sandbox, max_concurrency=1, timeout=Timeout(total=0.6)) as client:
        pings = await asyncio.gather(*(client.events.ping(DEMO_EVENT_ID) for _ in range(3)))

    assert [ping.status for ping in pings] == ["ok", "ok", "ok"]
    assert sandbox.stats.requests["events.ping"] == 3


def test_rate_limiter_spaces_requests_after_the_burst() -> None:
    now = [100.0]
    limiter = RateLimiter(10, burst=2, clock=lambda: now[0])

    waits = [limiter.reserve() for _ in range(4)]
    now[0] += 1.0
    after_a_second = limiter.reserve()

    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert after_a_second == 0.0


@pytest.mark.parametrize("rate", [0, -1, True])
def test_invalid_rate_limit_is_rejected(rate: float) -> None:
    with pytest.raises(ValueError, match="max_requests_per_second"):
        NinePicClient("k", 1, max_requests_per_second=rate)


async def test_rate_limited_client_completes_every_request(sandbox: Sandbox) -> None:
    async with client_for(sandbox, max_requests_per_second=50) as client:
        pings = await asyncio.gather(*(client.events.ping(DEMO_EVENT_ID) for _ in range(60)))

    assert len(pings) == 60
    assert sandbox.stats.requests["events.ping"] == 60


# -- Event loops ---------------------------------------------------------------------------------


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    """Run `ninepic sandbox` in its own process; yield its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nine_pic_async", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:

        async def ready() -> None:
            for _ in range(300):
                try:
                    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.02)
                    continue
                writer.close()
                await writer.wait_closed()
                return
            raise AssertionError("the sandbox process did not start")

        asyncio.run(ready())
        yield base_url
    finally:
        process.kill()
        process.wait()


def test_client_survives_two_asyncio_runs(sandbox_process: str) -> None:
    client = NinePicClient("sandbox-key", 903, base_url=sandbox_process)
    selfie = SAMPLE_SELFIES["cyclist.png"]

    page = asyncio.run(client.faces.search(DEMO_EVENT_ID, selfie))
    again = asyncio.run(client.faces.get(DEMO_EVENT_ID, page.request_id, page=1, page_size=5))
    asyncio.run(client.aclose())

    assert len(again.images) == 5
    assert client.closed is True


async def test_client_in_use_by_another_loop_is_refused(client: NinePicClient) -> None:
    await client.events.ping(DEMO_EVENT_ID)

    def ping_from_another_loop() -> None:
        asyncio.run(client.events.ping(DEMO_EVENT_ID))

    with pytest.raises(RuntimeError, match="another running event loop"):
        await asyncio.to_thread(ping_from_another_loop)


async def test_borrowed_session_pool_wait_is_not_a_timeout(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(delay=0.4), times=2)
    connector = aiohttp.TCPConnector(limit=1)

    async with (
        aiohttp.ClientSession(connector=connector) as session,
        client_for(sandbox, session=session, timeout=Timeout(total=0.6)) as client,
    ):
        pings = await asyncio.gather(*(client.events.ping(DEMO_EVENT_ID) for _ in range(3)))

    assert [ping.status for ping in pings] == ["ok", "ok", "ok"]
    assert client.max_concurrency == 1


async def test_retry_after_on_503_is_honoured(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(status=503, headers={"Retry-After": "0.2"}))

    async with client_for(sandbox, retry_policy=FAST_RETRIES) as client:
        ping = await client.events.ping(DEMO_EVENT_ID)

    assert ping.status == "ok"
    assert sandbox.stats.requests["events.ping"] == 2
