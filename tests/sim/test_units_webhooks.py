"""Unit tests of the simulated KubeVirt admission webhooks' rules
(simlib/webhooks.py) on plain dicts: no cluster needed."""

import base64
import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import webhooks as wh  # noqa: E402

GATE = "DecentralizedLiveMigration"


def vmim(vmi="vm1", ns="ns1", **spec):
    return {"metadata": {"name": "mig", "namespace": ns}, "spec": dict(spec, vmiName=vmi)}


def vmi(phase="Running", reason=None, message="why"):
    conds = [{"type": "Ready", "status": "True"}]
    if reason:
        conds.append({"type": "LiveMigratable", "status": "False", "reason": reason, "message": message})
    else:
        conds.append({"type": "LiveMigratable", "status": "True"})
    return {"metadata": {"name": "vm1", "namespace": "ns1"}, "status": {"phase": phase, "conditions": conds}}


def create(mig, the_vmi=None, migrations=(), gates=(), user="admin"):
    wh.validate_migration_create(mig, user, set(gates), lambda ns, n: the_vmi, lambda ns, n: list(migrations))


class TestMigrationCreate(unittest.TestCase):
    def refused(self, *args, **kw):
        with self.assertRaises(wh.Denied) as cm:
            create(*args, **kw)
        return cm.exception.status

    def test_vmi_name_required_is_invalid(self):
        st = self.refused(vmim(vmi=""), vmi())
        self.assertEqual((st["code"], st["reason"], st["message"]), (422, "Invalid", "vmiName is missing"))
        self.assertEqual(st["details"]["causes"][0]["field"], "spec.vmiName")

    def test_plain_migration_of_a_running_vmi_is_allowed(self):
        create(vmim(), vmi())

    def test_missing_vmi(self):
        st = self.refused(vmim(vmi="nope"), None)
        self.assertEqual((st["code"], st["message"]), (400, 'the VMI "ns1/nope" does not exist'))

    def test_final_vmi(self):
        for phase in ("Succeeded", "Failed"):
            self.assertEqual(self.refused(vmim(), vmi(phase))["message"], "Cannot migrate VMI in finalized state.")

    def test_not_migratable(self):
        st = self.refused(vmim(), vmi(reason="InterfaceNotLiveMigratable", message="bridge"))
        self.assertEqual(st["message"], "Cannot migrate VMI, Reason: InterfaceNotLiveMigratable, Message: bridge")

    def test_disks_not_migratable_only_blocks_non_decentralized(self):
        rwo = vmi(reason="DisksNotLiveMigratable", message="PVC x is not shared")
        self.assertIn("DisksNotLiveMigratable", self.refused(vmim(), rwo)["message"])
        create(vmim(sendTo={"migrationID": "m", "connectURL": "1.2.3.4:9185"}), rwo, gates=[GATE])
        create(vmim(receive={"migrationID": "m"}), rwo, gates=[GATE])
        # both set is not decentralized: the disks block it
        both = vmim(sendTo={"migrationID": "m", "connectURL": "a:1"}, receive={"migrationID": "m"})
        self.assertIn("DisksNotLiveMigratable", self.refused(both, rwo, gates=[GATE])["message"])
        # any other reason blocks a decentralized one too
        br = vmi(reason="InterfaceNotLiveMigratable")
        self.assertIn("InterfaceNotLiveMigratable", self.refused(vmim(receive={"migrationID": "m"}), br,
                                                                 gates=[GATE])["message"])

    def test_in_flight_migration(self):
        other = {"metadata": {"uid": "1234-abcd"}, "spec": {"vmiName": "vm1"}, "status": {"phase": "Running"}}
        st = self.refused(vmim(), vmi(), migrations=[other])
        self.assertEqual(st["message"], "in-flight migration detected. Active migration job (1234-abcd) is currently "
                                        "already in progress for VMI vm1.")
        no_phase = {"metadata": {"uid": "u2"}, "spec": {"vmiName": "vm1"}}
        self.assertIn("(u2)", self.refused(vmim(), vmi(), migrations=[no_phase])["message"])
        done = [dict(other, status={"phase": p}) for p in ("Succeeded", "Failed")]
        create(vmim(), vmi(), migrations=done)

    def test_decentralized_needs_the_gate(self):
        for spec in ({"sendTo": {"migrationID": "m", "connectURL": "a:1"}}, {"receive": {"migrationID": "m"}}):
            st = self.refused(vmim(**spec), vmi())
            self.assertEqual(st["message"], "DecentralizedLiveMigration feature gate is not enabled in kubevirt resource")
            create(vmim(**spec), vmi(), gates=[GATE])

    def test_both_set_need_the_same_id(self):
        both = vmim(sendTo={"migrationID": "m1", "connectURL": "a:1"}, receive={"migrationID": "m2"})
        self.assertEqual(self.refused(both, vmi(), gates=[GATE])["message"],
                         "spec.sendTo.migrationID must match spec.receive.migrationID when both are set")
        both["spec"]["receive"]["migrationID"] = "m1"
        create(both, vmi(), gates=[GATE])

    def test_priority_only_from_virt_controller(self):
        mig = vmim(priority="system-critical")
        self.assertEqual(self.refused(mig, vmi(), user=wh.CONTROLLER_SA)["message"],
                         "MigrationPriorityQueue feature gate is not enabled in kubevirt resource")
        self.assertEqual(self.refused(mig, vmi(), gates=["MigrationPriorityQueue"], user="admin")["message"],
                         "Migration priority queue, only virt-controller is allowed to set priority field")
        create(mig, vmi(), gates=["MigrationPriorityQueue"], user="system:serviceaccount:openshift-cnv:kubevirt-controller")

    def test_check_order_vmi_before_conflict_before_gate(self):
        other = {"metadata": {"uid": "u"}, "spec": {"vmiName": "vm1"}}
        st = self.refused(vmim(receive={"migrationID": "m"}), None, migrations=[other])
        self.assertIn("does not exist", st["message"])
        st = self.refused(vmim(receive={"migrationID": "m"}), vmi(), migrations=[other])
        self.assertIn("in-flight", st["message"])


class TestMigrationUpdateAndMutation(unittest.TestCase):
    def mig(self, labels=None, phase="", spec=None):
        m = {"metadata": {"name": "m"}, "spec": spec or {"vmiName": "vm1"}, "status": {"phase": phase}}
        if labels is not None:
            m["metadata"]["labels"] = labels
        return m

    def test_spec_is_immutable(self):
        with self.assertRaises(wh.Denied) as cm:
            wh.validate_migration_update(self.mig(spec={"vmiName": "vm2"}), self.mig())
        self.assertEqual((cm.exception.status["code"], cm.exception.status["message"]),
                         (422, "update of Migration object's spec is restricted"))
        wh.validate_migration_update(self.mig(labels={"x": "y"}), self.mig())  # metadata may change

    def test_selector_label_of_in_flight_migration(self):
        old = self.mig(labels={wh.SELECTOR_LABEL: "vm1"})
        with self.assertRaises(wh.Denied) as cm:
            wh.validate_migration_update(self.mig(), old)
        self.assertEqual(cm.exception.status["message"], "selector label can't be removed from an in-flight migration")
        with self.assertRaises(wh.Denied) as cm:
            wh.validate_migration_update(self.mig(labels={wh.SELECTOR_LABEL: "vm9"}), old)
        self.assertEqual(cm.exception.status["message"], "selector label can't be modified on an in-flight migration")
        wh.validate_migration_update(self.mig(phase="Succeeded"), dict(old, status={"phase": "Succeeded"}))

    def test_mutation_adds_label_and_finalizer(self):
        self.assertEqual(wh.migration_patch({"metadata": {"name": "m"}, "spec": {"vmiName": "vm1"}}), [
            {"op": "add", "path": "/metadata/labels", "value": {"kubevirt.io/vmi-name": "vm1"}},
            {"op": "add", "path": "/metadata/finalizers", "value": ["kubevirt.io/migrationJobFinalize"]}])
        ops = wh.migration_patch({"metadata": {"labels": {"a": "b"}, "finalizers": ["x"]}, "spec": {"vmiName": "v"}})
        self.assertEqual(ops, [{"op": "add", "path": "/metadata/labels/kubevirt.io~1vmi-name", "value": "v"},
                               {"op": "add", "path": "/metadata/finalizers/-",
                                "value": "kubevirt.io/migrationJobFinalize"}])


def vm(name="vm1", **spec):
    spec.setdefault("template", {"spec": {"domain": {"devices": {}}}})
    return {"metadata": {"name": name, "namespace": "ns1"}, "spec": spec}


class Lookup:
    """A fake apiserver: paths that exist; others answer the NotFound text."""

    def __init__(self, *paths):
        self.paths, self.asked = set(paths), []

    def __call__(self, path):
        self.asked.append(path)
        if path not in self.paths:
            plural, name = path.rsplit("/", 2)[-2:]
            raise LookupError('%s.instancetype.kubevirt.io "%s" not found' % (plural, name))


class TestVmValidation(unittest.TestCase):
    def refused(self, the_vm, gates=(), lookup=None):
        with self.assertRaises(wh.Denied) as cm:
            wh.validate_vm(the_vm, set(gates), lookup or Lookup())
        return cm.exception.status

    def test_run_strategies(self):
        for rs in wh.RUN_STRATEGIES:
            wh.validate_vm(vm(runStrategy=rs), set(), Lookup())
        wh.validate_vm(vm(running=False), set(), Lookup())
        st = self.refused(vm(runStrategy="Sometimes"))
        self.assertEqual((st["code"], st["message"]), (422, "Invalid RunStrategy (Sometimes)"))
        self.assertEqual(st["details"]["causes"][0]["field"], "spec.runStrategy")

    def test_wait_as_receiver_needs_the_gate(self):
        st = self.refused(vm(runStrategy="WaitAsReceiver"))
        self.assertEqual(st["message"], "Invalid RunStrategy (WaitAsReceiver), DecentralizedLiveMigration feature "
                                        "gate is not enabled in kubevirt resource")
        wh.validate_vm(vm(runStrategy="WaitAsReceiver"), {GATE}, Lookup())

    def test_running_and_run_strategy(self):
        st = self.refused(vm(running=True, runStrategy="Always"))
        self.assertEqual(st["message"], "Running and RunStrategy are mutually exclusive. Note that Running is "
                                        "deprecated, please use RunStrategy instead")
        self.assertEqual(self.refused(vm())["message"], "RunStrategy must be specified")
        # causes are joined like upstream's ToAdmissionResponse
        st = self.refused(vm(running=True, runStrategy="Nope"))
        self.assertEqual(st["message"], "Running and RunStrategy are mutually exclusive. Note that Running is "
                                        "deprecated, please use RunStrategy instead, Invalid RunStrategy (Nope)")
        self.assertEqual(len(st["details"]["causes"]), 2)

    def test_missing_template(self):
        the_vm = vm(runStrategy="Always")
        del the_vm["spec"]["template"]
        self.assertEqual(self.refused(the_vm)["message"], "missing virtual machine template.")

    def test_instancetype_kinds_and_not_found(self):
        cluster = "/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes/u1.small"
        ns = "/apis/instancetype.kubevirt.io/v1beta1/namespaces/ns1/virtualmachineinstancetypes/mine"
        look = Lookup(cluster, ns)
        for kind in ("", "VirtualMachineClusterInstancetype", "virtualmachineclusterinstancetypes"):
            wh.validate_vm(vm(runStrategy="Halted", instancetype={"name": "u1.small", "kind": kind}), set(), look)
        wh.validate_vm(vm(runStrategy="Halted", instancetype={"name": "mine", "kind": "VirtualMachineInstancetype"}),
                       set(), look)
        st = self.refused(vm(runStrategy="Halted", instancetype={"name": "nope"}), lookup=look)
        self.assertEqual((st["code"], st["message"]), (422, 'Failure to find instancetype: '
                         'virtualmachineclusterinstancetypes.instancetype.kubevirt.io "nope" not found'))
        self.assertEqual(st["details"]["causes"][0], {"type": "FieldValueNotFound", "field": "spec.instancetype",
                                                      "message": st["message"]})
        st = self.refused(vm(runStrategy="Halted", instancetype={"name": "u1.small", "kind": "VirtualMachineInstancetype"}),
                          lookup=look)
        self.assertIn('virtualmachineinstancetypes.instancetype.kubevirt.io "u1.small" not found', st["message"])
        st = self.refused(vm(runStrategy="Halted", instancetype={"name": "x", "kind": "Flavor"}), lookup=look)
        self.assertEqual(st["message"], "Failure to find instancetype: got unexpected kind in InstancetypeMatcher: Flavor")

    def test_preference_not_found_and_revision(self):
        st = self.refused(vm(runStrategy="Halted", preference={"name": "rhel.9"}))
        self.assertEqual(st["message"], 'Failure to find preference: '
                                        'virtualmachineclusterpreferences.instancetype.kubevirt.io "rhel.9" not found')
        look = Lookup()
        self.refused(vm(runStrategy="Halted", preference={"name": "p", "revisionName": "rev-1"}), lookup=look)
        self.assertEqual(look.asked, ["/apis/apps/v1/namespaces/ns1/controllerrevisions/rev-1"])

    def test_instancetype_checked_before_run_strategy(self):
        st = self.refused(vm(runStrategy="Nope", instancetype={"name": "nope"}))
        self.assertTrue(st["message"].startswith("Failure to find instancetype"))

    def test_deleting_vm_is_allowed(self):
        the_vm = vm(runStrategy="Nope")
        the_vm["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        wh.validate_vm(the_vm, set(), Lookup())


class TestVmMutation(unittest.TestCase):
    def test_legacy_firmware_uuid(self):
        # uuid.NewSHA1(6a1a24a1-..., name), as KubeVirt's CalculateLegacyUUID
        self.assertEqual(wh.firmware_uuid("testvm"),
                         str(uuid.uuid5(uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895"), "testvm")))
        self.assertEqual(uuid.UUID(wh.firmware_uuid("testvm")).version, 5)
        self.assertNotEqual(wh.firmware_uuid("a"), wh.firmware_uuid("b"))

    def test_firmware_defaults(self):
        u = wh.firmware_uuid("vm1")
        self.assertEqual(wh.vm_patch(vm(runStrategy="Halted")), [
            {"op": "add", "path": "/spec/template/spec/domain/firmware", "value": {"uuid": u, "serial": u}}])
        keep = vm(runStrategy="Halted")
        keep["spec"]["template"]["spec"]["domain"]["firmware"] = {"uuid": "given", "serial": ""}
        self.assertEqual(wh.vm_patch(keep), [{"op": "add", "path": "/spec/template/spec/domain/firmware/serial",
                                              "value": u}])
        keep["spec"]["template"]["spec"]["domain"]["firmware"]["serial"] = "S1"
        self.assertEqual(wh.vm_patch(keep), [])

    def test_no_name_no_firmware_default(self):
        self.assertEqual(wh.vm_patch(vm(name="", runStrategy="Halted")), [])

    def test_matcher_kind_defaults(self):
        ops = wh.vm_patch(vm(runStrategy="Halted", instancetype={"name": "u1.small"},
                             preference={"name": "rhel.9", "kind": "VirtualMachinePreference"}))
        self.assertIn({"op": "add", "path": "/spec/instancetype/kind", "value": "virtualmachineclusterinstancetype"}, ops)
        self.assertFalse([o for o in ops if o["path"].startswith("/spec/preference")])

    def test_matcher_without_name(self):
        with self.assertRaises(wh.Denied) as cm:
            wh.vm_patch(vm(runStrategy="Halted", preference={"kind": "VirtualMachinePreference"}))
        self.assertEqual(cm.exception.status["message"],
                         "Either Name or InferFromVolume should be provided within the PreferenceMatcher")


class TestReview(unittest.TestCase):
    def review(self, **req):
        base = {"uid": "u-1", "operation": "CREATE", "object": {}}
        base.update(req)
        return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": base})

    def test_parse(self):
        api, req = wh.parse_review(self.review(), "application/json")
        self.assertEqual((api, req["uid"]), ("admission.k8s.io/v1", "u-1"))

    def test_malformed(self):
        for body, ctype in (("{", "application/json"), (self.review(), "text/plain"), ("[]", "application/json"),
                            (json.dumps({"apiVersion": "v1", "kind": "Pod"}), "application/json"),
                            (self.review(uid=""), "application/json"),
                            (self.review(object="x"), "application/json"),
                            (self.review(operation="UPDATE"), "application/json")):
            with self.assertRaises(wh.BadReview):
                wh.parse_review(body, ctype)

    def test_responses(self):
        self.assertEqual(wh.review_response("u"), {"uid": "u", "allowed": True})
        r = wh.review_response("u", patch=[{"op": "add", "path": "/a", "value": 1}])
        self.assertEqual((r["allowed"], r["patchType"]), (True, "JSONPatch"))
        self.assertEqual(json.loads(base64.b64decode(r["patch"])), [{"op": "add", "path": "/a", "value": 1}])
        r = wh.review_response("u", denied=wh.error("no"))
        self.assertEqual(r, {"uid": "u", "allowed": False, "status": {"code": 400, "message": "no", "status": "Failure"}})

    def test_configurations(self):
        val, mut = wh.configurations("https://127.0.0.1:1234", "PEM")
        self.assertEqual((val["kind"], val["metadata"]["name"], mut["kind"], mut["metadata"]["name"]),
                         ("ValidatingWebhookConfiguration", "virt-api-validator",
                          "MutatingWebhookConfiguration", "virt-api-mutator"))
        names = {h["name"]: h for h in val["webhooks"] + mut["webhooks"]}
        self.assertEqual(set(names), {"virtualmachine-validator.kubevirt.io", "migration-create-validator.kubevirt.io",
                                      "migration-update-validator.kubevirt.io", "virtualmachines-mutator.kubevirt.io",
                                      "migrations-mutator.kubevirt.io"})
        h = names["migration-create-validator.kubevirt.io"]
        self.assertEqual((h["failurePolicy"], h["sideEffects"], h["matchPolicy"], h["timeoutSeconds"],
                          h["admissionReviewVersions"], h["clientConfig"]["url"],
                          base64.b64decode(h["clientConfig"]["caBundle"])),
                         ("Fail", "None", "Equivalent", 10, ["v1", "v1beta1"],
                          "https://127.0.0.1:1234/migration-validate-create", b"PEM"))
        self.assertEqual(h["rules"][0]["operations"], ["CREATE"])
        self.assertEqual(names["virtualmachine-validator.kubevirt.io"]["rules"][0]["resources"], ["virtualmachines"])


if __name__ == "__main__":
    unittest.main()
