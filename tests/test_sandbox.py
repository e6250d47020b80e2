"""Tests of the sandbox server through a plain aiohttp client, without the SDK client."""

from __future__ import annotations

import asyncio
import io
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from nine_pic_async.testing import (
    DEMO_API_KEY,
    DEMO_EVENT_ID,
    DEMO_ORG_ID,
    DISABLED_EVENT_ID,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    Fault,
    Sandbox,
    SandboxStats,
    serve,
)

RUNNER = SAMPLE_SELFIES["runner.jpg"].read_bytes()
STRANGER = SAMPLE_SELFIES["stranger.png"].read_bytes()
OTHER_IMAGE = b"\xff\xd8\xff\xe0 not one of the samples"


@pytest.fixture
async def session(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as client_session:
        yield client_session


def event_url(sandbox: Sandbox, event_id: int = DEMO_EVENT_ID, org_id: int | None = None) -> str:
    org = sandbox.org_id if org_id is None else org_id
    return f"{sandbox.base_url}/api/v1/ext/{org}/event/{event_id}"


def selfie_form(selfie: bytes | None, request_id: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if selfie is not None:
        form.add_field("file", selfie, filename="selfie.jpg", content_type="image/jpeg")
    if request_id is not None:
        form.add_field("request_id", request_id)
    return form


async def post_selfie(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    selfie: bytes | None,
    *,
    request_id: str | None = None,
    event_id: int = DEMO_EVENT_ID,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    url = event_url(sandbox, event_id) + "/faces"
    async with session.post(url, data=selfie_form(selfie, request_id), params=params) as response:
        return response.status, await response.json()


async def get_search(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    request_id: str,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    url = f"{event_url(sandbox)}/faces/{request_id}"
    async with session.get(url, params=params) as response:
        return response.status, await response.json()


def error_body(message: str) -> dict[str, Any]:
    return {"responseType": "error", "message": message, "data": None}


# Lifecycle and bookkeeping


async def test_base_url_before_start_raises() -> None:
    sandbox = Sandbox()

    with pytest.raises(RuntimeError, match="not been started"):
        _ = sandbox.base_url


async def test_start_binds_loopback_port() -> None:
    async with Sandbox() as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:")
        assert int(sandbox.base_url.rsplit(":", 1)[1]) > 0
        assert sandbox.api_key == DEMO_API_KEY
        assert sandbox.org_id == DEMO_ORG_ID


async def test_close_is_idempotent() -> None:
    sandbox = Sandbox()
    await sandbox.start()
    url = f"{event_url(sandbox)}/ping"

    await sandbox.close()
    await sandbox.close()

    async with aiohttp.ClientSession() as client_session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await client_session.get(url)
    with pytest.raises(RuntimeError, match="closed"):
        await sandbox.start()


async def test_close_without_start() -> None:
    sandbox = Sandbox()

    await sandbox.close()

    with pytest.raises(RuntimeError):
        _ = sandbox.base_url


async def test_stats_count_every_route(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    await session.get(f"{event_url(sandbox)}/ping")
    await session.get(f"{event_url(sandbox)}/details")
    await session.get(f"{event_url(sandbox, 999)}/details")
    await post_selfie(session, sandbox, RUNNER)
    await session.get(f"{event_url(sandbox)}/unknown")

    assert sandbox.stats.requests == {
        "events.ping": 1,
        "events.details": 2,
        "faces.search": 1,
        "unmatched": 1,
    }
    assert sandbox.stats.total_requests == 5
    assert sandbox.stats.billable_searches == 1


async def test_reset_stats_keeps_object(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    stats = sandbox.stats
    await post_selfie(session, sandbox, RUNNER)

    sandbox.reset_stats()

    assert sandbox.stats is stats
    assert stats.total_requests == 0
    assert stats.billable_searches == 0


def test_stats_total_sums_routes() -> None:
    stats = SandboxStats()
    stats.requests["faces.get"] += 3
    stats.requests["events.ping"] += 2

    assert stats.total_requests == 5


async def test_event_lookup(sandbox: Sandbox) -> None:
    assert sandbox.event(DEMO_EVENT_ID).name == "Mumbai Marathon 2026"
    assert sandbox.event(DEMO_EVENT_ID).photo_count == 3000
    assert sandbox.event(DISABLED_EVENT_ID).selfie_search is False
    with pytest.raises(KeyError):
        sandbox.event(999)


async def test_serve_runs_until_cancelled() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    task = asyncio.create_task(serve(port=port))
    url = f"http://127.0.0.1:{port}/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}/ping"

    status = None
    async with aiohttp.ClientSession(headers={"X-API-Key": DEMO_API_KEY}) as client_session:
        for _ in range(100):
            try:
                async with client_session.get(url) as response:
                    status = response.status
                break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.01)
        assert status == 200

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# Sample selfies


@pytest.mark.parametrize("name", sorted(SAMPLE_SELFIES))
def test_sample_selfie_is_small_image(name: str) -> None:
    data = SAMPLE_SELFIES[name].read_bytes()

    assert len(data) < 30 * 1024
    if name.endswith(".jpg"):
        assert data.startswith(b"\xff\xd8\xff")
    else:
        assert data.startswith(b"\x89PNG\r\n\x1a\n")


def test_sample_names_match() -> None:
    assert set(SAMPLE_SELFIES) == set(SAMPLE_MATCHES)
    assert SAMPLE_MATCHES == {
        "runner.jpg": 87,
        "cyclist.png": 12,
        "crowd.jpg": 1000,
        "stranger.png": 0,
    }


# Ping and Event Details


async def test_ping_envelope(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{event_url(sandbox)}/ping") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        body = await response.json()

    assert body == {
        "responseType": "success",
        "message": "pong",
        "data": {"status": "ok", "org_id": 903, "event_id": 456},
    }


async def test_details_envelope(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{event_url(sandbox)}/details") as response:
        assert response.status == 200
        body = await response.json()

    assert body == {
        "responseType": "success",
        "message": "Event details",
        "data": {
            "event_id": 456,
            "event_name": "Mumbai Marathon 2026",
            "event_slug": "mumbai-marathon-2026",
            "event_date": "2026-01-19T06:00:00",
            "status": "active",
            "event_enabled": True,
            "bib_search": True,
            "selfie_search": True,
            "name_search": False,
            "video_search": True,
            "video_selfie_search": True,
            "timeline_search": True,
        },
    }


async def test_details_disabled_event_flags(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{event_url(sandbox, DISABLED_EVENT_ID)}/details") as response:
        data = (await response.json())["data"]

    assert data["event_name"] == "Delhi Half Marathon"
    assert data["selfie_search"] is False
    assert data["bib_search"] is False


async def test_legacy_flat_shapes() -> None:
    async with (
        Sandbox(legacy_flat=True) as sandbox,
        aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as client_session,
    ):
        async with client_session.get(f"{event_url(sandbox)}/ping") as response:
            ping = await response.json()
        async with client_session.get(f"{event_url(sandbox)}/details") as response:
            details = await response.json()
        async with client_session.get(f"{event_url(sandbox, 999)}/ping") as response:
            missing = await response.json()

    assert ping == {"status": "ok", "org_id": 903, "event_id": 456}
    assert details == {
        "event_id": 456,
        "event_name": "Mumbai Marathon 2026",
        "event_slug": "mumbai-marathon-2026",
        "event_date": "2026-01-19T06:00:00",
        "status": "active",
        "event_enabled": True,
        "bib_search": True,
        "selfie_search": True,
        "name_search": False,
    }
    assert missing == error_body("Event configuration not found")


async def test_custom_key_and_org() -> None:
    async with (
        Sandbox(api_key="other-key", org_id=42) as sandbox,
        aiohttp.ClientSession(headers={"X-API-Key": "other-key"}) as client_session,
        client_session.get(f"{event_url(sandbox)}/ping") as response,
    ):
        status = response.status
        body = await response.json()

    assert status == 200
    assert body["data"]["org_id"] == 42


# Authentication, ownership and flags


async def test_missing_key_401(sandbox: Sandbox) -> None:
    async with (
        aiohttp.ClientSession() as client_session,
        client_session.get(f"{event_url(sandbox)}/ping") as response,
    ):
        status = response.status
        body = await response.json()

    assert status == 401
    assert body["responseType"] == "error"
    assert body["data"] is None
    assert "X-API-Key" in body["message"]
    assert sandbox.stats.requests["events.ping"] == 1


async def test_wrong_key_403(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession(headers={"X-API-Key": "wrong"}) as client_session:
        status, body = await post_selfie(client_session, sandbox, RUNNER)

    assert status == 403
    assert body == error_body("Invalid or inactive API key.")
    assert sandbox.stats.requests["faces.search"] == 1
    assert sandbox.stats.billable_searches == 0


async def test_org_mismatch_403(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{event_url(sandbox, org_id=904)}/details") as response:
        status = response.status
        body = await response.json()

    assert status == 403
    assert "904" in body["message"]
    assert body["data"] is None


async def test_unknown_event_404(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    for path in ("/ping", "/details", f"/faces/{uuid.uuid4()}"):
        async with session.get(event_url(sandbox, 999) + path) as response:
            assert response.status == 404
            assert await response.json() == error_body("Event configuration not found")
    status, body = await post_selfie(session, sandbox, RUNNER, event_id=999)

    assert status == 404
    assert body == error_body("Event configuration not found")
    assert sandbox.stats.billable_searches == 0


async def test_non_integer_event_id_404(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{sandbox.base_url}/api/v1/ext/903/event/abc/ping") as response:
        status = response.status
        body = await response.json()

    assert status == 404
    assert body["responseType"] == "error"
    assert sandbox.stats.requests["unmatched"] == 1


async def test_wrong_method_405(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    async with session.delete(f"{event_url(sandbox)}/ping") as response:
        status = response.status
        allow = response.headers.get("Allow")
        body = await response.json()

    assert status == 405
    assert allow is not None
    assert "GET" in allow
    assert body["responseType"] == "error"


async def test_disabled_selfie_search_403(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    message = "Selfie search is disabled for this event (selfie_search is false)"

    status, body = await post_selfie(session, sandbox, RUNNER, event_id=DISABLED_EVENT_ID)
    async with session.get(
        f"{event_url(sandbox, DISABLED_EVENT_ID)}/faces/{uuid.uuid4()}"
    ) as response:
        get_status = response.status
        get_body = await response.json()

    assert status == 403
    assert body == error_body(message)
    assert get_status == 403
    assert get_body == error_body(message)
    assert sandbox.stats.billable_searches == 0


async def test_flag_change_applies(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.event(DEMO_EVENT_ID).selfie_search = False
    status_off, _ = await post_selfie(session, sandbox, RUNNER)

    sandbox.event(DEMO_EVENT_ID).selfie_search = True
    status_on, _ = await post_selfie(session, sandbox, RUNNER)

    assert status_off == 403
    assert status_on == 200
    assert sandbox.stats.billable_searches == 1


# Validation


async def test_page_size_over_max_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, RUNNER, params={"page_size": "101"})

    assert status == 422
    assert body == error_body("query.page_size: Input should be less than or equal to 100")
    assert sandbox.stats.billable_searches == 0


async def test_page_size_max_accepted(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, RUNNER, params={"page_size": "100"})

    assert status == 200
    assert len(body["data"]["images"]) == 87


async def test_query_errors_joined_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_search(
        session, sandbox, str(uuid.uuid4()), params={"page": "0", "page_size": "abc"}
    )

    assert status == 422
    assert body["message"] == (
        "query.page: Input should be greater than or equal to 1; "
        "query.page_size: Input should be a valid integer, unable to parse string as an integer"
    )


async def test_page_size_zero_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_search(session, sandbox, str(uuid.uuid4()), params={"page_size": "0"})

    assert status == 422
    assert body["message"] == "query.page_size: Input should be greater than or equal to 1"


async def test_missing_file_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, None, request_id=str(uuid.uuid4()))

    assert status == 422
    assert body == error_body("body.file: Field required")
    assert sandbox.stats.billable_searches == 0


async def test_query_and_body_errors_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, None, params={"page": "x"})

    assert status == 422
    assert body["message"] == (
        "query.page: Input should be a valid integer, unable to parse string as an integer; "
        "body.file: Field required"
    )


async def test_non_multipart_body_422(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    async with session.post(f"{event_url(sandbox)}/faces", json={"file": "x"}) as response:
        status = response.status
        body = await response.json()

    assert status == 422
    assert body["message"] == "body.file: Field required"


async def test_empty_file_400(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, b"")

    assert status == 400
    assert body == error_body("The uploaded selfie file is empty.")
    assert sandbox.stats.billable_searches == 0


async def test_post_bad_request_id_400(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, RUNNER, request_id="not-a-uuid")

    assert status == 400
    assert body == error_body("request_id 'not-a-uuid' is not a valid UUID.")
    assert sandbox.stats.billable_searches == 0


async def test_get_bad_request_id_400(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await get_search(session, sandbox, "1234")

    assert status == 400
    assert body == error_body("request_id '1234' is not a valid UUID.")


async def test_unknown_request_id_404(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    request_id = str(uuid.uuid4())

    status, body = await get_search(session, sandbox, request_id)

    assert status == 404
    assert body["data"] is None
    assert request_id in body["message"]


async def test_oversized_upload_413(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(b"\xff" * (10 * 1024 * 1024 + 1)), filename="big.jpg")

    async with session.post(f"{event_url(sandbox)}/faces", data=form) as response:
        status = response.status
        body = await response.json()

    assert status == 413
    assert body["responseType"] == "error"
    assert sandbox.stats.billable_searches == 0


async def test_any_bytes_accepted(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, b"GIF89a not a JPEG or PNG")

    assert status == 200
    assert body["responseType"] == "success"


# Face search results and pagination


async def test_search_response_shape(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, RUNNER)

    assert status == 200
    assert body["responseType"] == "success"
    assert body["message"] == "Computed face search"
    data = body["data"]
    assert set(data) == {"request_id", "confidence_percentage", "images", "pagination"}
    assert data["confidence_percentage"] == 90
    assert uuid.UUID(data["request_id"]).version == 4
    image = data["images"][0]
    assert set(image) == {"img_url", "height", "width", "image_id", "thumbnail_url", "original_url"}
    assert image["img_url"] == f"{sandbox.base_url}/media/456/large/{image['image_id']}.jpg"
    assert image["thumbnail_url"] == f"{sandbox.base_url}/media/456/small/{image['image_id']}.jpg"
    assert image["original_url"] is None
    assert uuid.UUID(image["image_id"])


@pytest.mark.parametrize(
    ("page", "count", "pagination"),
    [
        (1, 32, {"currentPage": 1, "hasNextPage": True, "hasPreviousPage": False}),
        (2, 32, {"currentPage": 2, "hasNextPage": True, "hasPreviousPage": True}),
        (3, 23, {"currentPage": 3, "hasNextPage": False, "hasPreviousPage": True}),
        (4, 0, {"currentPage": 4, "hasNextPage": False, "hasPreviousPage": True}),
    ],
    ids=["first", "middle", "last", "past-the-end"],
)
async def test_pagination_pages(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    page: int,
    count: int,
    pagination: dict[str, Any],
) -> None:
    _, posted = await post_selfie(session, sandbox, RUNNER)
    request_id = posted["data"]["request_id"]

    status, body = await get_search(session, sandbox, request_id, params={"page": str(page)})

    assert status == 200
    assert len(body["data"]["images"]) == count
    assert body["data"]["pagination"] == {
        "total": 87,
        "totalPages": 3,
        "page_size": 32,
        **pagination,
    }


async def test_pages_cover_matches_in_order(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, posted = await post_selfie(session, sandbox, RUNNER, params={"page_size": "10"})
    request_id = posted["data"]["request_id"]
    image_ids = [image["image_id"] for image in posted["data"]["images"]]

    for page in range(2, 10):
        _, body = await get_search(
            session, sandbox, request_id, params={"page": str(page), "page_size": "10"}
        )
        image_ids += [image["image_id"] for image in body["data"]["images"]]
    _, whole = await get_search(session, sandbox, request_id, params={"page_size": "100"})

    assert len(image_ids) == 87
    assert len(set(image_ids)) == 87
    assert image_ids == [image["image_id"] for image in whole["data"]["images"]]


async def test_zero_matches(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await post_selfie(session, sandbox, STRANGER)
    _, page_two = await get_search(session, sandbox, body["data"]["request_id"], {"page": "2"})

    assert status == 200
    assert body["message"] == "No image found similar to your selfie"
    assert body["data"]["images"] == []
    empty = {
        "total": 0,
        "currentPage": 0,
        "totalPages": 0,
        "hasNextPage": False,
        "hasPreviousPage": False,
        "page_size": 32,
    }
    assert body["data"]["pagination"] == empty
    assert page_two["data"]["pagination"] == empty
    assert sandbox.stats.billable_searches == 1


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLE_MATCHES.items()))
async def test_sample_match_count(
    sandbox: Sandbox, session: aiohttp.ClientSession, name: str, expected: int
) -> None:
    status, body = await post_selfie(session, sandbox, SAMPLE_SELFIES[name].read_bytes())

    assert status == 200
    assert body["data"]["pagination"]["total"] == expected
    assert len(body["data"]["images"]) == min(expected, 32)


async def test_other_image_deterministic(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    _, first = await post_selfie(session, sandbox, OTHER_IMAGE, params={"page_size": "100"})
    _, second = await post_selfie(session, sandbox, OTHER_IMAGE, params={"page_size": "100"})

    total = first["data"]["pagination"]["total"]
    assert 1 <= total <= 150
    assert first["data"]["request_id"] != second["data"]["request_id"]
    assert first["data"]["images"] == second["data"]["images"]
    assert sandbox.stats.billable_searches == 2


async def test_same_results_across_sandboxes(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, first = await post_selfie(session, sandbox, RUNNER)

    async with (
        Sandbox() as other,
        aiohttp.ClientSession(headers={"X-API-Key": other.api_key}) as other_session,
    ):
        _, second = await post_selfie(other_session, other, RUNNER)

    first_ids = [image["image_id"] for image in first["data"]["images"]]
    second_ids = [image["image_id"] for image in second["data"]["images"]]
    assert first_ids == second_ids


async def test_known_request_id_not_billed(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    request_id = str(uuid.uuid4())
    status, first = await post_selfie(session, sandbox, RUNNER, request_id=request_id)

    # Another selfie with the same request_id returns the stored search and is not billed.
    repeat_status, repeat = await post_selfie(
        session, sandbox, STRANGER, request_id=request_id, params={"page": "2"}
    )
    get_status, fetched = await get_search(session, sandbox, request_id)

    assert status == 200
    assert first["data"]["request_id"] == request_id
    assert repeat_status == 200
    assert repeat["data"]["request_id"] == request_id
    assert repeat["data"]["pagination"]["total"] == 87
    assert repeat["data"]["pagination"]["currentPage"] == 2
    assert get_status == 200
    assert fetched["data"]["images"] == first["data"]["images"]
    assert sandbox.stats.billable_searches == 1
    assert sandbox.stats.requests == {"faces.search": 2, "faces.get": 1}


async def test_request_id_case_insensitive(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    request_id = str(uuid.uuid4())

    _, posted = await post_selfie(session, sandbox, RUNNER, request_id=request_id.upper())
    status, fetched = await get_search(session, sandbox, request_id.upper())
    _, reposted = await post_selfie(session, sandbox, RUNNER, request_id=request_id)

    assert posted["data"]["request_id"] == request_id
    assert status == 200
    assert fetched["data"]["request_id"] == request_id
    assert reposted["data"]["request_id"] == request_id
    assert sandbox.stats.billable_searches == 1


async def test_request_id_scoped_to_event(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.event(DISABLED_EVENT_ID).selfie_search = True
    request_id = str(uuid.uuid4())
    await post_selfie(session, sandbox, RUNNER, request_id=request_id)

    url = f"{event_url(sandbox, DISABLED_EVENT_ID)}/faces/{request_id}"
    async with session.get(url) as response:
        status = response.status

    assert status == 404


# Faults


async def test_status_fault_with_retry_after(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.add_fault("events.ping", Fault(status=429, headers={"Retry-After": "1"}), times=2)
    url = f"{event_url(sandbox)}/ping"

    statuses = []
    for _ in range(3):
        async with session.get(url) as response:
            statuses.append(response.status)
            if response.status == 429:
                assert response.headers["Retry-After"] == "1"
                assert response.content_type == "application/json"
                body = await response.json()
                assert body["responseType"] == "error"
                assert body["data"] is None

    assert statuses == [429, 429, 200]
    assert sandbox.stats.requests["events.ping"] == 3


async def test_status_fault_precedes_auth(sandbox: Sandbox) -> None:
    sandbox.add_fault("events.details", Fault(status=503))

    async with aiohttp.ClientSession() as client_session:
        async with client_session.get(f"{event_url(sandbox)}/details") as response:
            first = response.status
        async with client_session.get(f"{event_url(sandbox)}/details") as response:
            second = response.status

    assert first == 503
    assert second == 401


async def test_status_fault_raw_body(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    fault = Fault(status=200, body=b"<html>gateway</html>", content_type="text/html")
    sandbox.add_fault("faces.get", fault)

    async with session.get(f"{event_url(sandbox)}/faces/{uuid.uuid4()}") as response:
        status = response.status
        content_type = response.content_type
        body = await response.read()

    assert status == 200
    assert content_type == "text/html"
    assert body == b"<html>gateway</html>"


async def test_faults_are_fifo(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.add_fault("events.ping", Fault(status=500))
    sandbox.add_fault("events.ping", Fault(status=502))

    statuses = []
    for _ in range(3):
        async with session.get(f"{event_url(sandbox)}/ping") as response:
            statuses.append(response.status)

    assert statuses == [500, 502, 200]


async def test_fault_delay(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.add_fault("events.ping", Fault(delay=0.2))

    started = time.monotonic()
    async with session.get(f"{event_url(sandbox)}/ping") as response:
        status = response.status
    elapsed = time.monotonic() - started

    assert status == 200
    assert elapsed >= 0.2


async def test_drop_before_not_billed(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.add_fault("faces.search", Fault(drop="before"))
    request_id = str(uuid.uuid4())

    with pytest.raises(aiohttp.ClientConnectionError):
        await post_selfie(session, sandbox, RUNNER, request_id=request_id)
    status, _ = await get_search(session, sandbox, request_id)

    assert sandbox.stats.requests["faces.search"] == 1
    assert sandbox.stats.billable_searches == 0
    assert status == 404


async def test_drop_after_billed_once(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.add_fault("faces.search", Fault(drop="after"))
    request_id = str(uuid.uuid4())

    with pytest.raises(aiohttp.ClientConnectionError):
        await post_selfie(session, sandbox, RUNNER, request_id=request_id)
    billed_after_drop = sandbox.stats.billable_searches
    status, body = await post_selfie(session, sandbox, RUNNER, request_id=request_id)

    assert billed_after_drop == 1
    assert status == 200
    assert body["data"]["request_id"] == request_id
    assert body["data"]["pagination"]["total"] == 87
    assert sandbox.stats.billable_searches == 1
    assert sandbox.stats.requests["faces.search"] == 2


async def test_drop_on_get_sends_nothing(sandbox: Sandbox) -> None:
    # A raw socket, because aiohttp's client (3.14) retries an idempotent request once after
    # a disconnect, which would hide the drop.
    sandbox.add_fault("events.details", Fault(drop="after"))
    path = f"/api/v1/ext/{sandbox.org_id}/event/{DEMO_EVENT_ID}/details"
    host, port = sandbox.base_url.removeprefix("http://").rsplit(":", 1)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {sandbox.api_key}\r\n"
        "Connection: close\r\n\r\n"
    )

    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request.encode())
        await writer.drain()
        received = await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()
        await writer.wait_closed()

    assert received == b""
    assert sandbox.stats.requests["events.details"] == 1


async def test_add_fault_unknown_route(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match=r"faces\.search"):
        sandbox.add_fault("faces.post", Fault(status=500))
    with pytest.raises(ValueError, match="times"):
        sandbox.add_fault("faces.search", Fault(status=500), times=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 99},
        {"status": 600},
        {"status": 500, "drop": "after"},
        {"drop": "middle"},
        {"delay": -1.0},
    ],
)
def test_fault_rejects_invalid(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"[Ff]ault"):
        Fault(**kwargs)
