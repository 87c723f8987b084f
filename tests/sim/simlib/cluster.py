"""One simulated cluster: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler on 127.0.0.1, its own PKI and tokens, the fault proxy in front,
the real CRDs, and the simulated nodes.

Layout under DIR/<cluster>/: pki/, etcd/, logs/, tokens.csv, *.kubeconfig.
"""

import os
import secrets
import time

import yaml

from . import cdi, crds, faultproxy, kubeapi, nodes, pki, procs, virt, vms, webhooks
from . import etcdseed, metrics

SYSTEM_USER = "system:kubesim"


def write_component_kubeconfig(path, port, ca, token, user):
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:%d" % port,
                                                      "certificate-authority": ca}}],
           "users": [{"name": user, "user": {"token": token}}],
           "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
           "current-context": "local"}
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    os.chmod(path, 0o600)


def go_env():
    """The Go components' environment: Go's default GC pace (GOGC=25 cost an
    apiserver 40% more CPU to start) under a soft memory limit of 512 MiB
    (GOMEMLIMIT, Go 1.19), which keeps an apiserver with the large KubeVirt
    CRDs near 550 MiB; the caller's GOGC and GOMEMLIMIT win."""
    env = dict(os.environ)
    env.setdefault("GOGC", "100")
    env.setdefault("GOMEMLIMIT", "512MiB")
    return env


def apiserver_argv(binaries, api_port, etcd_port, p, tokfile):
    """kube-apiserver on 127.0.0.1 for a cluster's PKI `p` and token file
    (also what makes the etcd seed, so the CRDs are stored by the same setup)."""
    return [binaries + "/kube-apiserver",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            "--secure-port=%d" % api_port, "--insecure-port=0",
            "--etcd-servers=http://127.0.0.1:%d" % etcd_port,
            "--tls-cert-file=" + p["serving_crt"], "--tls-private-key-file=" + p["serving_key"],
            "--client-ca-file=" + p["ca_crt"], "--token-auth-file=" + tokfile,
            "--authorization-mode=RBAC", "--anonymous-auth=false",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-account-key-file=" + p["sa_pub"],
            "--service-account-signing-key-file=" + p["sa_key"],
            "--api-audiences=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none",
            "--requestheader-client-ca-file=" + p["front_proxy_ca_crt"],
            "--requestheader-allowed-names=kubesim-proxy",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--kubelet-preferred-address-types=InternalIP",
            "--allow-privileged=true", "--profiling=false", "--v=1"]


class Cluster:
    def __init__(self, spec, index, root, ports, binaries, users, log, time_scale=1.0):
        self.spec = spec
        self.name = spec["name"]
        self.index = index
        self.dir = os.path.join(root, self.name)
        self.logs = os.path.join(self.dir, "logs")
        self.ports = ports
        self.bin = binaries
        self.time_scale = time_scale
        os.makedirs(self.logs, exist_ok=True)
        self.pki = pki.cluster_pki(os.path.join(self.dir, "pki"))
        self.etcd_port, self.etcd_peer = ports.take(), ports.take()
        self.api_port = ports.take()
        self.proxy_port = ports.take()
        # Static tokens: the scenario's users, the components, kubesim itself.
        self.tokens = {}      # token -> (user, groups)
        self.user_tokens = {}  # user -> token
        for u in users:
            if self.name in u["clusters"]:
                self._token(u["name"], u["groups"])
        self.kcm_token = self._token("system:kube-controller-manager", [])
        self.sched_token = self._token("system:kube-scheduler", [])
        self.sim_token = self._token(SYSTEM_USER, ["system:masters"])
        self.users = users
        self.log = log
        self.client = None
        self.proxy = None
        self.agent = None

    def _token(self, user, groups):
        tok = secrets.token_hex(24)
        self.tokens[tok] = (user, list(groups))
        self.user_tokens[user] = tok
        return tok

    # ---- processes -----------------------------------------------------------
    @staticmethod
    def go_env():
        return go_env()

    def start_processes(self, etcd_seed=None):
        """etcd (its data from `etcd_seed` when given: see etcdseed.py) and
        kube-apiserver."""
        if etcd_seed:
            etcdseed.copy_into(etcd_seed, os.path.join(self.dir, "etcd"))
        tokfile = os.path.join(self.dir, "tokens.csv")
        with open(tokfile, "w") as f:
            for i, (tok, (user, groups)) in enumerate(self.tokens.items()):
                f.write('%s,%s,uid-%d,"%s"\n' % (tok, user, i, ",".join(groups)))
        os.chmod(tokfile, 0o600)
        procs.start([self.bin + "/etcd", "--name", self.name, "--data-dir", os.path.join(self.dir, "etcd"),
                     "--listen-client-urls", "http://127.0.0.1:%d" % self.etcd_port,
                     "--advertise-client-urls", "http://127.0.0.1:%d" % self.etcd_port,
                     "--listen-peer-urls", "http://127.0.0.1:%d" % self.etcd_peer,
                     "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % self.etcd_peer,
                     "--initial-cluster", "%s=http://127.0.0.1:%d" % (self.name, self.etcd_peer),
                     "--unsafe-no-fsync", "--snapshot-count", "50000", "--log-level", "warn"],
                    os.path.join(self.logs, "etcd.log"), env=self.go_env())
        procs.start(apiserver_argv(self.bin, self.api_port, self.etcd_port, self.pki, tokfile),
                    os.path.join(self.logs, "kube-apiserver.log"), env=self.go_env())

    def start_controllers(self):
        p = self.pki
        kcm_cfg = os.path.join(self.dir, "kube-controller-manager.kubeconfig")
        write_component_kubeconfig(kcm_cfg, self.api_port, p["ca_crt"], self.kcm_token,
                                   "system:kube-controller-manager")
        procs.start([self.bin + "/kube-controller-manager", "--kubeconfig=" + kcm_cfg,
                     "--leader-elect=false", "--port=0", "--secure-port=0",
                     "--service-account-private-key-file=" + p["sa_key"], "--root-ca-file=" + p["ca_crt"],
                     "--use-service-account-credentials=true", "--cluster-name=" + self.name,
                     "--concurrent-gc-syncs=5", "--v=1"],
                    os.path.join(self.logs, "kube-controller-manager.log"), env=self.go_env())
        sch_cfg = os.path.join(self.dir, "kube-scheduler.kubeconfig")
        write_component_kubeconfig(sch_cfg, self.api_port, p["ca_crt"], self.sched_token,
                                   "system:kube-scheduler")
        procs.start([self.bin + "/kube-scheduler", "--kubeconfig=" + sch_cfg, "--leader-elect=false",
                     "--port=0", "--secure-port=0", "--v=1"],
                    os.path.join(self.logs, "kube-scheduler.log"), env=self.go_env())

    def wait_apiserver(self, timeout=240):
        self.client = kubeapi.Client("127.0.0.1", self.api_port, self.pki["ca_crt"], self.sim_token,
                                     user_agent="kubesim/" + self.name)
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            for p in procs.dead_children():
                raise RuntimeError("%s: %s exited with %s; see %s" % (self.name, os.path.basename(p.args[0]),
                                                                     p.returncode, self.logs))
            try:
                # /readyz passes once the RBAC bootstrap roles exist.
                self.client.get("/readyz")
                return
            except Exception as e:  # not listening yet, or not ready
                last = e
                time.sleep(0.3)
        raise RuntimeError("%s: kube-apiserver not ready after %ds (%s); see %s/kube-apiserver.log"
                           % (self.name, timeout, last, self.logs))

    # ---- contents -------------------------------------------------------------
    def bootstrap(self):
        c = self.client
        for u in self.users:
            if self.name not in u["clusters"]:
                continue
            for role in u["clusterRoles"]:
                subj = {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u["name"]}
                c.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": "kubesim:%s:%s" % (u["name"], role)},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [subj]})
        crds.install(c)

    def bind_namespaced_roles(self):
        """RoleBindings of the scenario's users (after its objects: the
        namespaces may come from there); a missing namespace is created."""
        c = self.client
        for u in self.users:
            if self.name not in u["clusters"]:
                continue
            for rb in u["roles"]:
                ns = rb["namespace"]
                if c.get(kubeapi.resource_path("", "v1", "namespaces", name=ns), ok404=True) is None:
                    c.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": ns}})
                kind = "ClusterRole" if "clusterRole" in rb else "Role"
                role = rb.get("clusterRole") or rb.get("role")
                c.create(kubeapi.resource_path("rbac.authorization.k8s.io", "v1", "rolebindings", ns), {
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "kubesim:%s:%s" % (u["name"], role), "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
                    "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u["name"]}]})

    def start_proxy(self, seed):
        self.proxy = faultproxy.FaultProxy(self.name, self.proxy_port, self.api_port, self.pki, self.tokens,
                                           self.log, seed=seed).start()

    def start_nodes(self):
        self.agent = nodes.NodeAgent(self.name, self.client, self.spec["nodes"], self.ports,
                                     self.pki["kubelet_crt"], self.pki["kubelet_key"],
                                     time_scale=self.time_scale).start()

    def start_virt(self):
        """Simulated OpenShift Virtualization: the installed objects, then HCO."""
        virt.install(self, self.spec)
        self.webhooks = webhooks.Webhooks(self).start()  # virt-api's admission webhooks
        self.hco = virt.HcoController(self, self.spec["cnv"]).start()
        with open(self.pki["kubevirt_ca_crt"]) as f:
            self.virt_operator = virt.VirtOperator(self, f.read()).start()
        if self.spec.get("caRotationSeconds"):
            self.virt_operator.rotate_every(float(self.spec["caRotationSeconds"]) / self.time_scale)
        self.storage = cdi.Storage(self, self.spec["storageClasses"]).start()
        self.vms = vms.VmController(self).start(self.agent)

    def start_metrics(self):
        """Simulated OpenShift monitoring (simlib/metrics.py): the metrics store
        `self.metrics`, the thanos-querier endpoint behind its Route
        (`self.metrics_url`), the ingress CA and ClusterRole
        cluster-monitoring-view."""
        self.pki.update(pki.ingress_pki(os.path.join(self.dir, "pki")))
        crds.install_route_crd(self.client)
        self.metrics = metrics.Store()
        self.metrics_server = metrics.QueryServer(self.metrics, self.client, self.pki["ingress_serving_crt"],
                                                  self.pki["ingress_serving_key"]).start()
        host = "127.0.0.1:%d" % self.metrics_server.port
        self.metrics_url = "https://" + host
        with open(self.pki["ingress_ca_crt"]) as f:
            metrics.install(self.client, host, f.read())

    def wait_nodes(self, timeout=60):
        deadline = time.time() + timeout
        want = {n["name"] for n in self.spec["nodes"]}
        while time.time() < deadline:
            lst = self.client.get("/api/v1/nodes")
            ready = {n["metadata"]["name"] for n in lst["items"]
                     if any(cd["type"] == "Ready" and cd["status"] == "True"
                            for cd in n["status"].get("conditions", []))}
            # The default ServiceAccount must exist before pods can be made.
            sa = self.client.get("/api/v1/namespaces/default/serviceaccounts/default", ok404=True)
            if want <= ready and sa and sa.get("secrets"):
                return
            time.sleep(0.3)
        raise RuntimeError("%s: nodes or the default ServiceAccount not ready after %ds" % (self.name, timeout))

    def apply(self, obj):
        """Create one scenario object (kind resolved through discovery)."""
        api = obj["apiVersion"]
        group, version = api.split("/", 1) if "/" in api else ("", api)
        plural, namespaced = self.resource_for(group, version, obj["kind"])
        ns = obj["metadata"].get("namespace", "default") if namespaced else None
        self.client.create(kubeapi.resource_path(group, version, plural, ns), obj)

    def resource_for(self, group, version, kind):
        base = "/api/" + version if not group else "/apis/%s/%s" % (group, version)
        for r in self.client.get(base)["resources"]:
            if r["kind"] == kind and "/" not in r["name"]:
                return r["name"], r["namespaced"]
        raise RuntimeError("%s: no resource of kind %s in %s" % (self.name, kind, base))

    def shutdown(self):
        for ctl in (getattr(self, "hco", None), getattr(self, "virt_operator", None), getattr(self, "storage", None),
                    getattr(self, "vms", None), getattr(self, "webhooks", None)):
            if ctl:
                ctl.shutdown()
        if self.agent:
            self.agent.shutdown()
        if self.proxy:
            self.proxy.shutdown()
        if getattr(self, "metrics_server", None):
            self.metrics_server.shutdown()
