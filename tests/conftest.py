"""Fixtures shared by the test suite: a sandbox on loopback and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from nine_pic_async import NinePicClient
from nine_pic_async.testing import Sandbox
from tests.servers import ServerProcess, memcached_process, redis_process


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as server:
        yield server


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[NinePicClient]:
    async with NinePicClient(
        api_key=sandbox.api_key, org_id=sandbox.org_id, base_url=sandbox.base_url
    ) as instance:
        yield instance


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ServerProcess]:
    server = redis_process()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def memcached_server() -> Iterator[ServerProcess]:
    server = memcached_process()
    server.start()
    yield server
    server.stop()
