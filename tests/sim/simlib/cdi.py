"""Simulated CDI and CSI storage: DataVolumes become bound PVCs.

- The DataVolume controller makes, for each DataVolume, a PVC of the same
  name (owned by it, so garbage collection removes it with the DataVolume)
  from `spec.storage` or `spec.pvc`, with the StorageClass named or the
  cluster's default; then reports phase Pending -> PVCBound -> Succeeded
  (progress "100.0%"), conditions Bound/Running/Ready and `claimName`. Blank
  and imported sources alike finish at once: the simulator moves no bytes.
- The provisioner plays the CSI drivers of the scenario's StorageClasses: a
  Pending PVC of such a class gets a PersistentVolume with a claimRef, and
  kube-controller-manager's real PV controller binds the two. Volume and
  access modes are kept, so block volumes and RWX claims look as they should.
Both are watch-driven.
"""

from . import kubeapi
from .nodes import now_rfc3339

def condition(ctype, status, reason, message):
    """A condition. Reason and message are never empty: this apiserver
    refused status merge patches whose condition strings were "" as null."""
    ts = now_rfc3339()
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": ts, "lastHeartbeatTime": ts}


def pvc_spec_from(dv, default_class):
    """The PVC spec a DataVolume asks for (spec.storage or spec.pvc)."""
    spec = dv.get("spec") or {}
    src = spec.get("storage") or spec.get("pvc") or {}
    out = {"accessModes": src.get("accessModes") or ["ReadWriteOnce"],
           "resources": src.get("resources") or {"requests": {"storage": "1Gi"}},
           "volumeMode": src.get("volumeMode") or "Filesystem"}
    sc = src.get("storageClassName") or default_class
    if sc:
        out["storageClassName"] = sc
    return out


class Storage(kubeapi.Controller):
    def __init__(self, cluster, classes):
        super().__init__(cluster.client, cluster.name)
        self.provisioners = {sc["name"]: sc.get("provisioner", "csi.kubesim") for sc in classes}
        self.default_class = next((sc["name"] for sc in classes if sc.get("default")), None)

    def start(self):
        self.watch("/apis/cdi.kubevirt.io/v1beta1/datavolumes", self.on_dv, what="dv")
        self.watch("/api/v1/persistentvolumeclaims", self.on_pvc, what="pvc")
        return self

    # -- DataVolumes --
    def on_dv(self, etype, dv):
        if etype != "DELETED" and not dv["metadata"].get("deletionTimestamp"):
            self.guarded(self.reconcile_dv, dv)

    def reconcile_dv(self, dv):
        meta = dv["metadata"]
        ns, name = meta["namespace"], meta["name"]
        pvc_path = kubeapi.resource_path("", "v1", "persistentvolumeclaims", ns, name)
        pvc = self.c.get(pvc_path, ok404=True)
        if pvc is None:
            pvc = self.c.create(pvc_path.rsplit("/", 1)[0], {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": ns,
                             "labels": {"app": "containerized-data-importer",
                                        "app.kubernetes.io/component": "storage",
                                        "app.kubernetes.io/managed-by": "cdi-controller"},
                             "annotations": {"cdi.kubevirt.io/storage.contentType": "kubevirt",
                                             "cdi.kubevirt.io/storage.populatedFor": name},
                             "ownerReferences": [{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                                                  "name": name, "uid": meta["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "spec": pvc_spec_from(dv, self.default_class)})
        bound = (pvc.get("status") or {}).get("phase") == "Bound"
        phase = "Succeeded" if bound else "Pending"
        st = dv.get("status") or {}
        if st.get("phase") == phase and st.get("claimName") == name:
            return
        conds = [condition("Bound", "True" if bound else "False", "Bound" if bound else "Pending",
                           "PVC %s Bound" % name if bound else "PVC %s Pending" % name),
                 condition("Running", "False", "Completed" if bound else "Pending",
                           "Import Complete" if bound else "Waiting for the PVC to bind"),
                 condition("Ready", "True" if bound else "False", "Ready" if bound else "Pending",
                           "DataVolume is ready" if bound else "Waiting for the PVC to bind")]
        self.c.merge_patch(kubeapi.resource_path("cdi.kubevirt.io", "v1beta1", "datavolumes", ns, name, "status"),
                           {"status": {"phase": phase, "progress": "100.0%" if bound else "N/A",
                                       "claimName": name, "conditions": conds}})

    # -- the CSI side --
    def on_pvc(self, etype, pvc):
        if etype != "DELETED":
            self.guarded(self.on_pvc_change, pvc)

    def on_pvc_change(self, pvc):
        self.provision(pvc)
        owner = next((o for o in pvc["metadata"].get("ownerReferences") or [] if o["kind"] == "DataVolume"), None)
        if owner and (pvc.get("status") or {}).get("phase") == "Bound":
            dv = self.c.get(kubeapi.resource_path("cdi.kubevirt.io", "v1beta1", "datavolumes",
                                                  pvc["metadata"]["namespace"], owner["name"]), ok404=True)
            if dv:
                self.reconcile_dv(dv)

    def provision(self, pvc):
        spec, meta = pvc["spec"], pvc["metadata"]
        sc = spec.get("storageClassName")
        if spec.get("volumeName") or (pvc.get("status") or {}).get("phase") != "Pending" or sc not in self.provisioners:
            return
        name = "pvc-" + meta["uid"]
        try:
            self.c.create("/api/v1/persistentvolumes", {
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": self.provisioners[sc]}},
                "spec": {"capacity": {"storage": spec["resources"]["requests"]["storage"]},
                         "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                         "volumeMode": spec.get("volumeMode") or "Filesystem",
                         "storageClassName": sc, "persistentVolumeReclaimPolicy": "Delete",
                         "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                      "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                         "csi": {"driver": self.provisioners[sc], "volumeHandle": name}}})
        except kubeapi.ApiError as e:
            if e.code != 409:
                raise
