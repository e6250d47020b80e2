"""Seeding a sandbox with a test's own events, selfies and stored searches, through the client."""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest

from nine_pic_async import NinePicClient, NotFoundError
from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    Sandbox,
    make_selfie,
)

NEW_EVENT_ID = 2001


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking each CRC."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks = []
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in chunk {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    return chunks


def test_make_selfie_is_valid_png() -> None:
    chunks = png_chunks(make_selfie("alice"))
    kinds = [kind for kind, _ in chunks]
    width, height = struct.unpack(">II", chunks[0][1][:8])
    pixels = zlib.decompress(dict(chunks)[b"IDAT"])

    assert kinds == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]
    assert (width, height) == (8, 8)
    assert len(pixels) == 8 * (1 + 8 * 3)


def test_make_selfie_differs_per_label() -> None:
    assert make_selfie("alice") == make_selfie("alice")
    assert make_selfie("alice") != make_selfie("bob")


@pytest.mark.parametrize("label", ["", None])
def test_make_selfie_rejects_empty_label(label: object) -> None:
    with pytest.raises(ValueError, match="label"):
        make_selfie(label)  # type: ignore[arg-type]


async def test_add_event_is_served(sandbox: Sandbox, client: NinePicClient) -> None:
    event = sandbox.add_event(NEW_EVENT_ID, photo_count=40, name="Club 5K")

    details = await client.events.details(NEW_EVENT_ID)
    photos = await client.photos.fetch_all(NEW_EVENT_ID)
    listed = await client.events.fetch_all()

    assert event is sandbox.event(NEW_EVENT_ID)
    assert details.event_name == "Club 5K"
    assert details.selfie_search is True
    assert len(photos) == 40
    assert NEW_EVENT_ID in [item.event_id for item in listed]


async def test_add_event_flags_apply(sandbox: Sandbox, client: NinePicClient) -> None:
    sandbox.add_event(NEW_EVENT_ID, selfie_search=False, timeline_search=False)

    details = await client.events.details(NEW_EVENT_ID)

    assert details.event_name == f"Test event {NEW_EVENT_ID}"
    assert details.selfie_search is False
    assert details.timeline_search is False
    assert details.bib_search is True


def test_add_event_rejects_existing_id() -> None:
    sandbox = Sandbox()

    with pytest.raises(ValueError, match="already exists"):
        sandbox.add_event(DEMO_EVENT_ID)


@pytest.mark.parametrize(
    ("event_id", "photo_count"),
    [(0, 10), (-3, 10), (True, 10), (NEW_EVENT_ID, -1), (NEW_EVENT_ID, 100_001)],
)
def test_add_event_rejects_bad_values(event_id: int, photo_count: int) -> None:
    sandbox = Sandbox()

    with pytest.raises(ValueError, match=r"event_id|photo_count"):
        sandbox.add_event(event_id, photo_count=photo_count)


async def test_remove_event_returns_404(sandbox: Sandbox, client: NinePicClient) -> None:
    request_id = sandbox.add_search(matches=3)

    sandbox.remove_event(DEMO_EVENT_ID)

    with pytest.raises(NotFoundError):
        await client.events.details(DEMO_EVENT_ID)
    sandbox.add_event(DEMO_EVENT_ID, photo_count=10)
    with pytest.raises(NotFoundError):
        await client.faces.get(DEMO_EVENT_ID, request_id)


def test_remove_unknown_event_raises() -> None:
    with pytest.raises(KeyError, match="999"):
        Sandbox().remove_event(999)


async def test_selfie_with_match_count(sandbox: Sandbox, client: NinePicClient) -> None:
    sandbox.add_event(NEW_EVENT_ID, photo_count=60)
    alice = make_selfie("alice")
    expected = sandbox.add_selfie(alice, event_id=NEW_EVENT_ID, matches=25)

    first = await client.faces.search(NEW_EVENT_ID, alice, page_size=10)
    images = await client.faces.fetch_all(NEW_EVENT_ID, first.request_id, page_size=10)

    assert len(expected) == 25
    assert first.pagination.total == 25
    assert [image.image_id for image in images] == list(expected)
    assert sandbox.stats.billable_searches == 1


async def test_selfie_with_image_ids(sandbox: Sandbox, client: NinePicClient) -> None:
    gallery = await client.photos.list(DEMO_EVENT_ID, page_size=5)
    chosen = [gallery.images[3].image_id, gallery.images[0].image_id]
    bob = make_selfie("bob")

    expected = sandbox.add_selfie(bob, image_ids=chosen)
    page = await client.faces.search(DEMO_EVENT_ID, bob)

    assert sorted(expected) == sorted(chosen)
    assert [image.image_id for image in page.images] == list(expected)


async def test_selfie_seed_overrides_sample(sandbox: Sandbox, client: NinePicClient) -> None:
    runner = SAMPLE_SELFIES["runner.jpg"]
    sandbox.add_selfie(runner, matches=0)

    page = await client.faces.search(DEMO_EVENT_ID, runner)

    assert page.pagination.total == 0
    assert SAMPLE_MATCHES["runner.jpg"] != 0


async def test_selfie_seed_is_per_event(sandbox: Sandbox, client: NinePicClient) -> None:
    sandbox.add_event(NEW_EVENT_ID, photo_count=3000)
    runner = SAMPLE_SELFIES["runner.jpg"]
    sandbox.add_selfie(runner, event_id=NEW_EVENT_ID, matches=2)

    demo = await client.faces.search(DEMO_EVENT_ID, runner)
    seeded = await client.faces.search(NEW_EVENT_ID, runner)

    assert demo.pagination.total == SAMPLE_MATCHES["runner.jpg"]
    assert seeded.pagination.total == 2


async def test_selfie_seed_follows_lower_photo_count(
    sandbox: Sandbox, client: NinePicClient
) -> None:
    sandbox.add_event(NEW_EVENT_ID, photo_count=50)
    carol = make_selfie("carol")
    expected = sandbox.add_selfie(carol, event_id=NEW_EVENT_ID, matches=50)

    sandbox.event(NEW_EVENT_ID).photo_count = 20
    page = await client.faces.search(NEW_EVENT_ID, carol, page_size=100)

    assert page.pagination.total == 20
    assert [image.image_id for image in page.images] == list(expected[:20])


def test_add_selfie_rejects_bad_arguments() -> None:
    sandbox = Sandbox()
    alice = make_selfie("alice")

    with pytest.raises(ValueError, match="exactly one"):
        sandbox.add_selfie(alice)
    with pytest.raises(ValueError, match="exactly one"):
        sandbox.add_selfie(alice, matches=1, image_ids=[])
    with pytest.raises(ValueError, match="more than the 3000 photos"):
        sandbox.add_selfie(alice, matches=3001)
    with pytest.raises(ValueError, match="matches must be"):
        sandbox.add_selfie(alice, matches=-1)
    with pytest.raises(KeyError, match="Unknown image_id"):
        sandbox.add_selfie(alice, image_ids=["not-a-photo"])
    with pytest.raises(TypeError, match="list of image ids"):
        sandbox.add_selfie(alice, image_ids="not-a-list")
    with pytest.raises(KeyError, match="999"):
        sandbox.add_selfie(alice, event_id=999, matches=1)


def test_add_selfie_rejects_non_images() -> None:
    sandbox = Sandbox()

    with pytest.raises(ValueError, match="JPEG or PNG"):
        sandbox.add_selfie(b"fake selfie", matches=1)
    with pytest.raises(TypeError, match="path or bytes"):
        sandbox.add_selfie(42, matches=1)  # type: ignore[arg-type]


def test_add_selfie_reads_a_path() -> None:
    sandbox = Sandbox()

    by_path = sandbox.add_selfie(SAMPLE_SELFIES["cyclist.png"], matches=4)
    by_bytes = sandbox.add_selfie(SAMPLE_SELFIES["cyclist.png"].read_bytes(), matches=4)

    assert by_path == by_bytes
    assert len(by_path) == 4


async def test_add_search_serves_results(sandbox: Sandbox, client: NinePicClient) -> None:
    request_id = sandbox.add_search(matches=45)

    images = await client.faces.fetch_all(DEMO_EVENT_ID, request_id)
    links = await client.originals.links(DEMO_EVENT_ID, selfie=request_id, page_size=60)

    assert uuid.UUID(request_id).version == 4
    assert len(images) == 45
    assert links.total_images == 45
    assert len(links.presigned_urls) + len(links.failed_urls) == 45
    assert sandbox.stats.billable_searches == 0


async def test_add_search_with_fixed_id(sandbox: Sandbox, client: NinePicClient) -> None:
    gallery = await client.photos.list(DEMO_EVENT_ID, page_size=2)
    chosen = [image.image_id for image in gallery.images]
    fixed = "6B1F5A4C-0D7E-4B8A-9C3D-2E1F0A9B8C7D"

    request_id = sandbox.add_search(request_id=fixed, image_ids=chosen)
    page = await client.faces.get(DEMO_EVENT_ID, request_id)

    assert request_id == fixed.lower()
    assert sorted(image.image_id for image in page.images) == sorted(chosen)


def test_add_search_rejects_bad_ids() -> None:
    sandbox = Sandbox()
    request_id = sandbox.add_search(matches=1)

    with pytest.raises(ValueError, match="already stored"):
        sandbox.add_search(request_id=request_id, matches=1)
    with pytest.raises(ValueError, match="must be a UUID"):
        sandbox.add_search(request_id="not-a-uuid", matches=1)
