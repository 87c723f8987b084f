"""Unit tests of the migration simulation's pure parts: the fabric (who
reaches whom), the pre-copy model, and the invariant monitor's rules."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import fabric, monitor, physics  # noqa: E402

GiB = physics.GiB
NICS = [{"name": "ens4", "mtu": 1500, "bridges": ["br-2001"]}]


def nad(master="ens4.2001", rng="192.168.201.0/24", kind="macvlan", **extra):
    import json
    cfg = {"cniVersion": "0.3.1", "type": kind, "ipam": {"type": "whereabouts", "range": rng}}
    if kind == "bridge":
        cfg["bridge"] = master
    else:
        cfg["master"] = master
    if "gateway" in extra:
        cfg["ipam"]["gateway"] = extra.pop("gateway")
    cfg.update(extra)
    return json.dumps(cfg)


def lab(**kw):
    doc = {"segments": [{"name": "a", "vlan": 2001, "attach": ["s/ens4", "t/ens4"], "mtu": 1500}]}
    doc.update(kw)
    return fabric.Fabric(fabric.normalize(doc, [{"name": "s"}, {"name": "t"}]))


class TestFabric(unittest.TestCase):
    def ep(self, cluster, ip, cfg=None, nics=NICS):
        return fabric.attachment_endpoint(cluster, "n", ip, cfg or nad(), nics)

    def test_same_vlan_is_l2(self):
        p = lab().path(self.ep("s", "192.168.201.1"), self.ep("t", "192.168.201.130"))
        self.assertTrue(p["ok"])
        self.assertEqual((p["kind"], p["mtu"], p["link"]), ("l2", 1500, "a"))

    def test_untagged_attachment_misses_the_vlan(self):
        p = lab().path(self.ep("s", "192.168.201.1"), self.ep("t", "192.168.201.130", nad(master="ens4")))
        self.assertFalse(p["ok"])
        self.assertEqual(p["kind"], "no-arp")
        self.assertIn("no route to host", p["error"])

    def test_bridge_with_vlan_resolves_through_the_nic(self):
        e = self.ep("t", "192.168.201.130", nad(master="br-2001", kind="bridge", vlan=2001))
        self.assertEqual((e["nic"], e["vlan"]), ("ens4", 2001))
        self.assertTrue(lab().path(self.ep("s", "192.168.201.1"), e)["ok"])

    def test_routed_segments_need_other_subnets_and_a_gateway(self):
        doc = {"segments": [{"name": "a", "vlan": 2001, "attach": ["s/ens4"]},
                            {"name": "b", "vlan": 2002, "attach": ["t/ens4"]}], "routes": [["a", "b"]]}
        f = fabric.Fabric(fabric.normalize(doc, [{"name": "s"}, {"name": "t"}]))
        same_subnet = f.path(self.ep("s", "192.168.201.1"),
                             self.ep("t", "192.168.201.130", nad(master="ens4.2002")))
        self.assertEqual(same_subnet["kind"], "no-arp")
        a = self.ep("s", "192.168.201.1", nad(rng="192.168.201.0/24", gateway="192.168.201.254"))
        b = self.ep("t", "192.168.202.1", nad(master="ens4.2002", rng="192.168.202.0/24",
                                              gateway="192.168.202.254"))
        p = f.path(a, b)
        self.assertTrue(p["ok"])
        self.assertEqual(p["kind"], "routed")

    def test_cut_and_slow(self):
        f = lab()
        a, b = self.ep("s", "192.168.201.1"), self.ep("t", "192.168.201.130")
        f.slow["a"] = 1e6
        self.assertEqual(f.path(a, b)["bandwidth"], 1e6)
        f.cut.add("a")
        self.assertFalse(f.path(a, b)["ok"])
        self.assertIn("i/o timeout", f.path(a, b)["error"])

    def test_nad_mtu_above_the_path_breaks_it(self):
        a = self.ep("s", "192.168.201.1", nad(mtu=9000))
        b = self.ep("t", "192.168.201.130", nad(mtu=9000))
        self.assertEqual(lab().path(a, b)["mtu"], -1)

    def test_pod_networks_are_isolated_unless_routed(self):
        a = {"cluster": "s", "ip": "10.128.0.5", "pod": True}
        b = {"cluster": "t", "ip": "10.132.0.5", "pod": True}
        self.assertFalse(lab().path(a, b)["ok"])
        self.assertTrue(lab(podNetworks="routed").path(a, b)["ok"])
        self.assertTrue(lab().path(a, dict(a, ip="10.128.1.9"))["ok"])

    def test_bad_fabric_is_named(self):
        with self.assertRaisesRegex(fabric.FabricError, "no cluster 'x'"):
            fabric.normalize({"segments": [{"name": "a", "attach": ["x/ens4"]}]}, [{"name": "s"}])
        with self.assertRaisesRegex(fabric.FabricError, "pair of segment names"):
            fabric.normalize({"segments": [{"name": "a"}], "routes": [["a", "b"]]}, [{"name": "s"}])
        self.assertEqual(fabric.parse_bandwidth("10Gbit"), 1.25e9)
        self.assertEqual(fabric.parse_bandwidth("1Gi"), GiB)


class TestPrecopy(unittest.TestCase):
    def test_disk_then_memory_converges(self):
        res, secs, downtime, rounds, _ = physics.estimate(2 * GiB, 10 * GiB, 16 * 2 ** 20, 1.25e9)
        self.assertEqual(res, "completed")
        self.assertAlmostEqual(secs, 12 * GiB / 1.25e9, delta=0.5)
        self.assertLess(downtime, 0.3)

    def test_dirty_faster_than_link_fails_without_help(self):
        res, secs, _, _, why = physics.estimate(2 * GiB, 0, 2e9, 1.25e9)
        self.assertEqual(res, "failed")
        self.assertIn("stuck for 150 sec", why)

    def test_completion_timeout_scales_with_size(self):
        res, secs, _, _, why = physics.estimate(2 * GiB, 0, 2e9, 1.25e9, completion_timeout_per_gib=20)
        self.assertEqual(res, "failed")
        self.assertIn("not completed after 40 sec", why)

    def test_auto_converge_and_post_copy_finish(self):
        self.assertEqual(physics.estimate(2 * GiB, 0, 2e9, 1.25e9, allow_auto_converge=True)[0], "completed")
        t = physics.Transfer(2 * GiB, 0, 2e9, allow_post_copy=True)
        while t.result is None:
            t.step(0.5, 1.25e9)
        self.assertEqual((t.result, t.mode), ("completed", "PostCopy"))

    def test_coarse_slices_same_as_fine(self):
        # a loaded simulator ticks seldom: 8Gi dirtying 64Mi/s on a quarter
        # of 10Gbit converges whether it is advanced in 0.01 s or 4 s slices
        fine = physics.Transfer(8 * GiB, 0, 64 * 2 ** 20)
        coarse = physics.Transfer(8 * GiB, 0, 64 * 2 ** 20)
        while fine.result is None:
            fine.step(0.01, 1.25e9 / 4)
        while coarse.result is None:
            coarse.step(4.0, 1.25e9 / 4)
        self.assertEqual((fine.result, coarse.result), ("completed", "completed"))
        self.assertEqual(fine.round, coarse.round)
        self.assertAlmostEqual(fine.processed, coarse.processed, delta=0.01 * fine.processed)
        self.assertLessEqual(coarse.elapsed - fine.elapsed, 4.0)
        # one slice longer than the whole migration finishes it
        t = physics.Transfer(GiB, 0, 4 * 2 ** 20)
        self.assertEqual(t.step(60.0, 1.25e9), "completed")
        self.assertAlmostEqual(t.processed, GiB * (1 + 4 * 2 ** 20 / 1.25e9), delta=GiB * 0.01)

    def test_bandwidth_cap_and_metrics(self):
        t = physics.Transfer(GiB, 0, 0, bandwidth_cap=100e6)
        t.step(1.0, 1.25e9)
        snap = t.snapshot()
        self.assertEqual(snap["kubevirt_vmi_migration_memory_transfer_rate_bytes"], 100e6)
        self.assertEqual(snap["kubevirt_vmi_migration_data_processed_bytes"], 100e6)
        self.assertEqual(snap["kubevirt_vmi_migration_data_bytes_total"], GiB)


class FakeCache:
    def __init__(self, objs):
        self.objs = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs}

    def items(self):
        return list(self.objs.values())

    def get(self, ns, name):
        return self.objs.get((ns, name))


class FakeView:
    def __init__(self, name, vmis=(), vmims=()):
        self.name, self.vmis, self.vmims = name, FakeCache(vmis), FakeCache(vmims)


def vmi(name, phase, uid="u1", fw="fw-1", ms=None, ns="vms"):
    return {"metadata": {"namespace": ns, "name": name, "uid": uid},
            "spec": {"domain": {"firmware": {"uuid": fw}}},
            "status": {"phase": phase, "migrationState": ms or {}}}


class TestMonitor(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.m = monitor.Monitor(os.path.join(self.tmp.name, "violations.jsonl"))

    def tearDown(self):
        self.tmp.cleanup()

    def kinds(self, views):
        return sorted(k[0] for k, _ in self.m.conditions(views))

    def test_two_running_outside_hand_over(self):
        views = [FakeView("s", [vmi("a", "Running")]), FakeView("t", [vmi("a", "Running", uid="u2")])]
        self.assertEqual(self.kinds(views), ["two-running"])
        done = {"completed": True, "endTimestamp": monitor.now_rfc3339()}
        views[1] = FakeView("t", [vmi("a", "Running", uid="u2", ms=done)])
        self.assertEqual(self.kinds(views), [])

    def test_one_legacy_uuid_in_two_namespaces_is_two_vms(self):
        # KubeVirt's legacy firmware UUID comes from the name only
        views = [FakeView("s", [vmi("a", "Running"), vmi("a", "Running", uid="u3", ns="other")]),
                 FakeView("t", [vmi("a", "Running", uid="u2", ns="moved")])]
        self.assertEqual(self.kinds(views), [])
        send = {"metadata": {"namespace": "other", "name": "out", "uid": "m1"},
                "spec": {"vmiName": "a", "sendTo": {"migrationID": "x"}}, "status": {"phase": "Running"}}
        recv = {"metadata": {"namespace": "moved", "name": "in", "uid": "m2"},
                "spec": {"vmiName": "a", "receive": {"migrationID": "x"}}, "status": {"phase": "Running"}}
        views = [FakeView("s", views[0].vmis.items(), [send]), FakeView("t", views[1].vmis.items(), [recv])]
        self.assertEqual(self.kinds(views), ["two-running"])
        # the link outlives the VMIMs (deleted after the migration)
        views = [FakeView("s", views[0].vmis.items()), FakeView("t", views[1].vmis.items())]
        self.assertEqual(self.kinds(views), ["two-running"])

    def test_source_stopped_without_a_running_target(self):
        src = {"sourceState": {"virtualMachineInstanceUID": "u1"}, "targetState": {"syncAddress": "x:9185"}}
        views = [FakeView("s", [vmi("a", "Running", ms=src)]), FakeView("t", [])]
        self.assertEqual(self.kinds(views), [])
        views[0] = FakeView("s", [vmi("a", "Succeeded", ms=src)])
        self.assertEqual(self.kinds(views), ["source-stopped"])
        views[1] = FakeView("t", [vmi("a", "Running", uid="u2")])
        self.assertEqual(self.kinds(views), [])

    def test_vmim_left_after_both_sides_ended(self):
        m = {"metadata": {"namespace": "vms", "name": "m", "uid": "m1"},
             "spec": {"vmiName": "a", "receive": {"migrationID": "x"}}, "status": {"phase": "Running"}}
        views = [FakeView("t", [vmi("a", "Failed")], [m]), FakeView("s", [vmi("a", "Running")])]
        self.assertEqual(self.kinds(views), ["vmim-left"])
        peer = {"metadata": {"namespace": "vms", "name": "p", "uid": "p1"},
                "spec": {"vmiName": "a", "sendTo": {"migrationID": "x"}}, "status": {"phase": "Running"}}
        views[1] = FakeView("s", [vmi("a", "Running")], [peer])
        self.assertEqual(self.kinds(views), [])

    def test_recorded_once_after_grace(self):
        views = [FakeView("s", [vmi("a", "Running")]), FakeView("t", [vmi("a", "Running", uid="u2")])]
        monitor.GRACE, old = 0.0, monitor.GRACE
        try:
            self.m.check(views)
            self.m.last = 0
            self.m.check(views)
        finally:
            monitor.GRACE = old
        self.assertEqual([v["kind"] for v in self.m.view()], ["two-running"])
        with open(self.m.path) as f:
            self.assertEqual(len(f.readlines()), 1)


if __name__ == "__main__":
    unittest.main()
