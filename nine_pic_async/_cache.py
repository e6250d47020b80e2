"""`MemoryCache`, the default in-process cache, and `BytesSerializer` for shared backends.

`MemoryCache` is a full aiocache `BaseCache`, so it works wherever aiocache
does. It also offers the client a synchronous lookup (`get_nowait`) that skips
aiocache's decorator layers (plugins, a `wait_for` per call), so a hit costs a
dictionary lookup and a clock read. It keeps the decoded, frozen models
themselves, with no serialization.

Entries expire by timestamp, checked on read, so they expire even after the
event loop that stored them has ended; no timer handles are scheduled.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from typing import Any

import msgspec
from aiocache.base import BaseCache
from aiocache.serializers import BaseSerializer, NullSerializer

__all__ = ["DEFAULT_TTLS", "BytesSerializer", "MemoryCache", "estimate_size"]

# Seconds an entry stays fresh, per endpoint. A face search result never
# changes once computed; events, galleries and BIB tags change while an event
# is being processed. Presigned download links are never cached.
DEFAULT_TTLS: dict[str, float] = {
    "faces": 24 * 3600.0,
    "details": 60.0,
    "events": 60.0,
    "images": 60.0,
    "bibs": 60.0,
    "timeline": 60.0,
}

# Python objects of a decoded model take about 1.85x the bytes of its msgpack
# encoding (measured with tracemalloc on pages of 1 to 100 images); 2 rounds up.
_MODEL_SIZE_FACTOR = 2
# An estimate of the dictionary slot, key object and entry tuple of one entry.
_ENTRY_OVERHEAD = 200

_MISSING = object()


def estimate_size(value: object) -> int:
    """Return an estimate of the bytes that `value` keeps alive in memory."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, msgspec.Struct):
        return _MODEL_SIZE_FACTOR * len(msgspec.msgpack.encode(value))
    return sys.getsizeof(value)


class BytesSerializer(BaseSerializer):  # type: ignore[misc]
    """An aiocache serializer that stores `bytes` unchanged and reads them back as `bytes`.

    The client writes msgpack bytes to shared backends itself; this keeps
    aiocache from decoding them as UTF-8 text on the way back.
    """

    DEFAULT_ENCODING = None

    def dumps(self, value: Any) -> Any:
        return value

    def loads(self, value: Any) -> Any:
        return value


class MemoryCache(BaseCache):  # type: ignore[misc]
    """A bounded, least-recently-used in-process cache with timestamp expiry.

    `max_entries` bounds the number of keys and `max_bytes` their estimated
    memory (see `estimate_size`). The least recently read or written entry is
    evicted first, and a single value larger than `max_bytes` is not stored.
    `ttl` is the default lifetime in seconds (`None`: until evicted).
    """

    NAME = "nine_pic_memory"

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        ttl: float | None = None,
        **kwargs: Any,
    ) -> None:
        for name, limit in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"{name} must be a positive int, got {limit!r}")
        kwargs.setdefault("serializer", NullSerializer())
        super().__init__(ttl=ttl, **kwargs)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[object, float | None, int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def stored_bytes(self) -> int:
        """The estimated memory of all entries, in bytes."""
        return self._bytes

    # -- The synchronous fast path used by the client --------------------------------------------

    def get_nowait(self, key: str, default: object = None) -> object:
        """Return the fresh value under `key`, or `default`; a read refreshes its LRU rank."""
        entry = self._entries.get(key)
        if entry is None:
            return default
        value, expires_at, _size = entry
        if expires_at is not None and time.monotonic() >= expires_at:
            self.delete_nowait(key)
            return default
        self._entries.move_to_end(key)
        return value

    def set_nowait(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store `value` under `key` for `ttl` seconds (default: the cache's `ttl`)."""
        lifetime = ttl if ttl is not None else self.ttl
        expires_at = time.monotonic() + lifetime if lifetime else None
        size = estimate_size(value) + len(key) + _ENTRY_OVERHEAD

        self.delete_nowait(key)
        if size > self.max_bytes:
            return
        self._entries[key] = (value, expires_at, size)
        self._bytes += size

        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _evicted, (_value, _expires_at, evicted_size) = self._entries.popitem(last=False)
            self._bytes -= evicted_size

    def delete_nowait(self, key: str) -> int:
        """Remove `key`; return 1 if it was present, else 0."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return 0
        self._bytes -= entry[2]
        return 1

    def keys_with_prefix(self, prefix: str) -> list[str]:
        """Return the stored keys that start with `prefix`, expired ones included."""
        return [key for key in self._entries if key.startswith(prefix)]

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
            self.set_nowait(key, delta)
            return delta
        if not isinstance(current, int):
            raise TypeError("Value is not an integer")
        _value, expires_at, size = self._entries[key]
        self._entries[key] = (current + delta, expires_at, size)
        return current + delta

    async def _expire(self, key: str, ttl: float | None, _conn: Any = None) -> bool:
        if self.get_nowait(key, _MISSING) is _MISSING:
            return False
        value, _expires_at, size = self._entries[key]
        self._entries[key] = (value, time.monotonic() + ttl if ttl else None, size)
        return True

    async def _delete(self, key: str, _conn: Any = None) -> int:
        return self.delete_nowait(key)

    async def _clear(self, namespace: str | None = None, _conn: Any = None) -> bool:
        if namespace:
            for key in self.keys_with_prefix(namespace):
                self.delete_nowait(key)
        else:
            self._entries.clear()
            self._bytes = 0
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
