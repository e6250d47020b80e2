"""NinePicClient's lifecycle, configuration and the events resource."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from nine_pic_async import (
    ClientClosedError,
    EventDetails,
    MemoryCache,
    NinePicClient,
    Timeout,
)
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Sandbox


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINEPIC_API_KEY", raising=False)

    with pytest.raises(ValueError, match="NINEPIC_API_KEY"):
        NinePicClient(org_id=903)


def test_missing_org_id_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINEPIC_ORG_ID", raising=False)

    with pytest.raises(ValueError, match="NINEPIC_ORG_ID"):
        NinePicClient(api_key="k")


def test_sandbox_key_at_real_api_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINEPIC_BASE_URL", raising=False)

    with pytest.raises(ValueError, match="sandbox's key") as raised:
        NinePicClient("sandbox-key", 903)

    assert "base_url=" in str(raised.value)


def test_settings_fall_back_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NINEPIC_API_KEY", "env-key")
    monkeypatch.setenv("NINEPIC_ORG_ID", "77")
    monkeypatch.setenv("NINEPIC_BASE_URL", "http://127.0.0.1:9/")

    client = NinePicClient()

    assert client.org_id == 77
    assert client.base_url == "http://127.0.0.1:9"


def test_non_numeric_org_id_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NINEPIC_ORG_ID", "abc")

    with pytest.raises(ValueError, match="NINEPIC_ORG_ID must be a positive integer"):
        NinePicClient(api_key="k")


def test_default_base_url_is_the_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINEPIC_BASE_URL", raising=False)

    client = NinePicClient(api_key="k", org_id=1)

    assert client.base_url == "https://api.9pic.ai"


def test_plain_http_to_remote_host_is_rejected() -> None:
    with pytest.raises(ValueError, match="clear text"):
        NinePicClient(api_key="k", org_id=1, base_url="http://api.9pic.ai")


def test_repr_hides_the_api_key() -> None:
    client = NinePicClient(api_key="secret-key-123", org_id=903, base_url="http://127.0.0.1:1")

    assert "secret-key-123" not in repr(client)
    assert "903" in repr(client)


def test_cache_of_wrong_type_is_rejected() -> None:
    with pytest.raises(TypeError, match="aiocache backend"):
        NinePicClient(api_key="k", org_id=1, cache={})


def test_timeout_number_sets_total() -> None:
    client = NinePicClient(api_key="k", org_id=1, timeout=5)

    assert client.timeout == Timeout(total=5.0)


@pytest.mark.parametrize("value", [0, -1.0])
def test_non_positive_timeout_is_rejected(value: float) -> None:
    with pytest.raises(ValueError, match=r"Timeout\.total"):
        Timeout(total=value)


async def test_aclose_is_idempotent_and_final(sandbox: Sandbox) -> None:
    client = NinePicClient(
        api_key=sandbox.api_key, org_id=sandbox.org_id, base_url=sandbox.base_url
    )
    await client.events.ping(DEMO_EVENT_ID)

    await client.aclose()
    await client.aclose()

    assert client.closed is True
    with pytest.raises(ClientClosedError, match="closed"):
        await client.events.ping(DEMO_EVENT_ID)


async def test_closed_client_cannot_enter_context(sandbox: Sandbox) -> None:
    client = NinePicClient(
        api_key=sandbox.api_key, org_id=sandbox.org_id, base_url=sandbox.base_url
    )
    await client.aclose()

    with pytest.raises(ClientClosedError):
        async with client:
            pass


async def test_borrowed_session_stays_open(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as session:
        async with NinePicClient(
            api_key=sandbox.api_key,
            org_id=sandbox.org_id,
            base_url=sandbox.base_url,
            session=session,
        ) as client:
            ping = await client.events.ping(DEMO_EVENT_ID)

        assert ping.event_id == DEMO_EVENT_ID
        assert session.closed is False


async def test_client_unused_needs_no_session(sandbox: Sandbox) -> None:
    async with NinePicClient(api_key="k", org_id=1, base_url=sandbox.base_url) as client:
        assert client.closed is False

    assert sandbox.stats.total_requests == 0


async def test_event_details_are_cached(client: NinePicClient, sandbox: Sandbox) -> None:
    first = await client.events.details(DEMO_EVENT_ID)
    second = await client.events.details(DEMO_EVENT_ID)

    assert isinstance(first, EventDetails)
    assert first.selfie_search is True
    assert second == first
    assert sandbox.stats.requests["events.details"] == 1


async def test_event_details_ttl_zero_reads_again(client: NinePicClient, sandbox: Sandbox) -> None:
    client.cache_ttls["details"] = 0.000_001
    await client.events.details(DEMO_EVENT_ID)
    await client.events.details(DEMO_EVENT_ID)

    assert sandbox.stats.requests["events.details"] == 2


async def test_ping_is_never_cached(client: NinePicClient, sandbox: Sandbox) -> None:
    await client.events.ping(DEMO_EVENT_ID)
    await client.events.ping(DEMO_EVENT_ID)

    assert sandbox.stats.requests["events.ping"] == 2


async def test_legacy_flat_bodies_decode() -> None:
    async with (
        Sandbox(legacy_flat=True) as server,
        NinePicClient(
            api_key=server.api_key, org_id=server.org_id, base_url=server.base_url
        ) as client,
    ):
        details = await client.events.details(DEMO_EVENT_ID)
        ping = await client.events.ping(DEMO_EVENT_ID)

    assert details.event_id == DEMO_EVENT_ID
    assert details.selfie_search is True
    assert ping.org_id == server.org_id


async def test_shared_cache_serves_a_second_client(sandbox: Sandbox) -> None:
    cache = MemoryCache()
    settings = {
        "api_key": sandbox.api_key,
        "org_id": sandbox.org_id,
        "base_url": sandbox.base_url,
        "cache": cache,
    }
    async with NinePicClient(**settings) as first:  # type: ignore[arg-type]
        page = await first.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        await first.faces.fetch_all(DEMO_EVENT_ID, page.request_id)
    requests_before = sandbox.stats.total_requests

    async with NinePicClient(**settings) as second:  # type: ignore[arg-type]
        images = await second.faces.fetch_all(DEMO_EVENT_ID, page.request_id)

    assert len(images) == page.pagination.total
    assert sandbox.stats.total_requests == requests_before


async def test_request_log_line_has_no_key_or_query(
    client: NinePicClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nine_pic_async")

    await client.events.details(DEMO_EVENT_ID)

    lines = [record.getMessage() for record in caplog.records]
    assert any("GET /api/v1/ext/903/event/456/details 200" in line for line in lines)
    assert all(sandbox.api_key not in line for line in lines)
