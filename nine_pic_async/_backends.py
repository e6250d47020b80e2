"""Ready-made cache backends: in-process memory, Redis and Memcached.

Each returns an aiocache `BaseCache` for `NinePicClient(cache=...)`. The
shared ones store the client's msgpack bytes unchanged (`BytesSerializer`)
and give every cache operation a short `timeout`, so a slow server turns into
a cache miss instead of a slow read. Redis needs `pip install
'nine-pic-async[redis]'`, Memcached `pip install 'nine-pic-async[memcached]'`.
"""

from __future__ import annotations

from typing import Any

from aiocache.base import BaseCache

from ._cache import BytesSerializer, MemoryCache

__all__ = ["memcached_cache", "memory_cache", "redis_cache"]

DEFAULT_OPERATION_TIMEOUT = 0.5


def memory_cache(*, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> MemoryCache:
    """Create an in-process cache bounded in entries and in estimated bytes (the default)."""
    return MemoryCache(max_entries=max_entries, max_bytes=max_bytes)


def redis_cache(
    url_or_client: Any = "redis://127.0.0.1:6379/0",
    *,
    namespace: str | None = None,
    timeout: float = DEFAULT_OPERATION_TIMEOUT,
) -> BaseCache:
    """Create a Redis cache, shared by every process and machine that uses the same server.

    `url_or_client` is a `redis://` or `rediss://` URL, or an existing
    `redis.asyncio.Redis` created with `decode_responses=False`; a client
    passed in stays open when the cache is closed. `timeout` bounds each cache
    operation in seconds.
    """
    try:
        import redis.asyncio as redis_asyncio
        from aiocache.backends.redis import RedisCache
    except ImportError:
        raise ImportError(
            "the Redis cache needs the redis package: pip install 'nine-pic-async[redis]'"
        ) from None

    class SharedRedisCache(RedisCache):  # type: ignore[misc]
        """aiocache's Redis backend on a client we create from a URL or borrow."""

        def __init__(self, client: Any, *, owns_client: bool) -> None:
            # BaseCache's initializer only: RedisBackend's would build a second, unused pool.
            BaseCache.__init__(
                self, serializer=BytesSerializer(), namespace=namespace, timeout=timeout
            )
            self.client = client
            self.owns_client = owns_client
            kwargs = client.connection_pool.connection_kwargs
            self.endpoint = kwargs.get("host", kwargs.get("path", "?"))
            self.port = kwargs.get("port", 0)

        async def _close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
            if self.owns_client:
                await self.client.aclose()

        async def _set(
            self,
            key: str,
            value: Any,
            ttl: float | None = None,
            _cas_token: Any = None,
            _conn: Any = None,
        ) -> Any:
            # aiocache calls SETEX and PSETEX, which redis-py 8.1 deprecates: use SET.
            if _cas_token is not None:
                return await super()._set(key, value, ttl=ttl, _cas_token=_cas_token)
            if ttl is None:
                return await self.client.set(key, value)
            if isinstance(ttl, float):
                return await self.client.set(key, value, px=int(ttl * 1000))
            return await self.client.set(key, value, ex=ttl)

    if isinstance(url_or_client, str):
        client = redis_asyncio.from_url(
            url_or_client,
            decode_responses=False,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        return SharedRedisCache(client, owns_client=True)
    if isinstance(url_or_client, redis_asyncio.Redis):
        if url_or_client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError(
                "the Redis client decodes responses to str; create it with "
                "decode_responses=False so cached msgpack bytes come back unchanged"
            )
        return SharedRedisCache(url_or_client, owns_client=False)
    raise TypeError(
        f"url_or_client must be a redis:// URL or a redis.asyncio.Redis client, "
        f"got {type(url_or_client).__name__}"
    )


def memcached_cache(
    host: str = "127.0.0.1",
    port: int = 11211,
    *,
    namespace: str | None = None,
    pool_size: int = 4,
    timeout: float = DEFAULT_OPERATION_TIMEOUT,
) -> BaseCache:
    """Create a Memcached cache, shared by every process that uses the same server.

    `timeout` bounds each cache operation in seconds. Memcached drops values
    over its item size limit (1 MiB by default), which a page of 100 images
    stays well under.
    """
    try:
        import aiomcache  # noqa: F401
        from aiocache.backends.memcached import MemcachedCache
    except ImportError:
        raise ImportError(
            "the Memcached cache needs the aiomcache package: "
            "pip install 'nine-pic-async[memcached]'"
        ) from None

    class SharedMemcachedCache(MemcachedCache):  # type: ignore[misc]
        """aiocache's Memcached backend, closing its connections on `close()`."""

        async def _close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
            await self.client.close()

    return SharedMemcachedCache(
        serializer=BytesSerializer(),
        endpoint=host,
        port=port,
        pool_size=pool_size,
        namespace=namespace,
        timeout=timeout,
    )
