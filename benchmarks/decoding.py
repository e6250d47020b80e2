"""Decoding one 100-image face search page: the SDK's decoder next to `json.loads` and pydantic.

Run from the repository root: `python -m benchmarks.decoding [--quick] [--json]`. The body is
a real sandbox response, read once over loopback, and the timed loop does no I/O. The pydantic v2
models mirror the SDK's msgspec models field for field (frozen, tuples, the same wire names
and optional fields), so both sides validate the same shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp
import msgspec
from pydantic import BaseModel, ConfigDict, Field

from benchmarks._report import Column, Section, Target, count_of, measurements_from, ratio
from benchmarks._support import (
    free_port,
    measure_sync,
    process_on_port,
    sandbox_command,
    section_main,
)
from nine_pic_async import FaceSearchPage, NinePicClient
from nine_pic_async import _protocol as protocol
from nine_pic_async.testing import DEMO_API_KEY, DEMO_EVENT_ID, DEMO_ORG_ID, SAMPLE_SELFIES

NAME = "decoding"
PAGE_SIZE = 100
SDK = "SDK decoder, as faces.get runs it (msgspec)"
ENVELOPE_ONLY = "msgspec Decoder(Envelope[FaceSearchPage]) alone"
JSON_LOADS = "json.loads to dicts"
PYDANTIC = "pydantic v2 model_validate_json"


class PydanticImage(BaseModel):
    model_config = ConfigDict(frozen=True)

    image_id: str
    img_url: str
    thumbnail_url: str | None = None
    height: int | None = None
    width: int | None = None
    original_url: str | None = None


class PydanticPagination(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int
    current_page: int = Field(alias="currentPage")
    total_pages: int = Field(alias="totalPages")
    has_next_page: bool = Field(alias="hasNextPage")
    has_previous_page: bool = Field(alias="hasPreviousPage")
    page_size: int


class PydanticFacePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: str
    images: tuple[PydanticImage, ...]
    pagination: PydanticPagination
    confidence_percentage: float | None = None


class PydanticEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    response_type: str | None = Field(default=None, alias="responseType")
    message: str | None = None
    data: PydanticFacePage | None = None


async def read_page_body() -> bytes:
    """Return the raw body of page 2 of a 1,000-image result, read from a sandbox process."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with process_on_port(sandbox_command(port), port):
        async with NinePicClient(DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url) as client:
            first = await client.faces.search(
                DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=PAGE_SIZE
            )
        url = f"{base_url}/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}/faces/{first.request_id}"
        async with (
            aiohttp.ClientSession(headers={"X-API-Key": DEMO_API_KEY}) as session,
            session.get(url, params={"page": 2, "page_size": PAGE_SIZE}) as response,
        ):
            response.raise_for_status()
            return await response.read()


def build_decoders(body: bytes) -> dict[str, Callable[[], object]]:
    envelope_decoder = msgspec.json.Decoder(protocol.Envelope[FaceSearchPage])
    path = f"/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}/faces"
    return {
        SDK: lambda: protocol.decode_success(
            protocol.FACE_PAGE_DECODER, body, status=200, path=path
        ),
        ENVELOPE_ONLY: lambda: envelope_decoder.decode(body),
        JSON_LOADS: lambda: json.loads(body),
        PYDANTIC: lambda: PydanticEnvelope.model_validate_json(body),
    }


def check_decoders(decoders: dict[str, Callable[[], object]]) -> None:
    """Raise unless every decoder reads the same 100 images, so the cases do equal work."""
    sdk_page = decoders[SDK]()
    assert isinstance(sdk_page, FaceSearchPage)
    envelope = decoders[ENVELOPE_ONLY]()
    assert isinstance(envelope, protocol.Envelope)
    assert envelope.data is not None
    dicts = decoders[JSON_LOADS]()
    assert isinstance(dicts, dict)
    pydantic_page = decoders[PYDANTIC]()
    assert isinstance(pydantic_page, PydanticEnvelope)
    assert pydantic_page.data is not None
    image_ids = [image.image_id for image in sdk_page.images]
    if len(image_ids) != PAGE_SIZE:
        raise RuntimeError(f"expected a page of {PAGE_SIZE} images, got {len(image_ids)}")
    others = {
        ENVELOPE_ONLY: [image.image_id for image in envelope.data.images],
        JSON_LOADS: [image["image_id"] for image in dicts["data"]["images"]],
        PYDANTIC: [image.image_id for image in pydantic_page.data.images],
    }
    for case, ids in others.items():
        if ids != image_ids:
            raise RuntimeError(f"{case} decoded other images than the SDK decoder")


async def run(quick: bool) -> Section:
    rounds, calls = (3, 50) if quick else (15, 1000)
    body = await read_page_body()
    decoders = build_decoders(body)
    check_decoders(decoders)
    samples = measure_sync(decoders, rounds=rounds, calls=calls)

    section = Section(
        name=NAME,
        title="Decoding one page",
        description=(
            f"Decoding the {len(body):,}-byte body of one {PAGE_SIZE}-image face search page, "
            "already in memory. The second row is the SDK's msgspec decoder without the "
            "checks the SDK adds around it, for comparison. "
            f"Median of {count_of(rounds, 'round')} of {calls} calls per case."
        ),
        unit="µs",
        columns=[
            Column("median", "median µs"),
            Column("min", "min µs"),
            Column("max", "max µs"),
            Column("x_sdk", "time / SDK decoder", 2),
        ],
        measurements=measurements_from(samples, scale=1e6),
    )
    sdk = section.measurement(SDK)
    for measurement in section.measurements:
        measurement.extra["x_sdk"] = ratio(measurement, sdk)
    for case in (JSON_LOADS, PYDANTIC):
        speedup = ratio(section.measurement(case), sdk)
        section.targets.append(
            Target(
                case="decoding one 100-image page",
                goal=f">= 3x faster than {case}",
                measured=f"{speedup:.2f}x faster",
                met=speedup >= 3,
            )
        )
    return section


if __name__ == "__main__":
    section_main(__doc__.splitlines()[0], run)
