"""API-level tests of simulated live migration on the running test clusters
(needs $KUBESIM_DIR: run through tests/sim/with-clusters). The user guide's
manual procedure between the two clusters, its stalls (no CA exchange, a sync
leader that moved), cancel, and an in-cluster migration. The class turns the
gate and a migration network on for both clusters and restores them after."""

import json
import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_clusters import DIR, client, wait_for  # noqa: E402

CNV = "openshift-cnv"
HCO = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"
KV = "/apis/kubevirt.io/v1/namespaces/openshift-cnv/kubevirts/kubevirt-kubevirt-hyperconverged"
NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/openshift-cnv/network-attachment-definitions"
CM = "/api/v1/namespaces/openshift-cnv/configmaps/"
NAD_NAME = "test-lm-network"
POOLS = {"source": "192.168.201.0/25", "target": "192.168.201.128/25"}  # excluded on the other side


def path(kind, ns, name=None, sub=None):
    p = "/apis/kubevirt.io/v1/namespaces/%s/%s" % (ns, kind)
    return p + ("/" + name if name else "") + ("/" + sub if sub else "")


def vm_manifest(name, run_strategy="Always", memory="1Gi", annotations=None, vmi_annotations=None):
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"runStrategy": run_strategy, "template": {
                "metadata": {"labels": {"kubevirt.io/domain": name}, "annotations": vmi_annotations or {}},
                "spec": {"domain": {"memory": {"guest": memory},
                                    "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}],
                                                "interfaces": [{"name": "default", "masquerade": {}}]}},
                         "networks": [{"name": "default", "pod": {}}],
                         "volumes": [{"name": "root",
                                      "containerDisk": {"image": "quay.io/containerdisks/fedora:41"}}]}}}}


def phase_of(c, ns, name):
    m = c.get(path("virtualmachineinstancemigrations", ns, name), ok404=True)
    return ((m or {}).get("status") or {}).get("phase")


@unittest.skipUnless(DIR, "needs running test clusters ($KUBESIM_DIR); use tests/sim/with-clusters")
class TestMigration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.src, cls.tgt = client("source"), client("target")
        cls.c = {"source": cls.src, "target": cls.tgt}
        cls.ns = "mig-" + uuid.uuid4().hex[:6]
        for name, c in cls.c.items():
            c.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": cls.ns}})
            other = POOLS["target" if name == "source" else "source"]
            c.create(NADS, {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                            "metadata": {"name": NAD_NAME},
                            "spec": {"config": json.dumps({
                                "cniVersion": "0.3.1", "name": NAD_NAME, "type": "macvlan", "master": "ens4.2001",
                                "mode": "bridge", "ipam": {"type": "whereabouts", "range": "192.168.201.0/24",
                                                           "exclude": [other]}})}})
            c.merge_patch(HCO, {"spec": {"featureGates": {"decentralizedLiveMigration": True},
                                         "liveMigrationConfig": {"network": NAD_NAME}}})
        for name, c in cls.c.items():
            wait_for(lambda: cls.handlers_ready(c, name), timeout=120, what="virt-handlers on the migration network")
            wait_for(lambda: (lambda a: a and a[0].startswith("192.168.201.") and a)(cls.sync_addr(c)),
                     timeout=60, what="%s sync address on the migration network" % name)
        for c in cls.c.values():
            wait_for(lambda: (c.get("/api/v1/namespaces/%s/serviceaccounts/default" % cls.ns, ok404=True)
                              or {}).get("secrets"), what="default service account")

    @classmethod
    def tearDownClass(cls):
        for c in cls.c.values():
            for m in (c.get(path("virtualmachineinstancemigrations", cls.ns)) or {}).get("items") or []:
                c.merge_patch(path("virtualmachineinstancemigrations", cls.ns, m["metadata"]["name"]),
                              {"metadata": {"finalizers": None}})
            c.delete("/api/v1/namespaces/" + cls.ns, ok404=True)
            c.json_patch(HCO, [{"op": "replace", "path": "/spec/featureGates/decentralizedLiveMigration",
                                "value": False}, {"op": "remove", "path": "/spec/liveMigrationConfig/network"}])
            wait_for(lambda: not cls.sync_addr(c), timeout=60, what="the gate off again")
            c.delete(NADS + "/" + NAD_NAME, ok404=True)

    @staticmethod
    def sync_addr(c):
        return (c.get(KV).get("status") or {}).get("synchronizationAddresses")

    @staticmethod
    def handlers_ready(c, name):
        pods = c.get("/api/v1/namespaces/openshift-cnv/pods", query={"labelSelector": "kubevirt.io=virt-handler"})
        live = [p for p in pods["items"] if not p["metadata"].get("deletionTimestamp") and
                (p.get("status") or {}).get("phase") == "Running" and
                "migration0" in p["metadata"].get("annotations", {}).get("k8s.v1.cni.cncf.io/network-status", "")]
        return len(live) == 3

    # -- the steps of the manual procedure --
    def exchange_cas(self):
        for a, b in (("source", "target"), ("target", "source")):
            bundle = self.c[a].get(CM + "kubevirt-ca")["data"]["ca-bundle"]
            self.c[b].merge_patch(CM + "kubevirt-external-ca", {"data": {"ca-bundle": bundle}})
        for a, b in (("source", "target"), ("target", "source")):
            own = self.c[a].get(CM + "kubevirt-ca")["data"]["ca-bundle"].split("-----END CERTIFICATE-----")[0]
            wait_for(lambda: own in self.c[b].get(CM + "kubevirt-ca")["data"]["ca-bundle"], what="peer CA trusted")

    def forget_peer_cas(self):
        """kubevirt-ca back to each cluster's own CA only (as if never exchanged)."""
        for name, c in self.c.items():
            with open(os.path.join(DIR, name, "pki", "kubevirt-ca.crt")) as f:
                c.merge_patch(CM + "kubevirt-ca", {"data": {"ca-bundle": f.read()}})

    def start_pair(self, name, memory="1Gi", vmi_annotations=None):
        """Source VM running, target VM waiting as receiver, target VMIM: -> (migration id, target VMIM)."""
        self.src.create(path("virtualmachines", self.ns), vm_manifest(name, memory=memory,
                                                                       vmi_annotations=vmi_annotations))
        wait_for(lambda: ((self.src.get(path("virtualmachineinstances", self.ns, name), ok404=True) or {})
                          .get("status") or {}).get("phase") == "Running", what="source VMI running")
        self.tgt.create(path("virtualmachines", self.ns), vm_manifest(
            name, "WaitAsReceiver", memory=memory, annotations={"kubevirt.io/restore-run-strategy": "Always"},
            vmi_annotations=vmi_annotations))
        wait_for(lambda: ((self.tgt.get(path("virtualmachineinstances", self.ns, name), ok404=True) or {})
                          .get("status") or {}).get("phase") == "WaitingForSync", what="receiver VMI WaitingForSync")
        wait_for(lambda: (self.tgt.get(path("virtualmachines", self.ns, name)).get("status") or {}).get(
            "printableStatus") == "WaitingForReceiver", what="target VM WaitingForReceiver")
        mid = "mig-" + uuid.uuid4().hex[:5]
        self.tgt.create(path("virtualmachineinstancemigrations", self.ns), {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": name + "-in"}, "spec": {"vmiName": name, "receive": {"migrationID": mid}}})
        return mid

    def target_address(self, name):
        return wait_for(lambda: ((self.tgt.get(path("virtualmachineinstancemigrations", self.ns, name + "-in"))
                                  .get("status") or {}).get("synchronizationAddresses") or [None])[0],
                        what="the target VMIM's sync address")

    def send(self, name, mid, addr):
        self.src.create(path("virtualmachineinstancemigrations", self.ns), {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": name + "-out"},
            "spec": {"vmiName": name, "sendTo": {"migrationID": mid, "connectURL": addr}}})

    def both_phases(self, name):
        return phase_of(self.src, self.ns, name + "-out"), phase_of(self.tgt, self.ns, name + "-in")

    def vmim_condition(self, c, name):
        m = c.get(path("virtualmachineinstancemigrations", self.ns, name))
        return next((x for x in (m.get("status") or {}).get("conditions") or []
                     if x["type"] == "decentralizedMigrationBlocked"), None)

    # -- tests --
    def test_1_manual_procedure_moves_the_vm(self):
        self.exchange_cas()
        mid = self.start_pair("app01")
        addr = self.target_address("app01")
        self.assertRegex(addr, r"^192\.168\.201\.[0-9]+:9185$")
        self.assertGreaterEqual(int(addr.split(":")[0].rsplit(".", 1)[1]), 128)  # the target's pool
        t0 = time.time()
        self.send("app01", mid, addr)
        wait_for(lambda: self.both_phases("app01") == ("Succeeded", "Succeeded"), timeout=60,
                 what="both VMIMs Succeeded")
        took = time.time() - t0
        self.assertLess(took, 30)
        tvmi = self.tgt.get(path("virtualmachineinstances", self.ns, "app01"))
        self.assertEqual(tvmi["status"]["phase"], "Running")
        self.assertTrue(tvmi["status"]["nodeName"].startswith("target-worker-"))
        self.assertNotIn("kubevirt.io/create-migration-target", tvmi["metadata"].get("annotations") or {})
        wait_for(lambda: self.tgt.get(path("virtualmachines", self.ns, "app01"))["spec"]["runStrategy"] == "Always",
                 what="target runStrategy restored")
        wait_for(lambda: self.src.get(path("virtualmachines", self.ns, "app01"))["spec"]["runStrategy"] == "Halted",
                 what="source VM Halted")
        out = self.src.get(path("virtualmachineinstancemigrations", self.ns, "app01-out"))
        inn = self.tgt.get(path("virtualmachineinstancemigrations", self.ns, "app01-in"))
        steps = ["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"]
        self.assertEqual([p["phase"] for p in out["status"]["phaseTransitionTimestamps"]], ["Synchronizing"] + steps)
        self.assertEqual([p["phase"] for p in inn["status"]["phaseTransitionTimestamps"]], ["WaitingForSync"] + steps)
        ms = out["status"]["migrationState"]
        self.assertTrue(ms["completed"])
        self.assertEqual(ms["targetState"]["syncAddress"], addr)
        self.assertEqual(ms["sourceState"]["syncAddress"], self.sync_addr(self.src)[0])
        self.assertTrue(ms["targetNodeAddress"].startswith("192.168.201."))
        wait_for(lambda: not self.src.get(path("virtualmachineinstancemigrations", self.ns, "app01-out"))[
            "metadata"].get("finalizers"), what="the final VMIM's finalizers removed")
        pods = self.tgt.get("/api/v1/namespaces/%s/pods" % self.ns)["items"]
        target_pod = next(p for p in pods if p["metadata"]["name"] == ms["targetPod"])
        self.assertEqual(target_pod["spec"]["nodeSelector"].get("cpu-vendor.node.kubevirt.io/Intel"), "true")
        expr = target_pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        self.assertEqual(expr["nodeSelectorTerms"][0]["matchExpressions"][0]["values"], [ms["sourceNode"]])
        with open(os.path.join(DIR, "violations.jsonl")) as f:
            self.assertEqual([v for v in map(json.loads, f) if "app01" in json.dumps(v)], [])

    def test_2_without_ca_exchange_it_stalls_then_resumes(self):
        self.forget_peer_cas()
        mid = self.start_pair("app02")
        self.send("app02", mid, self.target_address("app02"))
        cond = wait_for(lambda: self.vmim_condition(self.src, "app02-out"), what="decentralizedMigrationBlocked")
        self.assertIn("x509: certificate signed by unknown authority", cond["message"])
        self.assertEqual(cond["reason"], "DecentralizedNotLiveMigratable")
        time.sleep(2)
        self.assertEqual(self.both_phases("app02"), ("Synchronizing", "WaitingForSync"))
        self.assertEqual(self.vmim_condition(self.tgt, "app02-in")["message"],
                         "waiting for incoming synchronization, unable to proceed")
        # KubeVirt keeps trying: once the CAs are exchanged it goes through
        self.exchange_cas()
        wait_for(lambda: self.both_phases("app02") == ("Succeeded", "Succeeded"), timeout=60, what="success")
        self.assertIsNone(self.vmim_condition(self.src, "app02-out"))

    def test_3_stale_sync_address_after_leader_moves_stalls(self):
        self.exchange_cas()
        mid = self.start_pair("app03")
        addr = self.target_address("app03")
        lease = self.tgt.get("/apis/coordination.k8s.io/v1/namespaces/openshift-cnv/leases/"
                             "virt-synchronization-controller")
        self.tgt.delete("/api/v1/namespaces/openshift-cnv/pods/" + lease["spec"]["holderIdentity"])
        wait_for(lambda: (self.sync_addr(self.tgt) or [addr])[0] != addr, timeout=60, what="a new sync address")
        self.send("app03", mid, addr)  # the address read before the move
        cond = wait_for(lambda: self.vmim_condition(self.src, "app03-out"), what="decentralizedMigrationBlocked")
        self.assertIn("dial tcp %s" % addr, cond["message"])
        time.sleep(2)
        self.assertEqual(self.both_phases("app03"), ("Synchronizing", "WaitingForSync"))
        # cancel: both VMIMs deleted; the source keeps running
        self.src.delete(path("virtualmachineinstancemigrations", self.ns, "app03-out"))
        self.tgt.delete(path("virtualmachineinstancemigrations", self.ns, "app03-in"))
        wait_for(lambda: self.both_phases("app03") == (None, None), what="both VMIMs gone")
        self.assertEqual(self.src.get(path("virtualmachineinstances", self.ns, "app03"))["status"]["phase"], "Running")

    def test_4_cancel_on_the_target_fails_the_source_half(self):
        self.exchange_cas()
        mid = self.start_pair("app04", memory="96Gi")  # ~80 s at 10 Gbit/s
        self.send("app04", mid, self.target_address("app04"))
        wait_for(lambda: self.both_phases("app04") == ("Running", "Running"), timeout=60, what="both Running")
        self.tgt.delete(path("virtualmachineinstancemigrations", self.ns, "app04-in"))
        wait_for(lambda: phase_of(self.src, self.ns, "app04-out") == "Failed", what="source VMIM Failed")
        vmi = self.src.get(path("virtualmachineinstances", self.ns, "app04"))
        self.assertEqual(vmi["status"]["phase"], "Running")
        self.assertTrue(vmi["status"]["migrationState"]["failed"])
        self.assertEqual(self.src.get(path("virtualmachines", self.ns, "app04"))["spec"]["runStrategy"], "Always")
        self.assertIsNone(phase_of(self.tgt, self.ns, "app04-in"))

    def test_5_in_cluster_migration_moves_the_vmi_to_another_node(self):
        self.src.create(path("virtualmachines", self.ns), vm_manifest("local01"))
        vmi = wait_for(lambda: (lambda v: v if (v.get("status") or {}).get("phase") == "Running" else None)(
            self.src.get(path("virtualmachineinstances", self.ns, "local01"), ok404=True) or {}), what="VMI running")
        before = vmi["status"]["nodeName"]
        self.src.create(path("virtualmachineinstancemigrations", self.ns), {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": "local01-mig"}, "spec": {"vmiName": "local01"}})
        wait_for(lambda: phase_of(self.src, self.ns, "local01-mig") == "Succeeded", timeout=60, what="Succeeded")
        vmi = self.src.get(path("virtualmachineinstances", self.ns, "local01"))
        self.assertNotEqual(vmi["status"]["nodeName"], before)
        self.assertEqual(vmi["status"]["phase"], "Running")
        wait_for(lambda: len([p for p in self.src.get("/api/v1/namespaces/%s/pods" % self.ns, query={
            "labelSelector": "vm.kubevirt.io/name=local01"})["items"]]) == 1, what="the old launcher gone")


if __name__ == "__main__":
    unittest.main()
