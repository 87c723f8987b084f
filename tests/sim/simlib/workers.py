"""Worker threads for the simulated KubeVirt: the migration engine's pool
(simlib/migration.py), and a keyed work queue for the VM controller
(simlib/vms.py).

The engine's pool: which VMIMs one thread must reconcile in turn, and the
threads that reconcile the rest at once.

virt-controller reconciles migrations on several threads, and its work queue
never hands one key to two of them at a time. Here the key is a group, the
VMIMs that write the same objects: a VMIM writes its own VMI and, as the sync
controllers do, the VMI of every VMIM that carries its migration ID. A group
is therefore a connected set of VMIMs, linked by their VMI (cluster,
namespace, name) and by migration ID. Within a group, VMIMs are reconciled
in the order the single engine thread used: cluster by cluster, oldest first.

A group is handed to a worker only when none of its links is held by another
worker; a group turned away is remembered, and the worker that held it wakes
the engine when it lets go, so no change waits for the next timed tick.

The keyed queue is client-go's work queue in small: a key added while queued
is done once, a key added while a worker has it is done again afterwards, and
no key is on two workers at once; what is added with a key (a dict) merges,
each entry keeping its largest value.
"""

import collections
import queue
import threading


def groups(views, migration_id):
    """[(links, [(view, vmim), ...])] for every VMIM of every view, oldest
    group first. `links` is the set of keys that group holds."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    found = []
    for i, v in enumerate(views):
        for m in v.vmims.items():
            meta = m["metadata"]
            links = [("vmi", v.name, meta["namespace"], (m.get("spec") or {}).get("vmiName") or "")]
            mid = migration_id(m)
            if mid:
                links.append(("migration", mid))
            root = find(links[0])
            for other in links[1:]:
                parent[find(other)] = root
            order = (i, meta.get("creationTimestamp", ""), meta["name"])
            found.append((links, order, v, m))
    by_root = {}
    for links, order, v, m in found:
        held, members = by_root.setdefault(find(links[0]), (set(), []))
        held.update(links)
        members.append((order, v, m))
    out = []
    for held, members in by_root.values():
        members.sort(key=lambda x: x[0])
        out.append((held, [(v, m) for _, v, m in members]))
    out.sort(key=lambda g: min((m["metadata"].get("creationTimestamp", ""), m["metadata"]["name"])
                               for _, m in g[1]))
    return out


class Pool:
    """`count` threads that call handle(view, vmim) for each member of a group
    handed to offer(), one group per thread at a time."""

    def __init__(self, count, handle, stop, wake):
        self.handle = handle
        self.stop = stop
        self.wake = wake
        self.work = queue.Queue()
        self.lock = threading.Lock()
        self.held = set()    # links of the groups queued or in a worker's hands
        self.again = set()   # links of groups turned away while held
        self.threads = [threading.Thread(target=self.serve, name="migration-worker-%d" % n, daemon=True)
                        for n in range(count)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def offer(self, links, members):
        """Queue a group unless another worker holds one of its links."""
        with self.lock:
            if self.held & links:
                self.again |= links
                return False
            self.held |= links
        self.work.put((links, members))
        return True

    def idle(self):
        with self.lock:
            return not self.held

    def serve(self):
        while not self.stop.is_set():
            try:
                links, members = self.work.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                for v, m in members:
                    self.handle(v, m)
            finally:
                with self.lock:
                    self.held -= links
                    redo = bool(self.again & links)
                    self.again -= links
                if redo:
                    self.wake.set()


class KeyQueue:
    """`count` threads that call handle(key, work) for each key added, one
    thread per key at a time; `work` is the merge of what came with it."""

    def __init__(self, count, handle, stop, name):
        self.handle = handle
        self.stop = stop
        self.cond = threading.Condition()
        self.order = collections.deque()   # keys waiting, oldest first
        self.waiting = {}                  # key -> work, for keys in self.order
        self.running = set()
        self.again = {}                    # key -> work added while a worker had the key
        self.threads = [threading.Thread(target=self.serve, name="%s-%d" % (name, n), daemon=True)
                        for n in range(count)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    @staticmethod
    def merge(into, work):
        for k, val in work.items():
            into[k] = max(into.get(k, val), val)

    def add(self, key, work):
        with self.cond:
            if key in self.running:
                self.merge(self.again.setdefault(key, {}), work)
            elif key in self.waiting:
                self.merge(self.waiting[key], work)
            else:
                self.waiting[key] = dict(work)
                self.order.append(key)
                self.cond.notify()

    def serve(self):
        while not self.stop.is_set():
            with self.cond:
                if not self.order:
                    self.cond.wait(0.5)
                    continue
                key = self.order.popleft()
                work = self.waiting.pop(key)
                self.running.add(key)
            try:
                self.handle(key, work)
            finally:
                with self.cond:
                    self.running.discard(key)
                    more = self.again.pop(key, None)
                if more:
                    self.add(key, more)
