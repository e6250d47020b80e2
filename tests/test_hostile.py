"""Hostile responses and awkward input: each ends in a documented error, never a crash or hang."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiocache import SimpleMemoryCache
from aiocache.serializers import JsonSerializer
from aiohttp import web

from nine_pic_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ImageItem,
    ImagePage,
    NinePicClient,
    Pagination,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
    Timeout,
    memcached_cache,
)
from nine_pic_async import _protocol as protocol
from nine_pic_async._pagination import iterate_pages
from nine_pic_async.resources.downloads import check_link, url_for_log
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Fault, Sandbox
from tests.servers import ServerProcess, serve

NESTED_JSON = b'{"x":' + b"[" * 2000 + b"]" * 2000 + b"}"
FAST_RETRIES = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.01)


def client_for(sandbox: Sandbox, **options: object) -> NinePicClient:
    return NinePicClient(
        sandbox.api_key,
        sandbox.org_id,
        base_url=sandbox.base_url,
        **options,  # type: ignore[arg-type]
    )


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


# -- Bodies ----------------------------------------------------------------------------------------


def test_deeply_nested_success_body_is_validation_error() -> None:
    # Python 3.11 hits msgspec's recursion limit here; 3.13 reads deeper and finds the body
    # incomplete. Either way the result is a ResponseValidationError, never RecursionError.
    with pytest.raises(ResponseValidationError):
        protocol.decode_success(protocol.PING_DECODER, NESTED_JSON, status=200, path="/ping")


async def test_deeply_nested_error_body_is_retried_server_error(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(status=502, body=NESTED_JSON), times=5)

    async with client_for(sandbox, retry_policy=FAST_RETRIES) as client:
        with pytest.raises(ServerError) as caught:
            await client.events.ping(DEMO_EVENT_ID)

    assert caught.value.status == 502
    assert sandbox.stats.requests["events.ping"] == 3


def test_retry_after_with_huge_year_is_ignored() -> None:
    value = "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"

    assert protocol.parse_retry_after(value) is None


@pytest.fixture
async def garbage_server() -> AsyncIterator[str]:
    """Yield the base URL of a server that sends a malformed response to every request."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HELLO\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_malformed_response_error_never_holds_the_key(garbage_server: str) -> None:
    secret = "secret-key-0123456789"
    async with NinePicClient(secret, 903, base_url=garbage_server, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.events.ping(DEMO_EVENT_ID)

    chain = exception_chain(caught.value)
    assert all(secret not in repr(exc) for exc in chain)
    assert all(secret not in str(exc) for exc in chain)
    assert all(secret not in repr(vars(exc)) for exc in chain)


# -- The session -----------------------------------------------------------------------------------


async def test_aclose_while_waiting_for_a_slot_raises_closed_error(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.details", Fault(delay=0.3))
    client = client_for(sandbox, max_concurrency=1, cache=None)
    first = asyncio.create_task(client.events.details(DEMO_EVENT_ID))
    second = asyncio.create_task(client.events.details(DEMO_EVENT_ID))
    await asyncio.sleep(0.1)

    await client.aclose()
    results = await asyncio.gather(first, second, return_exceptions=True)

    assert isinstance(results[1], ClientClosedError)


async def test_borrowed_session_without_timeout_still_times_out(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.ping", Fault(delay=3.0))

    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session,
        client_for(sandbox, session=session, timeout=Timeout(total=0.3), max_retries=0) as client,
    ):
        with pytest.raises(APITimeoutError):
            await asyncio.wait_for(client.events.ping(DEMO_EVENT_ID), timeout=5)


async def test_failed_exchange_is_logged(
    garbage_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nine_pic_async")

    async with NinePicClient("k", 903, base_url=garbage_server, max_retries=0) as client:
        with pytest.raises(APIConnectionError):
            await client.events.ping(DEMO_EVENT_ID)

    lines = [record.getMessage() for record in caplog.records]
    assert any("GET /api/v1/ext/903/event/456/ping failed after" in line for line in lines)


# -- Selfies ---------------------------------------------------------------------------------------


async def test_large_selfie_uploads_without_warning(sandbox: Sandbox) -> None:
    selfie = b"\xff\xd8\xff\xe0" + bytes(1_200_000)

    async with client_for(sandbox) as client:
        page = await client.faces.search(DEMO_EVENT_ID, selfie)

    assert page.pagination.total > 0
    assert sandbox.stats.billable_searches == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
async def test_fifo_selfie_is_rejected_without_blocking(sandbox: Sandbox, tmp_path: Path) -> None:
    fifo = tmp_path / "selfie.jpg"
    os.mkfifo(fifo)

    async with client_for(sandbox) as client:
        with pytest.raises(ValueError, match="not a regular file"):
            await asyncio.wait_for(client.faces.search(DEMO_EVENT_ID, fifo), timeout=5)

    assert sandbox.stats.total_requests == 0


# -- request_id ----------------------------------------------------------------------------------


async def test_failed_search_error_carries_its_request_id(sandbox: Sandbox) -> None:
    sandbox.add_fault("faces.search", Fault(drop="after"))

    async with client_for(sandbox, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        request_id = caught.value.request_id
        assert request_id is not None
        page = await client.faces.search(
            DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"], request_id=request_id
        )

    assert page.request_id == request_id
    assert sandbox.stats.requests["faces.search"] == 2
    assert sandbox.stats.billable_searches == 1


@pytest.fixture
async def forgetful_server() -> AsyncIterator[tuple[str, list[str]]]:
    """Yield a server that ignores the client's request_id, and the paths it was asked for."""
    own_id = "0b0b0b0b-0000-4000-8000-000000000000"
    paths: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        paths.append(request.path)
        data = {
            "request_id": own_id,
            "images": [{"image_id": "a", "img_url": "http://127.0.0.1/a.jpg"}],
            "pagination": {
                "total": 1,
                "currentPage": 1,
                "totalPages": 1,
                "hasNextPage": False,
                "hasPreviousPage": False,
                "page_size": 32,
            },
        }
        body = {"responseType": "success", "message": "ok", "data": data}
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with serve(app) as base_url:
        yield base_url, paths


async def test_server_that_ignores_request_id_is_read_from_cache(
    forgetful_server: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, paths = forgetful_server

    async with NinePicClient("k", 903, base_url=base_url) as client:
        page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        again = await client.faces.get(DEMO_EVENT_ID, page.request_id)

    assert page.request_id == "0b0b0b0b-0000-4000-8000-000000000000"
    assert again == page
    assert len(paths) == 1
    assert any("may be billed again" in record.getMessage() for record in caplog.records)


# -- Configuration -------------------------------------------------------------------------------


async def test_aiocache_backend_with_json_serializer_caches(sandbox: Sandbox) -> None:
    cache = SimpleMemoryCache(serializer=JsonSerializer())

    async with client_for(sandbox, cache=cache) as client:
        for _ in range(3):
            await client.events.details(DEMO_EVENT_ID)

    assert sandbox.stats.requests["events.details"] == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc", "http://127.0.0.1:99999"])
def test_invalid_port_in_base_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="invalid port"):
        NinePicClient("k", 1, base_url=url)


@pytest.mark.parametrize("key", ["key\x0b", "key\n", "clé", " "])
def test_api_key_with_unprintable_characters_is_rejected(key: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII without surrounding spaces"):
        NinePicClient(key, 1)


def test_request_id_error_default_is_none() -> None:
    error = ServerError("x", status=500, method="GET", path="/x")

    assert error.request_id is None
    assert str(uuid.UUID(int=0)) not in str(error)


# -- Findings of a second hostile review -----------------------------------------------------------


@pytest.fixture
async def gzip_bomb() -> AsyncIterator[str]:
    """Yield a server whose 200 body is about 50 KB of gzip that inflates to 50 MB."""
    bomb = gzip.compress(b" " * 50_000_000, compresslevel=9)

    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with serve(app) as base_url:
        yield base_url


async def test_compressed_body_is_capped_after_decompression(gzip_bomb: str) -> None:
    async with NinePicClient(
        "k", 903, base_url=gzip_bomb, max_response_bytes=1_000_000, max_retries=0
    ) as client:
        with pytest.raises(ResponseValidationError, match="max_response_bytes"):
            await client.events.ping(DEMO_EVENT_ID)


async def test_deeply_nested_cache_value_is_a_miss(sandbox: Sandbox) -> None:
    cache = SimpleMemoryCache()
    # msgpack: a one-key map {"z": ...} holding arrays of one element, 5,000 deep.
    nested = b"\x81\xa1z" + b"\x91" * 5_000 + b"\x90"
    await cache.set(f"nine_pic:v1:903:{DEMO_EVENT_ID}:details", nested)

    async with client_for(sandbox, cache=cache) as client:
        details = await client.events.details(DEMO_EVENT_ID)

    assert details.event_id == DEMO_EVENT_ID


@pytest.mark.parametrize("ttl", ["x", -1, 0, float("inf"), float("nan")])
async def test_search_ttl_is_checked_before_upload(sandbox: Sandbox, ttl: object) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(ValueError, match="ttl must be"):
            await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"], ttl=ttl)  # type: ignore[arg-type]

    assert sandbox.stats.total_requests == 0


async def test_aclose_during_rate_limit_wait_raises_closed_error(sandbox: Sandbox) -> None:
    client = client_for(sandbox, max_requests_per_second=5, cache=None)
    calls = [asyncio.ensure_future(client.events.ping(DEMO_EVENT_ID)) for _ in range(12)]
    await asyncio.sleep(0.05)

    await client.aclose()
    results = await asyncio.gather(*calls, return_exceptions=True)

    errors = [result for result in results if isinstance(result, BaseException)]
    assert errors
    assert all(isinstance(error, ClientClosedError) for error in errors)


async def test_huge_error_message_is_shortened(sandbox: Sandbox) -> None:
    body = msgspec.json.encode({"responseType": "error", "message": "M" * 4_000_000, "data": None})
    sandbox.add_fault("events.ping", Fault(status=400, body=body))

    async with client_for(sandbox) as client:
        with pytest.raises(APIStatusError) as caught:
            await client.events.ping(DEMO_EVENT_ID)

    assert len(str(caught.value)) < 1200
    assert "4000000 characters" in str(caught.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Timeout(read=float("nan")),
        lambda: Timeout(total=float("inf")),
        lambda: RetryPolicy(initial_delay=float("nan")),
        lambda: RetryPolicy(max_delay=float("inf")),
        lambda: NinePicClient("k", 1, max_requests_per_second=float("inf")),
    ],
    ids=["nan-read", "inf-total", "nan-delay", "inf-delay", "inf-rate"],
)
def test_non_finite_settings_are_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"finite|positive"):
        build()


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, float("inf")), (0, 1e300), (datetime(1900, 1, 1, tzinfo=timezone.utc), 10)],
    ids=["inf", "huge", "before-1970"],
)
async def test_timeline_window_out_of_range_is_rejected(
    sandbox: Sandbox, start: object, end: object
) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(ValueError, match="epoch seconds"):
            await client.timeline.images(DEMO_EVENT_ID, start, end)  # type: ignore[arg-type]

    assert sandbox.stats.total_requests == 0


@pytest.mark.parametrize("path", ["/etc/passwd/selfie.jpg", "/tmp/" + "a" * 5000])
async def test_unreadable_selfie_path_is_a_value_error(sandbox: Sandbox, path: str) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(ValueError, match="selfie file"):
            await client.faces.search(DEMO_EVENT_ID, path)

    assert sandbox.stats.total_requests == 0


def test_usage_errors_hide_the_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    from nine_pic_async.cli import main

    with pytest.raises(SystemExit):
        main(["demo", "--api-key", "sk-live-SHOULD-NOT-SHOW"])

    assert "sk-live-SHOULD-NOT-SHOW" not in capsys.readouterr().err


# -- Findings of a third review ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/x.jpg",
        "https://169.254.169.254/x.jpg",
        "http://internal.example:8080/x.jpg",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.jpg",
        "not a url",
        "https://[::ffff:169.254.169.254]/x",
        "https://2852039166/x",
        "https://0xa9fea9fe/x",
        "https://0251.0376.0251.0376/x",
        "https://169.254.169.254./x",
        "https://metadata.google.internal/x",
        "https://[fe80::1]/x",
    ],
)
def test_unsafe_download_links_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="rejected"):
        check_link(url)


@pytest.mark.parametrize(
    "url", ["https://storage.example/x.jpg?sig=1", "http://127.0.0.1:8080/x", "http://[::1]/x"]
)
def test_ordinary_download_links_are_accepted(url: str) -> None:
    check_link(url)


def test_logged_ipv6_link_keeps_brackets() -> None:
    assert url_for_log("http://[::1]:80/p?q=1") == "http://[::1]:80/p"


def test_logged_link_drops_user_info_and_query() -> None:
    shown = url_for_log("https://AKIA:secret@storage.example/a/b.jpg?X-Signature=abc")

    assert shown == "https://storage.example/a/b.jpg"


async def test_download_over_max_file_bytes_fails_alone(tmp_path: Path) -> None:
    async with Sandbox(original_size=300_000) as sandbox, client_for(sandbox) as client:
        report = await client.originals.download(
            DEMO_EVENT_ID, tmp_path, bib="777", max_file_bytes=100_000
        )

    assert report.downloaded == []
    assert "max_file_bytes" in report.failed[0].reason
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="needs O_NOFOLLOW")
async def test_download_never_writes_through_a_planted_link(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    async with client_for(sandbox) as client:
        listing = await client.originals.links(DEMO_EVENT_ID, bib="777")
        name = listing.presigned_urls[0].filename
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        (folder / f".{digest}.part").symlink_to(victim)

        report = await client.originals.download(DEMO_EVENT_ID, folder, bib="777")

    assert victim.read_text() == "keep me"
    assert len(report.downloaded) == 1
    assert not report.downloaded[0].is_symlink()


async def test_endless_walk_raises_at_the_safety_cap() -> None:
    pagination = Pagination(
        total=10**9,
        current_page=1,
        total_pages=10**9,
        has_next_page=True,
        has_previous_page=False,
        page_size=1,
    )

    async def fetch_page(number: int, fresh: bool) -> ImagePage:
        image = ImageItem(image_id=str(number), img_url="http://127.0.0.1/x.jpg")
        info = msgspec.structs.replace(pagination, current_page=number)
        return ImagePage(images=(image,), pagination=info)

    walk = iterate_pages(fetch_page, lambda page: page.images, concurrency=4)
    with pytest.raises(ResponseValidationError, match="did not end after 10000 pages"):
        async for _page in walk:
            pass


@pytest.mark.parametrize(
    "build",
    [
        lambda: NinePicClient("k", 1, cache_ttls={"details": float("inf")}),
        lambda: NinePicClient("k", 1, cache_ttls={"details": float("nan")}),
        lambda: NinePicClient("k", 1, cache_lock_lease=float("inf")),
        lambda: NinePicClient("k", 1, deadline=10**400),
        lambda: NinePicClient("k", 1, timeout=10**400),
        lambda: Timeout(read=10**400),
    ],
    ids=["ttl-inf", "ttl-nan", "lease-inf", "deadline-huge", "timeout-huge", "read-huge"],
)
def test_out_of_range_settings_are_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="seconds"):
        build()


async def test_huge_integer_ttl_is_rejected_before_upload(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(ValueError, match="ttl must be"):
            await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"], ttl=10**400)

    assert sandbox.stats.total_requests == 0


@pytest.mark.parametrize(
    "argv", [["--api", "sk-HIDDEN-1", "search"], ["--api-k=sk-HIDDEN-1", "demo", "x"]]
)
def test_abbreviated_key_option_is_redacted(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    from nine_pic_async.cli import main

    with pytest.raises(SystemExit):
        main(argv)

    assert "sk-HIDDEN-1" not in capsys.readouterr().err


async def test_memcached_keeps_a_ttl_over_thirty_days(
    sandbox: Sandbox, memcached_server: ServerProcess
) -> None:
    cache = memcached_cache("127.0.0.1", memcached_server.port, namespace=uuid.uuid4().hex)

    async with client_for(sandbox, cache=cache) as client:
        for _ in range(3):
            await client.events.details(DEMO_EVENT_ID, ttl=40 * 24 * 3600)
    await cache.close()

    assert sandbox.stats.requests["events.details"] == 1
