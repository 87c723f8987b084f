"""What the migration engine knows of one cluster: watch-fed caches of the
objects migrations depend on, and the derived facts (KubeVirt configuration,
sync leader and address, virt-handler addresses, fabric endpoints, trust).

Writes go through `self.c` (the simulator's client) and their replies are put
back into the caches, so the next look sees them.
"""

import json

from . import cache, fabric, kubeapi, virt

VMIMS = "/apis/kubevirt.io/v1/virtualmachineinstancemigrations"
VMIS = "/apis/kubevirt.io/v1/virtualmachineinstances"
VMS = "/apis/kubevirt.io/v1/virtualmachines"
NADS = "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions"
HANDLER = "virt-handler"
DEFAULT_MIGRATIONS = {"parallelMigrationsPerCluster": 5, "parallelOutboundMigrationsPerNode": 2,
                      "progressTimeout": 150, "completionTimeoutPerGiB": 150, "allowAutoConverge": False,
                      "allowPostCopy": False, "bandwidthPerMigration": "0Mi"}
QUANTITY = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3,
            "Ti": 1024 ** 4, "m": 1e-3}


def quantity(q, default=0.0):
    """A Kubernetes quantity ('2Gi', '500M', 1024) as a float."""
    if q is None or q == "":
        return default
    if isinstance(q, (int, float)):
        return float(q)
    s = str(q).strip()
    for suffix in sorted(QUANTITY, key=len, reverse=True):
        if suffix and s.endswith(suffix):
            try:
                return float(s[:-len(suffix)]) * QUANTITY[suffix]
            except ValueError:
                return default
    try:
        return float(s)
    except ValueError:
        return default


def kv_minor(version):
    """'v1.6.3' -> (1, 6)."""
    parts = version.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return (0, 0)


class ClusterView:
    def __init__(self, cluster, stop, wake):
        self.cluster = cluster
        self.name = cluster.name
        self.c = cluster.client
        self.nodes = {n["name"]: n for n in cluster.spec["nodes"]}
        cnv = cluster.spec["cnv"]
        self.kv_version = virt.KUBEVIRT_FOR_CNV.get(virt.minor(cnv), "v1.6.3")
        flag = cluster.spec.get("syncFailureConditions")
        # decentralizedMigrationBlocked / DecentralizedLiveMigrationFailure exist from KubeVirt 1.8
        self.failure_conditions = flag if flag is not None else kv_minor(self.kv_version) >= (1, 8)
        mk = lambda path, what, query=None: cache.Cache(self.c, path, stop, wake, query=query,
                                                        name="%s-%s" % (self.name, what))
        self.vmims = mk(VMIMS, "vmims")
        self.vmis = mk(VMIS, "vmis")
        self.vms = mk(VMS, "vms")
        self.launchers = mk("/api/v1/pods", "launchers", {"labelSelector": "kubevirt.io=virt-launcher"})
        self.infra = mk(kubeapi.resource_path("", "v1", "pods", virt.CNV_NS), "infra")
        self.kubevirts = mk(kubeapi.resource_path("kubevirt.io", "v1", "kubevirts", virt.CNV_NS), "kv")
        self.configmaps = mk(kubeapi.resource_path("", "v1", "configmaps", virt.CNV_NS), "cms")
        self.nads = mk(NADS, "nads")
        self.leases = mk(kubeapi.resource_path("coordination.k8s.io", "v1", "leases", virt.CNV_NS), "leases")
        self.caches = [self.vmims, self.vmis, self.vms, self.launchers, self.infra, self.kubevirts,
                       self.configmaps, self.nads, self.leases]

    def start(self):
        for c in self.caches:
            c.start()
        return self

    def synced(self):
        return all(c.synced() for c in self.caches)

    # -- KubeVirt configuration --
    def kubevirt(self):
        return self.kubevirts.get(virt.CNV_NS, virt.KV_NAME) or {}

    def migrations_config(self):
        conf = ((self.kubevirt().get("spec") or {}).get("configuration") or {}).get("migrations") or {}
        return dict(DEFAULT_MIGRATIONS, **{k: v for k, v in conf.items() if v is not None})

    def gate_on(self):
        conf = (self.kubevirt().get("spec") or {}).get("configuration") or {}
        return virt.GATE in ((conf.get("developerConfiguration") or {}).get("featureGates") or [])

    def sync_addresses(self):
        return (self.kubevirt().get("status") or {}).get("synchronizationAddresses") or []

    def own_ca(self):
        return self.cluster.virt_operator.own_ca

    def trusted(self):
        cm = self.configmaps.get(virt.CNV_NS, "kubevirt-ca") or {}
        return {"".join(p.split()) for p in virt.split_pem((cm.get("data") or {}).get("ca-bundle") or "")}

    def trusts(self, peer):
        return all("".join(p.split()) in self.trusted() for p in virt.split_pem(peer.own_ca()))

    # -- pods and endpoints --
    def sync_pods(self):
        return [p for p in self.infra.items()
                if (p["metadata"].get("labels") or {}).get("kubevirt.io") == virt.SYNC]

    def sync_leader(self):
        lease = self.leases.get(virt.CNV_NS, virt.SYNC)
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        pod = self.infra.get(virt.CNV_NS, holder) if holder else None
        if pod and (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp"):
            return pod
        return None

    def handler_on(self, node):
        for p in self.infra.items():
            if (p["metadata"].get("labels") or {}).get("kubevirt.io") == HANDLER and \
                    p["spec"].get("nodeName") == node and (p.get("status") or {}).get("phase") == "Running" and \
                    not p["metadata"].get("deletionTimestamp"):
                return p
        return None

    def infra_pods(self):
        """Every running pod of the KubeVirt namespace (handlers, sync
        controllers, and whatever else was attached to the migration network)."""
        return [p for p in self.infra.items()
                if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]

    def handler_pods(self):
        return [p for p in self.infra.items()
                if (p["metadata"].get("labels") or {}).get("kubevirt.io") == HANDLER and
                (p.get("status") or {}).get("phase") == "Running"]

    def endpoint(self, pod):
        """The fabric endpoint of an infra pod's migration address (migration0
        when attached, else its pod IP)."""
        node = pod["spec"].get("nodeName")
        ann = pod["metadata"].get("annotations") or {}
        try:
            statuses = json.loads(ann.get(virt.NETWORK_STATUS) or "[]")
        except ValueError:
            statuses = []
        for att in statuses:
            if att.get("interface") == "migration0" and att.get("ips"):
                ns, _, name = att.get("name", "").partition("/")
                nad = self.nads.get(ns, name) or {}
                nics = (self.nodes.get(node) or {}).get("nics") or []
                return fabric.attachment_endpoint(self.name, node, att["ips"][0],
                                                  (nad.get("spec") or {}).get("config"), nics)
        ip = (pod.get("status") or {}).get("podIP")
        return {"cluster": self.name, "node": node, "ip": ip, "pod": True} if ip else None

    def node_labels(self, node):
        return dict((self.nodes.get(node) or {}).get("labels") or {}, **{"kubernetes.io/hostname": node})
