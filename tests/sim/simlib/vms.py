"""Simulated KubeVirt virtual machines: the VM controller, the VMI life cycle
and the virt-launcher pods (reference §3, §4).

- runStrategy (or legacy spec.running): Always/RerunOnFailure start a VMI,
  Halted stops it, Manual and Once leave an existing VMI alone (Once starts
  one the first time), WaitAsReceiver makes a receiver VMI (annotation
  kubevirt.io/create-migration-target) that waits in phase WaitingForSync
  with no pod.
- A started VMI gets a virt-launcher pod (label kubevirt.io=virt-launcher,
  owned by the VMI) that the real scheduler places and the node agent runs;
  the VMI goes Pending -> Scheduling -> Scheduled -> Running with nodeName.
- Conditions LiveMigratable and StorageLiveMigratable are computed from the
  spec with KubeVirt's reasons (first match wins) and mirrored onto the VM
  with its printableStatus.
Everything is driven by watches on VMs, VMIs and launcher pods. Each event
is first decided on what the watches delivered (an informer cache, as
virt-controller decides); only when that decision writes are the VM and VMI
read fresh and decided again, so the many status events of a migration cost
the API servers no reads. Events are queued by namespace/name (a VM, its VMI
and its launcher pods share one key) and handled by a few worker threads, one
key at a time, as virt-controller's VM and VMI work queues are.
"""

import threading

from . import cache, kubeapi, workers
from .nodes import now_rfc3339

VMS = "/apis/kubevirt.io/v1/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/virtualmachineinstances"
RECEIVER = "kubevirt.io/create-migration-target"
RESTORE = "kubevirt.io/restore-run-strategy"
MIGRATION_JOB = "kubevirt.io/migrationJobUID"
OWN_CONDITIONS = ("Ready", "LiveMigratable", "StorageLiveMigratable")


def vm_path(ns, name=None, sub=None):
    return kubeapi.resource_path("kubevirt.io", "v1", "virtualmachines", ns, name, sub)


def vmi_path(ns, name=None, sub=None):
    return kubeapi.resource_path("kubevirt.io", "v1", "virtualmachineinstances", ns, name, sub)


def run_strategy(vm):
    spec = vm.get("spec") or {}
    if spec.get("runStrategy"):
        return spec["runStrategy"]
    return "Always" if spec.get("running") else "Halted"


def cond(ctype, status, reason=None, message=None):
    c = {"type": ctype, "status": status, "lastTransitionTime": now_rfc3339(), "lastProbeTime": None}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def migratability(vmi_spec, pvc_modes):
    """(LiveMigratable, StorageLiveMigratable) conditions for a VMI spec.
    `pvc_modes` maps claim name -> access modes (for the disk check)."""
    dom = vmi_spec.get("domain") or {}
    dev = dom.get("devices") or {}
    pod_nets = {n["name"] for n in vmi_spec.get("networks") or [] if "pod" in n}
    checks = []  # (reason, message) in KubeVirt's order
    for i in dev.get("interfaces") or []:
        if "sriov" in i:
            checks.append(("InterfaceNotLiveMigratable", "cannot migrate VMI with a SR-IOV interface"))
            break
        if "bridge" in i and i.get("name") in pod_nets:
            checks.append(("InterfaceNotLiveMigratable",
                           "cannot migrate VMI which does not use masquerade, bridge with kubevirt.io/allow-pod-bridge-network-live-migration VM annotation or a migratable plugin to connect to the pod network"))
            break
    if (dom.get("cpu") or {}).get("model") == "host-passthrough":
        checks.append(("CPUModeLiveMigratable", "cannot migrate VMI with host-passthrough CPU mode"))
    if dev.get("hostDevices") or dev.get("gpus"):
        checks.append(("HostDeviceNotLiveMigratable", "VMI uses a PCI host devices"))
    storage_checks = list(checks)
    for v in vmi_spec.get("volumes") or []:
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName") or (v.get("dataVolume") or {}).get("name")
        if claim and "ReadWriteMany" not in (pvc_modes.get(claim) or []):
            checks.append(("DisksNotLiveMigratable",
                           "cannot migrate VMI: PVC %s is not shared, live migration requires that all PVCs must be "
                           "shared (using ReadWriteMany access mode)" % claim))
            break
    for d in dev.get("disks") or []:
        if d.get("shareable"):
            checks.append(("DisksNotLiveMigratable", "cannot migrate VMI with a shareable disk"))
            storage_checks.append(("DisksNotLiveMigratable", "cannot migrate VMI with a shareable disk"))
            break
    live = cond("LiveMigratable", "False", checks[0][0], checks[0][1]) if checks else cond("LiveMigratable", "True")
    if storage_checks:
        storage = cond("StorageLiveMigratable", "False", "NotMigratable",
                       ", ".join("%s: %s" % rc for rc in storage_checks))
    else:
        storage = cond("StorageLiveMigratable", "True")
    return live, storage


class _Writes(Exception):
    """The decision taken on the caches would write (or needs a read they cannot answer)."""


class _NoApi:
    """The client while a decision runs on the caches: any call (a write, or
    a read the caches do not answer) raises _Writes, so the caller decides
    again on fresh reads."""

    def __getattr__(self, name):
        raise _Writes()


class VmController(kubeapi.Controller):
    WORKERS = 4
    serial = False   # the key queue keeps one VM's handlers in turn

    def __init__(self, cluster):
        self.local = threading.local()   # .cached: this thread decides on the caches
        super().__init__(cluster.client, cluster.name)
        self.vm_store, self.vmi_store, self.pod_store = cache.Store(), cache.Store(), cache.Store()
        self.work = workers.KeyQueue(self.WORKERS, self.handle, self.stop, "%s-vms" % cluster.name)

    @property
    def c(self):
        """The client the decisions call: one that refuses every call while
        this thread decides on the caches, else the API."""
        return _NoApi() if self.on_caches() else self.fresh

    @c.setter
    def c(self, client):
        self.fresh = client

    def on_caches(self):
        return getattr(self.local, "cached", False)

    def on_cache(self, fn, *args):
        """Run decision `fn` on the caches: False when it would write."""
        self.local.cached = True
        try:
            fn(*args)
            return True
        except _Writes:
            return False
        finally:
            self.local.cached = False

    # -- the reads a decision makes: the informers' caches, or the API --
    def read_vm(self, ns, name):
        return self.vm_store.get(ns, name) if self.on_caches() else self.fresh.get(vm_path(ns, name), ok404=True)

    def read_vmi(self, ns, name):
        return self.vmi_store.get(ns, name) if self.on_caches() else self.fresh.get(vmi_path(ns, name), ok404=True)

    def read_launchers(self, ns, name):
        """The virt-launcher pods labelled for VM `name`."""
        if self.on_caches():
            return [p for p in self.pod_store.items() if p["metadata"].get("namespace") == ns and
                    (p["metadata"].get("labels") or {}).get("vm.kubevirt.io/name") == name]
        return self.fresh.get(kubeapi.resource_path("", "v1", "pods", ns),
                              query={"labelSelector": "kubevirt.io=virt-launcher,vm.kubevirt.io/name=" + name})["items"]

    def handle(self, key, work):
        """One key's queued work: its VMI's handler, then its VM's (as an
        event on the VMI runs them), each with the retry attempt it carries."""
        ns, name = key
        if "vmi" in work:
            self.guarded(self.sync_vmi, ns, name, attempt=work["vmi"])
        if "vm" in work:
            self.guarded(self.sync_vm, ns, name, attempt=work["vm"])

    def retry(self, fn, args, attempt):
        self.work.add(args, {"vmi" if fn.__name__ == "sync_vmi" else "vm": attempt})

    @staticmethod
    def launcher_runs(agent, pod):
        """Node-agent runner: a virt-launcher runs until deleted (restartPolicy Never)."""
        return False if (pod["metadata"].get("labels") or {}).get("kubevirt.io") == "virt-launcher" else None

    def start(self, agent):
        agent.runners.append(self.launcher_runs)
        self.work.start()
        self.watch(VMS, self.on_vm, what="vms")
        self.watch(VMIS, self.on_vmi, what="vmis")
        self.watch("/api/v1/pods", self.on_pod, query={"labelSelector": "kubevirt.io=virt-launcher"},
                   what="launchers")
        return self

    def on_vm(self, etype, vm):
        self.vm_store.apply(etype, vm)
        if etype != "DELETED":
            self.work.add((vm["metadata"]["namespace"], vm["metadata"]["name"]), {"vm": 0})

    def on_vmi(self, etype, vmi):
        self.vmi_store.apply(etype, vmi)
        meta = vmi["metadata"]
        self.work.add((meta["namespace"], meta["name"]), {"vm": 0} if etype == "DELETED" else {"vmi": 0, "vm": 0})

    def on_pod(self, etype, pod):
        self.pod_store.apply(etype, pod)
        name = (pod["metadata"].get("labels") or {}).get("vm.kubevirt.io/name")
        if name and etype != "DELETED":
            self.work.add((pod["metadata"]["namespace"], name), {"vmi": 0})

    # -- VM -> VMI --
    def sync_vm(self, ns, name):
        if not self.on_cache(self.decide_vm, ns, name):
            self.decide_vm(ns, name)

    def decide_vm(self, ns, name):
        vm = self.read_vm(ns, name)
        if vm is None or vm["metadata"].get("deletionTimestamp"):
            return
        vmi = self.read_vmi(ns, name)
        rs = run_strategy(vm)
        rs = self.after_migration(vm, vmi, rs)
        if vmi is None and (rs in ("Always", "RerunOnFailure", "WaitAsReceiver") or
                            (rs == "Once" and not (vm.get("status") or {}).get("created"))):
            vmi = self.create_vmi(vm, receiver=rs == "WaitAsReceiver")
        elif vmi is not None and rs == "Halted" and not vmi["metadata"].get("deletionTimestamp"):
            self.c.delete(vmi_path(ns, name), ok404=True)
            vmi["metadata"]["deletionTimestamp"] = now_rfc3339()
        self.update_vm_status(vm, vmi, rs)

    def after_migration(self, vm, vmi, rs):
        """A decentralized migration's end seen from the VM (reference §3.2,
        §3.3): the receiver takes its kubevirt.io/restore-run-strategy once the
        VMI runs as a completed migration target; a source VM with Always is
        set to Halted once its VMI handed off. Returns the runStrategy now."""
        if vmi is None:
            return rs
        st = vmi.get("status") or {}
        ms = st.get("migrationState") or {}
        meta = vm["metadata"]
        receiver = (vmi["metadata"].get("annotations") or {}).get(RECEIVER) == "true"
        if rs == "WaitAsReceiver" and ms.get("completed") and not receiver:
            restore = (meta.get("annotations") or {}).get(RESTORE)
            if restore and restore != rs:
                self.c.merge_patch(vm_path(meta["namespace"], meta["name"]), {"spec": {"runStrategy": restore}})
                return restore
        elif rs == "Always" and ms.get("completed") and st.get("phase") == "Succeeded" and \
                (ms.get("sourceState") or {}).get("migrationUID"):
            # "decentralized migration completed, setting runStrategy to halted"
            spec = vm.get("spec") or {}
            patch = {"runStrategy": "Halted"} if spec.get("runStrategy") else {"running": False}
            self.c.merge_patch(vm_path(meta["namespace"], meta["name"]), {"spec": patch})
            return "Halted"
        return rs

    def matcher_object(self, ns, matcher, kinds):
        """The instancetype/preference a VM's matcher names (None if absent)."""
        kind = (matcher.get("kind") or kinds[1]).lower()
        namespaced = kind == kinds[0].lower()
        plural = (kinds[0] if namespaced else kinds[1]).lower() + "s"
        return self.c.get(kubeapi.resource_path("instancetype.kubevirt.io", "v1beta1", plural,
                                                ns if namespaced else None, matcher.get("name", "")), ok404=True)

    def ensure_revisions(self, vm):
        """Like virt-controller: each instancetype/preference a VM uses is
        stored once as a ControllerRevision owned by the VM and named in
        spec.<matcher>.revisionName (what a copy to another cluster must drop)."""
        meta, spec = vm["metadata"], vm.get("spec") or {}
        for key, kinds in (("instancetype", ("VirtualMachineInstancetype", "VirtualMachineClusterInstancetype")),
                           ("preference", ("VirtualMachinePreference", "VirtualMachineClusterPreference"))):
            matcher = spec.get(key)
            if not isinstance(matcher, dict) or matcher.get("revisionName") or not matcher.get("name"):
                continue
            obj = self.matcher_object(meta["namespace"], matcher, kinds)
            if obj is None:
                continue
            name = "%s-%s-%s-%d" % (meta["name"], matcher["name"], obj["metadata"]["uid"][:8],
                                    obj["metadata"].get("generation", 1))
            try:
                self.c.create(kubeapi.resource_path("apps", "v1", "controllerrevisions", meta["namespace"]), {
                    "apiVersion": "apps/v1", "kind": "ControllerRevision",
                    "metadata": {"name": name, "namespace": meta["namespace"],
                                 "labels": {"instancetype.kubevirt.io/object-kind": obj["kind"],
                                            "instancetype.kubevirt.io/object-name": obj["metadata"]["name"]},
                                 "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                      "name": meta["name"], "uid": meta["uid"]}]},
                    "data": {k: obj[k] for k in ("apiVersion", "kind", "metadata", "spec") if k in obj},
                    "revision": 1})
            except kubeapi.ApiError as e:
                if e.code != 409:
                    raise
            self.c.merge_patch(vm_path(meta["namespace"], meta["name"]), {"spec": {key: {"revisionName": name}}})

    def instancetype_domain(self, vm, domain):
        """The VMI domain with the instancetype's CPU and memory applied."""
        matcher = (vm.get("spec") or {}).get("instancetype")
        if not isinstance(matcher, dict) or not matcher.get("name"):
            return domain
        it = self.matcher_object(vm["metadata"]["namespace"], matcher,
                                 ("VirtualMachineInstancetype", "VirtualMachineClusterInstancetype"))
        if it is None:
            return domain
        domain = dict(domain)
        ispec = it.get("spec") or {}
        if (ispec.get("memory") or {}).get("guest"):
            domain["memory"] = dict(domain.get("memory") or {}, guest=ispec["memory"]["guest"])
        if (ispec.get("cpu") or {}).get("guest"):
            domain["cpu"] = dict(domain.get("cpu") or {}, sockets=ispec["cpu"]["guest"], cores=1, threads=1)
        return domain

    def create_vmi(self, vm, receiver):
        tmpl = (vm.get("spec") or {}).get("template") or {}
        meta = vm["metadata"]
        self.ensure_revisions(vm)
        ann = dict((tmpl.get("metadata") or {}).get("annotations") or {})
        if receiver:
            ann[RECEIVER] = "true"
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
        labels["vm.kubevirt.io/name"] = meta["name"]
        vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
               "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels,
                            "annotations": ann,
                            "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                 "name": meta["name"], "uid": meta["uid"], "controller": True,
                                                 "blockOwnerDeletion": True}]},
               "spec": dict(tmpl.get("spec") or {})}
        vmi["spec"]["domain"] = self.instancetype_domain(vm, vmi["spec"].get("domain") or {})
        return self.c.create(vmi_path(meta["namespace"]), vmi)

    def update_vm_status(self, vm, vmi, rs):
        st = {"created": vmi is not None, "ready": False, "runStrategy": rs}
        phase = ((vmi or {}).get("status") or {}).get("phase")
        if vmi is None:
            printable = "WaitingForReceiver" if rs == "WaitAsReceiver" else "Stopped"
        elif vmi["metadata"].get("deletionTimestamp"):
            printable = "Stopping"
        elif phase in (None, "", "WaitingForSync") and rs == "WaitAsReceiver":
            printable = "WaitingForReceiver"
        elif phase == "Running":
            printable = "Running"
            st["ready"] = True
        elif phase in ("Succeeded", "Failed"):
            printable = "Stopped" if phase == "Succeeded" else "Failed"
        else:
            printable = "Starting"
        st["printableStatus"] = printable
        # VMI conditions mirrored, except Ready, Failure and RestartRequired (vm.go syncConditions)
        mirrored = [c for c in ((vmi or {}).get("status") or {}).get("conditions") or []
                    if c["type"] not in ("Ready", "Failure", "RestartRequired")]
        st["conditions"] = [cond("Ready", "True" if st["ready"] else "False",
                                 None if st["ready"] else "VMINotExists" if vmi is None else "PodNotExists")] + mirrored
        old = vm.get("status") or {}
        if any(old.get(k) != st[k] for k in ("created", "ready", "printableStatus")) or \
                [(c["type"], c["status"], c.get("reason")) for c in old.get("conditions") or []] != \
                [(c["type"], c["status"], c.get("reason")) for c in st["conditions"]]:
            self.c.merge_patch(vm_path(vm["metadata"]["namespace"], vm["metadata"]["name"], "status"), {"status": st})

    # -- VMI -> pod -> phases --
    def sync_vmi(self, ns, name):
        if not self.on_cache(self.decide_vmi, ns, name):
            self.decide_vmi(ns, name)

    def decide_vmi(self, ns, name):
        vmi = self.read_vmi(ns, name)
        if vmi is None or vmi["metadata"].get("deletionTimestamp"):
            return
        st = vmi.get("status") or {}
        if st.get("phase") in ("Succeeded", "Failed"):
            return
        receiver = (vmi["metadata"].get("annotations") or {}).get(RECEIVER) == "true"
        ms = st.get("migrationState") or {}
        if (receiver and ms) or (ms and not ms.get("completed") and not ms.get("failed")):
            return  # a migration is under way: the migration engine owns the status
        pvc_modes = {}
        for v in (vmi.get("spec") or {}).get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName") or (v.get("dataVolume") or {}).get("name")
            if claim:
                pvc = self.c.get(kubeapi.resource_path("", "v1", "persistentvolumeclaims", ns, claim), ok404=True)
                pvc_modes[claim] = ((pvc or {}).get("spec") or {}).get("accessModes") or []
        live, storage = migratability(vmi.get("spec") or {}, pvc_modes)
        if receiver:
            want = {"phase": "WaitingForSync",
                    "conditions": [cond("Ready", "False", "PodNotExists", "virt-launcher pod has not yet been scheduled"),
                                   live, storage]}
        else:
            pods = [p for p in self.read_launchers(ns, name) if any(o.get("uid") == vmi["metadata"]["uid"]
                                           for o in p["metadata"].get("ownerReferences") or [])]
            # after a migration the VMI runs where status.nodeName says; a
            # migration's target pod is never the VMI's own before that
            pods = [p for p in pods if p["spec"].get("nodeName") == st["nodeName"]] if st.get("nodeName") else \
                [p for p in pods if MIGRATION_JOB not in (p["metadata"].get("labels") or {})]
            if not pods:
                self.create_launcher(vmi)
                want = {"phase": "Scheduling", "conditions": [cond("Ready", "False", "PodNotExists"), live, storage]}
            else:
                pod = pods[0]
                node = pod["spec"].get("nodeName")
                pst = pod.get("status") or {}
                if pst.get("phase") == "Running":
                    want = {"phase": "Running", "nodeName": node,
                            "interfaces": [{"name": "default", "ipAddress": pst.get("podIP"),
                                            "ipAddresses": [pst.get("podIP")], "interfaceName": "eth0"}],
                            "activePods": {pod["metadata"]["uid"]: node},
                            "conditions": [cond("Ready", "True"), live, storage]}
                elif pst.get("phase") in ("Succeeded", "Failed"):
                    want = {"phase": pst["phase"], "conditions": [cond("Ready", "False", "PodTerminating"), live, storage]}
                else:
                    want = {"phase": "Scheduled" if node else "Scheduling",
                            "conditions": [cond("Ready", "False", "PodNotExists"), live, storage]}
                    if node:
                        want["nodeName"] = node
        # conditions other controllers own (the sync controller's) are kept
        want["conditions"] += [c for c in st.get("conditions") or [] if c["type"] not in OWN_CONDITIONS]
        if st.get("phase") != want["phase"] or st.get("nodeName") != want.get("nodeName") or \
                [(c["type"], c["status"], c.get("reason")) for c in st.get("conditions") or []] != \
                [(c["type"], c["status"], c.get("reason")) for c in want["conditions"]]:
            # the VMI CRD has no status subresource: status goes with the object
            self.c.merge_patch(vmi_path(ns, name), {"status": want})

    def create_launcher(self, vmi):
        meta, spec = vmi["metadata"], vmi.get("spec") or {}
        mem = (((spec.get("domain") or {}).get("resources") or {}).get("requests") or {}).get("memory") or \
            ((spec.get("domain") or {}).get("memory") or {}).get("guest") or "1Gi"
        self.c.create(kubeapi.resource_path("", "v1", "pods", meta["namespace"]), {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "virt-launcher-%s-" % meta["name"], "namespace": meta["namespace"],
                         "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": meta["name"],
                                    "kubevirt.io/created-by": meta["uid"]},
                         "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                                              "name": meta["name"], "uid": meta["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"restartPolicy": "Never", "nodeSelector": spec.get("nodeSelector") or None,
                     "containers": [{"name": "compute",
                                     "image": "registry.redhat.io/container-native-virtualization/virt-launcher-rhel9",
                                     "resources": {"requests": {"memory": mem}}}]}})
