"""Decoding the documented examples of the event list, gallery, BIB, originals and timeline."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from nine_pic_async import (
    EventListItem,
    FailedLink,
    ImagePage,
    OriginalLink,
    ResponseValidationError,
)
from nine_pic_async import _protocol as protocol
from nine_pic_async.resources.originals import links_body
from nine_pic_async.resources.timeline import epoch_seconds

EXAMPLES = Path(__file__).parent / "examples"


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def decode(decoder: protocol.ResponseDecoder[protocol.T], name: str) -> protocol.T:
    return protocol.decode_success(decoder, example(name), status=200, path="/example")


def test_event_list_example_decodes() -> None:
    page = decode(protocol.EVENT_LIST_DECODER, "list-events-success.json")

    assert [event.event_id for event in page.events] == [456, 789]
    assert page.events[1].cover_image is None
    assert page.events[1].status == "draft"
    assert page.pagination.total_pages == 3
    assert page.message == "Records for events"


def test_empty_event_list_example_decodes() -> None:
    page = decode(protocol.EVENT_LIST_DECODER, "list-events-empty.json")

    assert page.events == ()
    assert page.pagination.current_page == 0


def test_event_list_item_example_decodes() -> None:
    item = msgspec.json.decode(example("event-list-item.json"), type=EventListItem)

    assert item.event_id == 456
    assert item.cover_image == "https://photos.9pic.ai/imgs/456/cover.jpg"


@pytest.mark.parametrize(
    ("name", "count", "message"),
    [
        ("all-photos-success.json", 2, "Records for all images"),
        ("all-photos-empty.json", 0, "Records for all images"),
        ("bib-search-success.json", 2, "Records for bib number 1234"),
        ("bib-search-empty.json", 0, "Records for bib number 1234"),
    ],
)
def test_image_page_examples_decode(name: str, count: int, message: str) -> None:
    page = decode(protocol.IMAGE_PAGE_DECODER, name)

    assert isinstance(page, ImagePage)
    assert len(page.images) == count
    assert page.message == message


def test_gallery_example_keeps_non_uuid_image_id() -> None:
    page = decode(protocol.IMAGE_PAGE_DECODER, "all-photos-success.json")

    assert page.images[1].image_id == "b5513429-1d05-5f2f-c9f9-bd9f9g3gd355"


def test_bib_example_with_misspelt_keys_decodes() -> None:
    page = decode(protocol.IMAGE_PAGE_DECODER, "bib-search-success-legacy-typos.json")
    current = decode(protocol.IMAGE_PAGE_DECODER, "bib-search-success.json")

    assert page.images == current.images
    assert page.images[0].width == 3240


def test_flat_originals_example_decodes() -> None:
    page = decode(protocol.ORIGINAL_LINKS_DECODER, "original-photos-response-legacy-flat.json")

    assert page.presigned_urls == (OriginalLink(url="https://...", filename="a1b2c3.jpg"),)
    assert page.failed_urls == ()
    assert page.identifier == "123"
    assert page.message is None
    assert page.pagination.has_next_page is True


def test_link_item_examples_decode() -> None:
    link = msgspec.json.decode(
        example("original-photos-presigned-url-item.json"), type=OriginalLink
    )
    failed = msgspec.json.decode(example("original-photos-failed-url-item.json"), type=FailedLink)

    assert link.filename.endswith(".jpg")
    assert failed.error == "Failed to generate URL"
    assert failed.path is not None


def test_timeline_days_examples_decode() -> None:
    days = decode(protocol.TIMELINE_DAYS_DECODER, "timeline-days-success.json")
    empty = decode(protocol.TIMELINE_DAYS_DECODER, "timeline-days-empty.json")

    assert [day.date for day in days.days] == ["2024-01-01", "2024-01-02"]
    assert days.days[0].hours[0].hour == 10
    assert days.days[0].total == 125
    assert empty.days == ()
    assert empty.message == "No timeline data"


def test_error_envelope_is_not_a_success() -> None:
    with pytest.raises(ResponseValidationError):
        decode(protocol.IMAGE_PAGE_DECODER, "error-envelope-bib-not-found.json")


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("original-photos-request-bib.json", {"bib": "123"}),
        ("original-photos-request-selfie.json", {"selfie": "ddc661a7-8861-4793-9437-af42a82d12f8"}),
        (
            "original-photos-request-image-id.json",
            {"image_id": "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244"},
        ),
        (
            "original-photos-request-image-ids.json",
            {
                "image_ids": [
                    "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244",
                    "f6cb3c08-2c7a-4ff7-8c1b-71b6f7d4d932",
                ]
            },
        ),
    ],
)
def test_links_body_matches_documented_requests(name: str, kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "selfie": None,
        "bib": None,
        "image_id": None,
        "image_ids": None,
        **kwargs,
    }

    body = links_body(**arguments)  # type: ignore[arg-type]

    assert msgspec.json.decode(body) == msgspec.json.decode(example(name))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "exactly one"),
        ({"bib": "1", "image_id": "a"}, ValueError, "exactly one"),
        ({"selfie": "nope"}, ValueError, "request_id must be a UUID"),
        ({"bib": "../x"}, ValueError, "bib must be"),
        ({"image_ids": []}, ValueError, "must not be empty"),
        ({"image_ids": "abc"}, TypeError, "not one str"),
        ({"image_ids": ["ok", "a/b"]}, ValueError, "each of image_ids"),
    ],
)
def test_invalid_links_selector_is_rejected(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {
        "selfie": None,
        "bib": None,
        "image_id": None,
        "image_ids": None,
        **kwargs,
    }

    with pytest.raises(error, match=message):
        links_body(**arguments)  # type: ignore[arg-type]


def test_epoch_seconds_rejects_naive_datetime() -> None:
    from datetime import datetime, timezone

    assert epoch_seconds("start", datetime(2024, 1, 1, tzinfo=timezone.utc)) == 1704067200
    with pytest.raises(ValueError, match="naive datetime"):
        epoch_seconds("start", datetime(2024, 1, 1))


def test_placeholder_selfie_request_is_not_a_uuid() -> None:
    request = msgspec.json.decode(example("original-photos-request-selfie-placeholder.json"))

    assert request == {"method": "selfie", "identifier": "<SELFIE_UUID>"}
    with pytest.raises(ValueError, match="request_id must be a UUID"):
        links_body(selfie=request["identifier"], bib=None, image_id=None, image_ids=None)
