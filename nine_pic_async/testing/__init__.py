"""A local server that implements the documented 9Pic API, for testing integrations offline.

Example::

    from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Sandbox

    async with Sandbox() as sandbox:
        ...  # point the client at sandbox.base_url with api_key=sandbox.api_key
        assert sandbox.stats.billable_searches == 1

The sandbox serves every documented endpoint except Video Clipping: Ping, List Events, Event
Details, All Photos, BIB Search, Face Search (POST and GET), Photo Timeline and Download
Originals. Its organisation has 24 events. ``DEMO_EVENT_ID`` has 3000 photos and every search
enabled, ``DISABLED_EVENT_ID`` has selfie and BIB search disabled, ``EMPTY_EVENT_ID`` has no
photos and ``NO_TIMELINE_EVENT_ID`` has the timeline disabled. The sample selfies in
``SAMPLE_SELFIES`` match exactly ``SAMPLE_MATCHES`` photos of the demo event, and any other
upload matches 1 to 150 photos chosen from its SHA-256 hash. The BIBs in ``SAMPLE_BIBS`` tag
exactly that many photos of the demo event.

Every photo has a fixed image id, BIB tags and capture time, except that every 40th photo and
the photos of an event without a date have no capture time. ``Sandbox.capture_timestamp()``
returns it. Image URLs and the presigned
links of Download Originals point at media routes of the sandbox itself, which serve
generated JPEG bytes without an API key. ``original_bytes()`` and ``preview_bytes()`` return
the same bytes, so a test can compare a download byte for byte.

Seeding your own data
---------------------

Tests of your own code can add what they need to a running sandbox::

    event = sandbox.add_event(2001, photo_count=40)  # a live SandboxEvent
    alice = make_selfie("alice")  # a small PNG, different for every label
    expected = sandbox.add_selfie(alice, event_id=2001, matches=5)  # the image ids found
    request_id = sandbox.add_search(event_id=2001, matches=12)  # a stored result, not billed

``sandbox.event(event_id)`` returns an event whose flags a test may change, and
``remove_event()`` makes an event return 404.

Faults and chaos
----------------

``Sandbox.add_fault(route, Fault(...))`` queues a one-shot failure for the next request to a
route. For failures spread over a whole run, pass a ``Chaos`` to ``Sandbox(chaos=...)`` or to
``Sandbox.set_chaos()``, for every route or for one::

    chaos = Chaos(error_rate=0.1, drop_after_rate=0.05, truncate_rate=0.05, latency=0.01)
    async with Sandbox(chaos=chaos, seed=7) as sandbox:
        sandbox.set_chaos(Chaos(rate_limit_rate=0.3), route="faces.get")
        ...
        print(sandbox.stats.faults)  # injected faults per kind, e.g. Counter({'error': 12})

Each request meets at most one fault kind. It gets an error status with a JSON, HTML or plain
text body, a connection closed before or after the request is handled, a 200 whose body is cut
short, or a burst of 429 responses with ``Retry-After``. The draw depends only on the seed, the
route, the request and the number of earlier requests with that identity that chaos decided
on. The request identity is the method, the path, the sorted query, and the ``request_id`` or
file of a face search upload or the digest of a Download Originals body. So a failing test
fails again with the same seed, however its concurrent requests interleave, and a retry of a
request gets a new draw. A queued ``Fault`` takes precedence over chaos, and the request that
takes it does not count as an attempt. Identical requests in flight at the same time differ
only in arrival order, so their two outcomes may swap between runs.

Route names, for ``SandboxStats.requests``, ``add_fault()`` and ``set_chaos()``:
``events.ping``, ``events.list``, ``events.details``, ``photos.list``, ``bibs.search``,
``faces.search``, ``faces.get``, ``timeline.days``, ``timeline.images``,
``originals.links``, ``media.original`` (presigned originals) and ``media.preview`` (the
watermarked ``img_url`` and ``thumbnail_url`` images). A truncated media download comes from
``Chaos(truncate_rate=...)``, since ``Fault`` has no truncation.

aiohttp's client (3.14) retries an idempotent request such as a GET once when the server closes
the connection without responding, so a dropped GET can reach the server twice and the
caller may see only the second response.
"""

from ._chaos import Chaos, Fault
from ._data import (
    DEMO_API_KEY,
    DEMO_EVENT_ID,
    DEMO_ORG_ID,
    DISABLED_EVENT_ID,
    EMPTY_EVENT_ID,
    NO_TIMELINE_EVENT_ID,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    SandboxEvent,
)
from ._gallery import SAMPLE_BIBS
from ._media import original_bytes, preview_bytes
from ._seeds import make_selfie
from ._server import Sandbox, SandboxStats, serve

__all__ = [
    "DEMO_API_KEY",
    "DEMO_EVENT_ID",
    "DEMO_ORG_ID",
    "DISABLED_EVENT_ID",
    "EMPTY_EVENT_ID",
    "NO_TIMELINE_EVENT_ID",
    "SAMPLE_BIBS",
    "SAMPLE_MATCHES",
    "SAMPLE_SELFIES",
    "Chaos",
    "Fault",
    "Sandbox",
    "SandboxEvent",
    "SandboxStats",
    "make_selfie",
    "original_bytes",
    "preview_bytes",
    "serve",
]
