"""API-level tests of the simulated KubeVirt admission webhooks against the
running test clusters (needs $KUBESIM_DIR: run through tests/sim/with-clusters).
What these prove: the real kube-apiserver calls virt-api-validator and
virt-api-mutator over TLS and answers their refusals in KubeVirt's words, the
mutators' label, finalizer and firmware defaults are on the stored objects,
and WaitAsReceiver and decentralized VMIMs follow the gate set through HCO.
Each test has its own namespace; VMIM finalizers are cleared before it goes."""

import base64
import http.client
import json
import os
import ssl
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

from simlib import kubeapi  # noqa: E402

DIR = os.environ.get("KUBESIM_DIR")
SCRATCH = tempfile.TemporaryDirectory(prefix="test-webhooks-")  # CA files; removed at exit
HCO = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"
KV = "/apis/kubevirt.io/v1/namespaces/openshift-cnv/kubevirts/kubevirt-kubevirt-hyperconverged"
ADMISSION = "/apis/admissionregistration.k8s.io/v1/"
FIRMWARE_NS = uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895")
VMIM_CREATE = "migration-create-validator.kubevirt.io"
VM_VALIDATOR = "virtualmachine-validator.kubevirt.io"


def ca_file(name, data):
    path = os.path.join(SCRATCH.name, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def client(context):
    with open(os.path.join(DIR, "kubeconfig")) as f:
        cfg = yaml.safe_load(f)
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == context)
    cl = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
    ca = ca_file(ctx["cluster"] + "-ca.crt", base64.b64decode(cl["certificate-authority-data"]))
    host, port = cl["server"].split("//")[1].split(":")
    return kubeapi.Client(host, int(port), ca, user["token"], user_agent="test-webhooks/" + context)


def wait_for(fn, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError("timed out waiting for " + what)


def denied(hook, message):
    return 'admission webhook "%s" denied the request: %s' % (hook, message)


def vm_manifest(name, run_strategy="Always", interfaces=None, volumes=None, annotations=None, **spec):
    tmpl = {"metadata": {"labels": {"app": name}, "annotations": annotations or {}}, "spec": {
        "domain": {"devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}],
                               "interfaces": interfaces or [{"name": "default", "masquerade": {}}]},
                   "resources": {"requests": {"memory": "1Gi"}}},
        "networks": [{"name": "default", "pod": {}}],
        "volumes": volumes or [{"name": "root", "containerDisk": {"image": "quay.io/containerdisks/fedora"}}]}}
    body = dict(spec, template=tmpl)
    if run_strategy is not None:
        body["runStrategy"] = run_strategy
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name}, "spec": body}


def gates(c):
    return c.get(KV)["spec"]["configuration"]["developerConfiguration"]["featureGates"]


@unittest.skipUnless(DIR, "needs running test clusters ($KUBESIM_DIR); use tests/sim/with-clusters")
class WebhookTest(unittest.TestCase):
    context = "source"

    @classmethod
    def setUpClass(cls):
        cls.c = client(cls.context)

    def setUp(self):
        self.ns = "wh-" + uuid.uuid4().hex[:8]
        self.c.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}})
        # launcher pods need the namespace's default ServiceAccount token (1.20 admission)
        wait_for(lambda: (self.c.get("/api/v1/namespaces/%s/serviceaccounts/default" % self.ns, ok404=True)
                          or {}).get("secrets"), what="default service account")

    def tearDown(self):
        # the migration controller removes kubevirt.io/migrationJobFinalize only from final
        # VMIMs; ours may still be in flight
        for m in self.c.get(self.path("virtualmachineinstancemigrations"))["items"]:
            self.c.merge_patch(self.path("virtualmachineinstancemigrations", m["metadata"]["name"]),
                               {"metadata": {"finalizers": []}})
        self.c.delete("/api/v1/namespaces/" + self.ns, ok404=True)

    def path(self, resource, name=None, group="kubevirt.io", version="v1"):
        return kubeapi.resource_path(group, version, resource, self.ns, name)

    def refusal(self, fn, *args, **kw):
        with self.assertRaises(kubeapi.ApiError) as cm:
            fn(*args, **kw)
        return cm.exception

    def assert_refused(self, err, code, hook, message):
        self.assertEqual((err.code, err.status.get("message")), (code, denied(hook, message)))

    def create_vm(self, name, **kw):
        return self.c.create(self.path("virtualmachines"), vm_manifest(name, **kw))

    def create_vmim(self, name, vmi, **spec):
        body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                "metadata": {"name": name}, "spec": dict(spec)}
        if vmi is not None:
            body["spec"]["vmiName"] = vmi
        return self.c.create(self.path("virtualmachineinstancemigrations"), body)

    def vmi_condition(self, name, reason=None):
        """The VMI once its LiveMigratable condition is computed (with `reason`)."""
        def ready():
            vmi = self.c.get(self.path("virtualmachineinstances", name), ok404=True) or {}
            conds = {x["type"]: x for x in (vmi.get("status") or {}).get("conditions") or []}
            lm = conds.get("LiveMigratable")
            return vmi if lm and lm.get("reason") == reason else None
        return wait_for(ready, what="%s LiveMigratable (%s)" % (name, reason))


class TestRegistration(WebhookTest):
    def configs(self, c):
        return c.get(ADMISSION + "validatingwebhookconfigurations/virt-api-validator"), \
            c.get(ADMISSION + "mutatingwebhookconfigurations/virt-api-mutator")

    def test_configurations_per_cluster(self):
        bundles = set()
        for c in (self.c, client("target")):
            val, mut = self.configs(c)
            hooks = {h["name"]: h for h in val["webhooks"] + mut["webhooks"]}
            self.assertEqual(set(hooks), {VM_VALIDATOR, VMIM_CREATE, "migration-update-validator.kubevirt.io",
                                          "virtualmachines-mutator.kubevirt.io", "migrations-mutator.kubevirt.io"})
            for h in hooks.values():
                self.assertEqual((h["failurePolicy"], h["sideEffects"], h["matchPolicy"], h["timeoutSeconds"]),
                                 ("Fail", "None", "Equivalent", 10))
                self.assertTrue(h["clientConfig"]["url"].startswith("https://127.0.0.1:"))
            bundles.add(hooks[VMIM_CREATE]["clientConfig"]["caBundle"])
            self.assertEqual(hooks[VMIM_CREATE]["rules"][0]["operations"], ["CREATE"])
        self.assertEqual(len(bundles), 2)  # each cluster's webhooks have their own CA

    def post(self, url_path, body, ctype="application/json"):
        val, _ = self.configs(self.c)
        hook = next(h for h in val["webhooks"] if h["name"] == VMIM_CREATE)["clientConfig"]
        ctx = ssl.create_default_context(cafile=ca_file("webhook-ca.crt", base64.b64decode(hook["caBundle"])))
        host, port = hook["url"].split("//")[1].split("/")[0].split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
        conn.request("POST", url_path, body=body, headers={"Content-Type": ctype})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, json.loads(data)

    def test_server_answers_malformed_reviews_400(self):
        self.assertEqual(self.post("/migration-validate-create", b"{not json")[0], 400)
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                  "request": {"uid": "u-1", "operation": "CREATE", "namespace": self.ns,
                              "object": {"metadata": {"name": "m"}, "spec": {}}}}
        self.assertEqual(self.post("/migration-validate-create", json.dumps(review), ctype="text/plain")[0], 400)
        self.assertEqual(self.post("/migration-validate-create", json.dumps({"request": {}}))[0], 400)
        self.assertEqual(self.post("/no-such-hook", json.dumps(review))[0], 404)
        code, body = self.post("/migration-validate-create", json.dumps(review))
        self.assertEqual((code, body["response"]["uid"], body["response"]["allowed"]), (200, "u-1", False))
        self.assertEqual(body["response"]["status"]["message"], "vmiName is missing")


class TestMigrationWebhooks(WebhookTest):
    def test_vmi_name_required(self):
        # (an empty string never reaches the webhook: this apiserver stores "" as null and refuses it)
        err = self.refusal(self.create_vmim, "m1", None)
        self.assert_refused(err, 422, VMIM_CREATE, "vmiName is missing")

    def test_vmi_must_exist(self):
        err = self.refusal(self.create_vmim, "m1", "nope")
        self.assert_refused(err, 400, VMIM_CREATE, 'the VMI "%s/nope" does not exist' % self.ns)

    def test_final_vmi(self):
        # the VMI CRD has no status subresource: the phase is stored with the object
        self.c.create(self.path("virtualmachineinstances"), {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "done"},
            "spec": {"domain": {"devices": {}}}, "status": {"phase": "Succeeded"}})
        err = self.refusal(self.create_vmim, "m1", "done")
        self.assert_refused(err, 400, VMIM_CREATE, "Cannot migrate VMI in finalized state.")

    def test_label_finalizer_in_flight_and_immutable_spec(self):
        # a dirty rate far above any bandwidth: should the migration engine pick
        # the VMIM up, its pre-copy cannot converge, so it stays in flight here
        self.create_vm("vm-a", annotations={"kubesim.cclm.io/dirty-rate": "64Gi"})
        self.vmi_condition("vm-a")
        first = self.create_vmim("m1", "vm-a")
        self.assertEqual(first["metadata"]["labels"], {"kubevirt.io/vmi-name": "vm-a"})
        self.assertEqual(first["metadata"]["finalizers"], ["kubevirt.io/migrationJobFinalize"])
        err = self.refusal(self.c.merge_patch, self.path("virtualmachineinstancemigrations", "m1"),
                           {"metadata": {"labels": {"kubevirt.io/vmi-name": "other"}}})
        self.assert_refused(err, 422, "migration-update-validator.kubevirt.io",
                            "selector label can't be modified on an in-flight migration")
        err = self.refusal(self.create_vmim, "m2", "vm-a")
        self.assert_refused(err, 400, VMIM_CREATE, "in-flight migration detected. Active migration job (%s) is "
                            "currently already in progress for VMI vm-a." % first["metadata"]["uid"])
        listed = self.c.get(self.path("virtualmachineinstancemigrations"),
                            query={"labelSelector": "kubevirt.io/vmi-name=vm-a"})["items"]
        self.assertEqual([m["metadata"]["name"] for m in listed], ["m1"])  # how a tool finds a VMI's VMIMs
        err = self.refusal(self.c.merge_patch, self.path("virtualmachineinstancemigrations", "m1"),
                           {"spec": {"addedNodeSelector": {"zone": "b"}}})
        self.assert_refused(err, 422, "migration-update-validator.kubevirt.io",
                            "update of Migration object's spec is restricted")
        # metadata otherwise stays writable (here: the finalizer goes)
        self.c.merge_patch(self.path("virtualmachineinstancemigrations", "m1"), {"metadata": {"finalizers": []}})

    def test_not_live_migratable(self):
        self.create_vm("vm-br", interfaces=[{"name": "default", "bridge": {}}])
        vmi = self.vmi_condition("vm-br", "InterfaceNotLiveMigratable")
        msg = next(x["message"] for x in vmi["status"]["conditions"] if x["type"] == "LiveMigratable")
        for spec in ({}, {"sendTo": {"migrationID": "x", "connectURL": "10.0.0.1:9185"}}):
            err = self.refusal(self.create_vmim, "m1", "vm-br", **spec)
            self.assert_refused(err, 400, VMIM_CREATE,
                                "Cannot migrate VMI, Reason: InterfaceNotLiveMigratable, Message: " + msg)

    def test_rwo_disks_block_only_in_cluster_migrations(self):
        self.c.create("/api/v1/namespaces/%s/persistentvolumeclaims" % self.ns, {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "rwo-disk"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
        self.create_vm("vm-rwo", volumes=[{"name": "root", "persistentVolumeClaim": {"claimName": "rwo-disk"}}])
        vmi = self.vmi_condition("vm-rwo", "DisksNotLiveMigratable")
        msg = next(x["message"] for x in vmi["status"]["conditions"] if x["type"] == "LiveMigratable")
        err = self.refusal(self.create_vmim, "m1", "vm-rwo")
        self.assert_refused(err, 400, VMIM_CREATE, "Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: " + msg)
        # decentralized: the disks are copied; here the gate (off) is what refuses
        err = self.refusal(self.create_vmim, "m1", "vm-rwo",
                           sendTo={"migrationID": "mig-1", "connectURL": "10.0.0.1:9185"})
        self.assert_refused(err, 400, VMIM_CREATE,
                            "DecentralizedLiveMigration feature gate is not enabled in kubevirt resource")

    def test_priority_is_not_for_users(self):
        self.create_vm("vm-p")
        self.vmi_condition("vm-p")
        err = self.refusal(self.create_vmim, "m1", "vm-p", priority="system-critical")
        self.assert_refused(err, 400, VMIM_CREATE,
                            "MigrationPriorityQueue feature gate is not enabled in kubevirt resource")


class TestVmWebhooks(WebhookTest):
    context = "target"

    def test_run_strategy_refusals(self):
        cases = [(dict(running=True), "Running and RunStrategy are mutually exclusive. Note that Running is "
                                      "deprecated, please use RunStrategy instead"),
                 (dict(run_strategy="Sometimes"), "Invalid RunStrategy (Sometimes)"),
                 (dict(run_strategy=None), "RunStrategy must be specified"),
                 (dict(run_strategy="WaitAsReceiver"), "Invalid RunStrategy (WaitAsReceiver), "
                  "DecentralizedLiveMigration feature gate is not enabled in kubevirt resource")]
        for kw, message in cases:
            err = self.refusal(self.create_vm, "vm-bad", **kw)
            self.assert_refused(err, 422, VM_VALIDATOR, message)
            self.assertEqual(err.status["reason"], "Invalid")
        self.assertEqual(self.c.get(self.path("virtualmachines"))["items"], [])

    def test_updates_are_validated(self):
        self.create_vm("vm-h", run_strategy="Halted")
        err = self.refusal(self.c.merge_patch, self.path("virtualmachines", "vm-h"),
                           {"spec": {"runStrategy": "WaitAsReceiver"}})
        self.assert_refused(err, 422, VM_VALIDATOR, "Invalid RunStrategy (WaitAsReceiver), "
                            "DecentralizedLiveMigration feature gate is not enabled in kubevirt resource")
        self.c.merge_patch(self.path("virtualmachines", "vm-h"), {"spec": {"runStrategy": "Manual"}})

    def test_instancetype_and_preference_must_exist(self):
        it = self.path("virtualmachineinstancetypes", group="instancetype.kubevirt.io", version="v1beta1")
        self.c.create(it, {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineInstancetype",
                           "metadata": {"name": "small"}, "spec": {"cpu": {"guest": 1}, "memory": {"guest": "1Gi"}}})
        err = self.refusal(self.create_vm, "vm-i", run_strategy="Halted", instancetype={"name": "small"})
        self.assert_refused(err, 422, VM_VALIDATOR, 'Failure to find instancetype: virtualmachineclusterinstancetypes'
                            '.instancetype.kubevirt.io "small" not found')
        self.assertEqual(err.status["details"]["causes"][0]["field"], "spec.instancetype")
        err = self.refusal(self.create_vm, "vm-i", run_strategy="Halted",
                           preference={"name": "rhel.9", "kind": "VirtualMachinePreference"})
        self.assert_refused(err, 422, VM_VALIDATOR, 'Failure to find preference: virtualmachinepreferences'
                            '.instancetype.kubevirt.io "rhel.9" not found')
        vm = self.create_vm("vm-i", run_strategy="Halted",
                            instancetype={"name": "small", "kind": "VirtualMachineInstancetype"})
        self.assertEqual(vm["spec"]["instancetype"]["kind"], "VirtualMachineInstancetype")
        # a matcher without a name: the mutator refuses, as upstream's does
        err = self.refusal(self.create_vm, "vm-j", run_strategy="Halted", preference={"kind": "VirtualMachinePreference"})
        self.assert_refused(err, 422, "virtualmachines-mutator.kubevirt.io",
                            "Either Name or InferFromVolume should be provided within the PreferenceMatcher")

    def test_firmware_defaults(self):
        vm = self.create_vm("vm-fw")
        fw = vm["spec"]["template"]["spec"]["domain"]["firmware"]
        want = str(uuid.uuid5(FIRMWARE_NS, "vm-fw"))
        self.assertEqual(fw, {"uuid": want, "serial": want})
        self.assertEqual(self.c.get(self.path("virtualmachines", "vm-fw"))["spec"]["template"]["spec"]["domain"]
                         ["firmware"], fw)  # stored, not only answered
        vmi = wait_for(lambda: self.c.get(self.path("virtualmachineinstances", "vm-fw"), ok404=True), what="VMI")
        self.assertEqual(vmi["spec"]["domain"]["firmware"]["uuid"], want)  # carried into the VMI
        given = vm_manifest("vm-own", run_strategy="Halted")
        given["spec"]["template"]["spec"]["domain"]["firmware"] = {"uuid": "5d307ca9-b3ef-428c-8861-06e72d69f223"}
        own = self.c.create(self.path("virtualmachines"), given)["spec"]["template"]["spec"]["domain"]["firmware"]
        self.assertEqual(own, {"uuid": "5d307ca9-b3ef-428c-8861-06e72d69f223",
                               "serial": str(uuid.uuid5(FIRMWARE_NS, "vm-own"))})


class TestWithDecentralizedGate(WebhookTest):
    """The gate turned on through HCO (and off again: other tests share these clusters)."""

    context = "target"

    def setUp(self):
        super().setUp()
        self.c.merge_patch(HCO, {"spec": {"featureGates": {"decentralizedLiveMigration": True}}})
        wait_for(lambda: "DecentralizedLiveMigration" in gates(self.c), what="the gate in the KubeVirt CR")

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.c.merge_patch(HCO, {"spec": {"featureGates": {"decentralizedLiveMigration": False}}})
            wait_for(lambda: "DecentralizedLiveMigration" not in gates(self.c), what="the gate gone")

    def test_receiver_vm_and_decentralized_migrations(self):
        self.create_vm("vm-recv", run_strategy="WaitAsReceiver")
        vmi = wait_for(lambda: (lambda v: v if v and (v.get("status") or {}).get("phase") == "WaitingForSync"
                                else None)(self.c.get(self.path("virtualmachineinstances", "vm-recv"), ok404=True)),
                       what="receiver VMI WaitingForSync")
        self.assertEqual(vmi["metadata"]["annotations"]["kubevirt.io/create-migration-target"], "true")
        target = self.create_vmim("recv", "vm-recv", receive={"migrationID": "mig-1"})
        self.assertEqual(target["metadata"]["labels"]["kubevirt.io/vmi-name"], "vm-recv")
        self.assertIn("kubevirt.io/migrationJobFinalize", target["metadata"]["finalizers"])

    def test_rwo_source_and_migration_ids(self):
        self.c.create("/api/v1/namespaces/%s/persistentvolumeclaims" % self.ns, {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "rwo-disk"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
        self.create_vm("vm-rwo", volumes=[{"name": "root", "persistentVolumeClaim": {"claimName": "rwo-disk"}}])
        self.create_vm("vm-ok")
        self.vmi_condition("vm-rwo", "DisksNotLiveMigratable")
        self.vmi_condition("vm-ok")
        err = self.refusal(self.create_vmim, "both", "vm-ok", sendTo={"migrationID": "a", "connectURL": "10.0.0.1:9185"},
                           receive={"migrationID": "b"})
        self.assert_refused(err, 400, VMIM_CREATE,
                            "spec.sendTo.migrationID must match spec.receive.migrationID when both are set")
        src = self.create_vmim("send", "vm-rwo", sendTo={"migrationID": "mig-2", "connectURL": "10.0.0.1:9185"})
        self.assertEqual(src["spec"]["sendTo"]["migrationID"], "mig-2")


if __name__ == "__main__":
    unittest.main()
