"""The guides in docs/: their Python compiles, their links resolve, and their tests pass."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from nine_pic_async.testing import SAMPLE_SELFIES, Sandbox
from tests.test_examples import example_env, run_example, succeeded

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


def test_every_page_is_listed() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")

    for page in PAGES:
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_python_blocks_compile(page: Path) -> None:
    for block in python_blocks(page):
        compile(block, str(page), "exec")


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda page: page.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


async def test_testing_page_tests_pass(tmp_path: Path) -> None:
    blocks = python_blocks(ROOT / "docs" / "testing.md")
    tests = [block for block in blocks if "async def test_" in block]
    (tmp_path / "conftest.py").write_text(blocks[0], encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n",
        encoding="utf-8",
    )
    for number, block in enumerate(tests):
        (tmp_path / f"test_page_{number}.py").write_text(block, encoding="utf-8")

    run = succeeded(
        await run_example(None, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider")
    )

    assert len(tests) == 2
    assert "2 passed" in run.stdout


async def test_quickstart_page_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    (block,) = [
        block for block in python_blocks(ROOT / "docs" / "quickstart.md") if "asyncio.run" in block
    ]
    script = tmp_path / "first_search.py"
    script.write_text(block, encoding="utf-8")
    env = example_env(sandbox)
    env["NINEPIC_BASE_URL"] = sandbox.base_url

    run = succeeded(await run_example(sandbox, str(script), env=env))

    assert "Mumbai Marathon 2026 selfie search on: True" in run.stdout
    assert " 87 matches" in run.stdout
    assert len(run.stdout.splitlines()) == 2 + 87


async def test_fastapi_service_page_runs(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import aiohttp
    import uvicorn

    (block,) = [
        block
        for block in python_blocks(ROOT / "docs" / "web-services.md")
        if "app = create_app(os.environ" in block
    ]
    monkeypatch.setenv("NINEPIC_API_KEY", sandbox.api_key)
    monkeypatch.setenv("NINEPIC_ORG_ID", str(sandbox.org_id))
    monkeypatch.setenv("NINEPIC_BASE_URL", sandbox.base_url)
    namespace: dict[str, Any] = {"__name__": "service"}
    exec(block, namespace)
    server = uvicorn.Server(
        uvicorn.Config(namespace["app"], host="127.0.0.1", port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        form = aiohttp.FormData()
        form.add_field("selfie", SAMPLE_SELFIES["runner.jpg"].read_bytes(), filename="me.jpg")
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.post("/events/456/searches", data=form) as created:
                body = await created.json()
            async with http.get(
                f"/events/456/searches/{body['request_id']}", params={"page": "3"}
            ) as third:
                third_body = await third.json()
            disabled_form = aiohttp.FormData()
            disabled_form.add_field("selfie", b"\xff\xd8\xff selfie", filename="me.jpg")
            async with http.post("/events/457/searches", data=disabled_form) as disabled:
                disabled_status = disabled.status
    finally:
        server.should_exit = True
        await serving

    assert created.status == 201
    assert body["total"] == 87
    assert third.status == 200
    assert len(third_body["images"]) == 87 - 2 * 32
    assert disabled_status == 403
    assert sandbox.stats.billable_searches == 1
