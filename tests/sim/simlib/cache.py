"""Watch-fed caches of one cluster's objects for the migration engine.

A `Store` keeps the newest copy of every object of one collection, by
resourceVersion, so a write's reply stored with `put` is never rolled back by
an older watch event; a controller feeds it from its own informers. A `Cache`
is a Store with its own informer (list, then watch), and every change sets
the engine's wake-up event.
"""

import threading

from . import kubeapi


def rv(obj):
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def key(obj):
    m = obj["metadata"]
    return (m.get("namespace") or "", m["name"])


class Store:
    """The newest copy of each object of one collection, fed by events."""

    def __init__(self):
        self.objs = {}
        self.gone = {}  # key -> rv of the deletion, so a late put cannot revive it
        self.lock = threading.Lock()

    def apply(self, etype, obj):
        k = key(obj)
        with self.lock:
            if etype == "DELETED":
                self.objs.pop(k, None)
                self.gone[k] = rv(obj)
                return
            if rv(obj) < self.gone.get(k, -1):
                return
            self.gone.pop(k, None)
            old = self.objs.get(k)
            if old is None or rv(obj) >= rv(old):
                self.objs[k] = obj

    def put(self, obj):
        """Store a write's reply (the server's newest copy)."""
        if isinstance(obj, dict) and obj.get("metadata"):
            self.apply("MODIFIED", obj)

    def get(self, ns, name):
        with self.lock:
            return self.objs.get((ns or "", name))

    def items(self):
        with self.lock:
            return list(self.objs.values())


class Cache(Store):
    def __init__(self, client, path, stop, wake, query=None, name="cache"):
        super().__init__()
        self.wake = wake
        self.informer = kubeapi.Informer(client, path, self.on_event, stop, query=query, name=name)

    def start(self):
        self.informer.start()
        return self

    def on_event(self, etype, obj):
        self.apply(etype, obj)
        self.wake.set()

    def synced(self):
        return self.informer.synced.is_set()
