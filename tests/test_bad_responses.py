"""Bodies a proxy, a broken server or an attacker may send: each gets a typed error, quickly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import web

from nine_pic_async import (
    APITimeoutError,
    NinePicClient,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
    Timeout,
)
from tests.servers import serve

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class HostileServer:
    """A loopback server whose ping endpoint returns whatever `handler` returns."""

    base_url: str = ""
    handler: Handler | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self.handler is not None
        return await self.handler(request)


@pytest.fixture
async def hostile() -> AsyncIterator[HostileServer]:
    server = HostileServer()
    app = web.Application()
    app.router.add_get("/api/v1/ext/903/event/456/ping", server.handle)
    async with serve(app, shutdown_timeout=0.1) as base_url:
        server.base_url = base_url
        yield server


def client_of(server: HostileServer, **options: object) -> NinePicClient:
    return NinePicClient(
        "key",
        903,
        base_url=server.base_url,
        retry_policy=RetryPolicy(max_retries=1, initial_delay=0.001),
        **options,  # type: ignore[arg-type]
    )


def answer(body: bytes, *, status: int = 200, content_type: str = "application/json") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type=content_type)

    return handler


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Gateway says hello</body></html>", "text/html"),
        (b"plain text, not JSON", "text/plain"),
        (b"", "application/json"),
        (
            b'{"responseType": "success", "message": "pong", "data": {"status": "ok"',
            "application/json",
        ),
        (b"\xff\xfe\x00{\x00}\x80\x81", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (
            b'{"responseType":"success","message":"m","data":{"status":"ok","org_id":"x",'
            b'"event_id":456}}',
            "application/json",
        ),
        (b'{"responseType":"success","message":"m","data":null}', "application/json"),
        (b"null", "application/json"),
        (
            b'{"responseType":"success","data":{"status":null,"org_id":903,"event_id":456}}',
            "application/json",
        ),
    ],
    ids=[
        "html",
        "text",
        "empty",
        "truncated",
        "not-utf8",
        "array",
        "wrong-type",
        "null-data",
        "null-body",
        "null-field",
    ],
)
async def test_bad_success_body_is_validation_error(
    hostile: HostileServer, body: bytes, content_type: str
) -> None:
    hostile.handler = answer(body, content_type=content_type)

    async with client_of(hostile) as client:
        with pytest.raises(ResponseValidationError) as caught:
            await client.events.ping(456)

    assert caught.value.status == 200
    assert caught.value.body_excerpt == body[:200].decode("utf-8", errors="replace")


@pytest.mark.parametrize(
    "body", [b"<html>502 Bad Gateway</html>", b"upstream connect error", b"", b"\x00\xff"]
)
async def test_bad_error_body_keeps_status_error(hostile: HostileServer, body: bytes) -> None:
    hostile.handler = answer(body, status=502, content_type="text/html")

    async with client_of(hostile) as client:
        with pytest.raises(ServerError) as caught:
            await client.events.ping(456)

    assert caught.value.status == 502
    assert len(str(caught.value)) < 400


async def test_enormous_declared_body_is_refused_unread(hostile: HostileServer) -> None:
    hostile.handler = answer(b"[" + b"0," * 3_000_000 + b"0]")

    async with client_of(hostile, max_response_bytes=1_000_000) as client:
        with pytest.raises(ResponseValidationError, match="max_response_bytes of 1000000"):
            await client.events.ping(456)


async def test_enormous_chunked_body_is_cut_at_the_cap(hostile: HostileServer) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(200):
            await response.write(b"x" * 65536)
        return response

    hostile.handler = endless

    async with client_of(hostile, max_response_bytes=500_000) as client:
        with pytest.raises(ResponseValidationError) as caught:
            await client.events.ping(456)

    assert caught.value.body_excerpt.startswith("xxxx")


def trickle(first: bytes, *, pause: float) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(first)
        await asyncio.sleep(pause)
        return response

    return handler


async def test_body_that_stops_midway_trips_the_read_timeout(hostile: HostileServer) -> None:
    hostile.handler = trickle(b'{"responseType": "success", ', pause=5)

    async with client_of(hostile, timeout=Timeout(read=0.2), max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await asyncio.wait_for(client.events.ping(456), timeout=4)


async def test_slow_trickle_trips_the_read_timeout(hostile: HostileServer) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" ")
            await asyncio.sleep(0.5)
        return response

    hostile.handler = slow

    async with client_of(hostile, timeout=Timeout(read=0.2), max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await asyncio.wait_for(client.events.ping(456), timeout=4)


async def test_fast_trickle_trips_the_total_timeout(hostile: HostileServer) -> None:
    async def fast(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b" ")
            await asyncio.sleep(0.05)
        return response

    hostile.handler = fast

    async with client_of(hostile, timeout=Timeout(read=0.2, total=0.5), max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await asyncio.wait_for(client.events.ping(456), timeout=4)
