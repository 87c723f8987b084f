"""The invariant monitor: what must never happen to a VM during migrations,
checked across every simulated cluster on each engine tick (at most once a
second) and recorded, once per episode, to DIR/violations.jsonl (one JSON
object per line: time, kind, identity, detail) and the admin endpoint.

A VM's identity is its firmware UUID (spec.domain.firmware.uuid, which the
target VM carries over from the source), else namespace/name. KubeVirt's
legacy UUID is derived from the name alone, so VMs of one name in two
namespaces share it: two VMIs of one identity are the same VM only when they
run on different clusters and either have the same namespace/name or were
ever the two ends of one migration (VMIMs paired by migration ID). Kinds:
  two-running     two VMIs of one VM Running at once, for longer than
                  the hand-over (GRACE seconds after a completed migration)
  source-stopped  a VM that was the source of a cross-cluster migration no
                  longer runs, and no VMI of its identity runs anywhere
  vmim-left       a VMIM still not final although both sides of its
                  migration have ended (its VMI final or gone, or its
                  migration state completed or failed; and the peer VMIM
                  final or gone)
Each condition must hold for GRACE wall seconds before it counts.
"""

import json
import threading
import time

from .nodes import now_rfc3339

GRACE = 5.0
FINAL = ("Succeeded", "Failed")


def identity(vmi_or_vm_spec, ns, name):
    fw = ((vmi_or_vm_spec.get("domain") or {}).get("firmware") or {}).get("uuid")
    return fw or "%s/%s" % (ns, name)


class Monitor:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.violations = []
        self.since = {}       # condition key -> first time seen
        self.reported = set()
        self.sources = {}     # (cluster, ns, vm) -> identity, once seen as a decentralized source
        self.links = set()    # frozenset of two (cluster, ns, vmi): the ends of one migration, once seen
        self.last = 0.0

    def check(self, views):
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        seen = set()
        for key, detail in self.conditions(views):
            seen.add(key)
            first = self.since.setdefault(key, now)
            if now - first >= GRACE and key not in self.reported:
                self.reported.add(key)
                self.record(key[0], key[1], detail)
        for key in list(self.since):
            if key not in seen:
                del self.since[key]
                self.reported.discard(key)

    def conditions(self, views):
        running = {}
        for v in views:
            for vmi in v.vmis.items():
                meta, st = vmi["metadata"], vmi.get("status") or {}
                ident = identity(vmi.get("spec") or {}, meta["namespace"], meta["name"])
                ms = st.get("migrationState") or {}
                if (ms.get("sourceState") or {}).get("virtualMachineInstanceUID") == meta.get("uid") and \
                        (ms.get("targetState") or {}).get("syncAddress"):
                    self.sources[(v.name, meta["namespace"], meta["name"])] = ident
                if st.get("phase") == "Running" and not meta.get("deletionTimestamp"):
                    running.setdefault(ident, []).append((v.name, meta["namespace"], meta["name"], ms))
        self.learn_links(views)
        for ident, where in running.items():
            if len(where) > 1 and self.same_vm_twice(where) and \
                    not any(ms.get("completed") and recent(ms.get("endTimestamp")) for *_, ms in where):
                yield ("two-running", ident), "%d VMIs running: %s" % (
                    len(where), ", ".join("%s:%s/%s" % w[:3] for w in where))
        for (cl, ns, name), ident in self.sources.items():
            v = next((x for x in views if x.name == cl), None)
            vmi = v.vmis.get(ns, name) if v else None
            if (vmi is None or (vmi.get("status") or {}).get("phase") in FINAL) and ident not in running:
                yield ("source-stopped", ident), "source VM %s:%s/%s is not running and no VMI of it runs " \
                                                 "anywhere" % (cl, ns, name)
        for v in views:
            for m in v.vmims.items():
                if ((m.get("status") or {}).get("phase") or "") in FINAL:
                    continue
                if self.ended(v, m) and self.peer_ended(views, v, m):
                    meta = m["metadata"]
                    yield ("vmim-left", "%s:%s/%s" % (v.name, meta["namespace"], meta["name"])), \
                        "VMIM %s:%s/%s is %s although both sides ended" % (
                            v.name, meta["namespace"], meta["name"], (m.get("status") or {}).get("phase") or "new")

    def learn_links(self, views):
        ends = {}
        for v in views:
            for m in v.vmims.items():
                spec = m.get("spec") or {}
                for side in ("sendTo", "receive"):
                    mid = (spec.get(side) or {}).get("migrationID")
                    if mid and spec.get("vmiName"):
                        ends.setdefault(mid, {})[side] = (v.name, m["metadata"]["namespace"], spec["vmiName"])
        for pair in ends.values():
            if len(pair) == 2:
                self.links.add(frozenset(pair.values()))

    def same_vm_twice(self, where):
        for i, a in enumerate(where):
            for b in where[i + 1:]:
                if a[0] != b[0] and (a[1:3] == b[1:3] or frozenset((a[:3], b[:3])) in self.links):
                    return True
        return False

    @staticmethod
    def ended(v, m):
        vmi = v.vmis.get(m["metadata"]["namespace"], (m.get("spec") or {}).get("vmiName") or "")
        if vmi is None:
            return True
        st = vmi.get("status") or {}
        ms = st.get("migrationState") or {}
        uid = m["metadata"]["uid"]
        mine = uid in (ms.get("migrationUid"), (ms.get("sourceState") or {}).get("migrationUID"),
                       (ms.get("targetState") or {}).get("migrationUID"))
        return st.get("phase") in FINAL or (mine and (ms.get("completed") or ms.get("failed")))

    @staticmethod
    def peer_ended(views, v, m):
        spec = m.get("spec") or {}
        if bool(spec.get("sendTo")) == bool(spec.get("receive")):
            return True
        mid = (spec.get("sendTo") or spec.get("receive") or {}).get("migrationID")
        other = "receive" if spec.get("sendTo") else "sendTo"
        for pv in views:
            if pv is v:
                continue
            for pm in pv.vmims.items():
                if ((pm.get("spec") or {}).get(other) or {}).get("migrationID") == mid and \
                        ((pm.get("status") or {}).get("phase") or "") not in FINAL:
                    return False
        return True

    def record(self, kind, ident, detail):
        entry = {"time": now_rfc3339(), "kind": kind, "identity": ident, "detail": detail}
        with self.lock:
            self.violations.append(entry)
            with open(self.path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def view(self):
        with self.lock:
            return list(self.violations)


def recent(ts, seconds=GRACE):
    """An RFC 3339 timestamp less than `seconds` old (wall clock)."""
    if not ts:
        return False
    import calendar
    try:
        t = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return False
    return time.time() - t < seconds + 1
