"""The manual cross-cluster procedure on the scenarios where it must not
work: `routed` (no common L2: sync stalls) and `overlapping-ipam` (both
clusters hand out the same migration addresses: the split brain of reference
§9.6, caught by the invariant monitor). Each test starts its own kubesim."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from simlib import kubeapi  # noqa: E402

CM = "/api/v1/namespaces/openshift-cnv/configmaps/"
NETWORKS = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
KV = "/apis/kubevirt.io/v1/namespaces/openshift-cnv/kubevirts/kubevirt-kubevirt-hyperconverged"


def wait_for(fn, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = fn()
        except kubeapi.ApiError:
            v = None
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError("timed out waiting for " + what)


def path(kind, ns, name=None):
    return "/apis/kubevirt.io/v1/namespaces/%s/%s" % (ns, kind) + ("/" + name if name else "")


class Sim:
    """A kubesim of one scenario in a scratch folder, stopped by close()."""

    def __init__(self, scenario):
        self.tmp = tempfile.TemporaryDirectory(prefix="sim-%s-" % scenario)
        self.dir = os.path.join(self.tmp.name, "sim")
        self.log = open(os.path.join(self.tmp.name, "kubesim.log"), "w")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "kubesim"), "--scenario", scenario,
                                      "--dir", self.dir], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 600
        while not os.path.exists(os.path.join(self.dir, "ready")):
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise RuntimeError("kubesim --scenario %s did not start" % scenario)
            time.sleep(0.5)
        with open(os.path.join(self.dir, "kubeconfig")) as f:
            cfg = yaml.safe_load(f)
        self.c = {}
        for name in ("source", "target"):
            ctx = next(x["context"] for x in cfg["contexts"] if x["name"] == name)
            cl = next(x["cluster"] for x in cfg["clusters"] if x["name"] == ctx["cluster"])
            user = next(x["user"] for x in cfg["users"] if x["name"] == ctx["user"])
            ca = os.path.join(self.tmp.name, name + "-ca.crt")
            import base64
            with open(ca, "wb") as f:
                f.write(base64.b64decode(cl["certificate-authority-data"]))
            host, port = cl["server"].split("//")[1].split(":")
            self.c[name] = kubeapi.Client(host, int(port), ca, user["token"], user_agent="test-scenarios")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        self.tmp.cleanup()

    def violations(self):
        with open(os.path.join(self.dir, "violations.jsonl")) as f:
            return [json.loads(x) for x in f if x.strip()]

    def manual_migration(self, name="vm1"):
        """Everything the user guide says, up to the source VMIM; -> namespace."""
        src, tgt = self.c["source"], self.c["target"]
        for c in (src, tgt):
            wait_for(lambda: ((c.get(KV).get("status") or {}).get("synchronizationAddresses") or [""])[0]
                     .startswith("192.168.201."), timeout=180, what="a sync address on the migration network")
        for a, b in (("source", "target"), ("target", "source")):
            bundle = self.c[a].get(CM + "kubevirt-ca")["data"]["ca-bundle"]
            self.c[b].merge_patch(CM + "kubevirt-external-ca", {"data": {"ca-bundle": bundle}})
        ns = "s-" + uuid.uuid4().hex[:6]
        for c in (src, tgt):
            c.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            wait_for(lambda: (c.get("/api/v1/namespaces/%s/serviceaccounts/default" % ns, ok404=True)
                              or {}).get("secrets"), what="default service account")
        tmpl = {"spec": {"domain": {"memory": {"guest": "1Gi"},
                                    "devices": {"interfaces": [{"name": "default", "masquerade": {}}]}},
                         "networks": [{"name": "default", "pod": {}}]}}
        src.create(path("virtualmachines", ns), {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                 "metadata": {"name": name},
                                                 "spec": {"runStrategy": "Always", "template": tmpl}})
        # the target carries the source's firmware identity, as any orchestrator copies it
        fw = ((src.get(path("virtualmachines", ns, name))["spec"]["template"]["spec"].get("domain") or {})
              .get("firmware"))
        if fw:
            tmpl = {"spec": dict(tmpl["spec"], domain=dict(tmpl["spec"]["domain"], firmware=fw))}
        tgt.create(path("virtualmachines", ns), {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                 "metadata": {"name": name, "annotations": {
                                                     "kubevirt.io/restore-run-strategy": "Always"}},
                                                 "spec": {"runStrategy": "WaitAsReceiver", "template": tmpl}})
        for c, want in ((src, "Running"), (tgt, "WaitingForSync")):
            wait_for(lambda: (c.get(path("virtualmachineinstances", ns, name)).get("status") or {}).get("phase")
                     == want, what="VMI " + want)
        tgt.create(path("virtualmachineinstancemigrations", ns), {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": "in"}, "spec": {"vmiName": name, "receive": {"migrationID": "m-" + ns}}})
        addr = wait_for(lambda: ((tgt.get(path("virtualmachineinstancemigrations", ns, "in")).get("status") or {})
                                 .get("synchronizationAddresses") or [None])[0], what="sync address")
        src.create(path("virtualmachineinstancemigrations", ns), {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": "out"},
            "spec": {"vmiName": name, "sendTo": {"migrationID": "m-" + ns, "connectURL": addr}}})
        return ns

    def vmim(self, cluster, ns, name):
        return self.c[cluster].get(path("virtualmachineinstancemigrations", ns, name))

    def migration_ips(self, cluster):
        """The migration0 addresses of a cluster's pods in openshift-cnv."""
        out = set()
        for p in self.c[cluster].get("/api/v1/namespaces/openshift-cnv/pods")["items"]:
            if (p["metadata"].get("deletionTimestamp") or (p.get("status") or {}).get("phase") != "Running"):
                continue
            for att in json.loads((p["metadata"].get("annotations") or {}).get(NETWORK_STATUS) or "[]"):
                if att.get("interface") == "migration0":
                    out.update(att.get("ips") or [])
        return out

    def twin_target_addresses(self):
        """Give every target migration address a twin on the source's segment
        (a pod with a static address), so that a source handler dialing a
        target handler always meets its own cluster's twin first: whereabouts
        hands out the same low addresses on both sides, but pod restarts can
        leave one of the target's without a source twin."""
        src = self.c["source"]
        wait_for(lambda: len(self.migration_ips("target")) >= 5 and len(self.migration_ips("source")) >= 5,
                 timeout=180, what="migration addresses on both clusters")
        for ip in sorted(self.migration_ips("target") - self.migration_ips("source")):
            name = "twin-" + ip.replace(".", "-")
            src.create("/apis/k8s.cni.cncf.io/v1/namespaces/openshift-cnv/network-attachment-definitions", {
                "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                "metadata": {"name": name},
                "spec": {"config": json.dumps({"cniVersion": "0.3.1", "name": name, "type": "macvlan",
                                               "master": "ens4.2001", "mode": "bridge",
                                               "ipam": {"type": "static", "addresses": [{"address": ip + "/24"}]}})}})
            src.create("/api/v1/namespaces/openshift-cnv/pods", {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "annotations": {NETWORKS: name + "@migration0"}},
                "spec": {"containers": [{"name": "c", "image": "registry.example/pause:1"}]}})
        wait_for(lambda: self.migration_ips("target") <= self.migration_ips("source"), timeout=60,
                 what="a source twin for every target migration address")


class TestScenarios(unittest.TestCase):
    def test_routed_stalls_without_common_l2(self):
        sim = Sim("routed")
        try:
            ns = sim.manual_migration()

            def blocked():
                st = sim.vmim("source", ns, "out").get("status") or {}
                return next((c for c in st.get("conditions") or [] if c["type"] == "decentralizedMigrationBlocked"),
                            None)
            cond = wait_for(blocked, what="decentralizedMigrationBlocked")
            self.assertIn("no route to host", cond["message"])
            time.sleep(3)
            self.assertEqual(sim.vmim("source", ns, "out")["status"]["phase"], "Synchronizing")
            self.assertEqual(sim.vmim("target", ns, "in")["status"]["phase"], "WaitingForSync")
        finally:
            sim.close()

    def test_overlapping_ipam_fails(self):
        """Duplicate addresses on one segment: whichever twin answers first is
        in the dialer's own cluster. If the sync leaders collide, sync never
        reaches the peer (blocked); if only the handlers do, the split brain; if
        another pod of the source holds the target handler's address, the
        dial is refused and nothing moves. Never a clean success."""
        sim = Sim("overlapping-ipam")
        try:
            sim.twin_target_addresses()
            ns = sim.manual_migration()

            def outcome():
                st = sim.vmim("source", ns, "out").get("status") or {}
                if st.get("phase") == "Failed":
                    return "split"
                blocked = next((c for c in st.get("conditions") or [] if c["type"] == "decentralizedMigrationBlocked"),
                               None)
                if blocked and ("connection refused" in blocked["message"] or
                                "unable to find migration" in blocked["message"]):
                    return "blocked"
                return None
            try:
                got = wait_for(outcome, timeout=120, what="the source VMIM Failed or blocked")
            except AssertionError as e:
                raise AssertionError("%s; source VMIM status: %s; target VMIM status: %s" % (
                    e, json.dumps(sim.vmim("source", ns, "out").get("status")),
                    json.dumps(sim.vmim("target", ns, "in").get("status"))))
            if got == "blocked":
                time.sleep(2)
                self.assertEqual(sim.vmim("source", ns, "out")["status"]["phase"], "Synchronizing")
                return
            reason = sim.vmim("source", ns, "out")["status"]["migrationState"]["failureReason"]
            self.assertIn("connection refused", reason)
            if "already executed" not in reason:
                # the source met a pod of its own that is no handler (a sync
                # controller or a twin): refused before anything was sent,
                # and the target never runs the VM
                time.sleep(3)
                tvmi = sim.c["target"].get(path("virtualmachineinstances", ns, "vm1"))
                self.assertNotEqual((tvmi.get("status") or {}).get("phase"), "Running")
                self.assertEqual(sim.c["source"].get(path("virtualmachineinstances", ns, "vm1"))["status"]["phase"],
                                 "Running")
                return
            # what a wrapper watching the target sees: success, and the target VMI runs (cold)
            wait_for(lambda: (sim.vmim("target", ns, "in").get("status") or {}).get("phase") == "Succeeded",
                     what="the target VMIM Succeeded")
            for cl in ("source", "target"):
                vmi = sim.c[cl].get(path("virtualmachineinstances", ns, "vm1"))
                self.assertEqual(vmi["status"]["phase"], "Running", cl)
            v = wait_for(lambda: [x for x in sim.violations() if x["kind"] == "two-running"], timeout=30,
                         what="the monitor's two-running violation")
            self.assertIn("source:%s/vm1" % ns, v[0]["detail"])
        finally:
            sim.close()

if __name__ == "__main__":
    unittest.main()
