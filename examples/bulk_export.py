"""Export every photo of a search, a BIB or a whole gallery, and optionally the originals.

Writes one JSON object per image to a JSON Lines file, streaming the pages so that a large
result never sits in memory, and reports progress on standard error. With --originals DIR it
also downloads the full-size originals; running it again downloads only what is missing.

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/bulk_export.py http://127.0.0.1:8080 --bib 1234 --out photos.jsonl
    python examples/bulk_export.py http://127.0.0.1:8080 --gallery --out gallery.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgspec

from nine_pic_async import ImageItem, NinePicClient
from nine_pic_async.testing import DEMO_EVENT_ID

CONCURRENCY = 8
PAGE_SIZE = 100  # the largest page the API serves, so the fewest requests


@dataclass(frozen=True)
class Selector:
    """The originals to download, chosen by exactly one set field."""

    selfie: str | None = None
    bib: str | None = None
    image_ids: list[str] | None = None


def show_progress(done: int, total: int) -> None:
    print(f"\rpages {done}/{total}", end="", file=sys.stderr, flush=True)


async def write_jsonl(images: AsyncIterator[ImageItem], out: BinaryIO) -> list[str]:
    """Write each image as one JSON line; return the image ids in order."""
    encoder = msgspec.json.Encoder()
    image_ids = []
    async for image in images:
        out.write(encoder.encode(image) + b"\n")
        image_ids.append(image.image_id)
    print(file=sys.stderr)  # end the progress line
    return image_ids


async def export(
    client: NinePicClient, args: argparse.Namespace, out: BinaryIO
) -> tuple[int, Selector]:
    """Write every image to `out`; return how many, and the selector of their originals."""
    # Leaving an `async with` block early (an error, Ctrl+C) cancels the page requests in
    # flight at once.
    if args.selfie:
        # One billed search. The pages after it are reads of the stored result.
        first = await client.faces.search(args.event_id, args.selfie, page_size=PAGE_SIZE)
        async with client.faces.iter_images(
            args.event_id,
            first.request_id,
            page_size=PAGE_SIZE,
            concurrency=CONCURRENCY,
            on_progress=show_progress,
        ) as images:
            image_ids = await write_jsonl(images, out)
        return len(image_ids), Selector(selfie=first.request_id)

    if args.bib:
        async with client.bibs.iter_images(
            args.event_id,
            args.bib,
            page_size=PAGE_SIZE,
            concurrency=CONCURRENCY,
            on_progress=show_progress,
        ) as images:
            image_ids = await write_jsonl(images, out)
        return len(image_ids), Selector(bib=args.bib)

    async with client.photos.iter_images(
        args.event_id, page_size=PAGE_SIZE, concurrency=CONCURRENCY, on_progress=show_progress
    ) as images:
        image_ids = await write_jsonl(images, out)
    return len(image_ids), Selector(image_ids=image_ids)


async def main(args: argparse.Namespace, out: BinaryIO) -> None:
    # cache=None: an export reads each page once, so caching it would only use memory.
    async with NinePicClient(base_url=args.base_url, cache=None) as client:
        count, selector = await export(client, args, out)
        out.flush()
        print(f"{count} images written to {args.out}")
        if not args.originals:
            return

        report = await client.originals.download(
            args.event_id,
            args.originals,
            selfie=selector.selfie,
            bib=selector.bib,
            image_ids=selector.image_ids,
            concurrency=CONCURRENCY,
        )
        print(
            f"originals: {len(report.downloaded)} downloaded, {len(report.skipped)} already "
            f"there, {len(report.failed)} failed"
        )
        for failure in report.failed:
            print(f"  failed: {failure.name}: {failure.reason}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    parser.add_argument("--event-id", type=int, default=DEMO_EVENT_ID, help="default: 456")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--selfie", metavar="PATH", help="photos matching this selfie")
    which.add_argument("--bib", help="photos tagged with this BIB number")
    which.add_argument("--gallery", action="store_true", help="every photo of the event")
    parser.add_argument("--out", required=True, help="JSON Lines file to write")
    parser.add_argument("--originals", metavar="DIR", help="also download the originals here")
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    # Buffered writes of one short line each barely block the event loop.
    with Path(arguments.out).open("wb") as output:
        asyncio.run(main(arguments, output))
