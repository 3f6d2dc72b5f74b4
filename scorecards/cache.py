"""What the surgeon's pages compute from a snapshot, computed once and shared.

A snapshot never changes once written (changed evidence, the MSO's facts included, makes a new
one), so whatever is computed from it alone, or from it and a surgeon's priorities and filters,
can be kept: the decoded rows, the rows rescored under a set of priorities, a page's charts.
They are kept in the ``snapshots`` cache (Redis when ``REDIS_URL`` is set, shared by every web
process; process memory otherwise) and, once read, in the process itself for its next requests
(unpickling the directory's 300 rows from Redis costs a page ~30 ms). They are keyed by the
snapshot (id, fingerprint and moment of computation, so a new snapshot is never answered with
an older one's figures) and a stable digest of the other inputs: two surgeons with the same
priorities share one entry. Nothing personal is kept here: no user, no shortlist, no notes, no
CSRF token. Parts of pages are kept rendered (templatetags.snapshots) with holes for those,
filled on every request.
"""

import hashlib
import json
import threading
from collections import OrderedDict

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

CACHE = "snapshots"
# Bumped when what is kept changes shape, so that a deployment never reads an older one's.
FORMAT = 1
TIMEOUT = 24 * 3600  # a snapshot's entries outlive the pages that read them by far
IN_PROCESS = 64  # entries a process keeps, the least recently read dropped first

_kept = OrderedDict()
_kept_lock = threading.Lock()


def digest(value):
    """A stable short digest of JSON-like ``value`` (dict order does not count)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def snapshot_key(snapshot, name, inputs=None):
    computed = snapshot.computed_at.timestamp() if snapshot.computed_at else ""
    key = f"{FORMAT}:{name}:{snapshot.pk}:{snapshot.fingerprint[:16]}:{computed}"
    return key if inputs is None else f"{key}:{digest(inputs)}"


def snapshot_cached(snapshot, name, compute, inputs=None):
    """``compute()``, kept for this snapshot and ``inputs`` (JSON-like) under ``name``: from
    the process's own entries, else the shared cache, else computed and kept in both. Every
    caller of a key gets the same object: read it, never change it."""
    key = snapshot_key(snapshot, name, inputs)
    with _kept_lock:
        value = _kept.get(key)
        if value is not None:
            _kept.move_to_end(key)
            return value
    cache = caches[CACHE]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    with _kept_lock:
        _kept[key] = value
        while len(_kept) > IN_PROCESS:
            _kept.popitem(last=False)
    return value


def forget(*, shared=True):
    """Forget what this process keeps, and with ``shared`` the shared cache's entries too (tests
    start from an empty cache, as a fresh deployment does). In Redis only this cache's own keys
    go: ``clear()`` would empty the whole database, the broker's queues with it."""
    with _kept_lock:
        _kept.clear()
    if not shared:
        return
    cache = caches[CACHE]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{cache.key_prefix}:*"):
            client.delete(key)
    else:
        cache.clear()
