"""Opt-in pytest fixtures for testing code that uses nine_pic_async, offline.

Enable them in a `conftest.py` (they need pytest-asyncio)::

    pytest_plugins = ["nine_pic_async.testing.pytest_plugin"]

`ninepic_sandbox` is a fresh `Sandbox` on a free loopback port for each test,
and `ninepic_client` a `NinePicClient` already pointed at it. Seed faults with
`ninepic_sandbox.add_fault(...)` or `set_chaos(...)`, and assert on
`ninepic_sandbox.stats`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .._client import NinePicClient
from ._server import Sandbox

__all__ = ["ninepic_client", "ninepic_sandbox"]


@pytest_asyncio.fixture
async def ninepic_sandbox() -> AsyncIterator[Sandbox]:
    """Yield a sandbox server on a free loopback port, and close it after the test."""
    async with Sandbox() as sandbox:
        yield sandbox


@pytest_asyncio.fixture
async def ninepic_client(ninepic_sandbox: Sandbox) -> AsyncIterator[NinePicClient]:
    """Yield a client of `ninepic_sandbox` with its API key and org id, then close it."""
    async with NinePicClient(
        ninepic_sandbox.api_key, ninepic_sandbox.org_id, base_url=ninepic_sandbox.base_url
    ) as client:
        yield client
