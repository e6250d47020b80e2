"""The README's Python examples run as written, against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Sandbox

README = Path(__file__).parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def block_containing(text: str) -> str:
    matches = [block for block in python_blocks() if text in block]
    assert len(matches) == 1, f"expected one README example containing {text!r}"
    return matches[0]


def test_every_example_compiles() -> None:
    blocks = python_blocks()

    assert len(blocks) >= 4
    for block in blocks:
        compile(block, "README.md", "exec")


async def test_sandbox_example_runs() -> None:
    namespace: dict[str, Any] = {}
    exec(block_containing("async def test_my_search_flow"), namespace)

    await namespace["test_my_search_flow"]()


async def test_aiohttp_example_serves_results(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NINEPIC_API_KEY", sandbox.api_key)
    monkeypatch.setenv("NINEPIC_ORG_ID", str(sandbox.org_id))
    monkeypatch.setenv("NINEPIC_BASE_URL", sandbox.base_url)
    async with NinePicClient() as client:
        page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["cyclist.png"])
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(block_containing("app.cleanup_ctx.append"), namespace)
    app: web.Application = namespace["app"]

    async with TestClient(TestServer(app)) as http:
        found = await http.get(f"/events/{DEMO_EVENT_ID}/results/{page.request_id}")
        missing = await http.get(
            f"/events/{DEMO_EVENT_ID}/results/00000000-0000-4000-8000-000000000000"
        )
        body = await found.json()

    assert found.status == 200
    assert len(body["images"]) == 12
    assert missing.status == 404
