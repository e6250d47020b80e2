"""Tests of the sandbox's seeded chaos through plain aiohttp and raw sockets, without the SDK.

Drops are checked with raw sockets or POST requests, because aiohttp's client (3.14) sends a
GET again when the server closes the connection without responding.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import pytest

from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    SAMPLE_SELFIES,
    Chaos,
    Fault,
    Sandbox,
)

RUNNER = SAMPLE_SELFIES["runner.jpg"].read_bytes()
BOUNDARY = "sandbox-chaos-test-boundary"

ERRORS_AT_RATE_0_2_SEED_0 = 54
"""Errors that seed 0 draws for ``/ping?n=0`` to ``/ping?n=299`` at ``error_rate=0.2``."""


@pytest.fixture
async def session(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"X-API-Key": sandbox.api_key}) as client_session:
        yield client_session


def event_path(sandbox: Sandbox) -> str:
    return f"/api/v1/ext/{sandbox.org_id}/event/{DEMO_EVENT_ID}"


def event_url(sandbox: Sandbox) -> str:
    return sandbox.base_url + event_path(sandbox)


def selfie_form(selfie: bytes, request_id: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", selfie, filename="selfie.jpg", content_type="image/jpeg")
    if request_id is not None:
        form.add_field("request_id", request_id)
    return form


def multipart_body(selfie: bytes, request_id: str | None) -> bytes:
    """Build a face search upload by hand, for the raw socket client."""
    body = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="selfie.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + selfie
    if request_id is not None:
        body += (
            f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="request_id"\r\n\r\n'
            f"{request_id}"
        ).encode()
    return body + f"\r\n--{BOUNDARY}--\r\n".encode()


async def raw_exchange(sandbox: Sandbox, method: str, target: str, body: bytes = b"") -> str:
    """Send one request on a fresh connection and classify what came back.

    Returns ``"dropped"`` when the server closed the connection without a response,
    ``"truncated <status>"`` when the body is shorter than its Content-Length, and the
    status code otherwise.
    """
    host, port = sandbox.base_url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {sandbox.api_key}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
    )
    if body:
        head += f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"

    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        received = await asyncio.wait_for(reader.read(), timeout=5)
    except ConnectionResetError:
        received = b""
    finally:
        writer.close()
        await writer.wait_closed()

    if not received:
        return "dropped"
    header_block, _, payload = received.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1]
    headers = dict(line.split(": ", 1) for line in lines[1:])
    if len(payload) < int(headers["Content-Length"]):
        return f"truncated {status}"
    return status


# Each kind of fault


@pytest.mark.parametrize(
    ("style", "content_type"),
    [("json", "application/json"), ("html", "text/html"), ("text", "text/plain")],
)
async def test_error_body_styles(
    sandbox: Sandbox,
    session: aiohttp.ClientSession,
    style: Literal["json", "html", "text"],
    content_type: str,
) -> None:
    sandbox.set_chaos(Chaos(error_rate=1.0, error_statuses=(503,), error_bodies=(style,)))

    async with session.get(f"{event_url(sandbox)}/ping") as response:
        status = response.status
        received_type = response.content_type
        text = await response.text()

    assert status == 503
    assert received_type == content_type
    assert "503 Service Unavailable" in text
    if style == "json":
        body = json.loads(text)
        assert body["responseType"] == "error"
        assert body["data"] is None
    if style == "html":
        assert "<title>503 Service Unavailable</title>" in text
    if style == "text":
        assert text == "503 Service Unavailable\n"
    assert sandbox.stats.faults == {"error": 1}


async def test_error_defaults_vary(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(error_rate=1.0))

    statuses = set()
    content_types = set()
    for n in range(40):
        async with session.get(f"{event_url(sandbox)}/ping", params={"n": str(n)}) as response:
            statuses.add(response.status)
            content_types.add(response.content_type)
            await response.read()

    assert statuses == {500, 502, 503}
    assert content_types == {"application/json", "text/html", "text/plain"}
    assert sandbox.stats.faults == {"error": 40}


@pytest.mark.parametrize("retry_after", ["0.05", "Wed, 21 Oct 2015 07:28:00 GMT", None])
async def test_rate_limit_retry_after(
    sandbox: Sandbox, session: aiohttp.ClientSession, retry_after: str | None
) -> None:
    sandbox.set_chaos(Chaos(rate_limit_rate=1.0, retry_after=retry_after))

    async with session.get(f"{event_url(sandbox)}/details") as response:
        status = response.status
        header = response.headers.get("Retry-After")
        body = await response.json()

    assert status == 429
    assert header == retry_after
    assert body["responseType"] == "error"
    assert sandbox.stats.faults == {"rate_limit": 1}


async def test_rate_limit_default_retry_after(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.set_chaos(Chaos(rate_limit_rate=1.0))

    async with session.get(f"{event_url(sandbox)}/ping") as response:
        header = response.headers.get("Retry-After")

    assert header == "0.05"


async def test_rate_limit_bursts_whole(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(rate_limit_rate=0.5, rate_limit_burst=3))

    statuses = []
    for _ in range(40):
        async with session.get(f"{event_url(sandbox)}/ping") as response:
            statuses.append(response.status)

    runs = [
        (status, len(list(group))) for status, group in itertools.groupby(statuses) if status == 429
    ]
    assert runs
    assert 200 in statuses
    for _, length in runs:
        assert length % 3 == 0
    assert sandbox.stats.faults == {"rate_limit": statuses.count(429)}


async def test_set_chaos_ends_burst(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(rate_limit_rate=1.0, rate_limit_burst=5))
    async with session.get(f"{event_url(sandbox)}/ping") as response:
        first = response.status

    sandbox.set_chaos(Chaos())
    async with session.get(f"{event_url(sandbox)}/ping") as response:
        second = response.status

    assert first == 429
    assert second == 200


async def test_truncated_body_payload_error(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.set_chaos(Chaos(truncate_rate=1.0))

    async with session.get(f"{event_url(sandbox)}/details") as response:
        status = response.status
        content_length = response.content_length
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()

    assert status == 200
    assert content_length is not None
    assert content_length > 0
    assert sandbox.stats.requests["events.details"] == 1
    assert sandbox.stats.faults == {"truncate": 1}


async def test_truncated_search_is_billed(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(truncate_rate=1.0), route="faces.search")
    request_id = str(uuid.uuid4())

    url = f"{event_url(sandbox)}/faces"
    async with session.post(url, data=selfie_form(RUNNER, request_id)) as response:
        status = response.status
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    async with session.get(f"{url}/{request_id}") as response:
        stored_status = response.status
        body = await response.json()

    assert status == 200
    assert sandbox.stats.billable_searches == 1
    assert stored_status == 200
    assert body["data"]["pagination"]["total"] == 87


async def test_drop_before_search_not_billed(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.set_chaos(Chaos(drop_before_rate=1.0), route="faces.search")
    request_id = str(uuid.uuid4())

    url = f"{event_url(sandbox)}/faces"
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await session.post(url, data=selfie_form(RUNNER, request_id))
    async with session.get(f"{url}/{request_id}") as response:
        stored_status = response.status

    assert stored_status == 404
    assert sandbox.stats.requests["faces.search"] == 1
    assert sandbox.stats.billable_searches == 0
    assert sandbox.stats.faults == {"drop_before": 1}


async def test_drop_after_search_billed(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(drop_after_rate=1.0), route="faces.search")
    request_id = str(uuid.uuid4())

    url = f"{event_url(sandbox)}/faces"
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await session.post(url, data=selfie_form(RUNNER, request_id))
    async with session.get(f"{url}/{request_id}") as response:
        stored_status = response.status
        body = await response.json()

    assert stored_status == 200
    assert body["data"]["request_id"] == request_id
    assert sandbox.stats.requests["faces.search"] == 1
    assert sandbox.stats.billable_searches == 1
    assert sandbox.stats.faults == {"drop_after": 1}


@pytest.mark.parametrize(
    ("kind", "chaos"),
    [("drop_before", Chaos(drop_before_rate=1.0)), ("drop_after", Chaos(drop_after_rate=1.0))],
)
async def test_dropped_get_sends_nothing(sandbox: Sandbox, kind: str, chaos: Chaos) -> None:
    sandbox.set_chaos(chaos)

    outcome = await raw_exchange(sandbox, "GET", f"{event_path(sandbox)}/details")

    assert outcome == "dropped"
    assert sandbox.stats.requests["events.details"] == 1
    assert sandbox.stats.faults == {kind: 1}


async def test_latency_delays_response(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(latency=0.1, latency_jitter=0.05))

    started = time.monotonic()
    async with session.get(f"{event_url(sandbox)}/ping") as response:
        status = response.status
    elapsed = time.monotonic() - started

    assert status == 200
    assert elapsed >= 0.1
    assert sandbox.stats.faults == {}


@pytest.mark.parametrize("route", ["ping", "details"])
async def test_fixed_latency_delays_every_route(
    sandbox: Sandbox, session: aiohttp.ClientSession, route: str
) -> None:
    sandbox.set_chaos(Chaos(latency=0.1))
    path = "/ping" if route == "ping" else "/details"

    started = time.monotonic()
    async with session.get(f"{event_url(sandbox)}{path}") as response:
        status = response.status
        body = await response.json()
    elapsed = time.monotonic() - started

    assert status == 200
    assert body["responseType"] == "success"
    assert elapsed >= 0.1
    assert sandbox.stats.faults == {}


# Determinism


async def count_errors(seed: int) -> int:
    async with Sandbox(chaos=Chaos(error_rate=0.2), seed=seed) as sandbox:
        headers = {"X-API-Key": sandbox.api_key}
        async with aiohttp.ClientSession(headers=headers) as client_session:

            async def ping(n: int) -> int:
                url = f"{event_url(sandbox)}/ping"
                async with client_session.get(url, params={"n": str(n)}) as response:
                    return response.status

            statuses = await asyncio.gather(*(ping(n) for n in range(300)))

        errors = sum(status != 200 for status in statuses)
        assert sandbox.stats.faults == {"error": errors}
        return errors


async def test_error_count_exact_for_seed() -> None:
    first = await count_errors(seed=0)
    second = await count_errors(seed=0)

    # 300 draws at 0.2 have a mean of 60 and a standard deviation of about 7.
    assert 40 <= first <= 80
    assert first == ERRORS_AT_RATE_0_2_SEED_0
    assert second == first


MIXED_CHAOS = Chaos(
    latency_jitter=0.005,
    error_rate=0.15,
    drop_before_rate=0.1,
    drop_after_rate=0.1,
    truncate_rate=0.1,
    rate_limit_rate=0.1,
)
ATTEMPTS = 4


def mixed_requests(sandbox: Sandbox) -> dict[str, tuple[str, str, bytes]]:
    """Return request identities, each with its method, target and body."""
    path = event_path(sandbox)
    requests: dict[str, tuple[str, str, bytes]] = {}
    for n in range(15):
        requests[f"ping {n}"] = ("GET", f"{path}/ping?n={n}&page=1", b"")
    for n in range(10):
        requests[f"details {n}"] = ("GET", f"{path}/details?n={n}", b"")
    for n in range(10):
        request_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"chaos-test-{n}"))
        requests[f"search {n}"] = ("POST", f"{path}/faces", multipart_body(RUNNER, request_id))
    for n in range(5):
        selfie = f"selfie without request_id {n}".encode()
        requests[f"upload {n}"] = ("POST", f"{path}/faces", multipart_body(selfie, None))
    return requests


async def run_mixed(seed: int, *, concurrent: bool) -> dict[str, list[str]]:
    """Send every mixed request ``ATTEMPTS`` times and return the outcomes per identity.

    The attempts of one identity are sequential. Across identities the requests go one at a
    time in list order, or all at once in a shuffled order.
    """
    async with Sandbox(chaos=MIXED_CHAOS, seed=seed) as sandbox:
        requests = mixed_requests(sandbox)

        async def attempt_all(name: str) -> tuple[str, list[str]]:
            method, target, body = requests[name]
            outcomes = [await raw_exchange(sandbox, method, target, body) for _ in range(ATTEMPTS)]
            return name, outcomes

        names = list(requests)
        if concurrent:
            random.Random(1).shuffle(names)
            results = await asyncio.gather(*(attempt_all(name) for name in names))
        else:
            results = [await attempt_all(name) for name in names]
        return dict(results)


async def test_same_seed_same_outcomes() -> None:
    in_order = await run_mixed(seed=3, concurrent=False)
    shuffled = await run_mixed(seed=3, concurrent=True)

    assert shuffled == in_order
    seen = {outcome for outcomes in in_order.values() for outcome in outcomes}
    assert {"200", "429", "dropped", "truncated 200"} <= seen
    assert seen & {"500", "502", "503"}


async def test_other_seed_other_outcomes() -> None:
    seed_3 = await run_mixed(seed=3, concurrent=True)
    seed_4 = await run_mixed(seed=4, concurrent=True)

    assert seed_4 != seed_3


async def test_retry_gets_new_draw(sandbox: Sandbox) -> None:
    sandbox.set_chaos(Chaos(drop_before_rate=0.5))
    target = f"{event_path(sandbox)}/ping"

    outcomes = [await raw_exchange(sandbox, "GET", target) for _ in range(20)]

    assert "dropped" in outcomes
    assert "200" in outcomes


# Configuration


async def test_route_setting_overrides_server(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.set_chaos(Chaos(error_rate=1.0, error_statuses=(500,)))
    sandbox.set_chaos(None, route="events.ping")
    sandbox.set_chaos(Chaos(error_rate=1.0, error_statuses=(503,)), route="events.details")

    async with session.get(f"{event_url(sandbox)}/ping") as response:
        ping_status = response.status
    async with session.get(f"{event_url(sandbox)}/details") as response:
        details_status = response.status
    async with session.get(f"{event_url(sandbox)}/faces/{uuid.uuid4()}") as response:
        faces_status = response.status

    assert ping_status == 200
    assert details_status == 503
    assert faces_status == 500
    assert sandbox.chaos_for("events.ping") is None


async def test_queued_fault_precedes_chaos(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.set_chaos(Chaos(error_rate=1.0, error_statuses=(500,)))
    sandbox.add_fault("events.ping", Fault(status=418))

    statuses = []
    for _ in range(2):
        async with session.get(f"{event_url(sandbox)}/ping") as response:
            statuses.append(response.status)

    assert statuses == [418, 500]
    assert sandbox.stats.faults == {"error": 2}


async def test_queued_faults_counted(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    for fault in (Fault(status=503), Fault(status=429), Fault(status=200), Fault(delay=0.01)):
        sandbox.add_fault("events.ping", fault)

    for _ in range(4):
        async with session.get(f"{event_url(sandbox)}/ping") as response:
            await response.read()

    assert sandbox.stats.faults == {"error": 1, "rate_limit": 1, "status": 1}


async def test_set_chaos_none_turns_off(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    sandbox.set_chaos(Chaos(error_rate=1.0))
    sandbox.set_chaos(Chaos(rate_limit_rate=1.0), route="events.details")

    sandbox.set_chaos(None)

    async with session.get(f"{event_url(sandbox)}/ping") as response:
        ping_status = response.status
    async with session.get(f"{event_url(sandbox)}/details") as response:
        details_status = response.status
    assert ping_status == 200
    assert details_status == 200
    assert sandbox.chaos_for("events.details") is None
    assert sandbox.stats.faults == {}


async def test_constructor_chaos_and_seed() -> None:
    chaos = Chaos(error_rate=1.0, error_statuses=(502,))

    async with Sandbox(chaos=chaos, seed=11) as sandbox:
        headers = {"X-API-Key": sandbox.api_key}
        async with (
            aiohttp.ClientSession(headers=headers) as client_session,
            client_session.get(f"{event_url(sandbox)}/ping") as response,
        ):
            status = response.status

    assert status == 502
    assert sandbox.seed == 11
    assert sandbox.chaos_for("faces.search") is chaos


async def test_reset_stats_clears_faults(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    sandbox.set_chaos(Chaos(error_rate=1.0))
    async with session.get(f"{event_url(sandbox)}/ping") as response:
        await response.read()
    faults = sandbox.stats.faults

    sandbox.reset_stats()

    assert sandbox.stats.faults is faults
    assert faults == {}


def test_set_chaos_unknown_route() -> None:
    sandbox = Sandbox()

    with pytest.raises(ValueError, match=r"events\.ping"):
        sandbox.set_chaos(Chaos(), route="faces.post")
    with pytest.raises(ValueError, match=r"events\.ping"):
        sandbox.chaos_for("faces.post")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latency": -0.1}, "latency"),
        ({"latency_jitter": float("inf")}, "latency_jitter"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"drop_before_rate": -0.1}, "drop_before_rate"),
        ({"truncate_rate": float("nan")}, "truncate_rate"),
        ({"error_rate": 0.6, "drop_after_rate": 0.5}, "sum to at most 1"),
        ({"error_statuses": ()}, "error_statuses"),
        ({"error_statuses": (200,)}, "error_statuses"),
        ({"error_bodies": ()}, "error_bodies"),
        ({"error_bodies": ("xml",)}, "error_bodies"),
        ({"rate_limit_burst": 0}, "rate_limit_burst"),
        ({"retry_after": ""}, "retry_after"),
        ({"retry_after": "1\r\nX-Injected: 1"}, "retry_after"),
    ],
)
def test_chaos_rejects_invalid(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Chaos(**kwargs)


def test_chaos_accepts_rates_summing_to_one() -> None:
    chaos = Chaos(error_rate=0.1, drop_before_rate=0.2, truncate_rate=0.7)

    assert chaos.truncate_rate == 0.7


def test_chaos_stores_lists_as_tuples() -> None:
    chaos = Chaos(error_statuses=[500, 504], error_bodies=["text"])  # type: ignore[arg-type]

    assert chaos.error_statuses == (500, 504)
    assert chaos.error_bodies == ("text",)
    assert hash(chaos) == hash(Chaos(error_statuses=(500, 504), error_bodies=("text",)))
