"""Fixtures shared by the test suite: a sandbox on loopback and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nine_pic_async import NinePicClient
from nine_pic_async.testing import Sandbox


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
