"""Tests of the sandbox's media routes: presigned originals and watermarked previews.

A plain aiohttp client downloads the files. The media routes take no API key, so the
downloads use a session without one.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    Chaos,
    Fault,
    Sandbox,
    original_bytes,
    preview_bytes,
)

DEFAULT_ORIGINAL_SIZE = 256 * 1024


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as client_session:
        yield client_session


@pytest.fixture
async def keyless() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def event_url(sandbox: Sandbox, event_id: int = DEMO_EVENT_ID) -> str:
    return f"{sandbox.base_url}/api/v1/ext/{sandbox.org_id}/event/{event_id}"


async def presigned_links(
    api: aiohttp.ClientSession, sandbox: Sandbox, bib: str = "777"
) -> list[dict[str, str]]:
    """Return the presigned links of the first page of a BIB's originals."""
    url = event_url(sandbox) + "/original-photos"
    async with api.post(url, json={"method": "bib", "identifier": bib}) as response:
        assert response.status == 200
        links: list[dict[str, str]] = (await response.json())["data"]["presigned_urls"]
    return links


async def first_image(api: aiohttp.ClientSession, sandbox: Sandbox) -> dict[str, Any]:
    async with api.get(event_url(sandbox) + "/images", params={"page_size": 1}) as response:
        image: dict[str, Any] = (await response.json())["data"]["images"][0]
    return image


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    async with session.get(url) as response:
        return response.status, response.content_type, await response.read()


def with_query(url: str, **changes: str) -> str:
    """Return ``url`` with some query parameters replaced."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    encoded = "&".join(f"{name}={value}" for name, value in query.items())
    return parts._replace(query=encoded).geturl()


def image_id_of(link: dict[str, str]) -> str:
    return link["filename"].removesuffix(".jpg")


# Originals


async def test_original_matches_helper(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    [link] = await presigned_links(api, sandbox)

    async with keyless.get(link["url"]) as response:
        status = response.status
        content_type = response.content_type
        length = response.headers["Content-Length"]
        data = await response.read()

    assert status == 200
    assert content_type == "image/jpeg"
    assert length == str(DEFAULT_ORIGINAL_SIZE)
    assert data == original_bytes(DEMO_EVENT_ID, image_id_of(link))
    assert data.startswith(b"\xff\xd8\xff")
    assert data.endswith(b"\xff\xd9")


async def test_original_size_setting(keyless: aiohttp.ClientSession) -> None:
    size = 5 * 1024 * 1024 + 7
    async with (
        Sandbox(original_size=size) as sandbox,
        aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as api,
    ):
        [link] = await presigned_links(api, sandbox)
        status, _, data = await fetch(keyless, link["url"])

    expected = original_bytes(DEMO_EVENT_ID, image_id_of(link), size)
    assert status == 200
    assert len(data) == size
    assert hashlib.sha256(data).digest() == hashlib.sha256(expected).digest()


async def test_original_link_expires(keyless: aiohttp.ClientSession) -> None:
    async with (
        Sandbox(link_lifetime=0.3) as sandbox,
        aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as api,
    ):
        [link] = await presigned_links(api, sandbox)
        expires = int(parse_qs(urlsplit(link["url"]).query)["expires"][0])
        fresh_status, _, _ = await fetch(keyless, link["url"])

        await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
        status, content_type, body = await fetch(keyless, link["url"])

    assert fresh_status == 200
    assert status == 403
    assert content_type == "application/xml"
    assert b"<Code>AccessDenied</Code>" in body
    assert b"<Message>Request has expired</Message>" in body
    assert sandbox.stats.requests["media.original"] == 2


async def test_original_link_lifetime(sandbox: Sandbox, api: aiohttp.ClientSession) -> None:
    before = time.time()
    [link] = await presigned_links(api, sandbox)

    expires = int(parse_qs(urlsplit(link["url"]).query)["expires"][0])

    assert before + 3600 <= expires <= time.time() + 3601


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "0" * 64},
        {"signature": ""},
        {"expires": "9999999999"},
    ],
    ids=["wrong-signature", "empty-signature", "extended-expiry"],
)
async def test_original_bad_signature_403(
    sandbox: Sandbox,
    api: aiohttp.ClientSession,
    keyless: aiohttp.ClientSession,
    change: dict[str, str],
) -> None:
    [link] = await presigned_links(api, sandbox)

    status, content_type, body = await fetch(keyless, with_query(link["url"], **change))

    assert status == 403
    assert content_type == "application/xml"
    assert b"<Code>SignatureDoesNotMatch</Code>" in body


async def test_original_missing_query_403(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    [link] = await presigned_links(api, sandbox)
    bare_url = link["url"].split("?", 1)[0]

    status, _, body = await fetch(keyless, bare_url)

    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body


async def test_signature_bound_to_image(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    links = await presigned_links(api, sandbox, bib="A123")
    first, second = links[0], links[1]
    swapped = second["url"].split("?", 1)[0] + "?" + first["url"].split("?", 1)[1]

    status, _, body = await fetch(keyless, swapped)

    assert status == 403
    assert b"SignatureDoesNotMatch" in body


async def test_link_rejected_by_other_sandbox(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    [link] = await presigned_links(api, sandbox)

    async with Sandbox() as other:
        status, _, _ = await fetch(keyless, link["url"].replace(sandbox.base_url, other.base_url))

    assert status == 403


async def test_original_counts_and_status_fault(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    [link] = await presigned_links(api, sandbox)
    sandbox.add_fault("media.original", Fault(status=503))

    first, _, _ = await fetch(keyless, link["url"])
    second, _, data = await fetch(keyless, link["url"])

    assert first == 503
    assert second == 200
    assert len(data) == DEFAULT_ORIGINAL_SIZE
    assert sandbox.stats.requests["media.original"] == 2
    assert sandbox.stats.faults == {"error": 1}


async def test_original_truncated_by_chaos(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    [link] = await presigned_links(api, sandbox)
    sandbox.set_chaos(Chaos(truncate_rate=1.0), route="media.original")

    received = bytearray()

    async def read_into_received(response: aiohttp.ClientResponse) -> None:
        async for chunk in response.content.iter_any():
            received.extend(chunk)

    async with keyless.get(link["url"]) as response:
        status = response.status
        length = int(response.headers["Content-Length"])
        with pytest.raises(aiohttp.ClientPayloadError):
            await read_into_received(response)

    expected = original_bytes(DEMO_EVENT_ID, image_id_of(link))
    assert status == 200
    assert length == DEFAULT_ORIGINAL_SIZE
    assert 0 < len(received) < DEFAULT_ORIGINAL_SIZE
    assert bytes(received) == expected[: len(received)]
    assert sandbox.stats.faults == {"truncate": 1}


async def test_original_dropped_by_fault(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    # A raw socket, because aiohttp's client (3.14) sends a GET again after a disconnect.
    [link] = await presigned_links(api, sandbox)
    sandbox.add_fault("media.original", Fault(drop="after"))
    parts = urlsplit(link["url"])
    host, port = parts.netloc.rsplit(":", 1)
    request = (
        f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Connection: close\r\n\r\n"
    )

    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request.encode())
        await writer.drain()
        received = await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()
        await writer.wait_closed()
    status, _, data = await fetch(keyless, link["url"])

    assert received == b""
    assert status == 200
    assert data == original_bytes(DEMO_EVENT_ID, image_id_of(link))
    assert sandbox.stats.faults == {"drop_after": 1}
    assert sandbox.stats.requests["media.original"] == 2


def test_original_bytes_deterministic() -> None:
    first = original_bytes(DEMO_EVENT_ID, "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244", 200_000)
    again = original_bytes(DEMO_EVENT_ID, "A4402318-0CF4-4E1E-B8E8-AC8E8F2FC244", 200_000)
    other = original_bytes(DEMO_EVENT_ID, "f6cb3c08-2c7a-4ff7-8c1b-71b6f7d4d932", 200_000)

    assert len(first) == 200_000
    assert first == again
    assert first != other
    assert first[:4] == b"\xff\xd8\xff\xe0"
    # Each 64 KiB chunk differs, so a client that repeats one gets different bytes.
    assert first[:65536][100:] != first[65536:131072][100:]


@pytest.mark.parametrize("size", [22, 65535, 65536, 65537, 131073])
def test_original_bytes_chunk_edges(size: int) -> None:
    data = original_bytes(DEMO_EVENT_ID, "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244", size)

    assert len(data) == size
    assert data.startswith(b"\xff\xd8\xff\xe0")
    assert data.endswith(b"\xff\xd9")


def test_original_bytes_rejects_tiny_size() -> None:
    with pytest.raises(ValueError, match="at least"):
        original_bytes(DEMO_EVENT_ID, "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244", 10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"link_lifetime": 0.0},
        {"link_lifetime": -1.0},
        {"link_lifetime": float("inf")},
        {"original_size": 21},
    ],
)
def test_sandbox_rejects_media_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Sandbox(**kwargs)


# Watermarked previews


@pytest.mark.parametrize(("field", "variant"), [("img_url", "large"), ("thumbnail_url", "small")])
async def test_preview_matches_helper(
    sandbox: Sandbox,
    api: aiohttp.ClientSession,
    keyless: aiohttp.ClientSession,
    field: str,
    variant: Any,
) -> None:
    image = await first_image(api, sandbox)

    status, content_type, data = await fetch(keyless, image[field])

    assert status == 200
    assert content_type == "image/jpeg"
    assert data == preview_bytes(DEMO_EVENT_ID, image["image_id"], variant)
    assert data.startswith(b"\xff\xd8\xff")
    assert sandbox.stats.requests["media.preview"] == 1


def test_previews_smaller_than_original() -> None:
    photo_id = "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244"

    small = preview_bytes(DEMO_EVENT_ID, photo_id, "small")
    large = preview_bytes(DEMO_EVENT_ID, photo_id, "large")

    assert len(small) < len(large) < DEFAULT_ORIGINAL_SIZE


async def test_event_cover_served(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    async with api.get(f"{sandbox.base_url}/api/v1/ext/{sandbox.org_id}/events") as response:
        cover = (await response.json())["data"]["events"][0]["cover_image"]

    status, content_type, _ = await fetch(keyless, cover)

    assert status == 200
    assert content_type == "image/jpeg"


@pytest.mark.parametrize(
    "path",
    [
        "/media/456/large/not-an-image.jpg",
        "/media/999/small/a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244.jpg",
    ],
    ids=["unknown-image", "unknown-event"],
)
async def test_preview_unknown_404(
    sandbox: Sandbox, keyless: aiohttp.ClientSession, path: str
) -> None:
    status, content_type, body = await fetch(keyless, sandbox.base_url + path)

    assert status == 404
    assert content_type == "application/xml"
    assert b"<Code>NoSuchKey</Code>" in body


async def test_preview_status_fault(
    sandbox: Sandbox, api: aiohttp.ClientSession, keyless: aiohttp.ClientSession
) -> None:
    image = await first_image(api, sandbox)
    sandbox.add_fault("media.preview", Fault(status=502))

    first, _, _ = await fetch(keyless, image["thumbnail_url"])
    second, _, _ = await fetch(keyless, image["thumbnail_url"])

    assert first == 502
    assert second == 200
