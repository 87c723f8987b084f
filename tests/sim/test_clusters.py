"""API-level tests of the running test clusters (needs $KUBESIM_DIR: run
through tests/sim/with-clusters). What these prove: the fault proxy's rules
and log, Multus addresses from the NADs' IPAM per cluster, pod life cycle on
the simulated nodes, client-certificate identity through the proxy, and that
the two clusters are independent."""

import base64
import http.client
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from simlib import kubeapi, pki  # noqa: E402

DIR = os.environ.get("KUBESIM_DIR")
SCRATCH = tempfile.TemporaryDirectory(prefix="test-clusters-")  # CA files; removed at exit


def kubeconfig():
    with open(os.path.join(DIR, "kubeconfig")) as f:
        return yaml.safe_load(f)


def endpoint(context):
    """(host, port, ca file, token) of a kubeconfig context."""
    cfg = kubeconfig()
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == context)
    cl = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
    ca = os.path.join(SCRATCH.name, ctx["cluster"] + "-ca.crt")
    if not os.path.exists(ca):
        with open(ca, "wb") as f:
            f.write(base64.b64decode(cl["certificate-authority-data"]))
    host, port = cl["server"].split("//")[1].split(":")
    return host, int(port), ca, user["token"]


def client(context="source"):
    host, port, ca, token = endpoint(context)
    return kubeapi.Client(host, port, ca, token, user_agent="test-clusters/" + context)


def admin(method, path, body=None):
    with open(os.path.join(DIR, "admin.json")) as f:
        adm = json.load(f)
    with open(adm["tokenFile"]) as f:
        token = f.read().strip()
    ctx = ssl.create_default_context(cafile=adm["ca"])
    ctx.check_hostname = False
    host, port = adm["url"].split("//")[1].split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    data = json.loads(r.read() or b"null")
    conn.close()
    return r.status, data


def requests_log():
    with open(os.path.join(DIR, "requests.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(fn, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


@unittest.skipUnless(DIR, "needs running test clusters ($KUBESIM_DIR); use tests/sim/with-clusters")
class ClusterTest(unittest.TestCase):
    ns = None

    @classmethod
    def setUpClass(cls):
        cls.src, cls.tgt = client("source"), client("target")
        cls.ns = "t-" + uuid.uuid4().hex[:8]
        for c in (cls.src, cls.tgt):
            c.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                            "metadata": {"name": cls.ns}})
        # Pods need the namespace's default ServiceAccount token (1.20 admission).
        for c in (cls.src, cls.tgt):
            wait_for(lambda: (c.get("/api/v1/namespaces/%s/serviceaccounts/default" % cls.ns, ok404=True)
                              or {}).get("secrets"), what="default service account")

    @classmethod
    def tearDownClass(cls):
        for c in (cls.src, cls.tgt):
            c.delete("/api/v1/namespaces/" + cls.ns, ok404=True)
        admin("DELETE", "/clusters/source/faults")
        admin("DELETE", "/clusters/target/faults")

    def tearDown(self):
        admin("DELETE", "/clusters/source/faults")
        admin("DELETE", "/clusters/target/faults")

    def pod(self, c, name, annotations=None, restart="Always"):
        c.create("/api/v1/namespaces/%s/pods" % self.ns, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"restartPolicy": restart, "containers": [{"name": "c", "image": "registry.example/x:1"}]}})

    def get_pod(self, c, name):
        return c.get("/api/v1/namespaces/%s/pods/%s" % (self.ns, name))


class TestProxyFaults(ClusterTest):
    def raw(self, context, method, path, body=None):
        host, port, ca, token = endpoint(context)
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=30)
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, json.loads(data) if data else None

    def test_error_rule_answers_a_status_and_is_logged(self):
        st, rule = admin("POST", "/clusters/source/faults",
                         {"verb": "get", "resource": "namespaces", "name": self.ns, "status": 503, "count": 1})
        self.assertEqual(st, 201)
        r, body = self.raw("source", "GET", "/api/v1/namespaces/" + self.ns)
        self.assertEqual((r.status, body["kind"], body["reason"]), (503, "Status", "ServiceUnavailable"))
        r, body = self.raw("source", "GET", "/api/v1/namespaces/" + self.ns)  # count: 1 is spent
        self.assertEqual((r.status, body["metadata"]["name"]), (200, self.ns))
        # the log line is written just after the reply: wait for the second one
        entries = wait_for(lambda: (lambda l: l if l and l[-1]["status"] == 200 else None)(
            [e for e in requests_log() if e["path"] == "/api/v1/namespaces/" + self.ns]), what="both requests logged")
        self.assertEqual([e["status"] for e in entries[-2:]], [503, 200], entries[-2:])
        self.assertEqual(entries[-2]["faults"], [rule["id"]])
        self.assertNotIn("faults", entries[-1])
        self.assertEqual((entries[-1]["user"], entries[-1]["verb"], entries[-1]["method"]),
                         ("admin", "get", "GET"))
        _, view = admin("GET", "/clusters/source/faults")
        self.assertEqual(view["rules"][0]["fired"], 1)

    def test_429_carries_retry_after_and_post_is_matched_by_verb(self):
        admin("POST", "/clusters/source/faults", {"verb": "create", "resource": "configmaps", "status": 429,
                                                  "retryAfter": 2})
        host, port, ca, token = endpoint("source")
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection(host, port, context=ctx)
        conn.request("POST", "/api/v1/namespaces/%s/configmaps" % self.ns,
                     body=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse()
        body = json.loads(r.read())
        self.assertEqual((r.status, r.getheader("Retry-After")), (429, "2"))
        self.assertEqual((body["kind"], body["reason"], body["code"]), ("Status", "TooManyRequests", 429))
        # Nothing reached the apiserver.
        self.assertIsNone(self.src.get("/api/v1/namespaces/%s/configmaps/x" % self.ns, ok404=True))
        admin("DELETE", "/clusters/source/faults")
        conn.request("GET", "/api/v1/namespaces/%s/configmaps" % self.ns,
                     headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 200)  # transparent again, on the same connection

    def test_faults_switch_on_and_off_while_a_client_runs(self):
        codes = []
        stop = threading.Event()
        host, port, ca, token = endpoint("target")
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False

        def loop():
            conn = http.client.HTTPSConnection(host, port, context=ctx)
            while not stop.is_set() and len(codes) < 2000:
                conn.request("GET", "/api/v1/namespaces/%s/pods" % self.ns,
                             headers={"Authorization": "Bearer " + token, "User-Agent": "fault-loop"})
                r = conn.getresponse()
                r.read()
                codes.append(r.status)
            conn.close()

        t = threading.Thread(target=loop)
        t.start()
        wait_for(lambda: len(codes) > 20, what="first requests")
        mark = len(codes)
        admin("POST", "/clusters/target/faults", {"verb": "list", "resource": "pods", "status": 500})
        wait_for(lambda: len(codes) > mark + 20, what="requests under fault")
        admin("DELETE", "/clusters/target/faults")
        mark2 = len(codes)
        wait_for(lambda: len(codes) > mark2 + 20, what="requests after fault")
        stop.set()
        t.join()
        self.assertEqual(set(codes[:mark]), {200})
        self.assertIn(500, codes[mark:mark2 + 1])
        self.assertEqual(set(codes[mark2 + 1:]), {200})  # one may have been in flight
        # every request is in the log (written just after its reply went out)
        logged = wait_for(lambda: (lambda l: l if len(l) >= len(codes) else None)(
            [e for e in requests_log() if e["userAgent"] == "fault-loop"]), what="every request logged")
        self.assertEqual(len(logged), len(codes))
        self.assertEqual([e["status"] for e in logged], codes)

    def test_latency(self):
        admin("POST", "/clusters/source/faults", {"verb": "get", "resource": "namespaces", "latencyMs": 300})
        t0 = time.time()
        self.src.get("/api/v1/namespaces/" + self.ns)
        self.assertGreaterEqual(time.time() - t0, 0.3)

    def test_reset_mid_response(self):
        admin("POST", "/clusters/source/faults", {"verb": "list", "resource": "namespaces", "reset": True})
        host, port, ca, token = endpoint("source")
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection(host, port, context=ctx)
        conn.request("GET", "/api/v1/namespaces", headers={"Authorization": "Bearer " + token})
        with self.assertRaises((http.client.HTTPException, OSError)):
            r = conn.getresponse()
            r.read()
        e = wait_for(lambda: [x for x in requests_log() if x["path"] == "/api/v1/namespaces" and x.get("faults")],
                     what="the reset request in the log")[-1]
        self.assertEqual((e["verb"], e["status"]), ("list", 200))

    def test_watch_closed_after_n_seconds_and_resumable(self):
        admin("POST", "/clusters/source/faults", {"verb": "watch", "resource": "configmaps", "watchCloseAfter": 1})
        lst = self.src.get("/api/v1/namespaces/%s/configmaps" % self.ns)
        rv = lst["metadata"]["resourceVersion"]
        stop = threading.Event()
        t0 = time.time()
        events = list(self.src.watch("/api/v1/namespaces/%s/configmaps" % self.ns, rv, stop))
        took = time.time() - t0
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 10)
        self.assertEqual(events, [])
        # Resume from the same resourceVersion: an object made meanwhile arrives once.
        self.src.create("/api/v1/namespaces/%s/configmaps" % self.ns,
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}})
        admin("DELETE", "/clusters/source/faults")
        got = []
        for ev in self.src.watch("/api/v1/namespaces/%s/configmaps" % self.ns, rv, stop, timeout_seconds=2):
            got.append((ev["type"], ev["object"]["metadata"]["name"]))
            if got:
                break
        self.assertEqual(got, [("ADDED", "w1")])

    def test_admin_endpoint_needs_token_and_checks_rules(self):
        with open(os.path.join(DIR, "admin.json")) as f:
            adm = json.load(f)
        ctx = ssl.create_default_context(cafile=adm["ca"])
        ctx.check_hostname = False
        host, port = adm["url"].split("//")[1].split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=ctx)
        conn.request("GET", "/clusters/source/faults", headers={"Authorization": "Bearer wrong"})
        self.assertEqual(conn.getresponse().status, 401)
        st, body = admin("POST", "/clusters/source/faults", {"verb": "get"})
        self.assertEqual(st, 400)
        st, body = admin("GET", "/clusters/nope/faults")
        self.assertEqual(st, 404)

    def test_tokens_never_logged(self):
        host, port, ca, token = endpoint("source")
        self.src.get("/api/v1/namespaces/" + self.ns)
        with open(os.path.join(DIR, "requests.jsonl")) as f:
            self.assertNotIn(token, f.read())


class TestNodesAndPods(ClusterTest):
    def test_pod_runs_with_ip_from_its_node_cidr(self):
        self.pod(self.src, "p1")
        pod = wait_for(lambda: (lambda p: p if p.get("status", {}).get("phase") == "Running" else None)(
            self.get_pod(self.src, "p1")), what="pod Running")
        node = self.src.get("/api/v1/nodes/" + pod["spec"]["nodeName"])
        import ipaddress
        self.assertIn(ipaddress.ip_address(pod["status"]["podIP"]), ipaddress.ip_network(node["spec"]["podCIDR"]))
        self.assertEqual({c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"], "True")

    def test_run_to_completion(self):
        self.pod(self.src, "ok", {"kubesim.cclm.io/run-seconds": "0.2"}, restart="Never")
        self.pod(self.src, "bad", {"kubesim.cclm.io/exit-code": "4", "kubesim.cclm.io/log": "boom"}, restart="Never")
        phase = lambda n: self.get_pod(self.src, n).get("status", {}).get("phase")  # noqa: E731
        wait_for(lambda: phase("ok") == "Succeeded", what="Succeeded")
        wait_for(lambda: phase("bad") == "Failed", what="Failed")
        term = self.get_pod(self.src, "bad")["status"]["containerStatuses"][0]["state"]["terminated"]
        self.assertEqual(term["exitCode"], 4)
        log = self.src.get("/api/v1/namespaces/%s/pods/bad/log" % self.ns)
        self.assertEqual(log, "boom\n")

    def test_multus_addresses_per_cluster_from_nad_ipam(self):
        cfg = {"cniVersion": "0.3.1", "type": "macvlan", "master": "ens4",
               "ipam": {"type": "whereabouts", "range": "192.168.77.0/24",
                        "range_start": "192.168.77.100", "range_end": "192.168.77.101"}}
        for c in (self.src, self.tgt):
            c.create("/apis/k8s.cni.cncf.io/v1/namespaces/%s/network-attachment-definitions" % self.ns, {
                "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                "metadata": {"name": "mig"}, "spec": {"config": json.dumps(cfg)}})
        ips = {}
        for cname, c in (("source", self.src), ("target", self.tgt)):
            self.pod(c, "m1", {"k8s.v1.cni.cncf.io/networks": "mig@migration0"})
            pod = wait_for(lambda: (lambda p: p if p.get("status", {}).get("phase") == "Running" else None)(
                self.get_pod(c, "m1")), what="multus pod Running")
            st = json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
            self.assertEqual(st[0]["interface"], "eth0")
            self.assertTrue(st[0]["default"])
            self.assertEqual((st[1]["name"], st[1]["interface"]), ("%s/mig" % self.ns, "migration0"))
            ips[cname] = st[1]["ips"]
        # Same range on both sides: the same address twice, as on two real clusters.
        self.assertEqual(ips["source"], ["192.168.77.100"])
        self.assertEqual(ips["target"], ["192.168.77.100"])
        self.pod(self.src, "m2", {"k8s.v1.cni.cncf.io/networks": "mig@migration0"})
        pod = wait_for(lambda: (lambda p: p if p.get("status", {}).get("phase") == "Running" else None)(
            self.get_pod(self.src, "m2")), what="second multus pod")
        st = json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
        self.assertEqual(st[1]["ips"], ["192.168.77.101"])
        # The pool (2 addresses) is now exhausted: the third pod cannot start, and says why.
        self.pod(self.src, "m3", {"k8s.v1.cni.cncf.io/networks": "mig@migration0"})
        ev = wait_for(lambda: [e for e in self.src.get("/api/v1/namespaces/%s/events" % self.ns)["items"]
                               if e["involvedObject"]["name"] == "m3"
                               and e["reason"] == "FailedCreatePodSandBox"], what="sandbox failure event")
        self.assertIn("exhausted", ev[0]["message"])
        self.assertEqual(self.get_pod(self.src, "m3").get("status", {}).get("phase"), "Pending")
        # Deleting m1 frees its address; m3 then starts with it.
        self.src.delete("/api/v1/namespaces/%s/pods/m1" % self.ns)
        pod = wait_for(lambda: (lambda p: p if p.get("status", {}).get("phase") == "Running" else None)(
            self.get_pod(self.src, "m3")), timeout=30, what="m3 Running after m1 went")
        st = json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
        self.assertEqual(st[1]["ips"], ["192.168.77.100"])

    def test_missing_nad_keeps_pod_pending_with_event(self):
        self.pod(self.tgt, "nonad", {"k8s.v1.cni.cncf.io/networks": "nope"})
        ev = wait_for(lambda: [e for e in self.tgt.get("/api/v1/namespaces/%s/events" % self.ns)["items"]
                               if e["involvedObject"]["name"] == "nonad"
                               and e["reason"] == "FailedCreatePodSandBox"], what="event")
        self.assertIn("not found", ev[0]["message"])

    def test_nodes_ready_with_leases(self):
        for c in (self.src, self.tgt):
            nodes = c.get("/api/v1/nodes")["items"]
            self.assertEqual(len(nodes), 3)
            for n in nodes:
                self.assertEqual({x["type"]: x["status"] for x in n["status"]["conditions"]}["Ready"], "True")
                lease = c.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" +
                              n["metadata"]["name"])
                self.assertEqual(lease["spec"]["holderIdentity"], n["metadata"]["name"])


class TestIdentity(ClusterTest):
    def test_clusters_are_independent(self):
        host, port, ca, _ = endpoint("target")
        _, _, _, src_token = endpoint("source")
        other = kubeapi.Client(host, port, ca, src_token)
        with self.assertRaises(kubeapi.ApiError) as cm:
            other.get("/api/v1/namespaces")
        self.assertEqual(cm.exception.code, 401)
        # A CRD object on one cluster is not on the other.
        self.src.create("/api/v1/namespaces/%s/configmaps" % self.ns,
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "only-src"}})
        self.assertIsNone(self.tgt.get("/api/v1/namespaces/%s/configmaps/only-src" % self.ns, ok404=True))

    def test_started_from_the_etcd_seed_only_the_crds_are_shared(self):
        # simlib/etcdseed.py: the clusters' etcd starts with the CRDs and
        # nothing else, so each apiserver makes its own namespaces and roles.
        def uid(c, p):
            return c.get(p)["metadata"]["uid"]
        for p in ("/api/v1/namespaces/kube-system", "/api/v1/namespaces/default",
                  "/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin"):
            self.assertNotEqual(uid(self.src, p), uid(self.tgt, p), p)
        crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io"
        conds = {c["type"]: c["status"] for c in self.src.get(crd)["status"]["conditions"]}
        self.assertEqual(conds.get("Established"), "True")

    def test_client_certificate_identity_through_proxy(self):
        pki_dir = os.path.join(DIR, "source", "pki")
        key, crt = pki.client_cert(pki_dir, "test-cert-user", "cert-user", ["cclm-other", "cclm-cert-testers"])
        host, port, ca, _ = endpoint("source")
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        ctx.load_cert_chain(crt, key)
        conn = http.client.HTTPSConnection(host, port, context=ctx)
        conn.request("GET", "/api/v1/nodes")
        r = conn.getresponse()
        body = json.loads(r.read())
        self.assertEqual(r.status, 403)
        self.assertIn('User "cert-user" cannot list resource "nodes"', body["message"])
        # Grant the group, and the same certificate now lists nodes.
        self.src.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "test-cert-" + self.ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                          "name": "cclm-cert-testers"}]})
        try:
            def ok():
                conn.request("GET", "/api/v1/namespaces")
                r = conn.getresponse()
                r.read()
                return r.status == 200
            wait_for(ok, what="group binding to take effect")
        finally:
            self.src.delete("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/test-cert-" + self.ns)
        # A certificate from another cluster's CA is not accepted as an identity.
        tkey, tcrt = pki.client_cert(os.path.join(DIR, "target", "pki"), "test-cert-user", "cert-user", [])
        ctx2 = ssl.create_default_context(cafile=ca)
        ctx2.check_hostname = False
        ctx2.load_cert_chain(tcrt, tkey)
        conn2 = http.client.HTTPSConnection(host, port, context=ctx2)
        with self.assertRaises((ssl.SSLError, OSError, http.client.HTTPException)):
            conn2.request("GET", "/api/v1/namespaces")
            conn2.getresponse().read()

    def test_forged_remote_user_header_is_dropped(self):
        host, port, ca, token = endpoint("source-viewer")
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection(host, port, context=ctx)
        conn.request("POST", "/api/v1/namespaces", body=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "forged-" + self.ns}}),
            headers={"Authorization": "Bearer " + token, "X-Remote-User": "admin",
                     "X-Remote-Group": "system:masters", "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 403)


if __name__ == "__main__":
    unittest.main()


class TestVirtInstalled(ClusterTest):
    """Simulated OpenShift Virtualization, part 1: installed state and HCO."""

    hco = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"
    kv = "/apis/kubevirt.io/v1/namespaces/openshift-cnv/kubevirts/kubevirt-kubevirt-hyperconverged"

    def test_versions_readable_the_documented_way(self):
        for c in (self.src, self.tgt):
            cv = c.get("/apis/config.openshift.io/v1/clusterversions/version")
            self.assertEqual((cv["status"]["history"][0]["state"], cv["status"]["history"][0]["version"]),
                             ("Completed", "4.20.3"))
            self.assertEqual(cv["status"]["desired"]["version"], "4.20.3")
            hco = c.get(self.hco)
            self.assertEqual(hco["status"]["versions"], [{"name": "operator", "version": "4.20.3"}])
            conds = {x["type"]: x["status"] for x in hco["status"]["conditions"]}
            self.assertEqual((conds["Available"], conds["Progressing"]), ("True", "False"))
            kv = c.get(self.kv)
            self.assertEqual(kv["status"]["phase"], "Deployed")
            self.assertTrue(kv["status"]["observedKubeVirtVersion"].startswith("v1.6."))

    def test_installed_objects(self):
        for name, c in (("source", self.src), ("target", self.tgt)):
            for ns in ("openshift-cnv", "openshift-mtv", "openshift-monitoring"):
                self.assertIsNotNone(c.get("/api/v1/namespaces/" + ns, ok404=True), ns)
            role = c.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/kubevirt.io:migrate")
            self.assertIn({"apiGroups": ["kubevirt.io"], "resources": ["virtualmachineinstancemigrations"],
                           "verbs": ["get", "delete", "create", "update", "patch", "list", "watch",
                                     "deletecollection"]}, role["rules"])
            self.assertNotIn("rbac.authorization.k8s.io/aggregate-to-admin", role["metadata"].get("labels", {}))
            scs = [s["metadata"]["name"] for s in c.get("/apis/storage.k8s.io/v1/storageclasses")["items"]]
            self.assertIn("ocs-storagecluster-ceph-rbd-virtualization", scs)
            def handlers():
                pods = [p for p in c.get("/api/v1/namespaces/openshift-cnv/pods",
                                         query={"labelSelector": "kubevirt.io=virt-handler"})["items"]
                        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
                return pods if len(pods) == 3 else None
            pods = wait_for(handlers, timeout=90, what="a running virt-handler on each node")
            self.assertEqual(sorted(p["spec"]["nodeName"] for p in pods),
                             ["%s-worker-%d" % (name, i) for i in range(3)])
            fcs = c.get("/apis/forklift.konveyor.io/v1beta1/forkliftcontrollers")["items"]
            self.assertEqual(len(fcs), 1 if name == "target" else 0)  # MTV only on the target

    def test_viewer_cannot_create_migrations(self):
        viewer = client("source-viewer")
        review = viewer.create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": self.ns, "verb": "create", "group": "kubevirt.io",
                                            "resource": "virtualmachineinstancemigrations"}}})
        self.assertFalse(review["status"]["allowed"])
        review = viewer.create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": self.ns, "verb": "list", "group": "kubevirt.io",
                                            "resource": "virtualmachines"}}})
        self.assertTrue(review["status"]["allowed"])  # kubevirt.io:view aggregates into view

    def test_hco_maps_gate_and_live_migration_config_into_kubevirt(self):
        c = self.tgt
        kv = c.get(self.kv)
        self.assertNotIn("DecentralizedLiveMigration", kv["spec"]["configuration"]["developerConfiguration"]["featureGates"])
        self.assertEqual(kv["spec"]["configuration"]["migrations"]["completionTimeoutPerGiB"], 150)  # HCO 1.16 default
        try:
            c.merge_patch(self.hco, {"spec": {
                "featureGates": {"decentralizedLiveMigration": True},
                "liveMigrationConfig": {"network": "livemigration-network", "bandwidthPerMigration": "64Mi",
                                        "completionTimeoutPerGiB": 800, "parallelOutboundMigrationsPerNode": 1,
                                        "allowPostCopy": True}}})
            mig = wait_for(lambda: (lambda k: k["spec"]["configuration"] if "DecentralizedLiveMigration" in
                                    k["spec"]["configuration"]["developerConfiguration"]["featureGates"] else None)(
                c.get(self.kv)), what="the gate in the KubeVirt CR")["migrations"]
            self.assertEqual((mig["network"], mig["bandwidthPerMigration"], mig["completionTimeoutPerGiB"],
                              mig["parallelOutboundMigrationsPerNode"], mig["allowPostCopy"],
                              mig["parallelMigrationsPerCluster"], mig["progressTimeout"]),
                             ("livemigration-network", "64Mi", 800, 1, True, 5, 150))
            # HCO reports the generation it acted on, after patching KubeVirt
            wait_for(lambda: (lambda h: h["status"].get("observedGeneration") == h["metadata"]["generation"])(
                c.get(self.hco)) or None, what="HCO status.observedGeneration")
            # HCO's schema refuses a bandwidth that is not a quantity, and nothing changes
            with self.assertRaises(kubeapi.ApiError) as cm:
                c.merge_patch(self.hco, {"spec": {"liveMigrationConfig": {"bandwidthPerMigration": "fast"}}})
            self.assertEqual(cm.exception.code, 422)
            self.assertIn("spec.liveMigrationConfig.bandwidthPerMigration", str(cm.exception))
        finally:
            c.merge_patch(self.hco, {"spec": {"featureGates": {"decentralizedLiveMigration": False},
                                              "liveMigrationConfig": {"network": None, "bandwidthPerMigration": None,
                                                                      "completionTimeoutPerGiB": 150,
                                                                      "parallelOutboundMigrationsPerNode": 2,
                                                                      "allowPostCopy": False}}})
        kv = wait_for(lambda: (lambda k: k if "DecentralizedLiveMigration" not in
                               k["spec"]["configuration"]["developerConfiguration"]["featureGates"] else None)(
            c.get(self.kv)), what="the gate gone again")
        self.assertNotIn("network", kv["spec"]["configuration"]["migrations"])
        # the network named above has no NAD here, so virt-handler's rollout onto it
        # stalled (as on a real cluster); wait until the rollback has finished
        wait_for(lambda: (lambda ds: ds["status"].get("updatedNumberScheduled") == 3 and
                          ds["status"].get("numberAvailable") == 3 and
                          ds["status"].get("observedGeneration") == ds["metadata"]["generation"])(
            c.get("/apis/apps/v1/namespaces/openshift-cnv/daemonsets/virt-handler")) or None,
            timeout=90, what="virt-handler rolled back")


class TestVirtOperator(ClusterTest):
    """The sync controller, its address, the migration network and CA bundles."""

    hco = TestVirtInstalled.hco
    kv = TestVirtInstalled.kv
    cm = "/api/v1/namespaces/openshift-cnv/configmaps/"

    def sync_addresses(self, c):
        return (c.get(self.kv).get("status") or {}).get("synchronizationAddresses")

    def pods(self, c, label):
        return c.get("/api/v1/namespaces/openshift-cnv/pods", query={"labelSelector": label})["items"]

    def test_gate_network_and_sync_address(self):
        c = self.src
        nad = "/apis/k8s.cni.cncf.io/v1/namespaces/openshift-cnv/network-attachment-definitions"
        self.assertIsNone(self.sync_addresses(c))
        try:
            c.merge_patch(self.hco, {"spec": {"featureGates": {"decentralizedLiveMigration": True}}})
            addr = wait_for(lambda: self.sync_addresses(c), timeout=40, what="a sync address")
            sync = [p for p in self.pods(c, "kubevirt.io=virt-synchronization-controller")
                    if p["status"].get("phase") == "Running"]
            self.assertEqual(len(sync), 2)
            lease = c.get("/apis/coordination.k8s.io/v1/namespaces/openshift-cnv/leases/virt-synchronization-controller")
            leader = next(p for p in sync if p["metadata"]["name"] == lease["spec"]["holderIdentity"])
            self.assertEqual(addr, ["%s:9185" % leader["status"]["podIP"]])  # no migration network: pod IP

            # the migration network: both pod templates get <nad>@migration0 and the real
            # Deployment and DaemonSet controllers replace the pods
            c.create(nad, {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                           "metadata": {"name": "test-migration"},
                           "spec": {"config": json.dumps({"cniVersion": "0.3.1", "type": "macvlan", "master": "ens4",
                                                          "ipam": {"type": "whereabouts", "range": "192.168.222.0/24",
                                                                   "range_start": "192.168.222.20",
                                                                   "range_end": "192.168.222.60"}})}})
            c.merge_patch(self.hco, {"spec": {"liveMigrationConfig": {"network": "test-migration"}}})
            addr = wait_for(lambda: (lambda a: a if a and a[0].startswith("192.168.222.") else None)(
                self.sync_addresses(c)), timeout=60, what="the sync address on the migration network")
            ip = addr[0].split(":")[0]
            self.assertTrue(20 <= int(ip.rsplit(".", 1)[1]) <= 60)

            def handlers_on_network():
                pods = [p for p in self.pods(c, "kubevirt.io=virt-handler")
                        if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") == "Running"]
                ips = []
                for p in pods:
                    if p["metadata"].get("annotations", {}).get("k8s.v1.cni.cncf.io/networks") != \
                            "test-migration@migration0":
                        return None
                    st = json.loads(p["metadata"]["annotations"].get("k8s.v1.cni.cncf.io/network-status", "[]"))
                    ips += [a["ips"][0] for a in st if a.get("interface") == "migration0"]
                return ips if len(ips) == 3 else None
            ips = wait_for(handlers_on_network, timeout=90, what="virt-handlers on the migration network")
            self.assertEqual(len(set(ips + [ip])), 4)  # no address twice within one cluster
        finally:
            c.merge_patch(self.hco, {"spec": {"featureGates": {"decentralizedLiveMigration": False},
                                              "liveMigrationConfig": {"network": None}}})
        wait_for(lambda: self.sync_addresses(c) is None and
                 c.get("/apis/apps/v1/namespaces/openshift-cnv/deployments/virt-synchronization-controller",
                       ok404=True) is None, timeout=40, what="the sync controller gone with the gate")
        wait_for(lambda: all("k8s.v1.cni.cncf.io/networks" not in (p["metadata"].get("annotations") or {})
                             for p in self.pods(c, "kubevirt.io=virt-handler")
                             if not p["metadata"].get("deletionTimestamp")) or None,
                 timeout=90, what="virt-handlers back on the pod network")
        c.delete(nad + "/test-migration", ok404=True)

    def test_external_ca_is_absorbed_and_emptied(self):
        own = self.tgt.get(self.cm + "kubevirt-ca")["data"]["ca-bundle"]
        peer = self.src.get(self.cm + "kubevirt-ca")["data"]["ca-bundle"].split("-----END CERTIFICATE-----")[0] + \
            "-----END CERTIFICATE-----\n"
        self.assertNotIn(peer.strip(), own)
        # twice the same certificate and some garbage: kept once, garbage dropped
        self.tgt.merge_patch(self.cm + "kubevirt-external-ca", {"data": {"ca-bundle": peer + "not a cert\n" + peer}})
        merged = wait_for(lambda: (lambda b: b if peer.strip() in b else None)(
            self.tgt.get(self.cm + "kubevirt-ca")["data"]["ca-bundle"]), what="the peer CA in kubevirt-ca")
        self.assertTrue(merged.startswith(own.split("-----END CERTIFICATE-----")[0]))  # our own CA first
        self.assertEqual(merged.count(peer.strip()), 1)
        self.assertNotIn("not a cert", merged)
        wait_for(lambda: self.tgt.get(self.cm + "kubevirt-external-ca")["data"]["ca-bundle"] == "",
                 what="kubevirt-external-ca emptied")


class TestStorage(ClusterTest):
    def test_blank_datavolume_becomes_a_bound_pvc_and_goes_with_it(self):
        c = self.tgt
        dvs = "/apis/cdi.kubevirt.io/v1beta1/namespaces/%s/datavolumes" % self.ns
        c.create(dvs, {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "disk"},
                       "spec": {"source": {"blank": {}},
                                "storage": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block",
                                            "resources": {"requests": {"storage": "30Gi"}}}}})
        dv = wait_for(lambda: (lambda d: d if (d.get("status") or {}).get("phase") == "Succeeded" else None)(
            c.get(dvs + "/disk")), what="DataVolume Succeeded")
        self.assertEqual((dv["status"]["progress"], dv["status"]["claimName"]), ("100.0%", "disk"))
        self.assertEqual({x["type"]: x["status"] for x in dv["status"]["conditions"]},
                         {"Bound": "True", "Running": "False", "Ready": "True"})
        pvc = c.get("/api/v1/namespaces/%s/persistentvolumeclaims/disk" % self.ns)
        self.assertEqual((pvc["status"]["phase"], pvc["spec"]["volumeMode"], pvc["spec"]["accessModes"],
                          pvc["spec"]["storageClassName"], pvc["status"]["capacity"]["storage"]),
                         ("Bound", "Block", ["ReadWriteMany"], "ocs-storagecluster-ceph-rbd-virtualization", "30Gi"))
        # the PVC belongs to the DataVolume: the real garbage collector removes it with it
        c.delete(dvs + "/disk")
        wait_for(lambda: c.get("/api/v1/namespaces/%s/persistentvolumeclaims/disk" % self.ns, ok404=True) is None,
                 timeout=30, what="the PVC garbage-collected")

    def test_claim_of_an_unknown_class_stays_pending(self):
        c = self.src
        c.create("/api/v1/namespaces/%s/persistentvolumeclaims" % self.ns, {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "nowhere"},
            "spec": {"storageClassName": "no-such-class", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}})
        time.sleep(2)
        self.assertEqual(c.get("/api/v1/namespaces/%s/persistentvolumeclaims/nowhere" % self.ns)["status"]["phase"],
                         "Pending")


def vm_manifest(name, run_strategy="Always", running=None, interfaces=None, volumes=None, disks=None):
    spec = {"template": {"metadata": {"labels": {"app": name}}, "spec": {
        "domain": {"devices": {"disks": disks or [{"name": "root", "disk": {"bus": "virtio"}}],
                               "interfaces": interfaces or [{"name": "default", "masquerade": {}}]},
                   "resources": {"requests": {"memory": "2Gi"}}},
        "networks": [{"name": "default", "pod": {}}],
        "volumes": volumes or [{"name": "root", "containerDisk": {"image": "quay.io/containerdisks/fedora"}}]}}}
    if running is not None:
        spec["running"] = running
    else:
        spec["runStrategy"] = run_strategy
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name}, "spec": spec}


class TestVms(ClusterTest):
    def vm(self, c, name):
        return c.get("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines/%s" % (self.ns, name))

    def vmi(self, c, name):
        return c.get("/apis/kubevirt.io/v1/namespaces/%s/virtualmachineinstances/%s" % (self.ns, name), ok404=True)

    def launchers(self, c, name):
        return [p for p in c.get("/api/v1/namespaces/%s/pods" % self.ns,
                                 query={"labelSelector": "kubevirt.io=virt-launcher,vm.kubevirt.io/name=" + name})["items"]
                if not p["metadata"].get("deletionTimestamp")]

    def printable(self, c, name, want, timeout=30):
        return wait_for(lambda: (lambda v: v if (v.get("status") or {}).get("printableStatus") == want else None)(
            self.vm(c, name)), timeout=timeout, what="%s %s" % (name, want))

    def test_always_runs_and_halted_stops(self):
        c = self.src
        c.create("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines" % self.ns, vm_manifest("vm-a"))
        vm = self.printable(c, "vm-a", "Running")
        self.assertTrue(vm["status"]["ready"])
        vmi = self.vmi(c, "vm-a")
        pods = self.launchers(c, "vm-a")
        self.assertEqual(len(pods), 1)
        self.assertEqual((vmi["status"]["phase"], vmi["status"]["nodeName"]), ("Running", pods[0]["spec"]["nodeName"]))
        self.assertEqual(pods[0]["status"]["phase"], "Running")  # a launcher runs until the VM stops
        conds = {x["type"]: x["status"] for x in vm["status"]["conditions"]}
        self.assertEqual((conds["LiveMigratable"], conds["StorageLiveMigratable"]), ("True", "True"))
        c.merge_patch("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines/vm-a" % self.ns,
                      {"spec": {"runStrategy": "Halted"}})
        self.printable(c, "vm-a", "Stopped")
        wait_for(lambda: self.vmi(c, "vm-a") is None and not self.launchers(c, "vm-a"), timeout=30,
                 what="VMI and launcher gone")

    def test_legacy_running_field(self):
        c = self.tgt
        c.create("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines" % self.ns, vm_manifest("vm-legacy", running=True))
        self.printable(c, "vm-legacy", "Running")

    def test_migratability_reasons(self):
        c = self.src
        c.create("/api/v1/namespaces/%s/persistentvolumeclaims" % self.ns, {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "rwo-disk"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                     "storageClassName": "ocs-storagecluster-ceph-rbd-virtualization"}})
        c.create("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines" % self.ns, vm_manifest(
            "vm-rwo", volumes=[{"name": "root", "persistentVolumeClaim": {"claimName": "rwo-disk"}}]))
        c.create("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines" % self.ns, vm_manifest(
            "vm-bridge", interfaces=[{"name": "default", "bridge": {}}]))
        rwo = self.printable(c, "vm-rwo", "Running")
        conds = {x["type"]: x for x in rwo["status"]["conditions"]}
        self.assertEqual((conds["LiveMigratable"]["status"], conds["LiveMigratable"]["reason"]),
                         ("False", "DisksNotLiveMigratable"))
        self.assertEqual(conds["StorageLiveMigratable"]["status"], "True")  # a storage migration copies it
        br = self.printable(c, "vm-bridge", "Running")
        conds = {x["type"]: x for x in br["status"]["conditions"]}
        self.assertEqual(conds["LiveMigratable"]["reason"], "InterfaceNotLiveMigratable")
        self.assertEqual((conds["StorageLiveMigratable"]["status"], conds["StorageLiveMigratable"]["reason"]),
                         ("False", "NotMigratable"))
        self.assertTrue(conds["StorageLiveMigratable"]["message"].startswith("InterfaceNotLiveMigratable: "))

    def test_wait_as_receiver(self):
        c = self.tgt
        hco = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"
        kv = "/apis/kubevirt.io/v1/namespaces/openshift-cnv/kubevirts/kubevirt-kubevirt-hyperconverged"
        # the VM webhook accepts WaitAsReceiver only with the gate on
        c.merge_patch(hco, {"spec": {"featureGates": {"decentralizedLiveMigration": True}}})
        self.addCleanup(c.merge_patch, hco, {"spec": {"featureGates": {"decentralizedLiveMigration": False}}})
        wait_for(lambda: "DecentralizedLiveMigration" in c.get(kv)["spec"]["configuration"]
                 ["developerConfiguration"].get("featureGates", []), what="the gate in the KubeVirt CR")
        c.create("/apis/kubevirt.io/v1/namespaces/%s/virtualmachines" % self.ns,
                 vm_manifest("vm-recv", run_strategy="WaitAsReceiver"))
        self.printable(c, "vm-recv", "WaitingForReceiver")
        vmi = wait_for(lambda: (lambda v: v if v and (v.get("status") or {}).get("phase") == "WaitingForSync"
                                else None)(self.vmi(c, "vm-recv")), what="receiver VMI WaitingForSync")
        self.assertEqual(vmi["metadata"]["annotations"]["kubevirt.io/create-migration-target"], "true")
        time.sleep(1)
        self.assertEqual(self.launchers(c, "vm-recv"), [])  # no pod until a migration starts
