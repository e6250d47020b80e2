"""A local server that implements the documented 9Pic API, for testing integrations offline.

Example::

    from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES, Sandbox

    async with Sandbox() as sandbox:
        ...  # point the client at sandbox.base_url with api_key=sandbox.api_key
        assert sandbox.stats.billable_searches == 1

The sandbox serves Face Search (POST and GET), Event Details and Ping for two events:
``DEMO_EVENT_ID`` with every search enabled, and ``DISABLED_EVENT_ID`` with selfie and BIB
search disabled. The sample selfies in ``SAMPLE_SELFIES`` match exactly ``SAMPLE_MATCHES``
photos of the demo event, and any other upload matches 1 to 150 photos chosen from its
SHA-256 hash.
"""

from ._data import (
    DEMO_API_KEY,
    DEMO_EVENT_ID,
    DEMO_ORG_ID,
    DISABLED_EVENT_ID,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    SandboxEvent,
)
from ._server import Fault, Sandbox, SandboxStats, serve

__all__ = [
    "DEMO_API_KEY",
    "DEMO_EVENT_ID",
    "DEMO_ORG_ID",
    "DISABLED_EVENT_ID",
    "SAMPLE_MATCHES",
    "SAMPLE_SELFIES",
    "Fault",
    "Sandbox",
    "SandboxEvent",
    "SandboxStats",
    "serve",
]
