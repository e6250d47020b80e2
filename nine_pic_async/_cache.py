"""The in-process memory cache and the client's view of any aiocache backend.

`MemoryCache` is a full aiocache `BaseCache`, so it works wherever aiocache
does, but it also offers the client a synchronous lookup (`get_nowait`) that
skips aiocache's decorator layers: a hit costs a dictionary lookup and a clock
read. It keeps the decoded, frozen models themselves, with no serialization.

Entries expire by timestamp, checked on read, so they expire even after the
event loop that stored them has ended; no timer handles are scheduled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import msgspec
from aiocache.base import BaseCache
from aiocache.serializers import NullSerializer

__all__ = ["DEFAULT_TTLS", "CacheStats", "MemoryCache", "ResponseCache"]

T = TypeVar("T")

logger = logging.getLogger("nine_pic_async.cache")

# Seconds an entry stays fresh, per endpoint. A face search result never
# changes once computed; event details may be edited by the organiser.
DEFAULT_TTLS: dict[str, float] = {
    "faces": 24 * 3600.0,
    "details": 60.0,
}

_MISSING = object()


class MemoryCache(BaseCache):  # type: ignore[misc]
    """A bounded, least-recently-used in-process cache with timestamp expiry.

    `max_entries` bounds the number of keys; the least recently read or
    written entry is evicted first. `ttl` is the default lifetime in seconds
    (`None`: until evicted).
    """

    NAME = "nine_pic_memory"

    def __init__(self, *, max_entries: int = 10_000, ttl: float | None = None, **kwargs: Any):
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive int, got {max_entries!r}")
        kwargs.setdefault("serializer", NullSerializer())
        super().__init__(ttl=ttl, **kwargs)
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[object, float | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    # -- The synchronous fast path used by the client --------------------------------------------

    def get_nowait(self, key: str, default: object = None) -> object:
        """Return the fresh value under `key`, or `default`; a read refreshes its LRU rank."""
        entry = self._entries.get(key)
        if entry is None:
            return default
        value, expires_at = entry
        if expires_at is not None and time.monotonic() >= expires_at:
            del self._entries[key]
            return default
        self._entries.move_to_end(key)
        return value

    def set_nowait(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store `value` under `key` for `ttl` seconds (default: the cache's `ttl`)."""
        lifetime = ttl if ttl is not None else self.ttl
        expires_at = time.monotonic() + lifetime if lifetime else None
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def delete_nowait(self, key: str) -> int:
        """Remove `key`; return 1 if it was present, else 0."""
        return 0 if self._entries.pop(key, _MISSING) is _MISSING else 1

    # -- aiocache's backend interface ------------------------------------------------------------

    async def _get(self, key: str, encoding: str | None = "utf-8", _conn: Any = None) -> object:
        return self.get_nowait(key)

    async def _gets(self, key: str, encoding: str | None = "utf-8", _conn: Any = None) -> object:
        return self.get_nowait(key)

    async def _multi_get(
        self, keys: list[str], encoding: str | None = "utf-8", _conn: Any = None
    ) -> list[object]:
        return [self.get_nowait(key) for key in keys]

    async def _set(
        self,
        key: str,
        value: object,
        ttl: float | None = None,
        _cas_token: object = None,
        _conn: Any = None,
    ) -> bool | int:
        if _cas_token is not None and _cas_token != self.get_nowait(key):
            return 0
        self.set_nowait(key, value, ttl)
        return True

    async def _multi_set(
        self, pairs: list[tuple[str, object]], ttl: float | None = None, _conn: Any = None
    ) -> bool:
        for key, value in pairs:
            self.set_nowait(key, value, ttl)
        return True

    async def _add(
        self, key: str, value: object, ttl: float | None = None, _conn: Any = None
    ) -> bool:
        if self.get_nowait(key, _MISSING) is not _MISSING:
            raise ValueError(f"Key {key} already exists, use .set to update the value")
        self.set_nowait(key, value, ttl)
        return True

    async def _exists(self, key: str, _conn: Any = None) -> bool:
        return self.get_nowait(key, _MISSING) is not _MISSING

    async def _increment(self, key: str, delta: int, _conn: Any = None) -> int:
        current = self.get_nowait(key, _MISSING)
        if current is _MISSING:
            updated = delta
        elif isinstance(current, int):
            updated = current + delta
        else:
            raise TypeError("Value is not an integer")
        expires_at = self._entries[key][1] if key in self._entries else None
        self._entries[key] = (updated, expires_at)
        return updated

    async def _expire(self, key: str, ttl: float | None, _conn: Any = None) -> bool:
        value = self.get_nowait(key, _MISSING)
        if value is _MISSING:
            return False
        self._entries[key] = (value, time.monotonic() + ttl if ttl else None)
        return True

    async def _delete(self, key: str, _conn: Any = None) -> int:
        return self.delete_nowait(key)

    async def _clear(self, namespace: str | None = None, _conn: Any = None) -> bool:
        if namespace:
            for key in [key for key in self._entries if key.startswith(namespace)]:
                del self._entries[key]
        else:
            self._entries.clear()
        return True

    async def _raw(
        self,
        command: str,
        *args: Any,
        encoding: str | None = "utf-8",
        _conn: Any = None,
        **kwargs: Any,
    ) -> Any:
        return getattr(self._entries, command)(*args, **kwargs)

    async def _redlock_release(self, key: str, value: object) -> int:
        if self.get_nowait(key, _MISSING) == value:
            return self.delete_nowait(key)
        return 0

    async def _close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
        return None


@dataclass
class CacheStats:
    """Counters of the client's cache, for metrics.

    `coalesced` counts reads that waited for an identical request already in
    flight instead of sending their own; `errors` counts backend failures that
    were treated as misses.
    """

    hits: int = 0
    misses: int = 0
    coalesced: int = 0
    errors: int = 0


class _LeaderCancelled(Exception):
    """The request that others were waiting for was cancelled by its own caller."""


class ResponseCache:
    """The client's read-through cache: lookup, single-flight, store.

    With a `MemoryCache` the lookup is synchronous and returns the stored model
    itself. Any other aiocache backend stores msgpack bytes written by msgspec
    (never pickle), and a value that fails to decode is a miss. A failing
    backend is a miss too, with one WARNING per outage. Errors are never stored.
    """

    def __init__(self, backend: BaseCache | None) -> None:
        self.backend = backend
        self.stats = CacheStats()
        self._memory = backend if isinstance(backend, MemoryCache) else None
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._decoders: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {}
        self._backend_failing = False

    async def get_or_fetch(
        self, key: str, model: type[T], ttl: float | None, fetch: Callable[[], Awaitable[T]]
    ) -> T:
        """Return the cached value under `key`, or the result of `fetch()`, stored.

        Concurrent calls for one key share a single `fetch()`; its error reaches
        every waiter and is not stored.
        """
        if self.backend is None:
            return await fetch()

        cached = await self.lookup(key, model)
        if cached is not None:
            self.stats.hits += 1
            return cached

        while (inflight := self._inflight.get(key)) is not None:
            self.stats.coalesced += 1
            try:
                # shield: a waiter's own cancellation must not cancel the leader's request.
                return cast(T, await asyncio.shield(inflight))
            except _LeaderCancelled:
                continue

        self.stats.misses += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await fetch()
            await self.store(key, value, ttl)
        except asyncio.CancelledError:
            future.set_exception(_LeaderCancelled())
            future.exception()  # Marks it retrieved: waiters may have gone.
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    async def lookup(self, key: str, model: type[T]) -> T | None:
        """Return the fresh value under `key`, or `None` on a miss or a backend failure."""
        if self._memory is not None:
            return cast("T | None", self._memory.get_nowait(key))
        if self.backend is None:
            return None

        try:
            raw = await self.backend.get(key)
        except Exception as exc:
            self._backend_failed("read", exc)
            return None
        self._backend_recovered()
        if raw is None:
            return None
        try:
            return self._decoder(model).decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
            self.stats.errors += 1
            logger.debug("cache entry %s is unreadable, treating it as a miss: %s", key, exc)
            return None

    async def store(self, key: str, value: object, ttl: float | None) -> None:
        """Store `value` under `key`; a backend failure only logs."""
        if self._memory is not None:
            self._memory.set_nowait(key, value, ttl)
            return
        if self.backend is None:
            return

        try:
            await self.backend.set(key, msgspec.msgpack.encode(value), ttl=ttl)
        except Exception as exc:
            self._backend_failed("write", exc)
        else:
            self._backend_recovered()

    async def delete(self, key: str) -> None:
        """Remove `key` from the backend; a backend failure only logs."""
        if self._memory is not None:
            self._memory.delete_nowait(key)
            return
        if self.backend is None:
            return

        try:
            await self.backend.delete(key)
        except Exception as exc:
            self._backend_failed("delete", exc)

    def _decoder(self, model: type[T]) -> msgspec.msgpack.Decoder[T]:
        decoder = self._decoders.get(model)
        if decoder is None:
            decoder = self._decoders[model] = msgspec.msgpack.Decoder(model)
        return decoder

    def _backend_failed(self, operation: str, exc: Exception) -> None:
        self.stats.errors += 1
        if not self._backend_failing:
            self._backend_failing = True
            logger.warning(
                "cache backend %s failed on %s (%s: %s); reading from the network until it "
                "recovers",
                type(self.backend).__name__,
                operation,
                type(exc).__name__,
                exc,
            )

    def _backend_recovered(self) -> None:
        if self._backend_failing:
            self._backend_failing = False
            logger.info("cache backend %s recovered", type(self.backend).__name__)
