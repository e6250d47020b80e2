"""Fault injection for the sandbox: queued one-shot ``Fault``s and seeded ``Chaos``.

Under chaos, the fate of a request is drawn from the SHA-512 hash of its seed, route, identity
and attempt, never from a shared random generator. The identity is the method, the path, the
sorted query and, for a face search upload, its ``request_id`` or file digest. The attempt
counts the earlier requests with the same route and identity. So concurrent clients that send
the same requests in any order meet the same faults, and a retry gets a fresh draw.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import http
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import msgspec
from aiohttp import web
from multidict import CIMultiDict

ChaosKind = Literal["error", "drop_before", "drop_after", "truncate", "rate_limit"]
ErrorBodyStyle = Literal["json", "html", "text"]

_ERROR_BODY_STYLES: tuple[str, ...] = get_args(ErrorBodyStyle)
_RATE_SUM_TOLERANCE = 1e-9
"""Slack for float rounding, so that rates such as 0.1 + 0.2 + 0.7 pass the sum check."""


@dataclass(frozen=True)
class Fault:
    """A failure that the sandbox injects in place of, or after, the normal handling.

    ``status`` returns a response with that status without handling the request.
    ``drop="before"`` closes the connection without handling the request or responding, so
    nothing is stored or billed. ``drop="after"`` handles the request fully (a face search is
    computed, stored and billed) and then closes the connection without sending the response.
    ``delay`` is the time in seconds to sleep before any of this, and may be used alone to
    make a request slow.
    """

    status: int | None = None
    body: bytes | None = None
    """Raw body for a ``status`` fault. The default is the JSON error envelope."""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers for a ``status`` fault, e.g. ``{"Retry-After": "1"}``."""
    drop: Literal["before", "after"] | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"Fault status must be between 100 and 599, got {self.status}")
        if self.status is not None and self.drop is not None:
            raise ValueError("A fault sets either status or drop, not both")
        if self.drop not in (None, "before", "after"):
            raise ValueError(f"Fault drop must be 'before', 'after' or None, got {self.drop!r}")
        if self.delay < 0:
            raise ValueError(f"Fault delay must be >= 0 seconds, got {self.delay}")


@dataclass(frozen=True, kw_only=True)
class Chaos:
    """Random but reproducible misbehaviour that the sandbox applies to requests.

    Each request draws at most one fault kind, with the probability of its ``*_rate`` field.
    The rates must sum to at most 1, and the remainder is the chance of a normal response.
    Latency applies to every request, whatever its draw.
    """

    latency: float = 0.0
    """Seconds that the sandbox sleeps before it responds to or drops any request."""
    latency_jitter: float = 0.0
    """Upper bound in seconds of a uniform extra delay added to ``latency``."""
    error_rate: float = 0.0
    """Probability of responding with a status from ``error_statuses`` without handling."""
    error_statuses: tuple[int, ...] = (500, 502, 503)
    error_bodies: tuple[ErrorBodyStyle, ...] = ("json", "html", "text")
    """Body styles of error responses: the JSON error envelope, a proxy's HTML page, plain text."""
    drop_before_rate: float = 0.0
    """Probability of closing the connection without handling the request."""
    drop_after_rate: float = 0.0
    """Probability of handling the request fully, then closing without responding."""
    truncate_rate: float = 0.0
    """Probability of handling fully, then sending the headers and only part of the body."""
    rate_limit_rate: float = 0.0
    """Probability of starting a burst of ``rate_limit_burst`` responses with status 429."""
    rate_limit_burst: int = 2
    """Consecutive 429 responses to the same request identity, the first one included."""
    retry_after: str | None = "0.05"
    """``Retry-After`` value of 429 responses, in seconds or an HTTP date. ``None`` omits it."""

    def __post_init__(self) -> None:
        for name in ("latency", "latency_jitter"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"Chaos {name} must be a finite number of seconds >= 0, got {value}"
                )

        rates = self.rates()
        for kind, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"Chaos {kind}_rate must be between 0 and 1, got {rate}")
        if sum(rates.values()) > 1.0 + _RATE_SUM_TOLERANCE:
            raise ValueError(
                f"Chaos rates must sum to at most 1, got {sum(rates.values())}: lower some of "
                + ", ".join(f"{kind}_rate={rate}" for kind, rate in rates.items() if rate)
            )

        # Lists are accepted and stored as tuples, so the settings stay hashable.
        object.__setattr__(self, "error_statuses", tuple(self.error_statuses))
        object.__setattr__(self, "error_bodies", tuple(self.error_bodies))
        if not self.error_statuses:
            raise ValueError("Chaos error_statuses must contain at least one status")
        for status in self.error_statuses:
            if not 400 <= status <= 599:
                raise ValueError(f"Chaos error_statuses must be between 400 and 599, got {status}")
        if not self.error_bodies:
            raise ValueError("Chaos error_bodies must contain at least one body style")
        for style in self.error_bodies:
            if style not in _ERROR_BODY_STYLES:
                raise ValueError(
                    f"Chaos error_bodies must be 'json', 'html' or 'text', got {style!r}"
                )

        if self.rate_limit_burst < 1:
            raise ValueError(f"Chaos rate_limit_burst must be >= 1, got {self.rate_limit_burst}")
        if self.retry_after is not None and (
            not self.retry_after.strip() or "\r" in self.retry_after or "\n" in self.retry_after
        ):
            raise ValueError(
                f"Chaos retry_after must be a non-empty header value without line breaks, "
                f"got {self.retry_after!r}"
            )

    def only_delays(self) -> bool:
        """Return whether this chaos adds a fixed latency and nothing else."""
        return not self.latency_jitter and not any(self.rates().values())

    def rates(self) -> dict[ChaosKind, float]:
        """Return the probability of each fault kind, in the order that the draw tests them."""
        return {
            "error": self.error_rate,
            "drop_before": self.drop_before_rate,
            "drop_after": self.drop_after_rate,
            "truncate": self.truncate_rate,
            "rate_limit": self.rate_limit_rate,
        }


@dataclass(frozen=True)
class ChaosDecision:
    """Fate of one request under chaos."""

    kind: ChaosKind | None
    """Fault to inject, or ``None`` for a normal response."""
    delay: float
    """Seconds to sleep first: ``latency`` plus the drawn jitter."""
    status: int
    """Status of an ``error`` response, 429 for ``rate_limit``, 200 otherwise."""
    body_style: ErrorBodyStyle
    """Body style of an ``error`` response."""
    cut: float
    """Position in [0, 1) where a truncated body ends, as a fraction of its length."""
    attempt: int
    """Number of earlier requests with the same route and identity that chaos decided on."""


def request_identity(
    method: str, path: str, query: Iterable[tuple[str, str]], body_key: str | None
) -> str:
    """Build the identity of a request: method, path, sorted query and a body digest or id."""
    return json.dumps([method.upper(), path, sorted(query), body_key], separators=(",", ":"))


def draw_decision(
    chaos: Chaos, seed: int, route: str, identity: str, attempt: int
) -> ChaosDecision:
    """Decide the fate of one request from the hash of its seed, route, identity and attempt."""
    key = json.dumps([seed, route, identity, attempt], separators=(",", ":"))
    digest = hashlib.sha512(key.encode()).digest()
    # Eight uniform numbers in [0, 1), one per 8-byte slice of the digest. Only the top 53 bits
    # of each slice are kept, because a 64-bit integer divided by 2**64 can round up to 1.0.
    uniforms = [(int.from_bytes(digest[i : i + 8], "big") >> 11) / 2**53 for i in range(0, 64, 8)]
    kind_draw, jitter_draw, status_draw, style_draw, cut_draw = uniforms[:5]

    kind: ChaosKind | None = None
    threshold = 0.0
    for candidate, rate in chaos.rates().items():
        threshold += rate
        if kind_draw < threshold:
            kind = candidate
            break

    status = 200
    if kind == "error":
        status = chaos.error_statuses[int(status_draw * len(chaos.error_statuses))]
    elif kind == "rate_limit":
        status = 429
    return ChaosDecision(
        kind=kind,
        delay=chaos.latency + chaos.latency_jitter * jitter_draw,
        status=status,
        body_style=chaos.error_bodies[int(style_draw * len(chaos.error_bodies))],
        cut=cut_draw,
        attempt=attempt,
    )


@dataclass
class _IdentityHistory:
    requests_seen: int = 0
    rate_limited_left: int = 0
    """429 responses still owed by a burst in progress."""


class ChaosLedger:
    """Per route and identity, the requests that chaos has decided on and bursts in progress.

    During a rate-limit burst, the next requests of the same identity get a 429 response
    without a fault draw. Their latency is still drawn, and each of them counts as an attempt.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._history: collections.defaultdict[tuple[str, str], _IdentityHistory] = (
            collections.defaultdict(_IdentityHistory)
        )

    def decide(self, chaos: Chaos, route: str, identity: str) -> ChaosDecision:
        """Draw the fate of the next request with this route and identity, and record it."""
        # NOTE: identical requests in flight at the same time get their attempt numbers in
        # arrival order, so their outcomes may swap between runs.
        history = self._history[(route, identity)]
        attempt = history.requests_seen
        history.requests_seen += 1
        decision = draw_decision(chaos, self.seed, route, identity, attempt)

        if history.rate_limited_left > 0:
            history.rate_limited_left -= 1
            return dataclasses.replace(decision, kind="rate_limit", status=429)
        if decision.kind == "rate_limit":
            history.rate_limited_left = chaos.rate_limit_burst - 1
        return decision

    def end_bursts(self) -> None:
        """Cancel the 429 responses still owed by every burst in progress."""
        for history in self._history.values():
            history.rate_limited_left = 0


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown status"


def chaos_error_response(status: int, style: ErrorBodyStyle) -> web.Response:
    """Build an error response in one of the styles that a client may meet in production.

    ``json`` is the API's error envelope. ``html`` is a page such as a reverse proxy or load
    balancer sends when the application behind it fails. ``text`` is a bare status line.
    """
    title = f"{status} {_reason(status)}"
    if style == "json":
        envelope = {"responseType": "error", "message": f"{title} (sandbox chaos)", "data": None}
        return web.Response(
            status=status, body=msgspec.json.encode(envelope), content_type="application/json"
        )
    if style == "html":
        page = (
            "<!DOCTYPE html>\n<html>\n"
            f"<head><title>{title}</title></head>\n"
            f"<body>\n<h1>{title}</h1>\n<p>sandbox-proxy</p>\n</body>\n"
            "</html>\n"
        )
        return web.Response(status=status, text=page, content_type="text/html")
    return web.Response(status=status, text=f"{title}\n", content_type="text/plain")


def rate_limit_response(retry_after: str | None) -> web.Response:
    """Build a 429 response in the JSON error envelope, with ``Retry-After`` unless it is None."""
    envelope = {
        "responseType": "error",
        "message": "Too many requests (sandbox chaos). Retry later.",
        "data": None,
    }
    response = web.Response(
        status=429, body=msgspec.json.encode(envelope), content_type="application/json"
    )
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


async def send_truncated(
    request: web.Request, response: web.Response, cut: float
) -> web.StreamResponse:
    """Send ``response`` with its full ``Content-Length`` but only part of its body, then close.

    A body of two bytes or more is cut after at least one and at most all but one of its bytes,
    and a shorter body is not sent at all, so a client that reads the body fails.
    """
    body = response.body
    assert isinstance(body, bytes), "sandbox handlers build their responses from bytes"
    sent = 1 + int(cut * (len(body) - 1)) if len(body) >= 2 else 0

    stream = web.StreamResponse(status=response.status, reason=response.reason)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            stream.headers.add(name, value)
    stream.content_length = len(body)
    # StreamResponse (aiohttp 3.14) sends its headers in prepare(), so they reach the client
    # even when no byte of the body is sent.
    await stream.prepare(request)
    await stream.write(body[:sent])

    transport = request.transport
    if transport is not None:
        # close(), unlike abort(), flushes what is already written before closing.
        transport.close()
    return stream


def fault_response(fault: Fault) -> web.Response:
    assert fault.status is not None
    headers = CIMultiDict(fault.headers)
    headers.setdefault("Content-Type", fault.content_type)
    if fault.body is not None:
        return web.Response(status=fault.status, body=fault.body, headers=headers)
    reason = _reason(fault.status)
    envelope = {"responseType": "error", "message": f"{reason} (sandbox fault)", "data": None}
    return web.Response(status=fault.status, body=msgspec.json.encode(envelope), headers=headers)


def queued_fault_kind(fault: Fault) -> str | None:
    """Return the ``SandboxStats.faults`` key of a queued fault, or None for a delay alone."""
    if fault.drop is not None:
        return f"drop_{fault.drop}"
    if fault.status is None:
        return None
    if fault.status == 429:
        return "rate_limit"
    return "error" if fault.status >= 400 else "status"


def drop_connection(request: web.Request) -> web.Response:
    """Close the connection so that the client receives no response.

    aiohttp then fails to write the returned response to the closed transport, treats that as
    a client disconnect and logs it at DEBUG level only.
    """
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=500)
