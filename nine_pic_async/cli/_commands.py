"""The `ninepic` subcommands. Argument parsing and error reporting are in `__init__`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from .._client import NinePicClient
from .._models import FaceSearchPage
from ..testing import DEMO_EVENT_ID, SAMPLE_MATCHES, SAMPLE_SELFIES, Chaos, Sandbox

DEMO_SELFIE = "runner.jpg"
PROGRESS_WIDTH = 30


@asynccontextmanager
async def open_client(args: argparse.Namespace) -> AsyncIterator[NinePicClient]:
    """Open a client on the real API when a key is configured, else on an embedded sandbox."""
    api_key = args.api_key or os.environ.get("NINEPIC_API_KEY")
    if api_key:
        async with NinePicClient(api_key, args.org_id, base_url=args.base_url) as client:
            yield client
        return
    if args.base_url or args.org_id:
        raise ValueError(
            "--base-url and --org-id need an API key (--api-key or NINEPIC_API_KEY); "
            "without one, the embedded sandbox is used"
        )

    async with Sandbox() as sandbox:
        print(
            f"ninepic: no API key configured (--api-key or NINEPIC_API_KEY); using an embedded "
            f"sandbox at {sandbox.base_url} with demo event {DEMO_EVENT_ID}. It starts empty on "
            f"every run: to keep results between runs, start 'ninepic sandbox' and set "
            f"NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903 "
            f"NINEPIC_BASE_URL=http://127.0.0.1:8080",
            file=sys.stderr,
        )
        async with NinePicClient(
            sandbox.api_key, sandbox.org_id, base_url=sandbox.base_url
        ) as client:
            yield client


async def run_search(args: argparse.Namespace) -> None:
    async with open_client(args) as client:
        first = await client.faces.search(args.event_id, args.selfie, page_size=args.page_size)
        pages = [first]
        if args.all:
            pages = [
                page
                async for page in client.faces.iter_pages(
                    args.event_id, first.request_id, page_size=args.page_size
                )
            ]
    print_pages(pages, as_json=args.json)


async def run_results(args: argparse.Namespace) -> None:
    async with open_client(args) as client:
        if args.all:
            pages = [
                page
                async for page in client.faces.iter_pages(
                    args.event_id, args.request_id, page_size=args.page_size
                )
            ]
        else:
            pages = [
                await client.faces.get(
                    args.event_id, args.request_id, page=args.page, page_size=args.page_size
                )
            ]
    print_pages(pages, as_json=args.json)


async def run_download(args: argparse.Namespace) -> int:
    """Download originals with a progress line on a terminal; return 1 if any file failed."""
    show_progress = sys.stderr.isatty()

    def progress(done: int, total: int, written: int) -> None:
        if show_progress:
            filled = PROGRESS_WIDTH * done // total if total else PROGRESS_WIDTH
            bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
            print(
                f"\r[{bar}] {done}/{total} files, {written / 1e6:.1f} MB",
                end="",
                file=sys.stderr,
                flush=True,
            )

    async with open_client(args) as client:
        report = await client.originals.download(
            args.event_id,
            args.to,
            selfie=args.selfie,
            bib=args.bib,
            concurrency=args.concurrency,
            on_progress=progress,
        )
    if show_progress:
        print(file=sys.stderr)
    if args.json:
        summary = {
            "downloaded": [str(path) for path in report.downloaded],
            "skipped": [str(path) for path in report.skipped],
            "failed": [{"name": f.name, "reason": f.reason} for f in report.failed],
            "bytes_written": report.bytes_written,
        }
        print(msgspec.json.encode(summary).decode())
    else:
        print(
            f"{len(report.downloaded)} downloaded ({report.bytes_written / 1e6:.1f} MB), "
            f"{len(report.skipped)} already there, {len(report.failed)} failed, in {args.to}"
        )
        for failure in report.failed:
            print(f"  failed: {failure.name}: {failure.reason}")
    return 1 if report.failed else 0


async def run_sandbox(args: argparse.Namespace) -> None:
    chaos = Chaos(latency=args.latency) if args.latency else None
    async with Sandbox(host=args.host, port=args.port, chaos=chaos) as sandbox:
        print(
            f"ninepic: sandbox listening on {sandbox.base_url} (API key {sandbox.api_key!r}, "
            f"org_id {sandbox.org_id}, demo event {DEMO_EVENT_ID}); press Ctrl+C to stop",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.get_running_loop().create_future()


async def run_demo(args: argparse.Namespace) -> None:
    """Search the demo event with a shipped selfie, page through it twice, report the counts."""
    selfie = SAMPLE_SELFIES[DEMO_SELFIE]
    async with (
        Sandbox() as sandbox,
        NinePicClient(sandbox.api_key, sandbox.org_id, base_url=sandbox.base_url) as client,
    ):
        first = await client.faces.search(DEMO_EVENT_ID, selfie)
        pages = [page async for page in client.faces.iter_pages(DEMO_EVENT_ID, first.request_id)]
        network_after_first_read = sandbox.stats.total_requests

        again = [page async for page in client.faces.iter_pages(DEMO_EVENT_ID, first.request_id)]
        images = [image for page in again for image in page.images]
        summary: dict[str, Any] = {
            "sandbox": sandbox.base_url,
            "event_id": DEMO_EVENT_ID,
            "selfie": DEMO_SELFIE,
            "request_id": first.request_id,
            "matches": first.pagination.total,
            "expected_matches": SAMPLE_MATCHES[DEMO_SELFIE],
            "pages": len(pages),
            "images": len(images),
            "unique_images": len({image.image_id for image in images}),
            "first_read_network_requests": network_after_first_read,
            "second_read_network_requests": sandbox.stats.total_requests - network_after_first_read,
            "billable_searches": sandbox.stats.billable_searches,
            "cache_hits": client.cache_stats.hits,
            "cache_misses": client.cache_stats.misses,
        }

    if args.json:
        print(msgspec.json.encode(summary).decode())
        return
    print(
        f"Searched demo event {DEMO_EVENT_ID} of the sandbox at {summary['sandbox']} "
        f"with the sample selfie {DEMO_SELFIE}."
    )
    print(f"  request_id:          {summary['request_id']}")
    print(
        f"  matches:             {summary['matches']} photos on "
        f"{_count(summary['pages'], 'page', 'pages')}"
    )
    print(
        f"  first read:          {summary['first_read_network_requests']} network requests "
        f"(1 search, billed {_count(summary['billable_searches'], 'time', 'times')}, and "
        f"{summary['first_read_network_requests'] - 1} page reads; page 1 came with the search)"
    )
    print(
        f"  second read:         {summary['second_read_network_requests']} network requests, "
        f"{summary['images']} images ({summary['unique_images']} unique), all from the cache"
    )
    print(f"  cache:               {summary['cache_hits']} hits, {summary['cache_misses']} misses")
    print("First images:")
    print_table(again[0].images[:5] if again else ())


def print_pages(pages: Sequence[FaceSearchPage], *, as_json: bool) -> None:
    if as_json:
        print(msgspec.json.encode(list(pages)).decode())
        return
    first = pages[0]
    info = first.pagination
    shown = sum(len(page.images) for page in pages)
    source = "all pages" if len(pages) > 1 else f"page {info.current_page}"
    print(
        f"request_id {first.request_id}: {_count(info.total, 'match', 'matches')} on "
        f"{_count(info.total_pages, 'page', 'pages')} of {info.page_size}; "
        f"showing {_count(shown, 'image', 'images')} from {source}"
    )
    print_table([image for page in pages for image in page.images])


def print_table(images: Sequence[Any]) -> None:
    if not images:
        print("(no images)")
        return
    print(f"{'image_id':<38} {'size':>11}  img_url")
    for image in images:
        size = f"{image.width}x{image.height}" if image.width and image.height else "-"
        print(f"{image.image_id:<38} {size:>11}  {image.img_url}")


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"
