"""The shared cache: Django's Redis cache, carrying on in this process's memory while Redis
is away.

What BASODARA caches (the sites' time zones behind every client list) is a copy of database
rows, so a missing Redis must cost speed, never a request. When a Redis call fails (refused,
timed out, out of memory), the failure is logged once as a warning, and for
`FALLBACK_RETRY_SECONDS` every call goes to a per-process memory cache instead; then Redis
is tried again, and its return is logged too. Without this pause each request would wait
for the connect timeout again.

Keys written or deleted while Redis was away (a site's time zone changed, say) are deleted
from Redis when it answers again, so no process reads there a value older than the
change. `clear()` while away clears Redis on its return.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

FALLBACK_RETRY_SECONDS = 5


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.retry_seconds = params.get("FALLBACK_RETRY_SECONDS", FALLBACK_RETRY_SECONDS)
        self._local = LocMemCache(
            f"basodara-fallback-{id(self)}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "KEY_PREFIX": self.key_prefix, "VERSION": self.version},
        )
        self._lock = threading.Lock()
        self._down_until = None  # None while Redis answers
        self._stale = set()  # (key, version) changed while away: to delete from Redis on return
        self._clear_pending = False

    @property
    def redis_available(self):
        return self._down_until is None

    def _call(self, name, args, kwargs, *, changes=()):
        with self._lock:
            down = self._down_until is not None
            waiting = down and time.monotonic() < self._down_until
        if not waiting:
            try:
                if down:
                    self._forget_stale()
                result = getattr(super(), name)(*args, **kwargs)
            except RedisError as error:
                self._failed(error)
            else:
                if down:
                    self._recovered()
                return result
        with self._lock:
            if name == "clear":
                self._clear_pending = True
            version = kwargs.get("version")
            self._stale.update((key, version) for key in changes)
        return getattr(self._local, name)(*args, **kwargs)

    def _forget_stale(self):
        """Before Redis serves again, drop what changed while it was away."""
        with self._lock:
            stale, clear = set(self._stale), self._clear_pending
        if clear:
            super().clear()
        for key, version in stale:
            super().delete(key, version=version)
        with self._lock:
            self._stale -= stale
            self._clear_pending = self._clear_pending and not clear

    def _failed(self, error):
        with self._lock:
            first = self._down_until is None
            self._down_until = time.monotonic() + self.retry_seconds
        if first:
            logger.warning(
                "Redis cache unavailable (%s): this process uses its own memory and tries Redis again every %s s",
                type(error).__name__,
                self.retry_seconds,
            )

    def _recovered(self):
        with self._lock:
            self._down_until = None
        self._local.clear()
        logger.warning("Redis cache reachable again: back from this process's memory to Redis")

    # Each public operation of Django's cache API, through _call. decr(), get_or_set() and
    # the async methods are built on these in BaseCache.

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", (key, value), {"timeout": timeout, "version": version}, changes=[key])

    def get(self, key, default=None, version=None):
        return self._call("get", (key,), {"default": default, "version": version})

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", (key, value), {"timeout": timeout, "version": version}, changes=[key])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", (key,), {"timeout": timeout, "version": version}, changes=[key])

    def delete(self, key, version=None):
        return self._call("delete", (key,), {"version": version}, changes=[key])

    def get_many(self, keys, version=None):
        return self._call("get_many", (keys,), {"version": version})

    def has_key(self, key, version=None):
        return self._call("has_key", (key,), {"version": version})

    def incr(self, key, delta=1, version=None):
        return self._call("incr", (key,), {"delta": delta, "version": version}, changes=[key])

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", (data,), {"timeout": timeout, "version": version}, changes=list(data))

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call("delete_many", (keys,), {"version": version}, changes=keys)

    def clear(self):
        return self._call("clear", (), {})
