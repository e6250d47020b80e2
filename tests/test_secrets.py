"""The API key never appears in a repr, an error, a log line, the cache or the CLI's output."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
import pytest
import redis.asyncio as redis_asyncio

from nine_pic_async import (
    MemoryCache,
    NinePicClient,
    NinePicError,
    RetryPolicy,
    Timeout,
    redis_cache,
)
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Fault, Sandbox
from tests.servers import ServerProcess, free_port

SECRET = "sk-live-SECRET-4f1c9a77"


@pytest.fixture
async def secret_sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(api_key=SECRET) as server:
        yield server


def texts_of(exc: BaseException) -> list[str]:
    """Return every text an error tracker could record of `exc` and the errors behind it."""
    texts: list[str] = []
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        texts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    return texts


def test_client_repr_hides_the_key() -> None:
    client = NinePicClient(SECRET, 903, base_url="http://127.0.0.1:9")

    assert SECRET not in repr(client)
    assert SECRET not in str(client)
    assert SECRET not in repr(client.with_options(max_retries=0))
    assert SECRET not in repr(vars(client))


async def test_errors_never_hold_the_key(secret_sandbox: Sandbox) -> None:
    sandbox = secret_sandbox
    errors: list[NinePicError] = []
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": "0"}))
    sandbox.add_fault("events.details", Fault(status=500, body=b"<html>oops</html>"))
    sandbox.add_fault("faces.search", Fault(drop="after"))
    sandbox.add_fault("events.ping", Fault(delay=2))
    calls: list[Callable[[NinePicClient], Awaitable[object]]] = [
        lambda c: c.events.ping(DEMO_EVENT_ID),
        lambda c: c.events.details(DEMO_EVENT_ID),
        lambda c: c.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"]),
        lambda c: c.events.ping(DEMO_EVENT_ID),
        lambda c: c.faces.get(DEMO_EVENT_ID, uuid.uuid4()),
        lambda c: c.faces.search(457, SAMPLE_SELFIES["runner.jpg"]),
    ]

    async with NinePicClient(
        SECRET, 903, base_url=sandbox.base_url, max_retries=0, timeout=Timeout(total=0.3)
    ) as client:
        for call in calls:
            with pytest.raises(NinePicError) as caught:
                await call(client)
            errors.append(caught.value)

    assert len(errors) == len(calls)
    for error in errors:
        assert all(SECRET not in text for text in texts_of(error)), type(error).__name__


async def test_debug_logs_never_hold_the_key(
    secret_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_sandbox.add_fault("events.ping", Fault(status=503), times=2)

    async with NinePicClient(
        SECRET,
        903,
        base_url=secret_sandbox.base_url,
        retry_policy=RetryPolicy(max_retries=3, initial_delay=0.001),
    ) as client:
        await client.events.ping(DEMO_EVENT_ID)
        page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id)

    lines = [record.getMessage() for record in caplog.records]
    assert any("retrying after ServerError" in line for line in lines)
    assert all(SECRET not in line for line in lines)


async def test_memory_cache_never_holds_the_key(secret_sandbox: Sandbox) -> None:
    cache = MemoryCache()

    async with NinePicClient(SECRET, 903, base_url=secret_sandbox.base_url, cache=cache) as client:
        page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id)
        await client.events.details(DEMO_EVENT_ID)

    keys = cache.keys_with_prefix("")
    values = [msgspec.msgpack.encode(cache.get_nowait(key)) for key in keys]
    assert len(keys) == 4
    assert all(SECRET not in key for key in keys)
    assert all(SECRET.encode() not in value for value in values)


async def test_redis_cache_never_holds_the_key(
    secret_sandbox: Sandbox, redis_server: ServerProcess
) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    namespace = f"secrets-{uuid.uuid4().hex}"
    cache = redis_cache(url, namespace=namespace)

    async with NinePicClient(SECRET, 903, base_url=secret_sandbox.base_url, cache=cache) as client:
        page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])
        await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id)
    await cache.close()

    raw = redis_asyncio.from_url(url)
    keys = await raw.keys(f"{namespace}:*")
    values = [await raw.get(key) for key in keys]
    await raw.aclose()
    assert len(keys) >= 3
    assert all(SECRET.encode() not in key for key in keys)
    assert all(value is not None and SECRET.encode() not in value for value in values)


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nine_pic_async", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


async def test_cli_output_never_holds_the_key() -> None:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nine_pic_async",
        "sandbox",
        "--port",
        str(port),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stderr is not None
        await asyncio.wait_for(server.stderr.readline(), timeout=30)
        base = ["--base-url", f"http://127.0.0.1:{port}", "--org-id", "903"]
        selfie = str(SAMPLE_SELFIES["runner.jpg"])
        good = await asyncio.to_thread(
            run_cli, "-v", "search", "456", selfie, "--all", "--api-key", "sandbox-key", *base
        )
        wrong = await asyncio.to_thread(
            run_cli, "-v", "search", "456", selfie, "--api-key", SECRET, *base
        )
    finally:
        server.terminate()
        await server.wait()

    assert good.returncode == 0
    assert "sandbox-key" not in good.stdout + good.stderr
    assert "GET /api/v1/ext/903/event/456/faces/" in good.stderr
    assert wrong.returncode == 1
    assert "403" in wrong.stderr
    assert SECRET not in wrong.stdout + wrong.stderr
