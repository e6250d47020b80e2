"""Client settings that users construct themselves: timeouts."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

__all__ = ["Timeout"]


# One day: longer limits are typing mistakes, and aiohttp needs them as floats.
MAX_TIMEOUT_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Timeout:
    """Per-request time limits in seconds; `None` turns a limit off.

    `connect` bounds opening a TCP (and TLS) connection, `read` bounds the
    wait for each chunk of the response, and `total` bounds one attempt from
    sending to the last byte. Waiting for a free slot under the client's
    `max_concurrency` happens before the attempt starts and is not counted.
    Retries get fresh limits.
    """

    connect: float | None = 10.0
    read: float | None = 30.0
    total: float | None = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value <= MAX_TIMEOUT_SECONDS
            ):
                raise ValueError(f"Timeout.{name} must be a positive number of seconds or None")

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """Accept a `Timeout`, a number (the total), or `None` (the defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"timeout must be a Timeout or a number of seconds, got {value!r}")
        if not 0 < value <= MAX_TIMEOUT_SECONDS:
            raise ValueError("timeout must be a positive number of seconds up to 86400")
        return cls(total=float(value))

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        # sock_connect, unlike connect, leaves out the wait for a pooled connection.
        return aiohttp.ClientTimeout(
            total=self.total, sock_connect=self.connect, sock_read=self.read
        )
