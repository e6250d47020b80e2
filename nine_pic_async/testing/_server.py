"""The sandbox: a local aiohttp server that implements the documented 9Pic API.

Users point their integration at it to test offline, and the SDK's own tests assert on its
counters. It builds every response from plain dicts and does not import the client.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import hmac
import logging
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from ._chaos import (
    Chaos,
    ChaosDecision,
    ChaosLedger,
    Fault,
    chaos_error_response,
    drop_connection,
    fault_response,
    queued_fault_kind,
    rate_limit_response,
    request_identity,
    send_truncated,
)
from ._data import (
    DEFAULT_CONFIDENCE_PERCENTAGE,
    DEMO_API_KEY,
    DEMO_EVENT_ID,
    DEMO_ORG_ID,
    ImageCatalog,
    SandboxEvent,
    default_events,
    match_photos,
)
from ._gallery import EventGallery, GalleryCache
from ._http import (
    ApiError,
    RequestBody,
    SelfieForm,
    error_response,
)
from ._media import DEFAULT_ORIGINAL_SIZE, MIN_MEDIA_SIZE, LinkSigner, MediaStream
from ._routes_faces import (
    StoredSearch,
    handle_event_details,
    handle_event_ping,
    handle_faces_get,
    handle_faces_search,
)
from ._routes_gallery import (
    handle_bibs_search,
    handle_events_list,
    handle_photos_list,
    handle_timeline_days,
    handle_timeline_images,
)
from ._routes_originals import (
    handle_media_original,
    handle_media_preview,
    handle_original_links,
)
from ._seeds import SeedSelfie, check_new_event, read_seed_selfie, seeded_photos

__all__ = ["Fault", "Sandbox", "SandboxStats", "serve"]

logger = logging.getLogger("nine_pic_async.testing")

API_PREFIX = "/api/v1/ext/{org_id:\\d{1,18}}"
_EVENT_PATH = "/event/{event_id:\\d{1,18}}"
_MEDIA_PATH = "/media/{event_id:\\d{1,18}}/{variant:large|small}/{image_id:[^{}/]+}.jpg"
_ORIGINAL_PATH = "/media/originals/{event_id:\\d{1,18}}/{image_id:[^{}/]+}.jpg"
_SHUTDOWN_TIMEOUT = 0.1
"""Seconds that ``close()`` lets requests in progress finish before it cancels them."""
UNMATCHED_ROUTE = "unmatched"
"""Route name under which ``SandboxStats.requests`` counts requests that match no route."""


@dataclass
class SandboxStats:
    """Counters of the traffic that reached a sandbox."""

    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    """Requests per route name, including those rejected by auth checks or faults."""
    billable_searches: int = 0
    """Face searches actually computed. A POST with a known ``request_id`` is not counted."""
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    """Injected faults per kind: ``error``, ``drop_before``, ``drop_after``, ``truncate`` and
    ``rate_limit``, from chaos and from queued faults.

    Each 429 response of a rate-limit burst counts once. A queued ``Fault`` with status 429 counts
    as ``rate_limit``, one with another status of 400 or more as ``error`` and one with a lower
    status as ``status``. Latency and ``Fault.delay`` are not counted.
    """

    @property
    def total_requests(self) -> int:
        """Number of requests over all routes."""
        return sum(self.requests.values())


_STATS_KEY = web.AppKey("sandbox_stats", SandboxStats)


_Handler = Callable[["Sandbox", web.Request, RequestBody], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Route:
    name: str
    method: str
    path: str
    """Path below ``prefix``."""
    handler: _Handler
    reads_selfie_form: bool = False
    """Whether the body is a face search upload, whose ``request_id`` or file digest then
    becomes part of the chaos identity."""
    reads_json_body: bool = False
    """Whether the body is JSON, whose digest then becomes part of the chaos identity. The body
    of a route with neither flag is not part of it."""
    prefix: str = API_PREFIX
    """``API_PREFIX`` for the API routes, or the empty string for the media routes."""
    authenticated: bool = True
    """Whether the route checks the ``X-API-Key`` header and the ``org_id`` of the path."""


class Sandbox:
    """A local server that implements the documented 9Pic API for offline tests.

    Use it as an async context manager, or call ``start()`` and ``close()``. With the default
    ``port=0`` it listens on a free loopback port, which ``base_url`` then contains. With
    ``legacy_flat=True``, Ping and Event Details return the older flat bodies without the
    ``responseType`` envelope.

    ``chaos`` sets the misbehaviour of every route, as ``set_chaos(chaos)`` does, and ``seed``
    selects which requests it hits: the same seed and the same requests give the same faults.

    Download Originals returns links to the sandbox's own ``/media/originals/`` route, which
    expire ``link_lifetime`` seconds after the response, rounded up to whole seconds, and
    serve originals of ``original_size`` bytes. ``legacy_flat=True`` makes Download Originals
    flat too.
    """

    def __init__(
        self,
        *,
        api_key: str = DEMO_API_KEY,
        org_id: int = DEMO_ORG_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        legacy_flat: bool = False,
        chaos: Chaos | None = None,
        seed: int = 0,
        link_lifetime: float = 3600.0,
        original_size: int = DEFAULT_ORIGINAL_SIZE,
    ) -> None:
        if not (math.isfinite(link_lifetime) and link_lifetime > 0):
            raise ValueError(
                f"link_lifetime must be a finite number of seconds > 0, got {link_lifetime}"
            )
        if original_size < MIN_MEDIA_SIZE:
            raise ValueError(
                f"original_size must be at least {MIN_MEDIA_SIZE} bytes, got {original_size}"
            )
        self.api_key = api_key
        self.org_id = org_id
        self.legacy_flat = legacy_flat
        self.link_lifetime = link_lifetime
        self.original_size = original_size
        self.stats = SandboxStats()
        self._host = host
        self._port = port
        self._events = default_events()
        self._searches: dict[tuple[int, str], StoredSearch] = {}
        # (event id, SHA-256 of the selfie) to the photo indices that add_selfie seeded.
        self._seeded_selfies: dict[tuple[int, bytes], tuple[int, ...]] = {}
        self._galleries = GalleryCache()
        self._signer = LinkSigner(secrets.token_bytes(32))
        self._faults: dict[str, collections.deque[Fault]] = {
            route.name: collections.deque() for route in _ROUTES
        }
        self._chaos = chaos
        self._route_chaos: dict[str, Chaos | None] = {}
        self._chaos_ledger = ChaosLedger(seed)
        self._catalog: ImageCatalog | None = None
        self._base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._closed = False

        self.app = web.Application(middlewares=[_count_and_wrap_router_errors])
        self.app[_STATS_KEY] = self.stats
        for route in _ROUTES:
            self.app.router.add_route(route.method, route.prefix + route.path, self._bind(route))

    @property
    def seed(self) -> int:
        """Seed of the chaos draws, set at construction."""
        return self._chaos_ledger.seed

    @property
    def base_url(self) -> str:
        """URL of the running server without a trailing slash, e.g. ``http://127.0.0.1:43117``."""
        if self._base_url is None:
            raise RuntimeError("Sandbox has not been started: call start() or use 'async with'")
        return self._base_url

    async def start(self) -> None:
        """Bind the listening socket and start serving."""
        if self._closed:
            raise RuntimeError("Sandbox is closed and cannot be restarted: create a new one")
        if self._runner is not None:
            raise RuntimeError("Sandbox is already started")
        # close() waits up to shutdown_timeout for requests in progress before it cancels
        # them. aiohttp's default of 60 s would make a test that leaves a request sleeping
        # in a fault delay hang at teardown.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._base_url = f"http://{host}:{port}"
        self._catalog = ImageCatalog(self._base_url)
        logger.info("Sandbox listening on %s (org_id %d)", self._base_url, self.org_id)

    async def close(self) -> None:
        """Stop the server and close its connections. Calling it again does nothing."""
        self._closed = True
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            logger.info("Sandbox on %s stopped", self._base_url)

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def reset_stats(self) -> None:
        """Zero the counters in place, so references to ``stats`` stay valid."""
        self.stats.requests.clear()
        self.stats.billable_searches = 0
        self.stats.faults.clear()

    def add_fault(self, route: str, fault: Fault, *, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``route``.

        Each route has its own first-in, first-out queue, and each request takes at most one
        fault from it. A request that takes a queued fault gets no chaos.
        """
        self._check_route(route)
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        self._faults[route].extend([fault] * times)

    def set_chaos(self, chaos: Chaos | None, *, route: str | None = None) -> None:
        """Set the random misbehaviour of one route, or of every route when ``route`` is None.

        A setting for a route overrides the server-wide one, and ``set_chaos(None, route=...)``
        turns chaos off for that route only. ``set_chaos(None)`` turns it off everywhere and
        removes every route setting. Any call ends the rate-limit bursts in progress. The
        count of earlier attempts per request identity is kept.
        """
        if route is None:
            self._chaos = chaos
            if chaos is None:
                self._route_chaos.clear()
        else:
            self._check_route(route)
            self._route_chaos[route] = chaos
        self._chaos_ledger.end_bursts()

    def chaos_for(self, route: str) -> Chaos | None:
        """Return the chaos settings that apply to ``route``, or None when it has none."""
        self._check_route(route)
        return self._route_chaos.get(route, self._chaos)

    def _check_route(self, route: str) -> None:
        if route not in self._faults:
            raise ValueError(f"Unknown route {route!r}: expected one of {sorted(self._faults)}")

    def event(self, event_id: int) -> SandboxEvent:
        """Return the live event object, whose fields tests may change."""
        try:
            return self._events[event_id]
        except KeyError:
            raise KeyError(
                f"Unknown sandbox event {event_id}: known ids are {sorted(self._events)}"
            ) from None

    def capture_timestamp(self, event_id: int, image_id: str) -> int | None:
        """Return the capture time of a photo in Unix seconds, or None if it has none.

        Photo Timeline selects and buckets photos by this value, and All Photos orders by it.
        Raises ``KeyError`` for an unknown event or image id.
        """
        event = self.event(event_id)
        gallery = self._gallery(event)
        index = gallery.find(image_id)
        if index is None:
            raise KeyError(f"Unknown image_id {image_id!r} in sandbox event {event_id}")
        return gallery.capture_times[index]

    def add_event(
        self,
        event_id: int,
        *,
        photo_count: int = 100,
        name: str | None = None,
        date: str | None = "2026-01-01T06:00:00",
        selfie_search: bool = True,
        bib_search: bool = True,
        timeline_search: bool = True,
        confidence_percentage: int = DEFAULT_CONFIDENCE_PERCENTAGE,
    ) -> SandboxEvent:
        """Add an active event to the sandbox organisation and return it.

        The event has ``photo_count`` photos (at most 100,000) with image ids, BIB tags and
        capture times derived from its id, count and ``date`` as for the built-in events.
        ``name`` defaults to ``"Test event {event_id}"``. The returned object is live like the
        one ``event()`` returns, so further fields can be changed on it. Raises ``ValueError``
        when the id is already in use.
        """
        check_new_event(event_id, photo_count, list(self._events))
        event = SandboxEvent(
            event_id=event_id,
            name=name if name is not None else f"Test event {event_id}",
            slug=f"test-event-{event_id}",
            date=date,
            status="active",
            event_enabled=True,
            bib_search=bib_search,
            selfie_search=selfie_search,
            name_search=False,
            video_search=False,
            video_selfie_search=False,
            timeline_search=timeline_search,
            photo_count=photo_count,
            confidence_percentage=confidence_percentage,
        )
        self._events[event_id] = event
        return event

    def remove_event(self, event_id: int) -> None:
        """Remove an event with its stored searches and seeded selfies, so it returns 404.

        Raises ``KeyError`` for an unknown event.
        """
        self.event(event_id)
        del self._events[event_id]
        for key in [key for key in self._searches if key[0] == event_id]:
            del self._searches[key]
        for seed in [seed for seed in self._seeded_selfies if seed[0] == event_id]:
            del self._seeded_selfies[seed]

    def add_selfie(
        self,
        selfie: SeedSelfie,
        *,
        event_id: int = DEMO_EVENT_ID,
        matches: int | None = None,
        image_ids: Sequence[str] | None = None,
    ) -> tuple[str, ...]:
        """Make a face search with ``selfie`` in ``event_id`` match the photos you choose.

        Pass exactly one of ``matches``, a number of photos that the sandbox picks from the
        selfie's hash (the same ones in every run on one Python version), and ``image_ids``,
        the photos themselves. The setting applies to
        searches with the same bytes in that event and replaces the built-in match, also for a
        sample selfie. Searches already stored keep their result. ``selfie`` is a path or the
        bytes of a JPEG or PNG image; ``make_selfie(label)`` creates one.

        Returns the image ids that the search will return, in result order. Raises
        ``KeyError`` for an unknown event or image id, and ``ValueError`` for more matches than
        the event has photos or a selfie that is not JPEG or PNG.
        """
        event = self.event(event_id)
        data = read_seed_selfie(selfie)
        gallery = self._gallery(event)
        indices = seeded_photos(
            gallery, event_id, matches=matches, image_ids=image_ids, digest_source=data
        )
        self._seeded_selfies[(event_id, hashlib.sha256(data).digest())] = indices
        return tuple(gallery.image_ids[index] for index in indices)

    def add_search(
        self,
        *,
        event_id: int = DEMO_EVENT_ID,
        matches: int | None = None,
        image_ids: Sequence[str] | None = None,
        request_id: str | uuid.UUID | None = None,
    ) -> str:
        """Store a face search result without a selfie or a request, and return its request_id.

        For tests of code that reads results by ``request_id`` (``faces.get``,
        ``faces.iter_images``, Download Originals by selfie). ``matches`` and ``image_ids``
        choose the photos as in ``add_selfie``. The search is not billed and no request is
        counted. ``request_id`` defaults to a new UUID4. Raises ``ValueError`` when that
        ``request_id`` is already stored for the event.
        """
        event = self.event(event_id)
        if request_id is None:
            request_id = uuid.uuid4()
        try:
            canonical = str(uuid.UUID(str(request_id)))
        except ValueError:
            raise ValueError(f"request_id must be a UUID, got {request_id!r}") from None
        if (event_id, canonical) in self._searches:
            raise ValueError(
                f"a face search with request_id {canonical} is already stored for event {event_id}"
            )
        indices = seeded_photos(
            self._gallery(event),
            event_id,
            matches=matches,
            image_ids=image_ids,
            digest_source=canonical.encode(),
        )
        self._searches[(event_id, canonical)] = StoredSearch(
            request_id=canonical,
            photo_indices=indices,
            confidence_percentage=event.confidence_percentage,
        )
        return canonical

    def _match_selfie(self, selfie: bytes, event: SandboxEvent) -> tuple[int, ...]:
        """Return the indices of the photos of ``event`` that a new search with ``selfie`` finds."""
        seeded = self._seeded_selfies.get((event.event_id, hashlib.sha256(selfie).digest()))
        if seeded is not None:
            # A test may have lowered photo_count after seeding.
            return tuple(index for index in seeded if index < event.photo_count)
        return match_photos(selfie, event.event_id, event.photo_count)

    def _gallery(self, event: SandboxEvent) -> EventGallery:
        return self._galleries.get(event)

    def _image_items(self, event_id: int, indices: Sequence[int]) -> list[dict[str, Any]]:
        """Return the ImageItem dicts of the photos at ``indices``, in that order."""
        assert self._catalog is not None, "handlers only run after start()"
        return [self._catalog.item(event_id, index) for index in indices]

    def _bind(self, route: _Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._dispatch(route, request)

        return endpoint

    async def _dispatch(self, route: _Route, request: web.Request) -> web.StreamResponse:
        """Count the request, then handle it under a queued fault, under chaos or normally."""
        self.stats.requests[route.name] += 1
        body = RequestBody(request)
        queue = self._faults[route.name]
        if queue:
            return await self._handle_with_fault(route, request, body, queue.popleft())
        chaos = self._route_chaos.get(route.name, self._chaos)
        if chaos is not None:
            return await self._handle_with_chaos(route, request, body, chaos)
        return await _send(request, await self._handle(route, request, body))

    async def _handle(
        self, route: _Route, request: web.Request, body: RequestBody
    ) -> web.StreamResponse:
        """Check the key and org of an API route, then run the handler, converting its errors.

        ``ApiError`` becomes the JSON error envelope.

        A ``MediaStream`` comes back unsent, and the caller sends it with ``_send``.
        """
        try:
            if route.authenticated:
                self._check_credentials(request)
            return await route.handler(self, request, body)
        except ApiError as exc:
            logger.debug(
                "Sandbox returns %d for %s %s: %s",
                exc.status,
                request.method,
                request.path,
                exc.message,
            )
            return error_response(exc.status, exc.message)
        except web.HTTPException as exc:
            # Raised by aiohttp itself while reading the request. Converted here so that the
            # middleware receives only router errors.
            logger.debug(
                "Sandbox returns %d for %s %s: %s", exc.status, request.method, request.path, exc
            )
            return error_response(exc.status, exc.reason)

    async def _handle_with_fault(
        self, route: _Route, request: web.Request, body: RequestBody, fault: Fault
    ) -> web.StreamResponse:
        logger.info(
            "Sandbox injects a fault (status=%s, drop=%s, delay=%s s) into %s %s",
            fault.status,
            fault.drop,
            fault.delay,
            request.method,
            request.path,
        )
        kind = queued_fault_kind(fault)
        if kind is not None:
            self.stats.faults[kind] += 1
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop == "before":
            return drop_connection(request)
        if fault.status is not None:
            return fault_response(fault)

        response = await self._handle(route, request, body)
        if fault.drop == "after":
            return drop_connection(request)
        return await _send(request, response)

    async def _handle_with_chaos(
        self, route: _Route, request: web.Request, body: RequestBody, chaos: Chaos
    ) -> web.StreamResponse:
        if chaos.only_delays():
            # No draw can change the outcome, so the identity and the draw are skipped
            # (`ninepic sandbox --latency` serves benchmarks this way).
            await asyncio.sleep(chaos.latency)
            return await _send(request, await self._handle(route, request, body))
        identity = await self._chaos_identity(route, request, body)
        decision = self._chaos_ledger.decide(chaos, route.name, identity)
        if decision.kind is not None:
            self.stats.faults[decision.kind] += 1
            _log_chaos(decision, route, request, self.seed)
        if decision.delay:
            await asyncio.sleep(decision.delay)

        if decision.kind == "drop_before":
            return drop_connection(request)
        if decision.kind == "error":
            return chaos_error_response(decision.status, decision.body_style)
        if decision.kind == "rate_limit":
            return rate_limit_response(chaos.retry_after)

        response = await self._handle(route, request, body)
        if decision.kind == "drop_after":
            return drop_connection(request)
        if decision.kind == "truncate":
            if isinstance(response, MediaStream):
                return await response.send(request, cut=decision.cut)
            assert isinstance(response, web.Response)
            return await send_truncated(request, response, decision.cut)
        return await _send(request, response)

    async def _chaos_identity(self, route: _Route, request: web.Request, body: RequestBody) -> str:
        """Build the identity under which chaos counts the attempts of a request.

        A face search upload or a JSON body is read here, before the credentials are checked,
        because its ``request_id``, file or digest is part of the identity. Reading it stores
        nothing.
        """
        body_key = None
        if route.reads_json_body:
            try:
                content = await body.content()
            except web.HTTPException:
                # The handler raises the same error again and responds with it.
                body_key = "unreadable body"
            else:
                body_key = f"body-sha256:{hashlib.sha256(content).hexdigest()}"
        elif route.reads_selfie_form:
            try:
                form = await body.selfie_form()
            except (ApiError, web.HTTPException):
                # The handler raises the same error again and responds with it.
                body_key = "unreadable body"
            else:
                body_key = _selfie_form_key(form)
        return request_identity(request.method, request.path, request.query.items(), body_key)

    def _check_credentials(self, request: web.Request) -> None:
        api_key = request.headers.get("X-API-Key")
        if not api_key:
            raise ApiError(401, "Missing API key. Send it in the X-API-Key header.")
        if not hmac.compare_digest(api_key.encode(), self.api_key.encode()):
            raise ApiError(403, "Invalid or inactive API key.")
        org_id = int(request.match_info["org_id"])
        if org_id != self.org_id:
            raise ApiError(403, f"org_id {org_id} does not match the organisation of this API key.")

    def _require_event(self, request: web.Request) -> SandboxEvent:
        event = self._events.get(int(request.match_info["event_id"]))
        if event is None:
            raise ApiError(404, "Event configuration not found")
        return event


# Adding an endpoint takes one line here and one handler. The name is what
# ``SandboxStats.requests`` counts under and what ``Sandbox.add_fault`` and
# ``Sandbox.set_chaos`` accept.
_ROUTES: tuple[_Route, ...] = (
    _Route(
        "faces.search",
        "POST",
        _EVENT_PATH + "/faces",
        handle_faces_search,
        reads_selfie_form=True,
    ),
    _Route("faces.get", "GET", _EVENT_PATH + "/faces/{request_id}", handle_faces_get),
    _Route("events.details", "GET", _EVENT_PATH + "/details", handle_event_details),
    _Route("events.ping", "GET", _EVENT_PATH + "/ping", handle_event_ping),
    _Route("events.list", "GET", "/events", handle_events_list),
    _Route("photos.list", "GET", _EVENT_PATH + "/images", handle_photos_list),
    _Route("bibs.search", "GET", _EVENT_PATH + "/bibs/{bib}", handle_bibs_search),
    _Route(
        "originals.links",
        "POST",
        _EVENT_PATH + "/original-photos",
        handle_original_links,
        reads_json_body=True,
    ),
    _Route("timeline.days", "GET", _EVENT_PATH + "/timeline/days", handle_timeline_days),
    _Route("timeline.images", "GET", _EVENT_PATH + "/timeline/images", handle_timeline_images),
    _Route(
        "media.original",
        "GET",
        _ORIGINAL_PATH,
        handle_media_original,
        prefix="",
        authenticated=False,
    ),
    _Route(
        "media.preview",
        "GET",
        _MEDIA_PATH,
        handle_media_preview,
        prefix="",
        authenticated=False,
    ),
)


async def _send(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Stream the body of a ``MediaStream``, and return any other response for aiohttp to send."""
    if isinstance(response, MediaStream):
        return await response.send(request)
    return response


@web.middleware
async def _count_and_wrap_router_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count requests that match no route, and return the router's 404 and 405 as envelopes.

    ``Sandbox._dispatch`` converts every ``HTTPException`` raised in a route handler, so each
    one that arrives here comes from the router.
    """
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        request.app[_STATS_KEY].requests[UNMATCHED_ROUTE] += 1
        if exc.status == 405:
            message = f"Method {request.method} is not allowed for {request.path}."
        else:
            message = f"No API route matches {request.method} {request.path}."
        response = error_response(exc.status, message)
        allow = exc.headers.get("Allow")
        if allow is not None:
            response.headers["Allow"] = allow
        return response


def _selfie_form_key(form: SelfieForm) -> str:
    """Return the part of a face search upload that identifies it: request_id, else the file."""
    if form.request_id is not None:
        return f"request_id:{form.request_id}"
    if form.file is not None:
        return f"file-sha256:{hashlib.sha256(form.file).hexdigest()}"
    return "no file"


def _log_chaos(decision: ChaosDecision, route: _Route, request: web.Request, seed: int) -> None:
    logger.debug(
        "Sandbox chaos injects %s into %s %s (route %s, attempt %d, seed %d)",
        decision.kind,
        request.method,
        request.path,
        route.name,
        decision.attempt,
        seed,
    )


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str = DEMO_API_KEY,
    org_id: int = DEMO_ORG_ID,
    chaos: Chaos | None = None,
    seed: int = 0,
) -> None:
    """Run a sandbox until the calling task is cancelled.

    It prints nothing. The listening URL is logged at INFO level on the
    ``nine_pic_async.testing`` logger. ``chaos`` and ``seed`` are passed to ``Sandbox``.
    """
    sandbox = Sandbox(api_key=api_key, org_id=org_id, host=host, port=port, chaos=chaos, seed=seed)
    async with sandbox:
        await asyncio.get_running_loop().create_future()
