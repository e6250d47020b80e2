"""Every program in examples/ runs against a sandbox, so the examples cannot drift from the SDK.

The scripts run as subprocesses, the way a reader runs them. The two web services are
imported and served on loopback inside the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    DISABLED_EVENT_ID,
    SAMPLE_BIBS,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    Fault,
    Sandbox,
)
from tests.servers import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = [
    "quickstart.py",
    "aiohttp_app.py",
    "fastapi_app.py",
    "chat_bot.py",
    "bulk_export.py",
    "cache_workers.py",
    "errors_retries.py",
    "logging_setup.py",
]
RUN_TIMEOUT = 60.0


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def example_env(sandbox: Sandbox | None) -> dict[str, str]:
    """Return the environment of an example: no NINEPIC_* settings but the sandbox's."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("NINEPIC_")}
    env["PYTHONPATH"] = str(ROOT)
    if sandbox is not None:
        env["NINEPIC_API_KEY"] = sandbox.api_key
        env["NINEPIC_ORG_ID"] = str(sandbox.org_id)
    return env


async def run_example(
    sandbox: Sandbox | None, *arguments: str, stdin: str = "", env: dict[str, str] | None = None
) -> Run:
    """Run a script of examples/ to its end, while this loop keeps serving the sandbox."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *arguments,
        cwd=ROOT,
        env=env if env is not None else example_env(sandbox),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(
            process.communicate(stdin.encode()), timeout=RUN_TIMEOUT
        )
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Run(process.returncode or 0, stdout.decode(), stderr.decode())


def succeeded(run: Run) -> Run:
    assert run.returncode == 0, f"exit status {run.returncode}, stderr:\n{run.stderr}"
    return run


@pytest.mark.parametrize("script", SCRIPTS)
async def test_example_needs_base_url(script: str) -> None:
    env = example_env(None)
    env["NINEPIC_API_KEY"] = "sandbox-key"
    env["NINEPIC_ORG_ID"] = "903"

    # bulk_export.py would first complain about its required options.
    required = ["--gallery", "--out", "unused.jsonl"] if script == "bulk_export.py" else []

    run = await run_example(None, f"examples/{script}", *required, env=env)

    assert run.returncode == 2
    assert "the base URL is missing" in run.stderr


async def test_quickstart_runs(sandbox: Sandbox) -> None:
    run = succeeded(await run_example(sandbox, "examples/quickstart.py", sandbox.base_url))

    assert f"{SAMPLE_MATCHES['runner.jpg']} matching photos" in run.stdout
    assert f"{SAMPLE_MATCHES['runner.jpg']} images in all" in run.stdout
    assert sandbox.stats.billable_searches == 1


async def test_quickstart_reads_env(sandbox: Sandbox) -> None:
    env = example_env(sandbox)
    env["NINEPIC_BASE_URL"] = sandbox.base_url
    selfie = str(SAMPLE_SELFIES["cyclist.png"])

    run = succeeded(
        await run_example(sandbox, "examples/quickstart.py", "--selfie", selfie, env=env)
    )

    assert f"{SAMPLE_MATCHES['cyclist.png']} matching photos" in run.stdout


async def test_chat_bot_answers(sandbox: Sandbox) -> None:
    messages = "\n".join(
        [
            "1 /bib 1234",
            f"2 /selfie {SAMPLE_SELFIES['cyclist.png']}",
            "1 /more",
            "2 /more",
            "2 /more",
            "2 /more",
            "3 /hello",
            "4 /selfie no-such-file.jpg",
        ]
    )

    run = succeeded(
        await run_example(sandbox, "examples/chat_bot.py", sandbox.base_url, stdin=messages)
    )
    replies: dict[str, list[str]] = {}
    for line in run.stdout.splitlines():
        chat, _, reply = line.partition(" ")
        replies.setdefault(chat, []).append(reply)

    assert [reply.split(":")[0] for reply in replies["[1]"]] == [
        "Photos 1/24 (120 in all)",
        "Photos 2/24 (120 in all)",
    ]
    assert [reply.split(":")[0] for reply in replies["[2]"]] == [
        "Photos 1/3 (12 in all)",
        "Photos 2/3 (12 in all)",
        "Photos 3/3 (12 in all)",
        "No more photos.",
    ]
    assert replies["[3]"] == ["Send /bib NUMBER, /selfie PATH, or /more after a result."]
    assert replies["[4]"][0].startswith("Sorry, that did not work: selfie file not found")
    assert sandbox.stats.billable_searches == 1


async def test_bulk_export_with_originals(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "photos.jsonl"
    originals = tmp_path / "originals"
    selfie = str(SAMPLE_SELFIES["cyclist.png"])
    arguments = ["examples/bulk_export.py", sandbox.base_url, "--selfie", selfie]

    run = succeeded(
        await run_example(sandbox, *arguments, "--out", str(out), "--originals", str(originals))
    )
    again = succeeded(
        await run_example(sandbox, *arguments, "--out", str(out), "--originals", str(originals))
    )
    lines = out.read_text().splitlines()

    assert len(lines) == SAMPLE_MATCHES["cyclist.png"]
    assert {"image_id", "img_url"} <= set(json.loads(lines[0]))
    assert len(list(originals.iterdir())) == SAMPLE_MATCHES["cyclist.png"]
    assert "originals: 12 downloaded, 0 already there, 0 failed" in run.stdout
    assert "originals: 0 downloaded, 12 already there, 0 failed" in again.stdout


@pytest.mark.parametrize(
    ("selector", "expected"), [("--bib", SAMPLE_BIBS["1234"]), ("--gallery", 3000)]
)
async def test_bulk_export_streams_pages(
    sandbox: Sandbox, tmp_path: Path, selector: str, expected: int
) -> None:
    out = tmp_path / "photos.jsonl"
    arguments = [selector, "1234"] if selector == "--bib" else [selector]

    run = succeeded(
        await run_example(
            sandbox, "examples/bulk_export.py", sandbox.base_url, *arguments, "--out", str(out)
        )
    )

    assert f"{expected} images written" in run.stdout
    assert len(out.read_text().splitlines()) == expected


async def test_cache_workers_memory(sandbox: Sandbox) -> None:
    run = succeeded(
        await run_example(sandbox, "examples/cache_workers.py", sandbox.base_url, "--workers", "2")
    )

    # 87 images in pages of 10: each worker fetches all 9 pages, having no shared cache.
    assert run.stdout.count("87 images, 9 pages fetched, 0 cache hits") == 2
    assert sandbox.stats.requests["faces.get"] == 2 * 9


async def test_cache_workers_share_redis(sandbox: Sandbox, redis_server: ServerProcess) -> None:
    redis_url = f"redis://127.0.0.1:{redis_server.port}/0"

    run = succeeded(
        await run_example(
            sandbox,
            "examples/cache_workers.py",
            sandbox.base_url,
            "--cache",
            "redis",
            "--redis",
            redis_url,
            "--workers",
            "3",
        )
    )

    assert run.stdout.count("87 images") == 3
    assert "0 cache errors" in run.stdout
    # Without the shared cache, the workers would send 3 x 9 page reads. With it, page 1
    # comes from the search, and each other page is fetched once, unless a slow cache
    # operation timed out and made a worker fetch for itself.
    assert sandbox.stats.requests["faces.get"] < 3 * 9


async def test_errors_example_recovers(sandbox: Sandbox) -> None:
    # Every attempt of the first search (one and four retries) is recorded, then dropped.
    sandbox.add_fault("faces.search", Fault(drop="after"), times=5)

    run = succeeded(await run_example(sandbox, "examples/errors_retries.py", sandbox.base_url))

    assert "search failed after its retries" in run.stdout
    assert "403, not retried: Selfie search is disabled" in run.stdout
    assert "404, not retried" in run.stdout
    assert "rejected before sending: selfie is neither JPEG nor PNG" in run.stdout
    assert "details in under 2 s: Mumbai Marathon 2026" in run.stdout
    assert run.stderr.count("retrying after APIConnectionError") == 4
    assert sandbox.stats.billable_searches == 1


async def test_logging_example_output(sandbox: Sandbox) -> None:
    run = succeeded(await run_example(sandbox, "examples/logging_setup.py", sandbox.base_url))
    lines = run.stderr.splitlines()

    details = [
        line for line in lines if f"GET /api/v1/ext/903/event/{DEMO_EVENT_ID}/details" in line
    ]
    assert len(details) == 1
    assert "INFO nine_pic_async: " in details[0]
    assert any("/bibs/A123 200" in line for line in lines)
    assert sandbox.api_key not in run.stderr


async def test_testing_example_passes() -> None:
    run = succeeded(
        await run_example(None, "-m", "pytest", "examples/testing", "-q", "-p", "no:cacheprovider")
    )

    assert "5 passed" in run.stdout


@pytest.fixture
async def aiohttp_example(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient[aiohttp.web.Request, aiohttp.web.Application]]:
    from examples.aiohttp_app import create_app

    monkeypatch.setenv("NINEPIC_API_KEY", sandbox.api_key)
    monkeypatch.setenv("NINEPIC_ORG_ID", str(sandbox.org_id))
    async with TestClient(TestServer(create_app(sandbox.base_url), host="127.0.0.1")) as client:
        yield client


def selfie_form(data: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("selfie", data, filename="me.jpg", content_type="image/jpeg")
    return form


async def test_aiohttp_example_searches_and_pages(
    aiohttp_example: TestClient[aiohttp.web.Request, aiohttp.web.Application],
) -> None:
    runner = SAMPLE_SELFIES["runner.jpg"].read_bytes()

    created = await aiohttp_example.post(
        f"/events/{DEMO_EVENT_ID}/searches", data=selfie_form(runner)
    )
    body = await created.json()
    last = await aiohttp_example.get(
        f"/events/{DEMO_EVENT_ID}/searches/{body['request_id']}", params={"page": "4"}
    )
    last_body = await last.json()

    assert created.status == 201
    assert body["total"] == 87
    assert len(body["images"]) == 24
    assert last.status == 200
    assert last_body["total_pages"] == 4
    assert len(last_body["images"]) == 87 - 3 * 24


async def test_aiohttp_example_maps_errors(
    sandbox: Sandbox,
    aiohttp_example: TestClient[aiohttp.web.Request, aiohttp.web.Application],
) -> None:
    runner = SAMPLE_SELFIES["runner.jpg"].read_bytes()
    unknown = "00000000-0000-4000-8000-000000000000"

    missing = await aiohttp_example.get(f"/events/{DEMO_EVENT_ID}/searches/{unknown}")
    disabled = await aiohttp_example.post(
        f"/events/{DISABLED_EVENT_ID}/searches", data=selfie_form(runner)
    )
    not_image = await aiohttp_example.post(
        f"/events/{DEMO_EVENT_ID}/searches", data=selfie_form(b"not an image")
    )
    sandbox.add_fault("faces.search", Fault(status=503, headers={"Retry-After": "0"}), times=3)
    unavailable = await aiohttp_example.post(
        f"/events/{DEMO_EVENT_ID}/searches", data=selfie_form(runner)
    )

    assert missing.status == 404
    assert disabled.status == 403
    assert not_image.status == 400
    assert unavailable.status == 503
    assert sandbox.stats.requests["faces.search"] == 3


@pytest.fixture
async def fastapi_example(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """Serve the FastAPI example with uvicorn on a free loopback port; yield its URL."""
    import uvicorn

    from examples.fastapi_app import create_app

    monkeypatch.setenv("NINEPIC_API_KEY", sandbox.api_key)
    monkeypatch.setenv("NINEPIC_ORG_ID", str(sandbox.org_id))
    app = create_app(sandbox.base_url)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
    assert app.state.ninepic.closed  # the lifespan closed the client


async def test_fastapi_example_searches_and_pages(fastapi_example: str) -> None:
    runner = SAMPLE_SELFIES["runner.jpg"].read_bytes()
    unknown = "00000000-0000-4000-8000-000000000000"

    async with aiohttp.ClientSession(fastapi_example) as http:
        async with http.post(
            f"/events/{DEMO_EVENT_ID}/searches", data=selfie_form(runner)
        ) as created:
            body = await created.json()
        async with http.get(
            f"/events/{DEMO_EVENT_ID}/searches/{body['request_id']}", params={"page": "2"}
        ) as second:
            second_body = await second.json()
        async with http.get(f"/events/{DEMO_EVENT_ID}/searches/{unknown}") as missing:
            missing_status = missing.status
        async with http.post(
            f"/events/{DISABLED_EVENT_ID}/searches", data=selfie_form(runner)
        ) as disabled:
            disabled_status = disabled.status
        async with http.post(
            f"/events/{DEMO_EVENT_ID}/searches", data=selfie_form(b"not an image")
        ) as not_image:
            not_image_status = not_image.status

    assert created.status == 201
    assert body["total"] == 87
    assert second.status == 200
    assert len(second_body["images"]) == 24
    assert missing_status == 404
    assert disabled_status == 403
    assert not_image_status == 400
