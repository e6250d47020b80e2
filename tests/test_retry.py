"""The retry decision and delays as pure functions, and the backoff wiring."""

from __future__ import annotations

import random

import pytest

from nine_pic_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
)
from nine_pic_async._retry import call_with_retries, is_retryable, retry_delay


def status(cls: type[APIStatusError], code: int) -> APIStatusError:
    return cls("message", status=code, method="GET", path="/x")


@pytest.mark.parametrize(
    "exc",
    [
        APIConnectionError("reset", method="GET", path="/x"),
        APITimeoutError("timed out", method="GET", path="/x"),
        status(RateLimitError, 429),
        status(ServerError, 500),
        status(ServerError, 502),
        status(ServerError, 503),
        status(ServerError, 504),
    ],
    ids=["connection", "timeout", "429", "500", "502", "503", "504"],
)
def test_transient_failures_are_retried(exc: BaseException) -> None:
    assert is_retryable(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        status(BadRequestError, 400),
        status(NotFoundError, 404),
        status(ServerError, 501),
        ResponseValidationError("bad", status=200, path="/x", body_excerpt=""),
        ValueError("programmer mistake"),
    ],
    ids=["400", "404", "501", "invalid-body", "value-error"],
)
def test_permanent_failures_are_not_retried(exc: BaseException) -> None:
    assert is_retryable(exc) is False


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=4.0)
    rng = random.Random(0)
    error = APIConnectionError("reset", method="GET", path="/x")

    delays = [retry_delay(policy, n, error, rng) for n in range(1, 8) for _ in range(50)]

    assert all(0.0 <= delay <= 4.0 for delay in delays)
    assert max(retry_delay(policy, 1, error, rng) for _ in range(200)) <= 1.0
    assert max(delays) > 2.0


def test_retry_after_is_waited_in_full() -> None:
    policy = RetryPolicy(initial_delay=0.1, max_delay=0.2)
    error = RateLimitError("slow", status=429, method="GET", path="/x", retry_after=3.0)

    assert retry_delay(policy, 1, error, random.Random(0)) == 3.0


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=10.0)
    error = RateLimitError("slow", status=429, method="GET", path="/x", retry_after=600.0)

    assert retry_delay(policy, 1, error, random.Random(0)) == 10.0


@pytest.mark.parametrize("value", [-1, True, 1.5])
def test_invalid_max_retries_is_rejected(value: object) -> None:
    with pytest.raises((TypeError, ValueError), match="max_retries"):
        RetryPolicy(max_retries=value)  # type: ignore[arg-type]


async def test_transient_failure_then_success() -> None:
    failures = [APIConnectionError("reset", method="GET", path="/x")] * 2
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if failures:
            raise failures.pop()
        return "ok"

    result = await call_with_retries(attempt, RetryPolicy(max_retries=2, initial_delay=0.0))

    assert result == "ok"
    assert calls == 3


async def test_retries_stop_after_max_retries() -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise status(ServerError, 503)

    with pytest.raises(ServerError):
        await call_with_retries(attempt, RetryPolicy(max_retries=3, initial_delay=0.0))

    assert calls == 4


async def test_permanent_failure_is_raised_at_once() -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise status(NotFoundError, 404)

    with pytest.raises(NotFoundError):
        await call_with_retries(attempt, RetryPolicy(max_retries=5, initial_delay=0.0))

    assert calls == 1


def test_retry_after_of_a_503_is_waited_in_full() -> None:
    error = ServerError("busy", status=503, method="GET", path="/x", retry_after=2.5)

    assert retry_delay(RetryPolicy(max_delay=0.1), 1, error, random.Random(0)) == 2.5


def test_status_errors_survive_pickling() -> None:
    import pickle

    error = RateLimitError("slow", status=429, method="GET", path="/x", retry_after=3.0)

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is RateLimitError
    assert copy.retry_after == 3.0
    assert str(copy) == str(error)
