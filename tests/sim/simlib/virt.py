"""Simulated OpenShift Virtualization, part 1: what an installed cluster holds,
and the HyperConverged operator's mapping into the KubeVirt CR.

Everything goes through the cluster's API server as the real operators'
writes would: objects are created with the real CRDs' schemas (so defaults
and validation are the apiserver's), status through the status subresource,
and the HCO controller reacts to watch events, never to a poll.

Facts (names, defaults, mapping) are from shared/reference/kubevirt-api.md
§6-§8: HCO `kubevirt-hyperconverged` and KubeVirt `kubevirt-kubevirt-hyperconverged`
in `openshift-cnv`; `decentralizedLiveMigration` -> KubeVirt
`developerConfiguration.featureGates` entry `DecentralizedLiveMigration`;
`liveMigrationConfig` -> `spec.configuration.migrations`.
"""

import copy
import threading

from . import kubeapi
from .nodes import now_rfc3339

CNV_NS = "openshift-cnv"
MTV_NS = "openshift-mtv"
MON_NS = "openshift-monitoring"
HCO_NAME = "kubevirt-hyperconverged"
KV_NAME = "kubevirt-kubevirt-hyperconverged"
GATE = "DecentralizedLiveMigration"
# liveMigrationConfig fields HCO maps one to one into KubeVirt's migrations
LM_FIELDS = ["parallelMigrationsPerCluster", "parallelOutboundMigrationsPerNode", "bandwidthPerMigration",
             "completionTimeoutPerGiB", "progressTimeout", "network", "allowAutoConverge", "allowPostCopy",
             "allowWorkloadDisruption"]
# CNV minor -> the KubeVirt it ships (HCO hack/config; reference §0)
KUBEVIRT_FOR_CNV = {"4.20": "v1.6.3", "4.21": "v1.7.4", "4.22": "v1.8.4"}


def minor(version):
    return ".".join(version.split(".")[:2])


def hco_path(name=HCO_NAME):
    return kubeapi.resource_path("hco.kubevirt.io", "v1beta1", "hyperconvergeds", CNV_NS, name)


def kv_path(name=KV_NAME):
    return kubeapi.resource_path("kubevirt.io", "v1", "kubevirts", CNV_NS, name)


def ensure(client, path, obj):
    """Create obj at collection `path` unless it exists; returns the object."""
    try:
        return client.create(path, obj)
    except kubeapi.ApiError as e:
        if e.code != 409:
            raise
        return client.get(path + "/" + obj["metadata"]["name"])


def condition(ctype, status, reason, message):
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now_rfc3339(), "lastHeartbeatTime": now_rfc3339()}


def migrate_cluster_role():
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "kubevirt.io:migrate", "labels": {"kubevirt.io": ""}},
            "rules": [{"apiGroups": ["subresources.kubevirt.io"], "resources": ["virtualmachines/migrate"],
                       "verbs": ["update"]},
                      {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachineinstancemigrations"],
                       "verbs": ["get", "delete", "create", "update", "patch", "list", "watch",
                                 "deletecollection"]}]}


def kubevirt_roles():
    """kubevirt.io:admin/edit/view, aggregated into the built-in roles; they
    only read VMIMs (creating one needs kubevirt.io:migrate, reference §8.1)."""
    kv_all = ["virtualmachines", "virtualmachineinstances", "virtualmachineinstancepresets",
              "virtualmachineinstancereplicasets"]
    read = ["get", "list", "watch"]
    write = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    roles = []
    for name, verbs, agg in (("admin", write, "admin"), ("edit", write, "edit"), ("view", read, "view")):
        roles.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                      "metadata": {"name": "kubevirt.io:" + name,
                                   "labels": {"kubevirt.io": "",
                                              "rbac.authorization.k8s.io/aggregate-to-" + agg: "true"}},
                      "rules": [{"apiGroups": ["kubevirt.io"], "resources": kv_all, "verbs": verbs},
                                {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachineinstancemigrations"],
                                 "verbs": read},
                                {"apiGroups": ["instancetype.kubevirt.io"], "resources": ["*"], "verbs": verbs},
                                {"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes"], "verbs": verbs}]})
    return roles


def install(cluster, spec):
    """The installed state of one cluster (scenario `spec`): ClusterVersion,
    namespaces, HCO, KubeVirt CR, roles, virt-handler, storage, MTV."""
    c = cluster.client
    ocp = spec["openshift"]
    cnv = spec["cnv"]
    for ns in (CNV_NS, MTV_NS, MON_NS):
        ensure(c, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    cv = ensure(c, "/apis/config.openshift.io/v1/clusterversions", {
        "apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion",
        "metadata": {"name": "version"},
        "spec": {"clusterID": "00000000-0000-4000-8000-%012d" % (cluster.index + 1), "channel": "stable-" + minor(ocp)}})
    c.merge_patch("/apis/config.openshift.io/v1/clusterversions/version/status", {"status": {
        "desired": {"version": ocp, "image": "quay.io/openshift-release-dev/ocp-release:%s-x86_64" % ocp},
        "history": [{"state": "Completed", "version": ocp, "verified": False,
                     "image": "quay.io/openshift-release-dev/ocp-release:%s-x86_64" % ocp,
                     "startedTime": now_rfc3339(), "completionTime": now_rfc3339()}],
        "observedGeneration": cv["metadata"].get("generation", 1), "versionHash": "sim",
        "availableUpdates": [],
        "conditions": [condition("Available", "True", "AsExpected", "Done applying %s" % ocp),
                       condition("Progressing", "False", "AsExpected", "Cluster version is %s" % ocp),
                       condition("Failing", "False", "AsExpected", "No errors")]}})

    for role in [migrate_cluster_role()] + kubevirt_roles():
        ensure(c, "/apis/rbac.authorization.k8s.io/v1/clusterroles", role)

    for sc in spec["storageClasses"]:
        obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": sc["name"], "annotations": {}},
               "provisioner": sc.get("provisioner", "openshift-storage.rbd.csi.ceph.com"),
               "reclaimPolicy": "Delete", "volumeBindingMode": sc.get("volumeBindingMode", "Immediate"),
               "allowVolumeExpansion": True}
        if sc.get("default"):
            obj["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] = "true"
        ensure(c, "/apis/storage.k8s.io/v1/storageclasses", obj)

    kv_version = KUBEVIRT_FOR_CNV.get(minor(cnv), "v1.6.3")
    ensure(c, kubeapi.resource_path("kubevirt.io", "v1", "kubevirts", CNV_NS), {
        "apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
        "metadata": {"name": KV_NAME, "namespace": CNV_NS,
                     "labels": {"app": "kubevirt-hyperconverged", "app.kubernetes.io/managed-by": "hco-operator"}},
        "spec": {"certificateRotateStrategy": {"selfSigned": {"ca": {"duration": "48h0m0s", "renewBefore": "24h0m0s"},
                                                              "server": {"duration": "24h0m0s",
                                                                         "renewBefore": "12h0m0s"}}},
                 "configuration": {"developerConfiguration": {"featureGates": []}, "migrations": {}},
                 "workloadUpdateStrategy": {"workloadUpdateMethods": ["LiveMigrate"]}}})
    c.merge_patch(kv_path() + "/status", {"status": {
        "phase": "Deployed", "observedKubeVirtVersion": kv_version, "targetKubeVirtVersion": kv_version,
        "operatorVersion": kv_version, "observedKubeVirtRegistry": "registry.redhat.io/container-native-virtualization",
        "conditions": [condition("Available", "True", "AllComponentsReady", "All components are ready."),
                       condition("Progressing", "False", "AllComponentsReady", "All components are ready."),
                       condition("Degraded", "False", "AllComponentsReady", "All components are ready.")]}})

    hco = {"apiVersion": "hco.kubevirt.io/v1beta1", "kind": "HyperConverged",
           "metadata": {"name": HCO_NAME, "namespace": CNV_NS},
           "spec": {"featureGates": {"decentralizedLiveMigration": bool(spec.get("gate", False))}}}
    ensure(c, kubeapi.resource_path("hco.kubevirt.io", "v1beta1", "hyperconvergeds", CNV_NS), hco)

    handler_image = "registry.redhat.io/container-native-virtualization/virt-handler-rhel9:v%s" % cnv
    ensure(c, kubeapi.resource_path("apps", "v1", "daemonsets", CNV_NS), {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "virt-handler", "namespace": CNV_NS, "labels": {"kubevirt.io": "virt-handler"}},
        "spec": {"selector": {"matchLabels": {"kubevirt.io": "virt-handler"}},
                 "template": {"metadata": {"labels": {"kubevirt.io": "virt-handler", "prometheus.kubevirt.io": "true"},
                                           "annotations": {}},
                              "spec": {"containers": [{"name": "virt-handler", "image": handler_image}]}}}})

    if spec.get("mtv"):
        ensure(c, kubeapi.resource_path("forklift.konveyor.io", "v1beta1", "forkliftcontrollers", MTV_NS), {
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
            "metadata": {"name": "forklift-controller", "namespace": MTV_NS},
            "spec": {"feature_ui_plugin": "true", "feature_validation": "true"}})


def desired_kubevirt(hco, kv):
    """The KubeVirt CR spec HCO wants for this HyperConverged (a new dict)."""
    spec = copy.deepcopy(kv.get("spec") or {})
    conf = spec.setdefault("configuration", {})
    dev = conf.setdefault("developerConfiguration", {})
    gates = [g for g in (dev.get("featureGates") or []) if g != GATE]
    if ((hco.get("spec") or {}).get("featureGates") or {}).get("decentralizedLiveMigration"):
        gates.append(GATE)
    dev["featureGates"] = gates
    lm = (hco.get("spec") or {}).get("liveMigrationConfig") or {}
    conf["migrations"] = {k: lm[k] for k in LM_FIELDS if lm.get(k) is not None}
    return spec


class HcoController:
    """Watches HyperConverged objects and keeps the KubeVirt CR in line."""

    def __init__(self, cluster, cnv_version):
        self.c = cluster.client
        self.cluster = cluster.name
        self.version = cnv_version
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def start(self):
        path = kubeapi.resource_path("hco.kubevirt.io", "v1beta1", "hyperconvergeds", CNV_NS)
        self.informer = kubeapi.Informer(self.c, path, self.on_hco, self.stop, name=self.cluster + "-hco").start()
        return self

    def on_hco(self, etype, hco):
        if etype == "DELETED" or hco["metadata"]["name"] != HCO_NAME:
            return
        try:
            with self.lock:
                self.reconcile(hco)
        except kubeapi.ApiError:
            pass  # the next event (or the relist) tries again

    def reconcile(self, hco):
        kv = self.c.get(kv_path(), ok404=True)
        if kv is None:
            return
        want = desired_kubevirt(hco, kv)
        if want != kv.get("spec"):
            # one atomic JSON patch: "add" replaces an existing member whole,
            # which a merge patch cannot do for a map
            self.c.json_patch(kv_path(), [
                {"op": "add", "path": "/spec/configuration/developerConfiguration/featureGates",
                 "value": want["configuration"]["developerConfiguration"]["featureGates"]},
                {"op": "add", "path": "/spec/configuration/migrations", "value": want["configuration"]["migrations"]}])
        st = hco.get("status") or {}
        gen = hco["metadata"].get("generation", 1)
        if st.get("observedGeneration") != gen or not st.get("versions"):
            self.c.merge_patch(hco_path() + "/status", {"status": {
                "observedGeneration": gen,
                "versions": [{"name": "operator", "version": self.version}],
                "conditions": [condition("ReconcileComplete", "True", "ReconcileCompleted", "Reconcile completed successfully"),
                               condition("Available", "True", "ReconcileCompleted", "Reconcile completed successfully"),
                               condition("Progressing", "False", "ReconcileCompleted", "Reconcile completed successfully"),
                               condition("Degraded", "False", "ReconcileCompleted", "Reconcile completed successfully"),
                               condition("Upgradeable", "True", "ReconcileCompleted", "Reconcile completed successfully")]}})

    def shutdown(self):
        self.stop.set()
