"""Opt-in pytest fixtures for testing code that uses nine_pic_async, offline.

Enable them in a `conftest.py` (they need pytest-asyncio)::

    pytest_plugins = ["nine_pic_async.testing.pytest_plugin"]

`ninepic_sandbox` is a fresh `Sandbox` on a free loopback port for each test,
and `ninepic_client` a `NinePicClient` already pointed at it. `ninepic_env`
sets `NINEPIC_API_KEY`, `NINEPIC_ORG_ID` and `NINEPIC_BASE_URL` to the
sandbox's values for one test, for code that creates its own client from the
environment. Seed data with `ninepic_sandbox.add_event()`, `add_selfie()` and
`add_search()`, faults with `add_fault()` or `set_chaos()`, and assert on
`ninepic_sandbox.stats`.

To start the sandbox with other settings, define a fixture of the same name in
your `conftest.py`; `ninepic_client` and `ninepic_env` then use yours::

    @pytest_asyncio.fixture
    async def ninepic_sandbox():
        async with Sandbox(chaos=Chaos(error_rate=0.1), seed=7) as sandbox:
            yield sandbox
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .._client import NinePicClient
from ._server import Sandbox

__all__ = ["ninepic_client", "ninepic_env", "ninepic_sandbox"]


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


@pytest.fixture
def ninepic_env(ninepic_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Point the `NINEPIC_*` environment variables at `ninepic_sandbox` for one test.

    Returns the sandbox. `monkeypatch` restores the variables after the test.
    """
    monkeypatch.setenv("NINEPIC_API_KEY", ninepic_sandbox.api_key)
    monkeypatch.setenv("NINEPIC_ORG_ID", str(ninepic_sandbox.org_id))
    monkeypatch.setenv("NINEPIC_BASE_URL", ninepic_sandbox.base_url)
    return ninepic_sandbox
