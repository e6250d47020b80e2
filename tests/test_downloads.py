"""Downloading originals to disk: complete files only, resume, expiry, hostile names."""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from nine_pic_async import NinePicClient, NotFoundError
from nine_pic_async.resources.downloads import safe_target
from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    SAMPLE_BIBS,
    Chaos,
    Fault,
    Sandbox,
    original_bytes,
)
from tests.servers import serve


def links_response(links: list[dict[str, str]]) -> web.Response:
    """Return a one-page Download Originals response listing `links` (url and filename)."""
    data = {
        "presigned_urls": links,
        "failed_urls": [],
        "pagination": {
            "total": len(links),
            "currentPage": 1,
            "totalPages": 1,
            "hasNextPage": False,
            "hasPreviousPage": False,
            "page_size": 60,
        },
    }
    body = {"responseType": "success", "message": "ok", "data": data}
    return web.Response(body=msgspec.json.encode(body), content_type="application/json")


def client_for(sandbox: Sandbox) -> NinePicClient:
    return NinePicClient(sandbox.api_key, sandbox.org_id, base_url=sandbox.base_url)


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_download_writes_every_original(sandbox: Sandbox, tmp_path: Path) -> None:
    progress: list[tuple[int, int, int]] = []

    async with client_for(sandbox) as client:
        report = await client.originals.download(
            DEMO_EVENT_ID, tmp_path, bib="A123", on_progress=lambda *p: progress.append(p)
        )

    assert len(report.downloaded) + len(report.failed) == SAMPLE_BIBS["A123"]
    assert report.skipped == []
    assert files_in(tmp_path) == sorted(path.name for path in report.downloaded)
    for path in report.downloaded:
        image_id = path.stem
        assert path.read_bytes() == original_bytes(DEMO_EVENT_ID, image_id, sandbox.original_size)
    assert report.bytes_written == sandbox.original_size * len(report.downloaded)
    assert progress[-1][:2] == (len(report.downloaded), len(report.downloaded))


async def test_second_run_skips_complete_files(sandbox: Sandbox, tmp_path: Path) -> None:
    async with client_for(sandbox) as client:
        first = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="A123")
        downloads_before = sandbox.stats.requests["media.original"]
        second = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="A123")

    assert len(second.skipped) == len(first.downloaded)
    assert second.downloaded == []
    assert sandbox.stats.requests["media.original"] == downloads_before


async def test_interrupted_downloads_leave_no_partial_file(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.set_chaos(Chaos(truncate_rate=1.0), route="media.original")

    async with client_for(sandbox) as client:
        broken = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="A123")
        leftovers = files_in(tmp_path)
        sandbox.set_chaos(None)
        resumed = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="A123")

    assert broken.downloaded == []
    assert leftovers == []
    assert len(resumed.downloaded) == SAMPLE_BIBS["A123"] - len(resumed.failed)


async def test_expired_link_is_asked_for_again(tmp_path: Path) -> None:
    async with Sandbox(link_lifetime=1) as sandbox, client_for(sandbox) as client:
        sandbox.add_fault("media.original", Fault(delay=2.5))
        report = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="777")

    assert len(report.downloaded) == 1
    assert sandbox.stats.requests["originals.links"] == 2


async def test_presigned_query_is_not_logged(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async with client_for(sandbox) as client:
        await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="777")

    lines = [record.getMessage() for record in caplog.records]
    assert any("/media/originals/" in line for line in lines)
    assert all("signature=" not in line and "expires=" not in line for line in lines)


@pytest.mark.parametrize(
    "name",
    ["../evil.jpg", "/etc/passwd", "a/b.jpg", "..", ".", "", ".hidden", "x\x00.jpg", "c\\d.jpg"],
)
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="unsafe file name"):
        safe_target(tmp_path, name)


@pytest.fixture
async def hostile_links() -> AsyncIterator[str]:
    """Yield the base URL of a server whose links carry names that try to leave the folder."""

    async def links(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        names = ["../escape.jpg", "/tmp/absolute.jpg", "nested/dir.jpg", "fine.jpg"]
        return links_response([{"url": f"{base}/file", "filename": name} for name in names])

    async def file(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")

    app = web.Application()
    app.router.add_post("/api/v1/ext/903/event/456/original-photos", links)
    app.router.add_get("/file", file)
    async with serve(app) as base_url:
        yield base_url


async def test_hostile_names_stay_inside_the_folder(hostile_links: str, tmp_path: Path) -> None:
    folder = tmp_path / "photos"

    async with NinePicClient("key", 903, base_url=hostile_links) as client:
        report = await client.originals.download(DEMO_EVENT_ID, folder, bib="1")

    assert [path.name for path in report.downloaded] == ["fine.jpg"]
    assert sorted(failure.name for failure in report.failed) == [
        "../escape.jpg",
        "/tmp/absolute.jpg",
        "nested/dir.jpg",
    ]
    assert files_in(tmp_path) == ["photos"]
    assert files_in(folder) == ["fine.jpg"]


async def test_dest_dir_that_is_a_file_is_rejected(sandbox: Sandbox, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")

    async with client_for(sandbox) as client:
        with pytest.raises(ValueError, match="not a folder"):
            await client.originals.download(DEMO_EVENT_ID, not_a_folder, bib="777")

    assert sandbox.stats.total_requests == 0


@pytest.fixture
async def odd_links() -> AsyncIterator[tuple[str, list[tuple[str, bytes, dict[str, str]]]]]:
    """Yield a server whose links are set by the test: (filename, body, extra headers)."""
    entries: list[tuple[str, bytes, dict[str, str]]] = []

    async def links(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        return links_response(
            [
                {"url": f"{base}/file/{index}", "filename": name}
                for index, (name, _body, _headers) in enumerate(entries)
            ]
        )

    async def file(request: web.Request) -> web.Response:
        _name, body, headers = entries[int(request.match_info["index"])]
        return web.Response(body=body, headers={"Content-Type": "image/jpeg", **headers})

    app = web.Application()
    app.router.add_post("/api/v1/ext/903/event/456/original-photos", links)
    app.router.add_get("/file/{index}", file)
    async with serve(app) as base_url:
        yield base_url, entries


JPEG = b"\xff\xd8\xff" + b"0" * 1000


async def test_odd_names_fail_alone(
    odd_links: tuple[str, list[tuple[str, bytes, dict[str, str]]]], tmp_path: Path
) -> None:
    base_url, entries = odd_links
    entries += [
        ("a" * 300 + ".jpg", JPEG, {}),
        ("dup.jpg", JPEG, {}),
        ("dup.jpg", b"\xff\xd8\xffother", {}),
        ("folder.jpg", JPEG, {}),
        ("zipped.jpg", gzip.compress(JPEG), {"Content-Encoding": "gzip"}),
        ("fine.jpg", JPEG, {}),
        ("b" * 250 + ".jpg", JPEG, {}),
    ]
    (tmp_path / "folder.jpg").mkdir()
    stale = hashlib.sha256(b"fine.jpg").hexdigest()[:16]
    (tmp_path / f".{stale}.part").write_bytes(b"stale half file")

    async with NinePicClient("key", 903, base_url=base_url) as client:
        report = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="1")

    reasons = {failure.name[:10]: failure.reason for failure in report.failed}
    assert sorted(path.name for path in report.downloaded) == [
        "b" * 250 + ".jpg",
        "dup.jpg",
        "fine.jpg",
        "zipped.jpg",
    ]
    assert "File name too long" in reasons["a" * 10]
    assert reasons["dup.jpg"] == "duplicate file name"
    assert reasons["folder.jpg"] == "a folder is in the way"
    assert (tmp_path / "zipped.jpg").read_bytes() == JPEG
    assert (tmp_path / "dup.jpg").read_bytes() == JPEG
    assert sorted(files_in(tmp_path)) == [
        "b" * 250 + ".jpg",
        "dup.jpg",
        "fine.jpg",
        "folder.jpg",
        "zipped.jpg",
    ]


async def test_failed_relisting_is_reported_not_raised(tmp_path: Path) -> None:
    async with (
        Sandbox(link_lifetime=1) as sandbox,
        NinePicClient(
            sandbox.api_key, sandbox.org_id, base_url=sandbox.base_url, max_retries=0
        ) as client,
    ):
        sandbox.add_fault("media.original", Fault(delay=2.5))
        sandbox.add_fault("originals.links", Fault(delay=0))  # The first listing passes.
        sandbox.add_fault("originals.links", Fault(status=503), times=3)
        report = await client.originals.download(DEMO_EVENT_ID, tmp_path, bib="777")

    assert report.downloaded == []
    assert len(report.failed) == 1
    assert "503" in report.failed[0].reason
    assert files_in(tmp_path) == []


async def test_failed_listing_creates_no_folder(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "never"

    async with client_for(sandbox) as client:
        with pytest.raises(NotFoundError):
            await client.originals.download(
                DEMO_EVENT_ID, folder, selfie="00000000-0000-4000-8000-000000000000"
            )

    assert not folder.exists()


async def test_links_sharing_a_name_are_kept_apart() -> None:
    # Two files named alike, the first one again with a newer signature, and a link whose
    # URL no URL parser accepts.
    paths = ["/a/IMG_0001.JPG?sig=1", "/b/IMG_0001.JPG?sig=2", "/a/IMG_0001.JPG?sig=3"]
    urls = [f"https://storage.example{path}" for path in paths] + ["https://[broken/IMG.JPG"]

    async def links(request: web.Request) -> web.Response:
        return links_response([{"url": url, "filename": "IMG_0001.JPG"} for url in urls])

    app = web.Application()
    app.router.add_post("/api/v1/ext/903/event/456/original-photos", links)
    async with serve(app) as base_url, NinePicClient("key", 903, base_url=base_url) as client:
        found = await client.originals.fetch_all(456, bib="777")

    assert [link.url for link in found] == [
        "https://storage.example/a/IMG_0001.JPG?sig=1",
        "https://storage.example/b/IMG_0001.JPG?sig=2",
        "https://[broken/IMG.JPG",
    ]
