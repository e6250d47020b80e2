"""The pure protocol layer: decoding the documented examples, errors, arguments, selfies."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest

from nine_pic_async import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    EventDetails,
    FaceSearchPage,
    ImageItem,
    NotFoundError,
    Pagination,
    PermissionDeniedError,
    Ping,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    UnprocessableEntityError,
)
from nine_pic_async import _protocol as protocol

EXAMPLES = Path(__file__).parent / "examples"


def example(name: str) -> bytes:
    """Return the bytes of one JSON example copied from the 9Pic docs."""
    return (EXAMPLES / name).read_bytes()


# -- Decoding the docs' examples -------------------------------------------------------------------


def test_face_search_matches_example_decodes() -> None:
    page = protocol.decode_success(
        protocol.FACE_PAGE_DECODER, example("face-search-matches.json"), status=200, path="/p"
    )

    assert isinstance(page, FaceSearchPage)
    assert page.request_id == "ddc661a7-8861-4793-9437-af42a82d12f8"
    assert page.confidence_percentage == 90
    assert page.message == "Computed face search"
    assert len(page.images) == 1
    assert page.images[0].image_id == "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244"
    assert page.images[0].width == 3240
    assert page.images[0].height == 4860
    assert page.images[0].original_url is None
    assert page.pagination.total == 12
    assert page.pagination.current_page == 1
    assert page.pagination.total_pages == 1
    assert page.pagination.has_next_page is False
    assert page.pagination.page_size == 32


def test_face_search_no_matches_example_decodes() -> None:
    page = protocol.decode_success(
        protocol.FACE_PAGE_DECODER, example("face-search-no-matches.json"), status=200, path="/p"
    )

    assert page.images == ()
    assert page.pagination.current_page == 0
    assert page.pagination.total_pages == 0
    assert page.message == "No image found similar to your selfie"


def test_misspelt_legacy_image_keys_read_as_correct_names() -> None:
    # The older BIB example has the same data shape as a face page, minus request_id.
    body = example("bib-search-success-legacy-typos.json").replace(
        b'"images"', b'"request_id": "ddc661a7-8861-4793-9437-af42a82d12f8", "images"', 1
    )

    page = protocol.decode_success(protocol.FACE_PAGE_DECODER, body, status=200, path="/p")

    first = page.images[0]
    assert first.width is not None
    assert first.thumbnail_url is not None
    assert first.thumbnail_url.startswith("https://")
    assert first.original_url is None
    assert page.pagination.total > 0


def test_image_and_pagination_model_examples_decode() -> None:
    image = msgspec.json.decode(example("image-item.json"), type=ImageItem)
    info = msgspec.json.decode(example("pagination-info.json"), type=Pagination)

    assert image.image_id == "a4402318-0cf4-4e1e-b8e8-ac8e8f2fc244"
    assert image.thumbnail_url is not None
    assert info == Pagination(
        total=47,
        current_page=1,
        total_pages=2,
        has_next_page=True,
        has_previous_page=False,
        page_size=30,
    )


def test_shared_photo_data_example_decodes_as_images() -> None:
    data = msgspec.json.decode(example("search-responses-shared-photo-data.json"))

    images = msgspec.convert(data["images"], type=list[ImageItem])
    info = msgspec.convert(data["pagination"], type=Pagination)

    assert images == []
    assert info.current_page == 0
    assert info.total_pages == 0
    assert info.has_next_page is False


def test_correct_image_key_wins_over_misspelt_one() -> None:
    body = (
        b'{"responseType":"success","message":"m","data":{"request_id":'
        b'"ddc661a7-8861-4793-9437-af42a82d12f8","images":[{"image_id":"a","img_url":"u",'
        b'"width":10,"widht":99}],"pagination":{"total":1,"currentPage":1,"totalPages":1,'
        b'"hasNextPage":false,"hasPreviousPage":false,"page_size":32}}}'
    )

    page = protocol.decode_success(protocol.FACE_PAGE_DECODER, body, status=200, path="/p")

    assert page.images[0].width == 10


@pytest.mark.parametrize(
    "decoder", [protocol.FACE_PAGE_DECODER, protocol.IMAGE_PAGE_DECODER], ids=["faces", "images"]
)
def test_misspelt_keys_after_first_image_are_read(
    decoder: protocol.ResponseDecoder[Any],
) -> None:
    body = (
        b'{"responseType":"success","message":"m","data":{"request_id":'
        b'"ddc661a7-8861-4793-9437-af42a82d12f8","images":[{"image_id":"a","img_url":"u",'
        b'"width":10,"thumbnail_url":"t"},{"image_id":"b","img_url":"v","widht":20,'
        b'"thumbanail_url":"s","orginal_url":"o"}],"pagination":{"total":2,"currentPage":1,'
        b'"totalPages":1,"hasNextPage":false,"hasPreviousPage":false,"page_size":32}}}'
    )

    page = protocol.decode_success(decoder, body, status=200, path="/p")

    assert [image.width for image in page.images] == [10, 20]
    assert [image.thumbnail_url for image in page.images] == ["t", "s"]
    assert page.images[1].original_url == "o"


@pytest.mark.parametrize(
    "name",
    [
        "event-details-success.json",
        "event-details-legacy-flat.json",
        "event-details-models-page-flat-object-envelope.json",
    ],
)
def test_event_details_examples_decode(name: str) -> None:
    details = protocol.decode_success(
        protocol.EVENT_DETAILS_DECODER, example(name), status=200, path="/p"
    )

    assert isinstance(details, EventDetails)
    assert details.event_id == 456
    assert details.event_name == "Mumbai Marathon 2026"
    assert details.selfie_search is True
    assert details.name_search is False


def test_legacy_event_details_lack_newer_flags() -> None:
    details = protocol.decode_success(
        protocol.EVENT_DETAILS_DECODER,
        example("event-details-legacy-flat.json"),
        status=200,
        path="/p",
    )

    assert details.video_search is False
    assert details.timeline_search is False


def test_current_event_details_have_timeline_flag() -> None:
    details = protocol.decode_success(
        protocol.EVENT_DETAILS_DECODER,
        example("event-details-success.json"),
        status=200,
        path="/p",
    )

    assert details.timeline_search is True
    assert details.video_selfie_search is True


@pytest.mark.parametrize("name", ["ping-success.json", "ping-success-legacy-flat.json"])
def test_ping_examples_decode(name: str) -> None:
    ping = protocol.decode_success(protocol.PING_DECODER, example(name), status=200, path="/p")

    assert ping == Ping(status="ok", org_id=903, event_id=456)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        b'{"responseType": "success", "message": "x", "data": null}',
        b'{"responseType": "success", "message": "x", "data": {"request_id": 5}}',
        b"[1, 2, 3]",
        b'{"responseType": "success", "data": {"request_id": "r", "images": [], "pagin',
    ],
    ids=["html", "empty", "null-data", "wrong-type", "array", "truncated"],
)
def test_bad_success_body_raises_validation_error(body: bytes) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        protocol.decode_success(protocol.FACE_PAGE_DECODER, body, status=200, path="/faces")

    assert caught.value.status == 200
    assert caught.value.path == "/faces"
    assert caught.value.body_excerpt == body[:200].decode()


# -- Status errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, APIStatusError),
    ],
)
def test_status_maps_to_exception_class(status: int, expected: type[APIStatusError]) -> None:
    error = protocol.status_error(
        status, example("error-envelope-bib-not-found.json"), method="GET", path="/x"
    )

    assert type(error) is expected
    assert error.status == status
    assert error.message == "BIB number 1234 not found for this event"
    assert error.path == "/x"


def test_html_error_body_keeps_status_class_and_excerpt() -> None:
    error = protocol.status_error(502, b"<html>Bad Gateway</html>", method="GET", path="/x")

    assert isinstance(error, ServerError)
    assert "<html>Bad Gateway</html>" in error.message


def test_empty_error_body_says_so() -> None:
    error = protocol.status_error(503, b"", method="GET", path="/x")

    assert error.message == "(empty body)"


def test_rate_limit_error_carries_retry_after() -> None:
    error = protocol.status_error(
        429,
        b'{"responseType":"error","message":"slow down","data":null}',
        method="POST",
        path="/x",
        retry_after="7",
    )

    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


# -- Retry-After ---------------------------------------------------------------------------------

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("Fri, 04 Dec 2026 12:00:30 GMT", 30.0),
        ("Fri, 04 Dec 2026 11:59:00 GMT", None),
        ("0", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("999999999", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert protocol.parse_retry_after(header, now=NOW) == expected


# -- Arguments -----------------------------------------------------------------------------------


def test_request_id_is_canonicalised() -> None:
    canonical = protocol.canonical_request_id(" DDC661A7-8861-4793-9437-AF42A82D12F8 ")

    assert canonical == "ddc661a7-8861-4793-9437-af42a82d12f8"


@pytest.mark.parametrize("value", ["", "not-a-uuid", "../../events", "ddc661a7"])
def test_invalid_request_id_is_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="request_id must be a UUID"):
        protocol.canonical_request_id(value)


def test_request_id_of_wrong_type_is_rejected() -> None:
    with pytest.raises(TypeError, match="request_id"):
        protocol.canonical_request_id(12345)


@pytest.mark.parametrize(("page", "page_size"), [(0, 32), (-1, 32), (1, 0), (1, 101)])
def test_out_of_range_page_is_rejected(page: int, page_size: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        protocol.check_page(page, page_size, max_page_size=100)


@pytest.mark.parametrize(("page", "page_size"), [(True, 32), ("1", 32), (1, 3.0)])
def test_non_int_page_is_rejected(page: object, page_size: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        protocol.check_page(page, page_size, max_page_size=100)


@pytest.mark.parametrize("value", ["a/b", "..", ".", "", "x\ny", "x\x00"])
def test_path_segment_rejects_route_changes(value: str) -> None:
    with pytest.raises(ValueError, match="must be a non-empty identifier"):
        protocol.path_segment("bib", value)


def test_path_segment_percent_encodes() -> None:
    assert protocol.path_segment("bib", "A 12?#") == "A%2012%3F%23"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9000/", "https://api.9pic.ai/"],
)
def test_secure_or_loopback_base_url_accepted(url: str) -> None:
    assert protocol.normalize_base_url(url) == url.rstrip("/")


def test_plain_http_to_remote_host_is_rejected() -> None:
    with pytest.raises(ValueError, match="clear text"):
        protocol.normalize_base_url("http://api.9pic.ai")


def test_plain_http_allowed_when_opted_in() -> None:
    url = protocol.normalize_base_url("http://test-host:8080", allow_insecure_http=True)

    assert url == "http://test-host:8080"


@pytest.mark.parametrize("url", ["api.9pic.ai", "ftp://api.9pic.ai", "https://x/?k=1"])
def test_malformed_base_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        protocol.normalize_base_url(url)


def test_cache_key_layout() -> None:
    key = protocol.faces_page_key(903, 456, "ddc661a7-8861-4793-9437-af42a82d12f8", 2, 32)

    assert key == "nine_pic:v1:903:456:faces:ddc661a7-8861-4793-9437-af42a82d12f8:2:32"


# -- Selfies -------------------------------------------------------------------------------------


def test_jpeg_and_png_are_recognised() -> None:
    assert protocol.selfie_content_type(b"\xff\xd8\xff\xe0rest", max_bytes=100) == "image/jpeg"
    assert protocol.selfie_content_type(b"\x89PNG\r\n\x1a\nrest", max_bytes=100) == "image/png"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a....", "neither JPEG nor PNG"),
        (b"\xff\xd8\xff" + b"0" * 200, "over the limit"),
    ],
)
def test_unusable_selfie_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protocol.selfie_content_type(data, max_bytes=100)


def test_503_carries_retry_after() -> None:
    error = protocol.status_error(503, b"", method="GET", path="/x", retry_after="4")

    assert isinstance(error, ServerError)
    assert error.retry_after == 4.0


def test_legacy_pagination_guide_example_decodes() -> None:
    wrapper = msgspec.json.decode(example("pagination-legacy-guide-object.json"))
    info = msgspec.convert(wrapper["pagination"], type=Pagination)

    assert info.page_size == 60
    assert info.total_pages == 1
    assert info.has_next_page is False
