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

from . import kubeapi
from .nodes import now_micro, now_rfc3339

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
    if spec.get("liveMigrationNetwork"):
        hco["spec"]["liveMigrationConfig"] = {"network": spec["liveMigrationNetwork"]}
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


class HcoController(kubeapi.Controller):
    """Watches HyperConverged objects and keeps the KubeVirt CR in line."""

    def __init__(self, cluster, cnv_version):
        super().__init__(cluster.client, cluster.name)
        self.version = cnv_version

    def start(self):
        self.watch(kubeapi.resource_path("hco.kubevirt.io", "v1beta1", "hyperconvergeds", CNV_NS), self.on_hco,
                   what="hco")
        return self

    def on_hco(self, etype, hco):
        if etype != "DELETED" and hco["metadata"]["name"] == HCO_NAME:
            self.guarded(self.reconcile, hco)

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


# ---- virt-operator ------------------------------------------------------------
SYNC = "virt-synchronization-controller"
SYNC_PORT = 9185
NETWORKS = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"


def split_pem(text):
    """The certificates of a PEM bundle, each normalised to end with a newline."""
    out, cur = [], []
    for line in (text or "").splitlines():
        if line.startswith("-----BEGIN CERTIFICATE-----"):
            cur = [line]
        elif cur:
            cur.append(line)
            if line.startswith("-----END CERTIFICATE-----"):
                out.append("\n".join(cur) + "\n")
                cur = []
    return out


def cert_valid_now(pem):
    """True when openssl parses the certificate and it has not expired (a
    certificate from the future counts as valid, as virt-operator keeps it)."""
    import subprocess
    r = subprocess.run(["openssl", "x509", "-noout", "-checkend", "0"], input=pem.encode(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def merge_ca_bundle(own, current, external):
    """kubevirt-ca after absorbing kubevirt-external-ca: our own CA first, then
    every other valid certificate once (by content), external ones last."""
    seen, out = set(), []
    for pem in split_pem(own) + split_pem(current) + [p for p in split_pem(external) if cert_valid_now(p)]:
        key = "".join(pem.split())
        if key not in seen:
            seen.add(key)
            out.append(pem)
    return "".join(out)


def migration_address(pod):
    """The pod's migration0 IP (Multus network-status), else its pod IP."""
    try:
        for att in json_loads(pod["metadata"].get("annotations", {}).get(NETWORK_STATUS) or "[]"):
            if att.get("interface") == "migration0" and att.get("ips"):
                return att["ips"][0]
    except ValueError:
        pass
    ips = (pod.get("status") or {}).get("podIPs") or []
    return ips[0]["ip"] if ips else (pod.get("status") or {}).get("podIP")


def json_loads(text):
    import json
    return json.loads(text)


def networks_annotation(network):
    """What virt-operator puts on virt-handler and sync-controller pods."""
    return "%s@migration0" % network if network else None


class VirtOperator(kubeapi.Controller):
    """The parts of virt-operator cross-cluster migration depends on:
    - with the DecentralizedLiveMigration gate on, the virt-synchronization-
      controller Deployment (2 replicas), its leader Lease, and KubeVirt
      status.synchronizationAddresses = leader's migration0 IP (else pod IP)
      + :9185; all removed when the gate goes off;
    - migrations.network on the virt-handler and sync-controller pod
      templates as `<nad>@migration0` (the real Deployment and DaemonSet
      controllers then replace the pods);
    - kubevirt-ca (key ca-bundle) holding the cluster's KubeVirt CA, and
      kubevirt-external-ca absorbed into it (valid certificates only, each
      once) and emptied.
    Driven by watches on the KubeVirt CR, the sync-controller pods and the
    two ConfigMaps; one reconcile at a time."""

    def __init__(self, cluster, own_ca_pem):
        super().__init__(cluster.client, cluster.name)
        self.own_ca = own_ca_pem
        self.cluster = cluster
        self.rotations = 0

    def rotate_ca(self):
        """A new KubeVirt CA now (as cert rotation does): kubevirt-ca gets it
        first and keeps what it held, so this cluster's peers, which trust only
        the old one, stop trusting it until the CAs are exchanged again."""
        import os
        from . import pki
        with self.lock:
            self.rotations += 1
            d = os.path.join(self.cluster.dir, "pki")
            _, crt = pki.ca(d, "kubevirt-ca-%d" % self.rotations, "kubevirt.io@%s-%d" % (self.name, self.rotations))
            with open(crt) as f:
                self.own_ca = f.read()
            path = kubeapi.resource_path("", "v1", "configmaps", CNV_NS, "kubevirt-ca")
            ca = self.c.get(path)
            self.c.merge_patch(path, {"data": {"ca-bundle": merge_ca_bundle(
                self.own_ca, (ca.get("data") or {}).get("ca-bundle"), "")}})

    def rotate_every(self, seconds):
        """CA rotation on a schedule (wall seconds)."""
        import threading

        def loop():
            while not self.stop.wait(seconds):
                try:
                    self.rotate_ca()
                except kubeapi.ApiError:
                    pass
        threading.Thread(target=loop, name=self.name + "-ca-rotation", daemon=True).start()

    def start(self):
        self.ensure_ca_maps()
        self.watch(kubeapi.resource_path("kubevirt.io", "v1", "kubevirts", CNV_NS), self.on_event, what="kv")
        self.watch(kubeapi.resource_path("", "v1", "pods", CNV_NS), self.on_event,
                   query={"labelSelector": "kubevirt.io=" + SYNC}, what="syncpods")
        self.watch(kubeapi.resource_path("", "v1", "configmaps", CNV_NS), self.on_configmap, what="cas")
        return self

    # -- CA bundles --
    def ensure_ca_maps(self):
        path = kubeapi.resource_path("", "v1", "configmaps", CNV_NS)
        for name, bundle in (("kubevirt-ca", self.own_ca), ("kubevirt-external-ca", "")):
            ensure(self.c, path, {"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": name, "namespace": CNV_NS,
                                               "labels": {"app.kubernetes.io/managed-by": "virt-operator"}},
                                  "data": {"ca-bundle": bundle}})

    def on_configmap(self, etype, cm):
        if etype == "DELETED" or cm["metadata"]["name"] != "kubevirt-external-ca":
            return
        external = (cm.get("data") or {}).get("ca-bundle") or ""
        if external.strip():
            self.guarded(self.absorb_external_ca, external)

    def absorb_external_ca(self, external):
        path = kubeapi.resource_path("", "v1", "configmaps", CNV_NS)
        ca = self.c.get(path + "/kubevirt-ca")
        merged = merge_ca_bundle(self.own_ca, (ca.get("data") or {}).get("ca-bundle"), external)
        self.c.merge_patch(path + "/kubevirt-ca", {"data": {"ca-bundle": merged}})
        self.c.merge_patch(path + "/kubevirt-external-ca", {"data": {"ca-bundle": ""}})

    # -- gate, network, sync controller --
    def on_event(self, etype, obj):
        self.guarded(self.reconcile)

    def reconcile(self):
        kv = self.c.get(kv_path(), ok404=True)
        if kv is None:
            return
        conf = (kv.get("spec") or {}).get("configuration") or {}
        gate = GATE in ((conf.get("developerConfiguration") or {}).get("featureGates") or [])
        nets = networks_annotation((conf.get("migrations") or {}).get("network"))
        self.set_template_networks(kubeapi.resource_path("apps", "v1", "daemonsets", CNV_NS, "virt-handler"), nets)
        dep_path = kubeapi.resource_path("apps", "v1", "deployments", CNV_NS, SYNC)
        want = None
        if gate:
            if self.c.get(dep_path, ok404=True) is None:
                self.c.create(kubeapi.resource_path("apps", "v1", "deployments", CNV_NS), self.sync_deployment(kv, nets))
            else:
                self.set_template_networks(dep_path, nets)
            leader = self.elect()
            if leader:
                addr = migration_address(leader)
                want = ["%s:%d" % (addr, SYNC_PORT)] if addr else None
        else:
            self.c.delete(dep_path, body={"propagationPolicy": "Background"}, ok404=True)
            self.c.delete(kubeapi.resource_path("coordination.k8s.io", "v1", "leases", CNV_NS, SYNC), ok404=True)
        if (kv.get("status") or {}).get("synchronizationAddresses") != want:
            self.c.merge_patch(kv_path() + "/status", {"status": {"synchronizationAddresses": want}})

    def set_template_networks(self, path, nets):
        obj = self.c.get(path, ok404=True)
        if obj is None:
            return
        ann = obj["spec"]["template"]["metadata"].get("annotations") or {}
        if ann.get(NETWORKS) != nets:
            self.c.merge_patch(path, {"spec": {"template": {"metadata": {"annotations": {NETWORKS: nets}}}}})

    def sync_deployment(self, kv, nets):
        ann = {"openshift.io/required-scc": "restricted-v2"}
        if nets:
            ann[NETWORKS] = nets
        version = (kv.get("status") or {}).get("observedKubeVirtVersion", "v1.6.3")
        return {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": SYNC, "namespace": CNV_NS, "labels": {"kubevirt.io": SYNC}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"kubevirt.io": SYNC}},
                         "template": {"metadata": {"labels": {"kubevirt.io": SYNC}, "annotations": ann},
                                      "spec": {"containers": [{
                                          "name": "sync",
                                          "image": "registry.redhat.io/container-native-virtualization/"
                                                   "virt-synchronization-controller-rhel9:" + version,
                                          "ports": [{"name": "sync", "containerPort": SYNC_PORT},
                                                    {"name": "metrics", "containerPort": 8443}]}]}}}}

    def elect(self):
        """The Lease holder: kept while its pod runs, else the oldest running pod."""
        pods = self.c.get(kubeapi.resource_path("", "v1", "pods", CNV_NS),
                          query={"labelSelector": "kubevirt.io=" + SYNC})["items"]
        running = {p["metadata"]["name"]: p for p in pods
                   if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")}
        lease_path = kubeapi.resource_path("coordination.k8s.io", "v1", "leases", CNV_NS, SYNC)
        lease = self.c.get(lease_path, ok404=True)
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        if holder in running:
            return running[holder]
        if not running:
            return None
        leader = sorted(running.values(), key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))[0]
        spec = {"holderIdentity": leader["metadata"]["name"], "leaseDurationSeconds": 137,
                "acquireTime": now_micro(), "renewTime": now_micro()}
        if lease is None:
            self.c.create(lease_path.rsplit("/", 1)[0], {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                                         "metadata": {"name": SYNC, "namespace": CNV_NS},
                                                         "spec": spec})
        else:
            self.c.merge_patch(lease_path, {"spec": spec})
        return leader
