"""API-level tests of the simulated OpenShift monitoring on the running test
clusters (needs $KUBESIM_DIR: run through tests/sim/with-clusters). What these
prove: each cluster publishes the thanos-querier Route, its ingress CA and
cluster-monitoring-view; the endpoint behind the Route answers Prometheus'
JSON for series set through the admin endpoint (and simctl), verified against
the published CA; tokens are reviewed by the cluster (401), access by a
SubjectAccessReview of `get namespaces` (403 for a ServiceAccount without
roles, 200 once it is bound to cluster-monitoring-view); bad PromQL is 400
bad_data; the clusters' stores are separate."""

import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from simlib import kubeapi  # noqa: E402

DIR = os.environ.get("KUBESIM_DIR")
SCRATCH = tempfile.TemporaryDirectory(prefix="test-metrics-")  # CA files; removed at exit
ROUTE = "/apis/route.openshift.io/v1/namespaces/openshift-monitoring/routes/thanos-querier"
INGRESS_CA = "/api/v1/namespaces/openshift-config-managed/configmaps/default-ingress-cert"
REMAINING = "kubevirt_vmi_migration_data_remaining_bytes"


def context(name):
    """(cluster server, CA data, token) of a kubeconfig context."""
    with open(os.path.join(DIR, "kubeconfig")) as f:
        cfg = yaml.safe_load(f)
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == name)
    cl = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
    return cl["server"], cl["certificate-authority-data"], user["token"]


def client(name):
    server, ca_data, token = context(name)
    ca = os.path.join(SCRATCH.name, name + "-api-ca.crt")
    with open(ca, "wb") as f:
        f.write(base64.b64decode(ca_data))
    host, port = server.split("//")[1].split(":")
    return kubeapi.Client(host, int(port), ca, token, user_agent="test-metrics/" + name)


def state():
    with open(os.path.join(DIR, "state.json")) as f:
        return json.load(f)


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


def wait_for(fn, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


@unittest.skipUnless(DIR, "needs running test clusters ($KUBESIM_DIR); use tests/sim/with-clusters")
class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.src, cls.tgt = client("source"), client("target")
        cls.token = context("source")[2]
        cls.vm = "vm-" + uuid.uuid4().hex[:8]  # this run's series carry this name label
        cls.cas = {}
        for name, c in (("source", cls.src), ("target", cls.tgt)):
            cls.cas[name] = os.path.join(SCRATCH.name, name + "-ingress-ca.crt")
            with open(cls.cas[name], "w") as f:
                f.write(c.get(INGRESS_CA)["data"]["ca-bundle.crt"])
        cls.host = cls.src.get(ROUTE)["spec"]["host"]

    @classmethod
    def tearDownClass(cls):
        for name in ("source", "target"):
            admin("DELETE", "/clusters/%s/metrics" % name, {"match": {"name": cls.vm}})

    def query(self, params, token=None, method="GET", host=None, ca=None):
        """(status, body, response) of /api/v1/query through the Route's host,
        TLS verified against the published ingress CA, hostname included."""
        ctx = ssl.create_default_context(cafile=ca or self.cas["source"])
        h, port = (host or self.host).split(":")
        conn = http.client.HTTPSConnection(h, int(port), context=ctx, timeout=15)
        headers = {"Authorization": "Bearer " + token} if token else {}
        form = urllib.parse.urlencode(params)
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request("POST", "/api/v1/query", body=form, headers=headers)
        else:
            conn.request("GET", "/api/v1/query?" + form, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, data, r

    def set_series(self, name, value, cluster="source", **labels):
        labels = dict({"namespace": "vms", "name": self.vm, "node": cluster + "-worker-0"}, **labels)
        st, body = admin("PUT", "/clusters/%s/metrics" % cluster, {"name": name, "labels": labels, "value": value})
        self.assertEqual(st, 200, body)


class TestPublished(MetricsTest):
    def test_route_points_at_the_endpoint(self):
        hosts = set()
        for name, c in (("source", self.src), ("target", self.tgt)):
            route = c.get(ROUTE)
            spec, ingress = route["spec"], route["status"]["ingress"][0]
            self.assertEqual("https://" + spec["host"], state()["clusters"][name]["metrics"])
            self.assertTrue(spec["host"].startswith("127.0.0.1:"))
            self.assertEqual((spec["to"]["kind"], spec["to"]["name"], spec["port"]["targetPort"],
                              spec["tls"]["termination"]), ("Service", "thanos-querier", "web", "reencrypt"))
            self.assertEqual((ingress["host"], ingress["routerName"]), (spec["host"], "default"))
            self.assertEqual([(x["type"], x["status"]) for x in ingress["conditions"]], [("Admitted", "True")])
            svc = c.get("/api/v1/namespaces/openshift-monitoring/services/thanos-querier")
            self.assertEqual(svc["spec"]["ports"][0]["name"], "web")
            hosts.add(spec["host"])
        self.assertEqual(len(hosts), 2)

    def test_ingress_ca_and_monitoring_role(self):
        for c in (self.src, self.tgt):
            pem = c.get(INGRESS_CA)["data"]["ca-bundle.crt"]
            self.assertTrue(pem.startswith("-----BEGIN CERTIFICATE-----"))
            role = c.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-monitoring-view")
            self.assertIn({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}, role["rules"])
        with open(self.cas["source"]) as a, open(self.cas["target"]) as b:
            self.assertNotEqual(a.read(), b.read())  # one CA per cluster

    def test_route_schema_refuses_a_bad_termination(self):
        with self.assertRaises(kubeapi.ApiError) as cm:
            self.src.create("/apis/route.openshift.io/v1/namespaces/default/routes", {
                "apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "bad-" + self.vm},
                "spec": {"to": {"name": "x"}, "tls": {"termination": "sideways"}}})
        self.assertEqual(cm.exception.code, 422)


class TestQueries(MetricsTest):
    def test_series_from_the_admin_endpoint(self):
        self.set_series(REMAINING, 3 * 2 ** 30)
        st, data, r = self.query({"query": '%s{namespace="vms",name="%s"}' % (REMAINING, self.vm)}, self.token)
        self.assertEqual((st, r.getheader("Content-Type")), (200, "application/json"), data)
        body = json.loads(data)
        self.assertEqual((body["status"], body["data"]["resultType"]), ("success", "vector"))
        [res] = body["data"]["result"]
        self.assertEqual(res["metric"], {"__name__": REMAINING, "name": self.vm, "namespace": "vms",
                                         "node": "source-worker-0"})
        self.assertEqual(res["value"][1], "3221225472")
        self.assertLess(abs(res["value"][0] - time.time()), 30)
        # the other cluster's store is its own
        st, data, _ = self.query({"query": '%s{name="%s"}' % (REMAINING, self.vm)}, context("target")[2],
                                 host=self.tgt.get(ROUTE)["spec"]["host"], ca=self.cas["target"])
        self.assertEqual((st, json.loads(data)["data"]["result"]), (200, []))

    def test_progress_expression_with_post_and_removal(self):
        self.set_series("kubevirt_vmi_migration_data_bytes_total", 8000)
        self.set_series("kubevirt_vmi_migration_data_processed_bytes", 2000)
        q = ('100 * kubevirt_vmi_migration_data_processed_bytes{name="%s"} / '
             'kubevirt_vmi_migration_data_bytes_total{name="%s"}' % (self.vm, self.vm))
        st, data, _ = self.query({"query": q}, self.token, method="POST")
        self.assertEqual(st, 200, data)
        [res] = json.loads(data)["data"]["result"]
        self.assertEqual((res["metric"], res["value"][1]),
                         ({"name": self.vm, "namespace": "vms", "node": "source-worker-0"}, "25"))
        st, body = admin("DELETE", "/clusters/source/metrics", {"match": {"namespace": "vms", "name": self.vm}})
        self.assertEqual((st, body["removed"] >= 2), (200, True))
        st, data, _ = self.query({"query": q}, self.token)
        self.assertEqual(json.loads(data)["data"]["result"], [])

    def test_simctl_sets_and_drops_series(self):
        simctl = os.path.join(HERE, "simctl")
        subprocess.run([simctl, "--dir", DIR, "metric", "source", REMAINING, "512", "namespace=vms",
                        "name=" + self.vm, "node=n9"], check=True, stdout=subprocess.DEVNULL)
        st, data, _ = self.query({"query": 'sum by (node) (%s{name="%s"})' % (REMAINING, self.vm)}, self.token)
        self.assertEqual(json.loads(data)["data"]["result"][0]["metric"], {"node": "n9"})
        out = subprocess.run([simctl, "--dir", DIR, "metrics", "source"], check=True, stdout=subprocess.PIPE)
        self.assertIn(self.vm, out.stdout.decode())
        subprocess.run([simctl, "--dir", DIR, "unmetric", "source", "name=" + self.vm, "node=n9"], check=True,
                       stdout=subprocess.DEVNULL)
        st, data, _ = self.query({"query": '%s{name="%s",node="n9"}' % (REMAINING, self.vm)}, self.token)
        self.assertEqual(json.loads(data)["data"]["result"], [])

    def test_bad_query_is_bad_data(self):
        st, data, _ = self.query({"query": "rate(%s[5m])" % REMAINING}, self.token)
        body = json.loads(data)
        self.assertEqual((st, body["status"], body["errorType"]), (400, "error", "bad_data"))
        self.assertIn("1:1: parse error", body["error"])
        st, data, _ = self.query({"query": "1", "time": "yesterday"}, self.token)
        self.assertEqual((st, json.loads(data)["errorType"]), (400, "bad_data"))

    def test_admin_refuses_bad_series(self):
        st, body = admin("PUT", "/clusters/source/metrics", {"name": "bad name", "labels": {}, "value": 1})
        self.assertEqual(st, 400)
        st, body = admin("PUT", "/clusters/source/metrics", {"name": REMAINING, "labels": {}, "value": "1"})
        self.assertEqual(st, 400)
        st, body = admin("GET", "/clusters/nope/metrics")
        self.assertEqual(st, 404)


class TestAccess(MetricsTest):
    def test_no_token_or_a_bad_one_is_401(self):
        st, data, _ = self.query({"query": "1"})
        self.assertEqual((st, data), (401, b"Unauthorized\n"))
        st, _, _ = self.query({"query": "1"}, "not-a-token")
        self.assertEqual(st, 401)
        st, _, _ = self.query({"query": "1"}, context("target")[2])  # the other cluster's token
        self.assertEqual(st, 401)

    def test_other_clusters_ca_does_not_verify(self):
        with self.assertRaises(ssl.SSLError):
            self.query({"query": "1"}, self.token, ca=self.cas["target"])

    def test_viewer_may_query(self):
        # `view` (the scenario's viewer, bound cluster-wide) grants get on namespaces,
        # which is all the querier's proxy checks.
        st, data, _ = self.query({"query": "1"}, context("source-viewer")[2])
        self.assertEqual(st, 200, data)
        # and, as on OpenShift, `view` reads Routes: the viewer can find the URL
        self.assertEqual(client("source-viewer").get(ROUTE)["spec"]["host"], self.host)

    def test_service_account_without_roles_is_403_until_bound(self):
        ns = "t-mon-" + uuid.uuid4().hex[:6]
        crb = "test-monitoring-" + ns
        self.src.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        try:
            self.src.create("/api/v1/namespaces/%s/serviceaccounts" % ns,
                            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader"}})
            secret = wait_for(lambda: (self.src.get("/api/v1/namespaces/%s/serviceaccounts/reader" % ns)
                                       .get("secrets") or [None])[0], what="the ServiceAccount's token Secret")
            data = wait_for(lambda: self.src.get("/api/v1/namespaces/%s/secrets/%s" % (ns, secret["name"]))
                            .get("data", {}).get("token"), what="the token in the Secret")
            token = base64.b64decode(data).decode()
            st, body, r = self.query({"query": "1"}, token)
            self.assertEqual((st, r.getheader("Content-Type")), (403, "text/plain; charset=utf-8"))
            self.assertIn(b"user=system:serviceaccount:%s:reader" % ns.encode(), body)
            self.assertNotIn(token.encode(), body)
            self.src.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": crb},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "cluster-monitoring-view"},
                "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}]})
            wait_for(lambda: self.query({"query": "1"}, token)[0] == 200, what="the binding to take effect")
        finally:
            self.src.delete("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/" + crb, ok404=True)
            self.src.delete("/api/v1/namespaces/" + ns, ok404=True)


if __name__ == "__main__":
    unittest.main()
