"""Tests of the sandbox's gallery, BIB, timeline and download routes, without the SDK client.

A plain aiohttp client calls List Events, All Photos, BIB Search, Photo Timeline and Download
Originals. The media routes that the download links point at are tested in
test_sandbox_media.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest
import yarl

from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    DISABLED_EVENT_ID,
    EMPTY_EVENT_ID,
    NO_TIMELINE_EVENT_ID,
    SAMPLE_BIBS,
    SAMPLE_SELFIES,
    Chaos,
    Fault,
    Sandbox,
)

RUNNER = SAMPLE_SELFIES["runner.jpg"].read_bytes()
STRANGER = SAMPLE_SELFIES["stranger.png"].read_bytes()
DEMO_PHOTOS = 3000
DEMO_TIMESTAMPED = 2925
"""Demo photos with a capture timestamp: all but every 40th."""
EMPTY_PAGINATION_32 = {
    "total": 0,
    "currentPage": 0,
    "totalPages": 0,
    "hasNextPage": False,
    "hasPreviousPage": False,
    "page_size": 32,
}
IMAGE_KEYS = {"img_url", "height", "width", "image_id", "thumbnail_url", "original_url"}
ORIGINALS_KEYS = {
    "presigned_urls",
    "failed_urls",
    "total_images",
    "successful_count",
    "failed_count",
    "identifier",
    "message",
    "pagination",
}


@pytest.fixture
async def session(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as client_session:
        yield client_session


def api_url(sandbox: Sandbox, path: str, org_id: int | None = None) -> str:
    org = sandbox.org_id if org_id is None else org_id
    return f"{sandbox.base_url}/api/v1/ext/{org}{path}"


def event_url(sandbox: Sandbox, event_id: int = DEMO_EVENT_ID) -> str:
    return api_url(sandbox, f"/event/{event_id}")


async def get_json(
    session: aiohttp.ClientSession, url: str | yarl.URL, params: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with session.get(url, params=params) as response:
        return response.status, await response.json()


async def post_originals(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    body: Any,
    *,
    event_id: int = DEMO_EVENT_ID,
    params: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    url = event_url(sandbox, event_id) + "/original-photos"
    async with session.post(url, json=body, params=params) as response:
        return response.status, await response.json()


async def post_raw_originals(
    session: aiohttp.ClientSession, sandbox: Sandbox, content: bytes
) -> tuple[int, Any]:
    url = event_url(sandbox) + "/original-photos"
    headers = {"Content-Type": "application/json"}
    async with session.post(url, data=content, headers=headers) as response:
        return response.status, await response.json()


async def gallery_ids(session: aiohttp.ClientSession, sandbox: Sandbox, event_id: int) -> list[str]:
    """Return the image ids of every photo of an event, in All Photos order."""
    image_ids: list[str] = []
    page = 1
    while True:
        _, body = await get_json(
            session, event_url(sandbox, event_id) + "/images", {"page": page, "page_size": 100}
        )
        image_ids += [image["image_id"] for image in body["data"]["images"]]
        if not body["data"]["pagination"]["hasNextPage"]:
            return image_ids
        page += 1


async def all_page_ids(
    session: aiohttp.ClientSession, url: str, params: dict[str, Any]
) -> list[str]:
    """Return the image ids of every page of a GET image list, walking ``hasNextPage``."""
    image_ids: list[str] = []
    page = 1
    while True:
        _, body = await get_json(session, url, {**params, "page": page})
        image_ids += [image["image_id"] for image in body["data"]["images"]]
        if not body["data"]["pagination"]["hasNextPage"]:
            return image_ids
        page += 1


def error_body(message: str) -> dict[str, Any]:
    return {"responseType": "error", "message": message, "data": None}


def link_ids(data: dict[str, Any]) -> list[str]:
    """Return the image ids of the presigned links of a Download Originals page."""
    return [link["filename"].removesuffix(".jpg") for link in data["presigned_urls"]]


# Checks shared by every new API route

API_ROUTES: list[tuple[str, str, str, Any]] = [
    ("events.list", "GET", "/events", None),
    ("photos.list", "GET", "/event/{event}/images", None),
    ("bibs.search", "GET", "/event/{event}/bibs/1234", None),
    (
        "originals.links",
        "POST",
        "/event/{event}/original-photos",
        {"method": "bib", "identifier": "1"},
    ),
    ("timeline.days", "GET", "/event/{event}/timeline/days", None),
    ("timeline.images", "GET", "/event/{event}/timeline/images?from=0&to=1", None),
]
ROUTE_IDS = [route[0] for route in API_ROUTES]
EVENT_ROUTES = [route for route in API_ROUTES if "{event}" in route[2]]


async def send(session: aiohttp.ClientSession, method: str, url: str, body: Any) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(("name", "method", "path", "body"), API_ROUTES, ids=ROUTE_IDS)
async def test_route_requires_key(
    sandbox: Sandbox, name: str, method: str, path: str, body: Any
) -> None:
    url = api_url(sandbox, path.format(event=DEMO_EVENT_ID))
    async with aiohttp.ClientSession() as keyless:
        status, payload = await send(keyless, method, url, body)

    assert status == 401
    assert payload["responseType"] == "error"
    assert payload["data"] is None
    assert sandbox.stats.requests[name] == 1


@pytest.mark.parametrize(("name", "method", "path", "body"), API_ROUTES, ids=ROUTE_IDS)
async def test_route_checks_key_and_org(
    sandbox: Sandbox, name: str, method: str, path: str, body: Any
) -> None:
    url = api_url(sandbox, path.format(event=DEMO_EVENT_ID))
    other_org_url = api_url(sandbox, path.format(event=DEMO_EVENT_ID), org_id=904)
    async with aiohttp.ClientSession(headers={"X-API-Key": "wrong"}) as wrong_key:
        wrong_key_status, wrong_key_body = await send(wrong_key, method, url, body)
    async with aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as session:
        org_status, org_body = await send(session, method, other_org_url, body)

    assert wrong_key_status == 403
    assert wrong_key_body == error_body("Invalid or inactive API key.")
    assert org_status == 403
    assert "904" in org_body["message"]


@pytest.mark.parametrize(
    ("name", "method", "path", "body"), EVENT_ROUTES, ids=[route[0] for route in EVENT_ROUTES]
)
async def test_route_unknown_event_404(
    sandbox: Sandbox, session: aiohttp.ClientSession, name: str, method: str, path: str, body: Any
) -> None:
    status, payload = await send(session, method, api_url(sandbox, path.format(event=999)), body)

    assert status == 404
    assert payload == error_body("Event configuration not found")


async def test_counters_per_route(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    for _, method, path, body in API_ROUTES:
        await send(session, method, api_url(sandbox, path.format(event=DEMO_EVENT_ID)), body)
    await send(session, "GET", event_url(sandbox) + "/images", None)

    assert sandbox.stats.requests == {
        "events.list": 1,
        "photos.list": 2,
        "bibs.search": 1,
        "originals.links": 1,
        "timeline.days": 1,
        "timeline.images": 1,
    }
    assert sandbox.stats.billable_searches == 0


async def test_fault_on_new_route(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.add_fault("bibs.search", Fault(status=503))
    url = event_url(sandbox) + "/bibs/1234"

    first_status, first_body = await get_json(session, url)
    second_status, _ = await get_json(session, url)

    assert first_status == 503
    assert first_body["responseType"] == "error"
    assert second_status == 200
    assert sandbox.stats.faults == {"error": 1}


async def test_chaos_on_new_route(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(
        Chaos(error_rate=1.0, error_statuses=(502,), error_bodies=("json",)),
        route="originals.links",
    )

    status, _ = await post_originals(session, sandbox, {"method": "bib", "identifier": "1234"})
    other_status, _ = await get_json(session, event_url(sandbox) + "/bibs/1234")

    assert status == 502
    assert other_status == 200
    assert sandbox.stats.faults == {"error": 1}


async def test_chaos_identity_uses_json_body(sandbox: Sandbox) -> None:
    # Two bodies posted to the same URL are two identities, so each one's first attempt gets
    # the same draw whichever is sent first.
    chaos = Chaos(error_rate=0.5, error_bodies=("json",))
    bodies = [{"method": "bib", "identifier": str(bib)} for bib in range(1001, 1041)]

    async def statuses(order: list[dict[str, str]]) -> dict[str, int]:
        async with (
            Sandbox(chaos=chaos, seed=3) as server,
            aiohttp.ClientSession(headers={"X-API-Key": server.api_key}) as client_session,
        ):
            result = {}
            for body in order:
                status, _ = await post_originals(client_session, server, body)
                result[body["identifier"]] = status
            return result

    forward = await statuses(bodies)
    backward = await statuses(bodies[::-1])

    assert forward == backward
    assert 200 in forward.values()
    assert len(set(forward.values())) > 1


# List Events


async def test_events_first_page(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, api_url(sandbox, "/events"))

    assert status == 200
    assert body["responseType"] == "success"
    assert body["message"] == "Records for events"
    events = body["data"]["events"]
    assert len(events) == 10
    assert events[0] == {
        "event_id": 456,
        "event_name": "Mumbai Marathon 2026",
        "event_slug": "mumbai-marathon-2026",
        "event_date": "2026-01-19T06:00:00",
        "status": "active",
        "cover_image": events[0]["cover_image"],
    }
    assert events[0]["cover_image"].startswith(f"{sandbox.base_url}/media/456/large/")
    assert events[1]["event_id"] == 457
    assert body["data"]["pagination"] == {
        "total": 24,
        "currentPage": 1,
        "totalPages": 3,
        "hasNextPage": True,
        "hasPreviousPage": False,
        "page_size": 10,
    }


@pytest.mark.parametrize(
    ("page", "count", "has_next"),
    [(2, 10, True), (3, 4, False), (4, 0, False)],
    ids=["middle", "last", "past-the-end"],
)
async def test_events_later_pages(
    sandbox: Sandbox, session: aiohttp.ClientSession, page: int, count: int, has_next: bool
) -> None:
    status, body = await get_json(session, api_url(sandbox, "/events"), {"page": page})

    assert status == 200
    assert len(body["data"]["events"]) == count
    assert body["data"]["pagination"]["currentPage"] == page
    assert body["data"]["pagination"]["hasNextPage"] is has_next
    assert body["data"]["pagination"]["hasPreviousPage"] is True


async def test_events_ids_ascending_unique(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, body = await get_json(session, api_url(sandbox, "/events"), {"page_size": 100})

    event_ids = [event["event_id"] for event in body["data"]["events"]]
    assert len(event_ids) == 24
    assert event_ids == sorted(set(event_ids))
    assert {DEMO_EVENT_ID, DISABLED_EVENT_ID, EMPTY_EVENT_ID, NO_TIMELINE_EVENT_ID} <= set(
        event_ids
    )


async def test_events_nullable_fields(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    _, body = await get_json(session, api_url(sandbox, "/events"), {"page_size": 100})
    events = body["data"]["events"]

    for field in ("event_name", "event_slug", "event_date", "status", "cover_image"):
        assert any(event[field] is None for event in events), field
    covers = [event["cover_image"] for event in events if event["cover_image"] is not None]
    assert any(cover.startswith("imgs/") for cover in covers)
    assert any(cover.startswith(sandbox.base_url) for cover in covers)
    assert {event["status"] for event in events} == {"active", "draft", None}


async def test_events_follow_live_changes(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.event(DEMO_EVENT_ID).name = None

    _, body = await get_json(session, api_url(sandbox, "/events"))

    assert body["data"]["events"][0]["event_name"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page_size": "101"}, "query.page_size: Input should be less than or equal to 100"),
        ({"page_size": "0"}, "query.page_size: Input should be greater than or equal to 1"),
        ({"page": "0"}, "query.page: Input should be greater than or equal to 1"),
        (
            {"page": "two"},
            "query.page: Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
async def test_events_page_query_422(
    sandbox: Sandbox, session: aiohttp.ClientSession, params: dict[str, str], message: str
) -> None:
    status, body = await get_json(session, api_url(sandbox, "/events"), params)

    assert status == 422
    assert body == error_body(message)


async def test_events_max_page_size(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, api_url(sandbox, "/events"), {"page_size": "100"})

    assert status == 200
    assert body["data"]["pagination"]["totalPages"] == 1


# All Photos


async def test_photos_first_page(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, event_url(sandbox) + "/images")

    assert status == 200
    assert body["message"] == "Records for all images"
    assert set(body["data"]) == {"images", "pagination"}
    images = body["data"]["images"]
    assert len(images) == 32
    assert set(images[0]) == IMAGE_KEYS
    assert body["data"]["pagination"] == {
        "total": 3000,
        "currentPage": 1,
        "totalPages": 94,
        "hasNextPage": True,
        "hasPreviousPage": False,
        "page_size": 32,
    }


@pytest.mark.parametrize(
    ("page", "count", "has_next"),
    [(93, 32, True), (94, 24, False), (95, 0, False)],
    ids=["before-last", "last", "past-the-end"],
)
async def test_photos_later_pages(
    sandbox: Sandbox, session: aiohttp.ClientSession, page: int, count: int, has_next: bool
) -> None:
    status, body = await get_json(session, event_url(sandbox) + "/images", {"page": page})

    assert status == 200
    assert body["message"] == "Records for all images"
    assert len(body["data"]["images"]) == count
    assert body["data"]["pagination"]["currentPage"] == page
    assert body["data"]["pagination"]["totalPages"] == 94
    assert body["data"]["pagination"]["hasNextPage"] is has_next


async def test_photos_capture_order(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    image_ids = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    timestamps = [sandbox.capture_timestamp(DEMO_EVENT_ID, photo_id) for photo_id in image_ids]

    assert len(image_ids) == DEMO_PHOTOS
    assert len(set(image_ids)) == DEMO_PHOTOS
    dated = timestamps[:DEMO_TIMESTAMPED]
    assert all(timestamp is not None for timestamp in dated)
    assert dated == sorted(dated, key=lambda timestamp: timestamp or 0)
    assert all(timestamp is None for timestamp in timestamps[DEMO_TIMESTAMPED:])


async def test_photos_order_stable(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    first = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    async with (
        Sandbox() as other,
        aiohttp.ClientSession(headers={"X-API-Key": other.api_key}) as other_session,
    ):
        second = await gallery_ids(other_session, other, DEMO_EVENT_ID)
    _, small_pages = await get_json(
        session, event_url(sandbox) + "/images", {"page": 2, "page_size": 7}
    )

    assert first == second
    assert [image["image_id"] for image in small_pages["data"]["images"]] == first[7:14]


async def test_photos_empty_event(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, event_url(sandbox, EMPTY_EVENT_ID) + "/images")

    assert status == 200
    assert body == {
        "responseType": "success",
        "message": "No images found",
        "data": {"images": [], "pagination": EMPTY_PAGINATION_32},
    }


async def test_photos_page_size_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, event_url(sandbox) + "/images", {"page_size": 101})

    assert status == 422
    assert body == error_body("query.page_size: Input should be less than or equal to 100")


async def test_photos_follow_photo_count(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.event(DEMO_EVENT_ID).photo_count = 5

    _, body = await get_json(session, event_url(sandbox) + "/images")

    assert body["data"]["pagination"]["total"] == 5


# BIB Search


@pytest.mark.parametrize(("bib", "count"), sorted(SAMPLE_BIBS.items()))
async def test_bib_sample_counts(
    sandbox: Sandbox, session: aiohttp.ClientSession, bib: str, count: int
) -> None:
    status, body = await get_json(session, f"{event_url(sandbox)}/bibs/{bib}")

    assert status == 200
    assert body["message"] == f"Records for bib number {bib}"
    assert body["data"]["pagination"]["total"] == count
    assert len(body["data"]["images"]) == min(count, 32)


def test_sample_bibs_cover_edge_counts() -> None:
    assert max(SAMPLE_BIBS.values()) > 100
    assert 1 in SAMPLE_BIBS.values()
    assert 0 in SAMPLE_BIBS.values()
    assert any(not bib.isdigit() for bib in SAMPLE_BIBS)


async def test_bib_pages_in_capture_order(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    position = {photo_id: number for number, photo_id in enumerate(gallery)}

    bib_ids = await all_page_ids(session, f"{event_url(sandbox)}/bibs/1234", {})
    _, last = await get_json(session, f"{event_url(sandbox)}/bibs/1234", {"page": 4})

    assert len(bib_ids) == 120
    assert len(set(bib_ids)) == 120
    positions = [position[photo_id] for photo_id in bib_ids]
    assert positions == sorted(positions)
    assert len(last["data"]["images"]) == 24
    assert last["data"]["pagination"] == {
        "total": 120,
        "currentPage": 4,
        "totalPages": 4,
        "hasNextPage": False,
        "hasPreviousPage": True,
        "page_size": 32,
    }


async def test_bib_case_insensitive(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    _, upper = await get_json(session, f"{event_url(sandbox)}/bibs/A123")
    _, lower = await get_json(session, f"{event_url(sandbox)}/bibs/a123")

    assert upper["data"]["pagination"]["total"] == 10
    assert lower["data"]["images"] == upper["data"]["images"]
    assert lower["message"] == "Records for bib number a123"


async def test_bib_percent_decoded(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    # %41 is "A". encoded=True stops yarl from normalising it before sending.
    url = yarl.URL(f"{event_url(sandbox)}/bibs/%41123", encoded=True)
    slash_url = yarl.URL(f"{event_url(sandbox)}/bibs/A%2F123", encoded=True)

    status, body = await get_json(session, url)
    slash_status, slash_body = await get_json(session, slash_url)

    assert status == 200
    assert body["data"]["pagination"]["total"] == 10
    assert slash_status == 200
    assert slash_body["message"] == "Records for bib number A/123"
    assert slash_body["data"]["pagination"]["total"] == 0


async def test_bib_single_match(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    _, body = await get_json(session, f"{event_url(sandbox)}/bibs/777")

    assert len(body["data"]["images"]) == 1
    assert body["data"]["pagination"] == {
        "total": 1,
        "currentPage": 1,
        "totalPages": 1,
        "hasNextPage": False,
        "hasPreviousPage": False,
        "page_size": 32,
    }


async def test_bib_unknown_empty_200(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, f"{event_url(sandbox)}/bibs/99999", {"page": 2})

    assert status == 200
    assert body == {
        "responseType": "success",
        "message": "Records for bib number 99999",
        "data": {"images": [], "pagination": EMPTY_PAGINATION_32},
    }


async def test_bib_past_the_end(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    _, body = await get_json(session, f"{event_url(sandbox)}/bibs/777", {"page": 2})

    assert body["data"]["images"] == []
    assert body["data"]["pagination"]["currentPage"] == 2
    assert body["data"]["pagination"]["hasNextPage"] is False


async def test_bib_disabled_403(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, f"{event_url(sandbox, DISABLED_EVENT_ID)}/bibs/1234")

    assert status == 403
    assert body == error_body("BIB search is disabled for this event (bib_search is false)")


async def test_bib_flag_change_applies(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.event(DISABLED_EVENT_ID).bib_search = True

    status, body = await get_json(session, f"{event_url(sandbox, DISABLED_EVENT_ID)}/bibs/1234")

    assert status == 200
    assert body["data"]["pagination"]["total"] == 8


async def test_bib_page_size_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, f"{event_url(sandbox)}/bibs/1234", {"page_size": 101})

    assert status == 422
    assert body == error_body("query.page_size: Input should be less than or equal to 100")


# Photo Timeline


async def test_timeline_days_demo(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, event_url(sandbox) + "/timeline/days")

    assert status == 200
    assert body["message"] == "Timeline buckets"
    days = body["data"]["days"]
    assert [day["date"] for day in days] == ["2026-01-19"]
    hours = days[0]["hours"]
    assert [hour["hour"] for hour in hours] == list(range(6, 14))
    assert sum(hour["count"] for hour in hours) == DEMO_TIMESTAMPED
    assert days[0]["total"] == DEMO_TIMESTAMPED


async def test_timeline_days_across_midnight(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    # Event 1002 starts at 20:00 UTC, so its eight hours of photos span two UTC days.
    _, body = await get_json(session, event_url(sandbox, 1002) + "/timeline/days")

    days = body["data"]["days"]
    assert [day["date"] for day in days] == ["2026-02-14", "2026-02-15"]
    assert [hour["hour"] for hour in days[0]["hours"]] == [20, 21, 22, 23]
    assert [hour["hour"] for hour in days[1]["hours"]] == [0, 1, 2, 3]
    for day in days:
        assert day["total"] == sum(hour["count"] for hour in day["hours"])


async def test_timeline_days_empty(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_json(session, event_url(sandbox, EMPTY_EVENT_ID) + "/timeline/days")

    assert status == 200
    assert body == {"responseType": "success", "message": "No timeline data", "data": {"days": []}}


async def test_timeline_days_no_date(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    # Without an event date no photo has a capture time, but All Photos still lists them.
    sandbox.event(DEMO_EVENT_ID).date = None

    _, days = await get_json(session, event_url(sandbox) + "/timeline/days")
    _, photos = await get_json(session, event_url(sandbox) + "/images")

    assert days["data"]["days"] == []
    assert photos["data"]["pagination"]["total"] == DEMO_PHOTOS


@pytest.mark.parametrize("path", ["/timeline/days", "/timeline/images?from=0&to=1"])
async def test_timeline_disabled_403(
    sandbox: Sandbox, session: aiohttp.ClientSession, path: str
) -> None:
    status, body = await get_json(session, event_url(sandbox, NO_TIMELINE_EVENT_ID) + path)

    assert status == 403
    assert body == error_body(
        "Photo timeline is disabled for this event (timeline_search is false)"
    )


async def test_timeline_hours_match_images(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, body = await get_json(session, event_url(sandbox, 1002) + "/timeline/days")

    for day in body["data"]["days"]:
        for bucket in day["hours"]:
            hour_start = datetime.fromisoformat(day["date"]).replace(
                hour=bucket["hour"], tzinfo=timezone.utc
            )
            start = int(hour_start.timestamp())
            _, window = await get_json(
                session,
                event_url(sandbox, 1002) + "/timeline/images",
                {"from": start, "to": start + 3600},
            )
            assert window["data"]["pagination"]["total"] == bucket["count"], bucket


async def test_timeline_window_half_open(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    first = sandbox.capture_timestamp(DEMO_EVENT_ID, gallery[0])
    assert first is not None
    burst = [
        photo_id
        for photo_id in gallery
        if sandbox.capture_timestamp(DEMO_EVENT_ID, photo_id) == first
    ]
    url = event_url(sandbox) + "/timeline/images"

    _, at_start = await get_json(session, url, {"from": first, "to": first + 1})
    _, before = await get_json(session, url, {"from": first - 1, "to": first})

    assert len(burst) == 3
    assert [image["image_id"] for image in at_start["data"]["images"]] == burst
    assert at_start["message"] == "Records for timeline images"
    assert before["message"] == "No images found"
    assert before["data"] == {"images": [], "pagination": EMPTY_PAGINATION_32}


async def test_timeline_window_excludes_end(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    times = [sandbox.capture_timestamp(DEMO_EVENT_ID, photo_id) for photo_id in gallery]
    first = times[0]
    second = next(time for time in times if time != first)
    assert first is not None
    assert second is not None
    url = event_url(sandbox) + "/timeline/images"

    _, upto_second = await get_json(session, url, {"from": first, "to": second})
    _, through_second = await get_json(session, url, {"from": first, "to": second + 1})

    assert upto_second["data"]["pagination"]["total"] == times.count(first)
    assert through_second["data"]["pagination"]["total"] == times.count(first) + times.count(second)


async def test_timeline_images_whole_event(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)

    window_ids = await all_page_ids(
        session,
        event_url(sandbox) + "/timeline/images",
        {"from": 0, "to": 2**40, "page_size": 100},
    )

    assert window_ids == gallery[:DEMO_TIMESTAMPED]


async def test_timeline_images_pages(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    url = event_url(sandbox) + "/timeline/images"
    params = {"from": 0, "to": 2**40}

    _, first = await get_json(session, url, params)
    _, past = await get_json(session, url, {**params, "page": 93})

    assert len(first["data"]["images"]) == 32
    assert first["data"]["pagination"]["totalPages"] == 92
    assert first["data"]["pagination"]["total"] == DEMO_TIMESTAMPED
    assert past["data"]["images"] == []
    assert past["data"]["pagination"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"to": "10"}, "query.from: Field required"),
        ({"from": "10"}, "query.to: Field required"),
        ({}, "query.from: Field required; query.to: Field required"),
        (
            {"from": "1.5", "to": "10"},
            "query.from: Input should be a valid integer, unable to parse string as an integer",
        ),
        ({"from": "10", "to": "10"}, "query.to: Input should be greater than from (10)"),
        ({"from": "11", "to": "10"}, "query.to: Input should be greater than from (11)"),
        (
            {"from": "0", "to": "10", "page_size": "101"},
            "query.page_size: Input should be less than or equal to 100",
        ),
    ],
    ids=["no-from", "no-to", "neither", "float", "empty", "reversed", "page-size"],
)
async def test_timeline_images_422(
    sandbox: Sandbox, session: aiohttp.ClientSession, params: dict[str, str], message: str
) -> None:
    status, body = await get_json(session, event_url(sandbox) + "/timeline/images", params)

    assert status == 422
    assert body == error_body(message)


async def test_capture_timestamp_unknown(sandbox: Sandbox) -> None:
    with pytest.raises(KeyError, match="image_id"):
        sandbox.capture_timestamp(DEMO_EVENT_ID, "not-an-image")
    with pytest.raises(KeyError):
        sandbox.capture_timestamp(999, "not-an-image")


# Download Originals


async def test_originals_bib_first_page(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_originals(session, sandbox, {"method": "bib", "identifier": "1234"})

    assert status == 200
    assert body["responseType"] == "success"
    assert body["message"] == "Presigned URLs for original photos"
    data = body["data"]
    assert set(data) == ORIGINALS_KEYS
    assert data["identifier"] == "1234"
    assert data["message"] is None
    assert data["total_images"] == 30
    assert data["successful_count"] == len(data["presigned_urls"])
    assert data["failed_count"] == len(data["failed_urls"])
    assert data["successful_count"] + data["failed_count"] == 30
    assert data["pagination"] == {
        "total": 120,
        "currentPage": 1,
        "totalPages": 4,
        "hasNextPage": True,
        "hasPreviousPage": False,
        "page_size": 30,
    }
    link = data["presigned_urls"][0]
    assert set(link) == {"url", "filename"}
    pattern = (
        rf"{re.escape(sandbox.base_url)}/media/originals/456/"
        r"([0-9a-f-]{36})\.jpg\?expires=(\d+)&signature=([0-9a-f]{64})"
    )
    match = re.fullmatch(pattern, link["url"])
    assert match is not None
    assert link["filename"] == f"{match.group(1)}.jpg"


async def test_originals_follow_bib_search(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    bib_ids = await all_page_ids(session, f"{event_url(sandbox)}/bibs/A123", {})

    status, body = await post_originals(session, sandbox, {"method": "bib", "identifier": "a123"})

    data = body["data"]
    returned = link_ids(data) + [failure["image_id"] for failure in data["failed_urls"]]
    assert status == 200
    assert sorted(returned) == sorted(bib_ids)
    assert [photo_id for photo_id in bib_ids if photo_id in link_ids(data)] == link_ids(data)
    assert data["identifier"] == "a123"


async def test_originals_failed_urls(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    # The first photo of the gallery has index 0, which is a multiple of 53 and so fails.
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    failing, working = gallery[0], gallery[1]

    _, body = await post_originals(
        session, sandbox, {"method": "image_ids", "identifier": [failing, working]}
    )

    data = body["data"]
    assert data["failed_urls"] == [
        {
            "image_id": failing,
            "error": "Failed to generate URL",
            "path": f"imgs/456/large/{failing}.jpg",
        }
    ]
    assert link_ids(data) == [working]
    assert data["total_images"] == 2
    assert data["successful_count"] == 1
    assert data["failed_count"] == 1


async def test_originals_few_fail_per_bib(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    failed = 0
    for page in range(1, 5):
        _, body = await post_originals(
            session, sandbox, {"method": "bib", "identifier": "1234"}, params={"page": page}
        )
        failed += body["data"]["failed_count"]

    assert 0 < failed < 10


async def test_originals_selfie(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("file", RUNNER, filename="selfie.jpg", content_type="image/jpeg")
    async with session.post(
        event_url(sandbox) + "/faces", data=form, params={"page_size": 100}
    ) as response:
        search = (await response.json())["data"]
    matched = [image["image_id"] for image in search["images"]]

    links: list[str] = []
    failures: list[str] = []
    totals = []
    for page in (1, 2, 3):
        status, body = await post_originals(
            session,
            sandbox,
            {"method": "selfie", "identifier": search["request_id"].upper()},
            params={"page": page},
        )
        assert status == 200
        data = body["data"]
        totals.append(data["total_images"])
        links += link_ids(data)
        failures += [failure["image_id"] for failure in data["failed_urls"]]

    assert totals == [30, 30, 27]
    assert sorted(links + failures) == sorted(matched)
    assert links == [photo_id for photo_id in matched if photo_id not in failures]
    assert sandbox.stats.billable_searches == 1


async def test_originals_selfie_no_matches(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    form.add_field("file", STRANGER, filename="selfie.png", content_type="image/png")
    async with session.post(event_url(sandbox) + "/faces", data=form) as response:
        request_id = (await response.json())["data"]["request_id"]

    status, body = await post_originals(
        session, sandbox, {"method": "selfie", "identifier": request_id}
    )

    message = f"No images found for selfie identifier {request_id}"
    assert status == 200
    assert body["message"] == message
    assert body["data"] == {
        "presigned_urls": [],
        "failed_urls": [],
        "total_images": 0,
        "successful_count": 0,
        "failed_count": 0,
        "identifier": request_id,
        "message": message,
        "pagination": {**EMPTY_PAGINATION_32, "page_size": 30},
    }


async def test_originals_selfie_unknown_404(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    request_id = str(uuid.uuid4())

    status, body = await post_originals(
        session, sandbox, {"method": "selfie", "identifier": request_id}
    )

    assert status == 404
    assert body == error_body(f"No face search with request_id {request_id} exists for this event.")


async def test_originals_selfie_not_uuid_400(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, body = await post_originals(
        session, sandbox, {"method": "selfie", "identifier": "runner"}
    )

    assert status == 400
    assert body == error_body("request_id 'runner' is not a valid UUID.")


async def test_originals_image_id(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)

    status, body = await post_originals(
        session, sandbox, {"method": "image_id", "identifier": gallery[5].upper()}
    )

    assert status == 200
    assert link_ids(body["data"]) == [gallery[5]]
    assert body["data"]["identifier"] == gallery[5].upper()
    assert body["data"]["pagination"]["total"] == 1


async def test_originals_image_id_unknown_400(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, body = await post_originals(
        session,
        sandbox,
        {"method": "image_id", "identifier": "b5513429-1d05-5f2f-c9f9-bd9f9g3gd355"},
    )

    assert status == 400
    assert body == error_body(
        "image_id b5513429-1d05-5f2f-c9f9-bd9f9g3gd355 not found for this event."
    )


async def test_originals_image_ids_order(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    requested = [gallery[9], "unknown-id", gallery[3], gallery[9], gallery[7]]

    status, body = await post_originals(
        session, sandbox, {"method": "image_ids", "identifier": requested}
    )

    data = body["data"]
    assert status == 200
    assert link_ids(data) == [gallery[9], gallery[3], gallery[7]]
    assert data["identifier"] is None
    assert data["message"] is None
    assert data["pagination"]["total"] == 3


async def test_originals_image_ids_pages(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    gallery = await gallery_ids(session, sandbox, DEMO_EVENT_ID)
    requested = gallery[1:8]

    _, body = await post_originals(
        session,
        sandbox,
        {"method": "image_ids", "identifier": requested},
        params={"page": 2, "page_size": 3},
    )

    assert link_ids(body["data"]) == requested[3:6]
    assert body["data"]["pagination"] == {
        "total": 7,
        "currentPage": 2,
        "totalPages": 3,
        "hasNextPage": True,
        "hasPreviousPage": True,
        "page_size": 3,
    }


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ([], "identifier must list at least one image_id for method image_ids."),
        (["nope", "still-nope"], "None of the requested image_ids exists in this event."),
    ],
    ids=["empty", "none-known"],
)
async def test_originals_image_ids_400(
    sandbox: Sandbox, session: aiohttp.ClientSession, identifier: list[str], message: str
) -> None:
    status, body = await post_originals(
        session, sandbox, {"method": "image_ids", "identifier": identifier}
    )

    assert status == 400
    assert body == error_body(message)


async def test_originals_unknown_bib_empty(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, body = await post_originals(session, sandbox, {"method": "bib", "identifier": "99999"})

    assert status == 200
    assert body["message"] == "No images found for bib identifier 99999"
    assert body["data"]["presigned_urls"] == []
    assert body["data"]["identifier"] == "99999"
    assert body["data"]["message"] == "No images found for bib identifier 99999"
    assert body["data"]["pagination"]["currentPage"] == 0


async def test_originals_past_the_end(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_originals(
        session, sandbox, {"method": "bib", "identifier": "1234"}, params={"page": 5}
    )

    data = body["data"]
    assert status == 200
    assert data["presigned_urls"] == []
    assert data["failed_urls"] == []
    assert data["total_images"] == 0
    assert data["message"] is None
    assert data["pagination"]["currentPage"] == 5
    assert data["pagination"]["hasNextPage"] is False


async def test_originals_ignore_flags(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_originals(
        session, sandbox, {"method": "bib", "identifier": "1234"}, event_id=DISABLED_EVENT_ID
    )

    assert status == 200
    assert body["data"]["pagination"]["total"] == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "body: Field required"),
        (b"{not json", "body: JSON decode error"),
        (b"[1, 2]", "body: Input should be a valid dictionary or object to extract fields from"),
        (b'{"identifier": "1"}', "body.method: Field required"),
        (
            b'{"method": "name", "identifier": "1"}',
            "body.method: Input should be 'bib', 'selfie', 'image_id' or 'image_ids'",
        ),
        (
            b'{"method": "BIB", "identifier": "1"}',
            "body.method: Input should be 'bib', 'selfie', 'image_id' or 'image_ids'",
        ),
        (b'{"method": "bib"}', "body.identifier: Field required"),
        (
            b'{"method": "bib", "identifier": ["1"]}',
            "body.identifier: Input should be a valid string",
        ),
        (
            b'{"method": "selfie", "identifier": 7}',
            "body.identifier: Input should be a valid string",
        ),
        (
            b'{"method": "image_ids", "identifier": "a"}',
            "body.identifier: Input should be a valid list",
        ),
        (
            b'{"method": "image_ids", "identifier": ["a", 2]}',
            "body.identifier.1: Input should be a valid string",
        ),
        (
            b"{}",
            "body.method: Field required; body.identifier: Field required",
        ),
    ],
    ids=[
        "empty",
        "not-json",
        "array",
        "no-method",
        "unknown-method",
        "method-case",
        "no-identifier",
        "list-for-bib",
        "number-for-selfie",
        "string-for-image-ids",
        "number-in-image-ids",
        "empty-object",
    ],
)
async def test_originals_invalid_body_422(
    sandbox: Sandbox, session: aiohttp.ClientSession, content: bytes, message: str
) -> None:
    status, body = await post_raw_originals(session, sandbox, content)

    assert status == 422
    assert body == error_body(message)


async def test_originals_query_and_body_422(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, body = await post_originals(
        session, sandbox, {"method": "bib"}, params={"page_size": 61}
    )

    assert status == 422
    assert body == error_body(
        "query.page_size: Input should be less than or equal to 60; body.identifier: Field required"
    )


async def test_originals_max_page_size(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_originals(
        session, sandbox, {"method": "bib", "identifier": "1234"}, params={"page_size": 60}
    )

    assert status == 200
    assert body["data"]["total_images"] == 60
    assert body["data"]["pagination"]["totalPages"] == 2


async def test_originals_legacy_flat() -> None:
    async with (
        Sandbox(legacy_flat=True) as sandbox,
        aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as client_session,
    ):
        status, body = await post_originals(
            client_session, sandbox, {"method": "bib", "identifier": "777"}
        )
        _, empty = await post_originals(
            client_session, sandbox, {"method": "bib", "identifier": "99999"}
        )
        _, photos = await get_json(client_session, event_url(sandbox) + "/images")

    assert status == 200
    assert set(body) == ORIGINALS_KEYS
    assert body["identifier"] == "777"
    assert body["message"] is None
    assert body["total_images"] == 1
    assert body["pagination"]["total"] == 1
    assert empty["message"] == "No images found for bib identifier 99999"
    assert "responseType" not in empty
    # Only Ping, Event Details and Download Originals have an older flat shape.
    assert photos["responseType"] == "success"
