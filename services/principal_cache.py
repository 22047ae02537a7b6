"""The signed-in user's principal, remembered for a couple of seconds per process.

Every API request used to read its user's row (roles, team, active) before doing anything:
on SQLite a twentieth of a transition request's CPU, on PostgreSQL a round trip and a pool
checkout of their own. A principal read in the last ``ttl`` seconds is used again instead.

What that costs, and its bound: a change to a user's row (disabled, a role removed, a new
team) takes effect in this process at once when the code making it calls
:func:`principal_changed` (every service function that changes a user must), and at the
latest ``ttl`` seconds after it otherwise: a change made by hand in the database, or by
another worker or app instance, whose own caches only this process's clock can expire. So a
revoked role or a disabled account lives at most ``ttl`` seconds
(``PERMANENCE_PRINCIPAL_CACHE_SECONDS``, 2 by default; 0 reads the row on every request).
An unknown or disabled user is never remembered: their next request reads the row again.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable

from services.access import Principal

DEFAULT_TTL_SECONDS = 2.0

_caches: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


class PrincipalCache:
    """Active principals by user id, each kept for ``ttl`` seconds from when it was read."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        maxsize: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self.clock = clock
        self._entries: OrderedDict[int, tuple[float, Principal]] = OrderedDict()
        # The event loop reads and fills it; principal_changed may run in a worker thread.
        self._lock = threading.Lock()
        # Bumped by every forget: a principal read before a change, put after it, is dropped.
        self.generation = 0
        _caches.add(self)

    def get(self, user_id: int) -> Principal | None:
        """The principal read for ``user_id`` less than ``ttl`` seconds ago, or None."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None:
                return None
            read_at, principal = entry
            if self.clock() - read_at >= self.ttl:
                del self._entries[user_id]
                return None
            return principal

    def put(self, principal: Principal, generation: int | None = None) -> None:
        """Remember ``principal`` (active, just read) from now; not if a change was
        announced since ``generation`` (:attr:`generation` taken before the read)."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            self._entries[principal.user_id] = (self.clock(), principal)
            self._entries.move_to_end(principal.user_id)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def forget(self, user_id: int | None = None) -> None:
        """Drop ``user_id``'s principal (every one when None)."""
        with self._lock:
            self.generation += 1
            if user_id is None:
                self._entries.clear()
            else:
                self._entries.pop(user_id, None)


def principal_changed(user_id: int | None = None) -> None:
    """A user's roles, team or active flag changed (any user's when None): every cache in
    this process reads the row again on the user's next request."""
    for cache in list(_caches):
        cache.forget(user_id)
