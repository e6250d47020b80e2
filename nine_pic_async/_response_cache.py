"""The client's read-through cache: lookup, single-flight, optional cross-process lock, store.

With a `MemoryCache` the lookup is synchronous and returns the stored model
itself. Any other aiocache backend stores msgpack bytes written by msgspec,
never pickle, so a poisoned shared cache cannot run code in the client. A
value that fails to decode is a miss and is overwritten by the next fetch.

A failing backend never fails a read. The failure is a miss, logged as one
WARNING per outage, and the backend is skipped for `retry_backend_after`
seconds, so that a dead server costs one failed call per interval, not one per
read. Errors of the fetch itself are never stored.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import msgspec
from aiocache.backends.memory import SimpleMemoryBackend
from aiocache.base import BaseCache

from ._cache import MemoryCache

__all__ = ["CacheStats", "ResponseCache"]

T = TypeVar("T")

logger = logging.getLogger("nine_pic_async.cache")

_INDEX_DECODER = msgspec.msgpack.Decoder(list[str])
# Polling interval bounds while another process holds the lock for a key.
_LOCK_POLL_MIN = 0.01
_LOCK_POLL_MAX = 0.2
_MAX_SHARED_TTL = 30 * 24 * 3600


def _unchanged(value: Any) -> Any:
    return value


@dataclass
class CacheStats:
    """Counters of the client's cache, for metrics.

    `coalesced` counts reads that got their value from an identical request
    already in flight, in this process or (with the cache lock) in another;
    `errors` counts backend failures and unreadable entries, each treated as a
    miss.
    """

    hits: int = 0
    misses: int = 0
    coalesced: int = 0
    errors: int = 0


class _LeaderCancelled(Exception):
    """The request that others were waiting for was cancelled by its own caller."""


class ResponseCache:
    """Serves cached responses and makes sure one miss leads to one request.

    `lock_lease`, when set, turns on a lock in the backend (an atomic `add`,
    as Redis `SET NX` and Memcached `add` provide) so that clients in other
    processes missing the same key wait for one fetch instead of each sending
    their own. It is the longest time in seconds a waiter waits for the lock
    holder before fetching itself.
    """

    def __init__(
        self,
        backend: BaseCache | None,
        *,
        lock_lease: float | None = None,
        retry_backend_after: float = 1.0,
    ) -> None:
        if backend is not None and not isinstance(backend, (MemoryCache, SimpleMemoryBackend)):
            encoding = getattr(getattr(backend, "serializer", None), "encoding", None)
            if encoding is not None:
                raise ValueError(
                    f"cache backend {type(backend).__name__} would decode the client's msgpack "
                    f"values as {encoding} text; create it with "
                    f"serializer=nine_pic_async.BytesSerializer(), or use "
                    f"nine_pic_async.redis_cache() or memcached_cache()"
                )
        if lock_lease is not None and not lock_lease > 0:
            raise ValueError(
                f"cache_lock_lease must be a positive number of seconds or None, got {lock_lease!r}"
            )
        self.backend = backend
        self.stats = CacheStats()
        self.lock_lease = lock_lease
        self.retry_backend_after = retry_backend_after
        self._memory = backend if isinstance(backend, MemoryCache) else None
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._decoders: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {}
        self._failing_since: float | None = None
        # Per index key: its lock and the number of coroutines using it.
        self._index_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self._unreadable_warned = False

    def snapshot(self) -> CacheStats:
        """Return a copy of the counters."""
        stats = self.stats
        return CacheStats(stats.hits, stats.misses, stats.coalesced, stats.errors)

    def peek(self, key: str) -> Any:
        """Return the value under `key` when an in-process lookup finds it, else `None`.

        This synchronous shortcut for `MemoryCache` counts as a hit and needs no
        coroutine and no request to be built. Other backends return `None`.
        """
        if self._memory is None:
            return None
        value = self._memory.get_nowait(key)
        if value is not None:
            self.stats.hits += 1
        return value

    async def get_or_fetch(
        self,
        key: str,
        model: type[T],
        ttl: float | None,
        fetch: Callable[[], Awaitable[T]],
        *,
        group: str | None = None,
        fresh: bool = False,
    ) -> T:
        """Return the cached value under `key`, or the result of `fetch()`, stored.

        Concurrent calls for one key in this client share a single `fetch()`;
        its error reaches every waiter and is not stored. `group` names a set
        of keys that `forget(group)` removes together. With `fresh`, the cached
        value is skipped, and the fetched one replaces it.
        """
        if self.backend is None:
            return await fetch()

        if not fresh:
            cached = await self.lookup(key, model)
            if cached is not None:
                self.stats.hits += 1
                return cached

        while (inflight := self._inflight.get(key)) is not None:
            if inflight.get_loop() is not asyncio.get_running_loop():
                raise RuntimeError(
                    "this NinePicClient is in use by another running event loop; create one "
                    "client per event loop (for example inside the coroutine passed to "
                    "asyncio.run)"
                )
            self.stats.coalesced += 1
            try:
                # shield: a waiter's own cancellation must not cancel the leader's request.
                return cast(T, await asyncio.shield(inflight))
            except _LeaderCancelled:
                continue

        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._fetch_and_store(key, model, ttl, fetch, group, fresh)
        except asyncio.CancelledError:
            future.set_exception(_LeaderCancelled())
            future.exception()  # Marks it retrieved, since the waiters may have gone.
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

    async def _fetch_and_store(
        self,
        key: str,
        model: type[T],
        ttl: float | None,
        fetch: Callable[[], Awaitable[T]],
        group: str | None,
        fresh: bool,
    ) -> T:
        if self.lock_lease is None or self._memory is not None:
            self.stats.misses += 1
            value = await fetch()
            await self.store(key, value, ttl, group=group)
            return value

        lock_key = f"{key}:lock"
        token = uuid.uuid4().hex.encode()
        acquired = await self._acquire(lock_key, token)
        # A fresh read cannot wait for the holder: the lookup would find the value it skips.
        if acquired is False and not fresh:
            waited = await self._wait_for_holder(key, lock_key, model)
            if waited is not None:
                self.stats.coalesced += 1
                return waited
        if not acquired:
            # The lock is unavailable, or its holder failed or is too slow: fetch without it.
            self.stats.misses += 1
            value = await fetch()
            await self.store(key, value, ttl, group=group)
            return value

        try:
            # Another process may have stored the value between our miss and the lock.
            cached = None if fresh else await self.lookup(key, model)
            if cached is not None:
                self.stats.hits += 1
                return cached
            self.stats.misses += 1
            value = await fetch()
            await self.store(key, value, ttl, group=group)
            return value
        finally:
            await self._release(lock_key, token)

    async def _acquire(self, lock_key: str, token: bytes) -> bool | None:
        """Take the lock: True when taken, False when another holds it, None when unavailable."""
        backend = self.backend
        assert backend is not None
        assert self.lock_lease is not None
        if self._backend_skipped():
            return None
        try:
            await backend.add(lock_key, token, ttl=math.ceil(self.lock_lease), dumps_fn=_unchanged)
        except ValueError:
            return False
        except Exception as exc:
            self._backend_failed("lock", exc)
            return None
        return True

    async def _wait_for_holder(self, key: str, lock_key: str, model: type[T]) -> T | None:
        backend = self.backend
        assert backend is not None
        assert self.lock_lease is not None
        deadline = time.monotonic() + self.lock_lease
        delay = _LOCK_POLL_MIN
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LOCK_POLL_MAX)
            value = await self.lookup(key, model)
            if value is not None:
                return value
            try:
                held = await backend.exists(lock_key)
            except Exception as exc:
                self._backend_failed("lock", exc)
                return None
            if not held:
                # Released without a value: the holder's request failed.
                return await self.lookup(key, model)
        return None

    async def _release(self, lock_key: str, token: bytes) -> None:
        backend = self.backend
        assert backend is not None
        try:
            await backend._redlock_release(backend.build_key(lock_key), token)
        except Exception as exc:
            # The lease ends the lock anyway.
            self._backend_failed("unlock", exc)

    async def lookup(self, key: str, model: type[T]) -> T | None:
        """Return the fresh value under `key`, or `None` on a miss or a backend failure."""
        if self._memory is not None:
            return cast("T | None", self._memory.get_nowait(key))
        if self.backend is None or self._backend_skipped():
            return None

        try:
            raw = await self.backend.get(key, loads_fn=_unchanged)
        except Exception as exc:
            self._backend_failed("read", exc)
            return None
        self._backend_recovered()
        if raw is None:
            return None
        try:
            return self._decoder(model).decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError, RecursionError) as exc:
            self.stats.errors += 1
            level = logging.DEBUG if self._unreadable_warned else logging.WARNING
            self._unreadable_warned = True
            logger.log(
                level,
                "cache entry %s is unreadable (%s); treating it as a miss and overwriting it. "
                "Is another program or SDK version writing to these keys?",
                key,
                exc,
            )
            return None

    async def store(
        self, key: str, value: object, ttl: float | None, *, group: str | None = None
    ) -> None:
        """Store `value` under `key`; a backend failure only logs."""
        if self._memory is not None:
            self._memory.set_nowait(key, value, ttl)
            return
        if self.backend is None or self._backend_skipped():
            return

        # Whole seconds: Memcached rejects fractions, and a TTL never rounds down to 0
        # (forever). Memcached reads more than 30 days as a date, so longer lifetimes are cut.
        lifetime = min(max(1, math.ceil(ttl)), _MAX_SHARED_TTL) if ttl else None
        try:
            await self.backend.set(
                key, msgspec.msgpack.encode(value), ttl=lifetime, dumps_fn=_unchanged
            )
            if group is not None:
                await self._add_to_index(group, key, lifetime)
        except Exception as exc:
            self._backend_failed("write", exc)
        else:
            self._backend_recovered()

    async def forget(self, group: str) -> int:
        """Remove every key stored with `group`; return how many were removed."""
        if self._memory is not None:
            keys = self._memory.keys_with_prefix(f"{group}:")
            for key in keys:
                self._memory.delete_nowait(key)
            return len(keys)
        if self.backend is None:
            return 0

        index_key = f"{group}:index"
        removed = 0
        try:
            for key in await self._read_index(index_key):
                removed += 1 if await self.backend.delete(key) else 0
            await self.backend.delete(index_key)
        except Exception as exc:
            self._backend_failed("delete", exc)
        return removed

    async def _add_to_index(self, group: str, key: str, lifetime: int | None) -> None:
        # A read-modify-write, serialised per group within this process. Two
        # processes storing pages of one group at the same instant can still lose
        # one key from the index, which forget() then misses.
        assert self.backend is not None
        index_key = f"{group}:index"
        entry = self._index_locks.setdefault(index_key, (asyncio.Lock(), [0]))
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                keys = await self._read_index(index_key)
                if key in keys:
                    return
                keys.append(key)
                await self.backend.set(
                    index_key, msgspec.msgpack.encode(keys), ttl=lifetime, dumps_fn=_unchanged
                )
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._index_locks[index_key]

    async def _read_index(self, index_key: str) -> list[str]:
        assert self.backend is not None
        raw = await self.backend.get(index_key, loads_fn=_unchanged)
        if raw is None:
            return []
        try:
            return _INDEX_DECODER.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
            return []

    def _decoder(self, model: type[T]) -> msgspec.msgpack.Decoder[T]:
        decoder = self._decoders.get(model)
        if decoder is None:
            decoder = self._decoders[model] = msgspec.msgpack.Decoder(model)
        return decoder

    def _backend_skipped(self) -> bool:
        failing_since = self._failing_since
        if failing_since is None:
            return False
        return time.monotonic() - failing_since < self.retry_backend_after

    def _backend_failed(self, operation: str, exc: Exception) -> None:
        self.stats.errors += 1
        first_failure = self._failing_since is None
        self._failing_since = time.monotonic()
        if first_failure:
            logger.warning(
                "cache backend %s failed on %s (%s: %s); reading from the network, and "
                "trying the backend again every %.1fs until it recovers",
                type(self.backend).__name__,
                operation,
                type(exc).__name__,
                exc,
                self.retry_backend_after,
            )

    def _backend_recovered(self) -> None:
        if self._failing_since is not None:
            self._failing_since = None
            logger.info("cache backend %s recovered", type(self.backend).__name__)
