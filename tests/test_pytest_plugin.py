"""The opt-in pytest plugin, used the way a user's test suite would use it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import os

import pytest

from nine_pic_async import NinePicClient
from nine_pic_async.testing import (
    DEMO_EVENT_ID,
    SAMPLE_MATCHES,
    SAMPLE_SELFIES,
    Fault,
    make_selfie,
)

pytest_plugins = ["nine_pic_async.testing.pytest_plugin"]


@pytest.mark.asyncio
async def test_search_is_billed_once(ninepic_client, ninepic_sandbox):
    ninepic_sandbox.add_fault("faces.search", Fault(drop="after"))

    page = await ninepic_client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["runner.jpg"])

    assert page.pagination.total == SAMPLE_MATCHES["runner.jpg"]
    assert ninepic_sandbox.stats.billable_searches == 1


@pytest.mark.asyncio
async def test_env_points_at_sandbox(ninepic_env):
    ninepic_env.add_event(2001, photo_count=30)
    alice = make_selfie("alice")
    expected = ninepic_env.add_selfie(alice, event_id=2001, matches=4)

    async with NinePicClient() as client:
        page = await client.faces.search(2001, alice)

    assert os.environ["NINEPIC_BASE_URL"] == ninepic_env.base_url
    assert [image.image_id for image in page.images] == list(expected)
"""


def test_plugin_fixtures_work_in_a_user_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(passed=2)
