"""Peak memory of streaming a 100,000-image result with `iter_images`, next to `fetch_all`.

Run from the repository root: `python -m benchmarks.memory [--quick] [--json]`. A small
aiohttp server in its own process on loopback serves one face search result of 100,000 images
(10,000 in a quick run), since the sandbox's results hold at most 1,000. Peaks are measured
with `tracemalloc`, which counts the memory Python allocates, from the start of each walk, in
alternating rounds. Each walk gets a new client, created and connected before its peak is
reset, so no cache outlives its round.
"""

from __future__ import annotations

import gc
import tracemalloc
import uuid

from benchmarks._report import Column, Section, Target, count_of, measurements_from, ratio
from benchmarks._support import (
    free_port,
    large_result_command,
    process_on_port,
    section_main,
)
from nine_pic_async import NinePicClient
from nine_pic_async.testing import DEMO_API_KEY, DEMO_EVENT_ID, DEMO_ORG_ID

NAME = "memory"
PAGE_SIZE = 100
CONCURRENCY = 16
REQUEST_ID = str(uuid.UUID(int=9))
ONE_PAGE = "one page, faces.get, cache=None"
STREAM = f"iter_images, concurrency {CONCURRENCY}, cache=None"
COLLECT = f"fetch_all, concurrency {CONCURRENCY}, cache=None"
STREAM_CACHED = f"iter_images, concurrency {CONCURRENCY}, default memory cache"
CASES = (ONE_PAGE, STREAM, COLLECT, STREAM_CACHED)
BYTES_PER_MB = 1e6


async def walk(client: NinePicClient, case: str) -> int:
    """Read the result as `case` does and return how many images it saw."""
    if case == ONE_PAGE:
        page = await client.faces.get(DEMO_EVENT_ID, REQUEST_ID, page=2, page_size=PAGE_SIZE)
        return len(page.images)
    if case == COLLECT:
        every_image = await client.faces.fetch_all(
            DEMO_EVENT_ID, REQUEST_ID, page_size=PAGE_SIZE, concurrency=CONCURRENCY
        )
        return len(every_image)
    seen = 0
    images = client.faces.iter_images(
        DEMO_EVENT_ID, REQUEST_ID, page_size=PAGE_SIZE, concurrency=CONCURRENCY
    )
    async with images as streamed:
        async for _image in streamed:
            seen += 1
    return seen


async def peak_bytes(base_url: str, case: str, images: int) -> float:
    """Return the peak traced bytes of one walk, above what was in use when it started."""
    if case == STREAM_CACHED:
        client = NinePicClient(DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url)
    else:
        client = NinePicClient(DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url, cache=None)
    async with client:
        # Opens the session and one connection before the peak is reset. A page size of 1
        # gives this page its own cache key, so the walk still reads every page.
        await client.faces.get(DEMO_EVENT_ID, REQUEST_ID, page=1, page_size=1)
        gc.collect()
        tracemalloc.reset_peak()
        in_use_before = tracemalloc.get_traced_memory()[0]
        seen = await walk(client, case)
        peak = tracemalloc.get_traced_memory()[1] - in_use_before
    expected = PAGE_SIZE if case == ONE_PAGE else images
    if seen != expected:
        raise RuntimeError(f"{case} saw {seen} images, expected {expected}")
    return peak


async def run(quick: bool) -> Section:
    rounds, images = (1, 10_000) if quick else (3, 100_000)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    samples: dict[str, list[float]] = {case: [] for case in CASES}
    with process_on_port(large_result_command(port, images=images), port):
        tracemalloc.start()
        try:
            for round_number in range(rounds):
                order = CASES if round_number % 2 == 0 else tuple(reversed(CASES))
                for case in order:
                    samples[case].append(await peak_bytes(base_url, case, images))
        finally:
            tracemalloc.stop()

    section = Section(
        name=NAME,
        title="Peak memory of a large result",
        description=(
            f"Every image of a {images:,}-image face search result ({PAGE_SIZE} images a page) "
            "read from a loopback server, with tracemalloc's peak of Python allocations "
            f"during the walk. Median of {count_of(rounds, 'round')}."
        ),
        unit="MB",
        columns=[
            Column("median", "peak median MB", 2),
            Column("min", "peak min MB", 2),
            Column("max", "peak max MB", 2),
            Column("x_stream", "x iter_images peak", 1),
        ],
        measurements=measurements_from(samples, scale=1 / BYTES_PER_MB),
    )
    stream = section.measurement(STREAM)
    for measurement in section.measurements:
        measurement.extra["x_stream"] = ratio(measurement, stream)
    add_target(section, images)
    return section


def add_target(section: Section, images: int) -> None:
    one_page = section.measurement(ONE_PAGE).median
    # The walk holds up to twice CONCURRENCY pages past the one it yielded last (in flight or
    # finished), the page being yielded, and the page before it, which the next is compared with.
    pages_held = 2 * CONCURRENCY + 2
    window = pages_held * one_page
    stream = section.measurement(STREAM).median
    collect = section.measurement(COLLECT).median
    section.notes.append(
        f"The window estimate is {2 * CONCURRENCY} pages past the one being read (twice the "
        f"concurrency), plus that page and the one before it: {pages_held} x "
        f"{one_page:.2f} MB (the peak of reading one page) = {window:.1f} MB."
    )
    section.targets.append(
        Target(
            case=f"{images:,}-image result through iter_images",
            goal="peak memory bounded by the window (in MB)",
            measured=(
                f"{stream:.1f} MB peak against a {window:.1f} MB window; fetch_all {collect:.1f} MB"
            ),
            met=stream <= window,
        )
    )


if __name__ == "__main__":
    section_main(__doc__.splitlines()[0], run)
