"""Simulated live migration: virt-controller's migration controller, the
virt-handler side of a transfer, and the sync controllers (simlib/synchro.py),
for in-cluster and decentralized (cross-cluster) VMIMs (reference §2, §4.3).

The engine thread serves every cluster: it is woken by the watch-fed caches
(simlib/clusterview.py), ticks at least every 0.2 s, advances the transfers
and hands the VMIMs to a pool of workers (simlib/workers.py), which reconcile
migrations that write different VMIs at the same time, as virt-controller's
threads do; every write goes through the owning cluster's API server. The
queue limits are checked and taken under one lock per cluster, so two
workers never take the last place. Per VMIM, by role:

  target (spec.receive):  "" -> WaitingForSync -> Pending -> Scheduling -> Scheduled
                          -> PreparingTarget -> TargetReady -> Running -> Succeeded
  source (spec.sendTo):   "" -> Synchronizing -> Pending -> Scheduling -> Scheduled
                          -> PreparingTarget -> TargetReady -> Running -> Succeeded
  in-cluster (neither):   "" -> Pending -> Scheduling -> ... -> Succeeded

with the reference's conditions for each step, phaseTransitionTimestamps,
status.synchronizationAddresses copied from the KubeVirt CR, the VMI's
status.migrationState (sourceState/targetState for decentralized ones), the
target virt-launcher pod (the source's CPU node selectors, required
anti-affinity to the source node's name), queueing under
parallelMigrationsPerCluster / parallelOutboundMigrationsPerNode, the pre-copy
model (simlib/physics.py) with the KubeVirt timeouts, post-copy and
auto-converge, cancel by deleting a VMIM, and no automatic retry. The source
cluster's migration metrics follow the transfer when a metrics store exists.

Faults (admin endpoint): fail a migration when it reaches a phase.
"""

import random
import threading
import time

from . import physics, synchro, vms, workers
from .clusterview import ClusterView, quantity
from .nodes import now_rfc3339

FINAL = ("Succeeded", "Failed")
ACTIVE = ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running")
JOB_FINALIZER = "kubevirt.io/migrationJobFinalize"
SYNC_FINALIZER = "synchronization.kubevirt.io/migrationFinalizer"
BLOCKED = "decentralizedMigrationBlocked"
MIGRATION_JOB = "kubevirt.io/migrationJobUID"
DIRTY_RATE = "kubesim.cclm.io/dirty-rate"        # VMI annotation, bytes/s (default 16Mi)
DISK_USED = "kubesim.cclm.io/disk-used"          # VMI annotation, fraction of each disk copied (default 1)
MTU_FAIL_BYTES = 512 * 1024 ** 2                 # a path with broken MTU resets after this much
RATE_METRICS = ("kubevirt_vmi_migration_dirty_memory_rate_bytes", "kubevirt_vmi_migration_memory_transfer_rate_bytes")
METRIC_NAMES = ("kubevirt_vmi_migration_data_bytes_total", "kubevirt_vmi_migration_data_processed_bytes",
                "kubevirt_vmi_migration_data_remaining_bytes", "kubevirt_vmi_migration_dirty_memory_rate_bytes",
                "kubevirt_vmi_migration_memory_transfer_rate_bytes")


def role(m):
    spec = m.get("spec") or {}
    if bool(spec.get("sendTo")) == bool(spec.get("receive")):
        return "local"
    return "source" if spec.get("sendTo") else "target"


def migration_id(m):
    spec = m.get("spec") or {}
    return (spec.get("sendTo") or spec.get("receive") or {}).get("migrationID")


def phase(m):
    return (m.get("status") or {}).get("phase") or ""


class Engine:
    WORKERS = 4   # virt-controller's migration threads and the sync controllers, together

    def __init__(self, clusters, fabric, time_scale=1.0, violations=None, threads=WORKERS):
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.views = [ClusterView(c, self.stop, self.wake) for c in clusters]
        for v in self.views:
            v.fabric = fabric
        self.fabric = fabric
        self.time_scale = time_scale
        self.transfers = {}   # (cluster, source VMIM uid) -> physics.Transfer
        self.ended = {}       # the same, once the transfer ended: its VMIM's worker writes the outcome
        self.faults = []      # {cluster, namespace, vmi, phase, reason, fired}
        self.lock = threading.Lock()   # transfers, ended, faults: held for no API call
        self.places = {v.name: threading.Lock() for v in self.views}   # the queue limits, per cluster
        self.pool = workers.Pool(threads, self.reconcile_logged, self.stop, self.wake)
        self.monitor = violations
        self.last = time.monotonic()
        self.rng = random.Random(7)
        self.thread = threading.Thread(target=self.run, name="migration-engine", daemon=True)

    def start(self):
        for v in self.views:
            v.start()
        self.pool.start()
        self.thread.start()
        return self

    def shutdown(self):
        self.stop.set()
        self.wake.set()

    def view(self, name):
        return next(v for v in self.views if v.name == name)

    def add_fault(self, fault):
        with self.lock:
            fault = dict(fault, fired=0)
            self.faults.append(fault)
            return fault

    # -- the loop --
    def run(self):
        while not self.stop.is_set():
            self.wake.wait(0.2)
            self.wake.clear()
            if not all(v.synced() for v in self.views):
                continue
            now = time.monotonic()
            dt = (now - self.last) * self.time_scale
            self.last = now
            with self.lock:
                self.advance_transfers(dt)
            for links, members in workers.groups(self.views, migration_id):
                self.pool.offer(links, members)
            if self.monitor:
                self.monitor.check(self.views)

    def reconcile_logged(self, v, m):
        m = v.vmims.get(m["metadata"]["namespace"], m["metadata"]["name"])  # the newest copy, if still there
        if m is None:
            return
        try:
            self.reconcile(v, m)
        except Exception as e:  # an API error or a race: the next tick retries
            if getattr(e, "code", None) is None:
                import traceback
                traceback.print_exc()

    # -- per VMIM --
    def reconcile(self, v, m):
        meta = m["metadata"]
        r = role(m)
        if self.write_outcome(v, m, r):
            return  # the next pass goes on from what it wrote
        if meta.get("deletionTimestamp"):
            return self.finish_deleted(v, m, r)
        vmi = v.vmis.get(meta["namespace"], (m.get("spec") or {}).get("vmiName") or "")
        if phase(m) in FINAL:
            return self.finalize(v, m, vmi)
        m = self.ensure_sync_finalizer(v, m, r)
        self.copy_sync_addresses(v, m)
        fail = self.failure(v, m, r, vmi)
        if fail:
            return self.fail(v, m, r, vmi, fail)
        if r == "source":
            self.sync_source(v, m, vmi)
        elif r == "target":
            self.sync_target(v, m, vmi)
        vmi = v.vmis.get(meta["namespace"], m["spec"]["vmiName"])
        self.mirror_blocked(v, m, vmi)
        step = {"source": self.step_source, "target": self.step_target, "local": self.step_local}[r]
        step(v, m, vmi, (vmi.get("status") or {}).get("migrationState") or {})

    def set_phase(self, v, m, new, extra=None):
        st = dict(m.get("status") or {})
        if st.get("phase") == new and not extra:
            return m
        st["phase"] = new
        if new != (m.get("status") or {}).get("phase"):
            st["phaseTransitionTimestamps"] = list(st.get("phaseTransitionTimestamps") or []) + [
                {"phase": new, "phaseTransitionTimestamp": now_rfc3339()}]
        st.update(extra or {})
        meta = m["metadata"]
        fault = self.fault_for(v, m, new)
        if fault is not None:
            vmi = v.vmis.get(meta["namespace"], m["spec"]["vmiName"])
            return self.fail(v, m, role(m), vmi, fault.get("reason") or "kubesim fault: failed in phase " + new)
        out = v.c.merge_patch(vms_path(meta) + "/status", {"status": st})
        v.vmims.put(out)
        return out

    def fault_for(self, v, m, new):
        """The fault that fires as `m` enters phase `new` (counted as fired), or None."""
        with self.lock:
            for f in self.faults:
                if f.get("phase") == new and f.get("fired", 0) < f.get("count", 1) and \
                        f.get("cluster") in (None, v.name) and \
                        f.get("namespace") in (None, m["metadata"]["namespace"]) and \
                        f.get("vmi") in (None, m["spec"].get("vmiName")):
                    f["fired"] = f.get("fired", 0) + 1
                    return f
        return None

    def copy_sync_addresses(self, v, m):
        want = v.sync_addresses() or None
        if (m.get("status") or {}).get("synchronizationAddresses") != want:
            meta = m["metadata"]
            v.vmims.put(v.c.merge_patch(vms_path(meta) + "/status",
                                        {"status": {"synchronizationAddresses": want}}))

    def ensure_sync_finalizer(self, v, m, r):
        fins = m["metadata"].get("finalizers") or []
        if r != "local" and SYNC_FINALIZER not in fins:
            out = v.c.merge_patch(vms_path(m["metadata"]), {"metadata": {"finalizers": fins + [SYNC_FINALIZER]}})
            v.vmims.put(out)
            return out
        return m

    def mirror_blocked(self, v, m, vmi):
        """VMI DecentralizedLiveMigrationFailure -> VMIM decentralizedMigrationBlocked."""
        if not v.failure_conditions or role(m) == "local":
            return
        src = next((c for c in ((vmi or {}).get("status") or {}).get("conditions") or []
                    if c["type"] == synchro.FAILURE), None)
        conds = list((m.get("status") or {}).get("conditions") or [])
        cur = next((c for c in conds if c["type"] == BLOCKED), None)
        if (src is None and cur is None) or (src and cur and src.get("message") == cur.get("message")):
            return
        conds = [c for c in conds if c["type"] != BLOCKED]
        if src:
            conds.append({"type": BLOCKED, "status": "True", "reason": src.get("reason"),
                          "message": src.get("message"), "lastProbeTime": None,
                          "lastTransitionTime": now_rfc3339()})
        v.vmims.put(v.c.merge_patch(vms_path(m["metadata"]) + "/status", {"status": {"conditions": conds}}))

    # -- failure, final, deletion --
    def failure(self, v, m, r, vmi):
        """Why this migration must fail now (reference §2.2 'any' row), or None."""
        if vmi is None:
            return "Migration failed because the VMI does not exist"
        ms = (vmi.get("status") or {}).get("migrationState") or {}
        uid = m["metadata"]["uid"]
        mine = {"local": ms.get("migrationUid"), "source": (ms.get("sourceState") or {}).get("migrationUID"),
                "target": (ms.get("targetState") or {}).get("migrationUID")}[r]
        if mine and mine != uid and phase(m) not in ("", "WaitingForSync", "Synchronizing", "Pending"):
            return "Migration failed: the VMI's migration state belongs to another migration"
        if mine == uid and ms.get("failed") and not ms.get("completed"):
            return ms.get("failureReason") or "Migration failed"
        vphase = (vmi.get("status") or {}).get("phase")
        if vphase in FINAL and not (r == "source" and ms.get("completed")):
            return "Migration failed because the VMI is in phase %s" % vphase
        if r in ("local", "target") and phase(m) in ACTIVE:
            pod = v.launchers.get(m["metadata"]["namespace"], target_pod_name(m, vmi))
            if pod is None or (pod.get("status") or {}).get("phase") in FINAL:
                return "target pod is down"
        return None

    def fail(self, v, m, r, vmi, reason):
        self.stop_transfer(v, m, vmi)
        if vmi is not None:
            ms = dict((vmi.get("status") or {}).get("migrationState") or {})
            if not ms.get("failed") and not ms.get("completed"):
                ms.update({"failed": True, "failureReason": reason, "endTimestamp": now_rfc3339()})
                patch = {"status": {"migrationState": ms}}
                if r == "target":
                    patch["status"]["phase"] = "Failed"
                v.vmis.put(v.c.merge_patch(vms.vmi_path(vmi["metadata"]["namespace"], vmi["metadata"]["name"]),
                                           patch))
            if r in ("local", "target"):
                v.c.delete(vms_pod_path(m["metadata"]["namespace"], target_pod_name(m, vmi)), ok404=True)
        if phase(m) not in FINAL:
            self.set_phase(v, m, "Failed")

    def finalize(self, v, m, vmi):
        meta = m["metadata"]
        st = m.get("status") or {}
        ms = ((vmi or {}).get("status") or {}).get("migrationState")
        if ms and "migrationState" not in st:
            v.vmims.put(v.c.merge_patch(vms_path(meta) + "/status", {"status": {"migrationState": ms}}))
        fins = [f for f in meta.get("finalizers") or [] if f not in (JOB_FINALIZER, SYNC_FINALIZER)]
        if fins != (meta.get("finalizers") or []):
            v.vmims.put(v.c.merge_patch(vms_path(meta), {"metadata": {"finalizers": fins}}))
        if role(m) in ("source", "target") and vmi is not None:
            self.last_sync(v, m, vmi)

    def last_sync(self, v, m, vmi):
        """Final states still travel to the peer (completion, failure)."""
        if role(m) == "source":
            synchro.push(self.views, v, vmi, m["spec"]["sendTo"].get("connectURL"), migration_id(m), "receive",
                         synchro.SOURCE_FIELDS)
        else:
            addr = (((vmi.get("status") or {}).get("migrationState") or {}).get("sourceState") or {}).get(
                "syncAddress")
            if addr:
                synchro.push(self.views, v, vmi, addr, migration_id(m), "sendTo", synchro.TARGET_FIELDS)

    def finish_deleted(self, v, m, r):
        meta = m["metadata"]
        vmi = v.vmis.get(meta["namespace"], (m.get("spec") or {}).get("vmiName") or "")
        if phase(m) not in FINAL:
            # cancel: abort locally, tell the peer (sync controller), then let go
            if r == "source":
                synchro.cancel(self.views, v, m["spec"]["sendTo"].get("connectURL"), migration_id(m), "receive")
            elif r == "target" and vmi is not None:
                addr = (((vmi.get("status") or {}).get("migrationState") or {}).get("sourceState") or {}).get(
                    "syncAddress")
                if addr:
                    synchro.cancel(self.views, v, addr, migration_id(m), "sendTo")
            if vmi is not None:
                self.stop_transfer(v, m, vmi)
                ms = dict((vmi.get("status") or {}).get("migrationState") or {})
                if ms and not ms.get("completed") and not ms.get("failed"):
                    ms.update({"failed": True, "abortRequested": True, "abortStatus": "Succeeded",
                               "failureReason": "Live migration aborted", "endTimestamp": now_rfc3339()})
                    patch = {"status": {"migrationState": ms}}
                    if r == "target":
                        patch["status"]["phase"] = "Failed"
                    v.vmis.put(v.c.merge_patch(vms.vmi_path(meta["namespace"], vmi["metadata"]["name"]), patch))
                if r in ("local", "target"):
                    v.c.delete(vms_pod_path(meta["namespace"], target_pod_name(m, vmi)), ok404=True)
        fins = [f for f in meta.get("finalizers") or [] if f not in (JOB_FINALIZER, SYNC_FINALIZER)]
        if fins != (meta.get("finalizers") or []):
            v.vmims.put(v.c.merge_patch(vms_path(meta), {"metadata": {"finalizers": fins}}))

    # -- sync (the sync controllers' part) --
    def sync_source(self, v, m, vmi):
        ss = (((vmi or {}).get("status") or {}).get("migrationState") or {}).get("sourceState") or {}
        if ss.get("migrationUID") != m["metadata"]["uid"]:
            return  # not yet this migration's state (an earlier one's may still be there)
        synchro.push(self.views, v, vmi, m["spec"]["sendTo"].get("connectURL"), migration_id(m), "receive",
                     synchro.SOURCE_FIELDS)

    def sync_target(self, v, m, vmi):
        if vmi is None:
            return
        ms = (vmi.get("status") or {}).get("migrationState") or {}
        if (ms.get("targetState") or {}).get("migrationUID") != m["metadata"]["uid"]:
            return  # not yet this migration's state
        addr = (ms.get("sourceState") or {}).get("syncAddress")
        if not addr:
            synchro.set_failure_condition(v, vmi, synchro.WAITING)
            return
        synchro.push(self.views, v, vmi, addr, migration_id(m), "sendTo", synchro.TARGET_FIELDS)

    # -- the source side --
    def step_source(self, v, m, vmi, ms):
        p = phase(m)
        ss = ms.get("sourceState") or {}
        ts = ms.get("targetState") or {}
        if p == "":
            pod = self.launcher_of(v, vmi)
            node = (vmi.get("status") or {}).get("nodeName")
            addr = (v.sync_addresses() or [""])[0]
            fresh = ss.get("migrationUID") != m["metadata"]["uid"]
            state = {} if fresh else dict(ms)
            state.update({
                "sourceState": {"migrationUID": m["metadata"]["uid"], "node": node,
                                "pod": pod["metadata"]["name"] if pod else "",
                                "nodeSelectors": self.cpu_selectors(v, vmi, node), "syncAddress": addr,
                                "domainName": vmi["metadata"]["name"],
                                "domainNamespace": vmi["metadata"]["namespace"],
                                "virtualMachineInstanceUID": vmi["metadata"]["uid"]},
                "targetState": {"syncAddress": m["spec"]["sendTo"].get("connectURL")},
                "sourceNode": node, "sourcePod": pod["metadata"]["name"] if pod else "",
                "migrationConfiguration": self.migration_configuration(v),
                "migrationNetworkType": "Migration" if v.migrations_config().get("network") else "Pod"})
            # a new migration starts from a clean state: what an earlier,
            # aborted one left (failed, failureReason, ...) is removed
            self.patch_ms(v, vmi, clean_state(ms, state) if fresh else state)
            return self.set_phase(v, m, "Synchronizing")
        if p == "Synchronizing":
            if ss.get("migrationUID") and ts.get("migrationUID"):
                return self.set_phase(v, m, "Pending")
        elif p == "Pending":
            with self.places[v.name]:
                if (vmi.get("status") or {}).get("phase") == "Running" and self.outbound_slot(v, m, vmi):
                    return self.set_phase(v, m, "Scheduling")
        elif p == "Scheduling":
            if ts.get("pod"):
                return self.set_phase(v, m, "Scheduled")
        elif p == "Scheduled":
            if ts.get("pod") and ts.get("node"):
                return self.set_phase(v, m, "PreparingTarget")
        elif p == "PreparingTarget":
            if ts.get("nodeAddress"):
                return self.set_phase(v, m, "TargetReady")
        elif p == "TargetReady":
            if not ms.get("startTimestamp"):
                self.start_transfer(v, m, vmi, ts.get("nodeAddress"), ts.get("directMigrationNodePorts"))
            else:
                return self.set_phase(v, m, "Running")
        elif p == "Running":
            if ms.get("completed"):
                if ts.get("domainDetected") and (vmi.get("status") or {}).get("phase") != "Succeeded":
                    self.source_handed_off(v, vmi)
                if ts.get("domainDetected"):
                    return self.set_phase(v, m, "Succeeded")

    def source_handed_off(self, v, vmi):
        """The target runs the domain: the source VMI ends and its launcher exits."""
        meta = vmi["metadata"]
        v.vmis.put(v.c.merge_patch(vms.vmi_path(meta["namespace"], meta["name"]),
                                   {"status": {"phase": "Succeeded"}}))
        pod = self.launcher_of(v, vmi)
        if pod:
            v.c.delete(vms_pod_path(meta["namespace"], pod["metadata"]["name"]), ok404=True)

    # -- the target side --
    def step_target(self, v, m, vmi, ms):
        p = phase(m)
        ss = ms.get("sourceState") or {}
        ts = ms.get("targetState") or {}
        if p == "":
            state = {"targetState": {"migrationUID": m["metadata"]["uid"],
                                     "syncAddress": (v.sync_addresses() or [""])[0],
                                     "domainName": vmi["metadata"]["name"],
                                     "domainNamespace": vmi["metadata"]["namespace"],
                                     "virtualMachineInstanceUID": vmi["metadata"]["uid"]}}
            if ms and ts.get("migrationUID") != m["metadata"]["uid"]:
                state = clean_state(ms, state)  # a receiver VMI an earlier migration used
            self.patch_ms(v, vmi, state)
            return self.set_phase(v, m, "WaitingForSync")
        if p == "WaitingForSync":
            if all(ss.get(k) for k in ("migrationUID", "pod", "node")) and "nodeSelectors" in ss:
                return self.set_phase(v, m, "Pending")
        elif p == "Pending":
            with self.places[v.name]:
                if self.cluster_slot(v, m):
                    self.create_target_pod(v, m, vmi, ss.get("nodeSelectors") or {}, ss.get("node"))
                    return self.set_phase(v, m, "Scheduling")
        elif p == "Scheduling":
            if self.target_pod_ready(v, m, vmi):
                return self.set_phase(v, m, "Scheduled")
        elif p == "Scheduled":
            pod = v.launchers.get(m["metadata"]["namespace"], target_pod_name(m, vmi))
            node = pod["spec"].get("nodeName")
            self.patch_ms(v, vmi, {"targetState": dict(ts, pod=pod["metadata"]["name"], node=node),
                                   "targetPod": pod["metadata"]["name"], "targetNode": node})
            return self.set_phase(v, m, "PreparingTarget")
        elif p == "PreparingTarget":
            if ms.get("targetNodeAddress") and ms.get("targetNode"):
                return self.set_phase(v, m, "TargetReady")
            addr, ports = self.target_handler_address(v, ts.get("node"))
            if addr:
                self.patch_ms(v, vmi, {"targetState": dict(ts, nodeAddress=addr, directMigrationNodePorts=ports),
                                       "targetNodeAddress": addr, "targetDirectMigrationNodePorts": ports})
        elif p == "TargetReady":
            if ms.get("startTimestamp"):
                return self.set_phase(v, m, "Running")
        elif p == "Running":
            if ms.get("completed"):
                self.target_takes_over(v, vmi, ts)
                return self.set_phase(v, m, "Succeeded")

    def target_takes_over(self, v, vmi, ts):
        meta = vmi["metadata"]
        now = now_rfc3339()
        ms = dict((vmi.get("status") or {}).get("migrationState") or {})
        ms["targetState"] = dict(ts, domainDetected=True, domainReadyTimestamp=now)
        ms.update({"targetNodeDomainDetected": True, "targetNodeDomainReadyTimestamp": now})
        ann = dict(meta.get("annotations") or {})
        ann.pop(vms.RECEIVER, None)
        # the receiver annotation goes (virt-handler), the VMI runs where the target pod is
        v.vmis.put(v.c.merge_patch(vms.vmi_path(meta["namespace"], meta["name"]), {
            "metadata": {"annotations": {vms.RECEIVER: None}},
            "status": {"phase": "Running", "nodeName": ts.get("node"), "migrationState": ms}}))

    # -- in-cluster --
    def step_local(self, v, m, vmi, ms):
        p = phase(m)
        uid = m["metadata"]["uid"]
        if p == "":
            return self.set_phase(v, m, "Pending")
        if p == "Pending":
            with self.places[v.name]:
                if (vmi.get("status") or {}).get("phase") == "Running" and self.cluster_slot(v, m) and \
                        self.outbound_slot(v, m, vmi):
                    node = (vmi.get("status") or {}).get("nodeName")
                    self.create_target_pod(v, m, vmi, self.cpu_selectors(v, vmi, node), node)
                    return self.set_phase(v, m, "Scheduling")
        elif p == "Scheduling":
            if self.target_pod_ready(v, m, vmi):
                return self.set_phase(v, m, "Scheduled")
        elif p == "Scheduled":
            pod = v.launchers.get(m["metadata"]["namespace"], target_pod_name(m, vmi))
            src = self.launcher_of(v, vmi)
            self.patch_ms(v, vmi, {"migrationUid": uid, "sourceNode": (vmi.get("status") or {}).get("nodeName"),
                                   "sourcePod": src["metadata"]["name"] if src else "",
                                   "targetPod": pod["metadata"]["name"], "targetNode": pod["spec"].get("nodeName"),
                                   "migrationConfiguration": self.migration_configuration(v),
                                   "migrationNetworkType": "Migration" if v.migrations_config().get("network")
                                   else "Pod"}, replace=True)
            return self.set_phase(v, m, "PreparingTarget")
        elif p == "PreparingTarget":
            addr, ports = self.target_handler_address(v, ms.get("targetNode"))
            if addr:
                self.patch_ms(v, vmi, {"targetNodeAddress": addr, "targetDirectMigrationNodePorts": ports})
                return self.set_phase(v, m, "TargetReady")
        elif p == "TargetReady":
            if not ms.get("startTimestamp"):
                self.start_transfer(v, m, vmi, ms.get("targetNodeAddress"), ms.get("targetDirectMigrationNodePorts"))
            else:
                return self.set_phase(v, m, "Running")
        elif p == "Running":
            if ms.get("completed"):
                meta = vmi["metadata"]
                src = ms.get("sourcePod")
                v.vmis.put(v.c.merge_patch(vms.vmi_path(meta["namespace"], meta["name"]), {"status": {
                    "nodeName": ms.get("targetNode"),
                    "migrationState": dict(ms, targetNodeDomainDetected=True,
                                           targetNodeDomainReadyTimestamp=now_rfc3339())}}))
                if src:
                    v.c.delete(vms_pod_path(meta["namespace"], src), ok404=True)
                return self.set_phase(v, m, "Succeeded")

    # -- helpers --
    def patch_ms(self, v, vmi, fields, replace=False):
        meta = vmi["metadata"]
        ms = {} if replace else dict((vmi.get("status") or {}).get("migrationState") or {})
        ms.update(fields)
        out = v.c.merge_patch(vms.vmi_path(meta["namespace"], meta["name"]), {"status": {"migrationState": ms}})
        v.vmis.put(out)
        return out

    def launcher_of(self, v, vmi):
        uid = vmi["metadata"]["uid"]
        node = (vmi.get("status") or {}).get("nodeName")
        pods = [p for p in v.launchers.items()
                if p["metadata"]["namespace"] == vmi["metadata"]["namespace"] and
                any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences") or []) and
                not p["metadata"].get("deletionTimestamp")]
        on_node = [p for p in pods if p["spec"].get("nodeName") == node]
        return (on_node or pods or [None])[0]

    def cpu_selectors(self, v, vmi, node):
        """What the target pod must match: the CPU vendor, and the model (named
        in the spec, else the source node's host model)."""
        labels = v.node_labels(node) if node else {}
        sel = {k: "true" for k in labels if k.startswith("cpu-vendor.node.kubevirt.io/")}
        model = (((vmi.get("spec") or {}).get("domain") or {}).get("cpu") or {}).get("model")
        if model and model not in ("host-model", "host-passthrough"):
            sel["cpu-model.node.kubevirt.io/" + model] = "true"
        else:
            for k in labels:
                if k.startswith("host-model-cpu.node.kubevirt.io/"):
                    sel["cpu-model-migration.node.kubevirt.io/" + k.split("/", 1)[1]] = "true"
        return sel

    def migration_configuration(self, v):
        mc = v.migrations_config()
        return {k: mc[k] for k in ("allowAutoConverge", "allowPostCopy", "bandwidthPerMigration",
                                   "completionTimeoutPerGiB", "progressTimeout", "parallelMigrationsPerCluster",
                                   "parallelOutboundMigrationsPerNode", "network") if k in mc}

    def cluster_slot(self, v, m):
        """parallelMigrationsPerCluster: may this one leave Pending?"""
        limit = int(v.migrations_config()["parallelMigrationsPerCluster"])
        active = [x for x in v.vmims.items() if phase(x) in ACTIVE and x["metadata"]["uid"] != m["metadata"]["uid"]]
        return len(active) < limit

    def outbound_slot(self, v, m, vmi):
        limit = int(v.migrations_config()["parallelOutboundMigrationsPerNode"])
        node = (vmi.get("status") or {}).get("nodeName")
        busy = 0
        for x in v.vmims.items():
            if phase(x) not in ACTIVE or x["metadata"]["uid"] == m["metadata"]["uid"] or role(x) == "target":
                continue
            xv = v.vmis.get(x["metadata"]["namespace"], x["spec"].get("vmiName"))
            if xv and (xv.get("status") or {}).get("nodeName") == node:
                busy += 1
        return busy < limit and self.cluster_slot(v, m)

    def create_target_pod(self, v, m, vmi, selectors, source_node):
        meta, spec = vmi["metadata"], vmi.get("spec") or {}
        name = target_pod_name(m, vmi)
        if v.launchers.get(meta["namespace"], name):
            return
        mem = (((spec.get("domain") or {}).get("resources") or {}).get("requests") or {}).get("memory") or \
            ((spec.get("domain") or {}).get("memory") or {}).get("guest") or "1Gi"
        sel = dict(spec.get("nodeSelector") or {}, **selectors)
        affinity = None
        if source_node:
            affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn",
                                       "values": [source_node]}]}]}}}
        try:
            pod = v.c.create(vms_pod_path(meta["namespace"]), {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": meta["namespace"],
                             "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": meta["name"],
                                        "kubevirt.io/created-by": meta["uid"], MIGRATION_JOB: m["metadata"]["uid"]},
                             "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                                                  "name": meta["name"], "uid": meta["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "spec": {"restartPolicy": "Never", "nodeSelector": sel or None, "affinity": affinity,
                         "containers": [{"name": "compute",
                                         "image": "registry.redhat.io/container-native-virtualization/"
                                                  "virt-launcher-rhel9",
                                         "resources": {"requests": {"memory": mem}}}]}})
            v.launchers.put(pod)
        except Exception as e:
            if getattr(e, "code", None) != 409:
                raise

    def target_pod_ready(self, v, m, vmi):
        pod = v.launchers.get(m["metadata"]["namespace"], target_pod_name(m, vmi))
        return bool(pod and (pod.get("status") or {}).get("phase") == "Running" and pod["spec"].get("nodeName"))

    def target_handler_address(self, v, node):
        """The target virt-handler's migration address on `node` and the
        proxy ports it opened (random, as the real proxy binds port 0)."""
        pod = v.handler_on(node) if node else None
        ep = v.endpoint(pod) if pod else None
        if not ep:
            return None, None
        ports = {str(self.rng.randrange(32768, 60999)): 0, str(self.rng.randrange(32768, 60999)): 49152,
                 str(self.rng.randrange(32768, 60999)): 49153}
        return ep["ip"], ports

    # -- the transfer (source virt-handler) --
    def start_transfer(self, v, m, vmi, address, ports):
        node = (vmi.get("status") or {}).get("nodeName")
        handler = v.handler_on(node)
        src_ep = v.endpoint(handler) if handler else None
        if src_ep is None:
            return
        port = sorted((ports or {"0": 0}).items(), key=lambda kv: kv[1])[0][0]
        conn, err = synchro.dial(self.views, v, src_ep, "%s:%s" % (address, port), "handler")
        now = now_rfc3339()
        if conn is None:
            return self.fail(v, m, role(m), vmi, "Live migration failed: unable to create outbound leg of proxy "
                                                 "to host %s: %s" % (address, err))
        if conn.view is v and role(m) == "source":
            # the address is also one of our own cluster's handlers (overlapping
            # pools): the source dials its neighbour, libvirt fails, and the
            # target side, hearing nothing more, boots what it has (reference §9.6)
            self.split_brain(v, m, vmi, address)
            return
        cfg = v.migrations_config()
        mem, disk = vm_sizes(v, vmi, role(m) != "local")
        t = physics.Transfer(mem, disk, quantity((vmi["metadata"].get("annotations") or {}).get(DIRTY_RATE), 16 * 2 ** 20),
                             bandwidth_cap=quantity(cfg.get("bandwidthPerMigration"), 0),
                             completion_timeout_per_gib=int(cfg["completionTimeoutPerGiB"]),
                             progress_timeout=int(cfg["progressTimeout"]),
                             allow_auto_converge=bool(cfg.get("allowAutoConverge")),
                             allow_post_copy=bool(cfg.get("allowPostCopy")))
        t.link = conn.path["link"]
        t.link_bw = conn.path["bandwidth"]
        t.mtu_broken = conn.path["mtu"] == -1
        t.where = (v, m, vmi["metadata"]["namespace"], vmi["metadata"]["name"], node)
        with self.lock:
            self.transfers[(v.name, m["metadata"]["uid"])] = t
        self.patch_ms(v, vmi, {"startTimestamp": now, "mode": "PreCopy"})

    def split_brain(self, v, m, vmi, address):
        ms = (vmi.get("status") or {}).get("migrationState") or {}
        peer_addr = m["spec"]["sendTo"].get("connectURL")
        # the target hears "started" and "completed" but no domain: it cold-boots from its disks
        self.patch_ms(v, vmi, {"startTimestamp": now_rfc3339(), "mode": "PreCopy"})
        vmi = v.vmis.get(vmi["metadata"]["namespace"], vmi["metadata"]["name"])
        fake = dict(ms, startTimestamp=now_rfc3339(), completed=True, endTimestamp=now_rfc3339())
        conn, _ = synchro.connect(self.views, v, peer_addr)
        if conn is not None:
            pm = synchro.peer_migration(conn.view, migration_id(m), "receive")
            pvmi = conn.view.vmis.get(pm["metadata"]["namespace"], pm["spec"]["vmiName"]) if pm else None
            if pvmi is not None:
                theirs = (pvmi.get("status") or {}).get("migrationState") or {}
                want = synchro.merged_state(theirs, fake, synchro.SOURCE_FIELDS + ("completed",))
                conn.view.vmis.put(conn.view.c.merge_patch(
                    vms.vmi_path(pvmi["metadata"]["namespace"], pvmi["metadata"]["name"]),
                    {"status": {"migrationState": want}}))
        self.fail(v, m, "source", v.vmis.get(vmi["metadata"]["namespace"], vmi["metadata"]["name"]),
                  "Live migration failed: unable to create outbound leg of proxy to host %s: dial tcp %s: "
                  "connect: connection refused; migration job %s already executed, failed: true"
                  % (address, address, m["metadata"]["uid"]))

    def stop_transfer(self, v, m, vmi):
        with self.lock:
            key = (v.name, m["metadata"]["uid"])
            t = self.transfers.pop(key, None) or self.ended.pop(key, None)
        if t is not None and vmi is not None:
            self.clear_metrics(v, vmi)

    def advance_transfers(self, dt):
        """The physics, under self.lock: a transfer that ends moves to
        self.ended, and its VMIM's worker writes the outcome (write_outcome)."""
        by_link = {}
        for t in self.transfers.values():
            by_link.setdefault(t.link, []).append(t)
        for key, t in list(self.transfers.items()):
            v, m, ns, name, node = t.where
            share = t.link_bw / len(by_link[t.link])
            t.result = t.step(dt, share)
            if t.mtu_broken and t.processed > MTU_FAIL_BYTES and t.result is None:
                t.result = "failed"
                t.failure = "Live migration failed: Unable to read from socket: Connection reset by peer"
            self.publish(v, ns, name, node, t)
            if t.result is not None:
                self.ended[key] = self.transfers.pop(key)
                self.wake.set()
        for key, t in list(self.ended.items()):
            v, m, ns, name, _ = t.where
            if v.vmims.get(ns, m["metadata"]["name"]) is None:  # no VMIM left to report to
                del self.ended[key]
                self.clear_metrics(v, v.vmis.get(ns, name))

    def write_outcome(self, v, m, r):
        """The source virt-handler's report of a transfer that ended: the VMI's
        migration state completed, or the migration failed. True when it wrote."""
        with self.lock:
            t = self.ended.pop((v.name, m["metadata"]["uid"]), None)
        if t is None:
            return False
        _, _, ns, name, _ = t.where
        vmi = v.vmis.get(ns, name)
        self.clear_metrics(v, vmi)
        if vmi is None:
            return False
        try:
            if t.result == "completed":
                self.patch_ms(v, vmi, {"completed": True, "endTimestamp": now_rfc3339(), "mode": t.mode})
            else:
                self.fail(v, m, r, vmi, t.failure)
        except Exception:
            with self.lock:  # not written: the next pass reports it again
                self.ended[(v.name, m["metadata"]["uid"])] = t
            raise
        return True

    def publish(self, v, ns, name, node, t):
        """The transfer's metrics; rates per wall second, as the bytes grow
        under --time-scale (remaining / rate is the wall time left)."""
        store = getattr(v.cluster, "metrics", None)
        if store is None:
            return
        labels = {"namespace": ns, "name": name, "node": node}
        for k, val in t.snapshot().items():
            store.set(k, labels, val * self.time_scale if k in RATE_METRICS else val)

    def clear_metrics(self, v, vmi):
        store = getattr(v.cluster, "metrics", None)
        if store is not None and vmi is not None:
            store.remove({"namespace": vmi["metadata"]["namespace"], "name": vmi["metadata"]["name"]})


def clean_state(old, new):
    """A merge patch of migrationState that leaves exactly `new`."""
    out = {k: None for k in old if k not in new}
    out.update(new)
    return out


def vm_sizes(v, vmi, copy_disks):
    """(memory bytes, disk bytes to copy) of a VMI."""
    dom = (vmi.get("spec") or {}).get("domain") or {}
    mem = quantity(((dom.get("memory") or {}).get("guest")) or
                   ((dom.get("resources") or {}).get("requests") or {}).get("memory"), 1024 ** 3)
    disk = 0.0
    if copy_disks:
        used = quantity((vmi["metadata"].get("annotations") or {}).get(DISK_USED), 1.0)
        ns = vmi["metadata"]["namespace"]
        for vol in (vmi.get("spec") or {}).get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName") or (vol.get("dataVolume") or {}).get(
                "name")
            if claim:
                pvc = v.c.get("/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, claim), ok404=True)
                size = (((pvc or {}).get("status") or {}).get("capacity") or {}).get("storage") or \
                    ((((pvc or {}).get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
                disk += quantity(size, 0) * used
    return mem, disk


def target_pod_name(m, vmi):
    name = (vmi or {}).get("metadata", {}).get("name") or (m.get("spec") or {}).get("vmiName") or "vmi"
    return "virt-launcher-%s-%s" % (name[:40], m["metadata"]["uid"][:5])


def vms_path(meta):
    return "/apis/kubevirt.io/v1/namespaces/%s/virtualmachineinstancemigrations/%s" % (meta["namespace"],
                                                                                       meta["name"])


def vms_pod_path(ns, name=None):
    return "/api/v1/namespaces/%s/pods" % ns + ("/" + name if name else "")
