"""Unit tests of the migration simulation's pure parts: the fabric (who
reaches whom), the pre-copy model, the invariant monitor's rules, and the
engine's workers (which VMIMs go together, the pool, the queue limits)."""

import json
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import cache, fabric, migration, monitor, physics, workers  # noqa: E402

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


def vmim(name, vmi_name, ts, send=None, receive=None, phase="", ns="vms"):
    spec = {"vmiName": vmi_name}
    if send:
        spec["sendTo"] = {"migrationID": send, "connectURL": "10.0.0.1:9185"}
    if receive:
        spec["receive"] = {"migrationID": receive}
    return {"metadata": {"namespace": ns, "name": name, "uid": "uid-" + name, "creationTimestamp": ts,
                         "resourceVersion": "1"},
            "spec": spec, "status": {"phase": phase}}


class TestWorkerGroups(unittest.TestCase):
    def names(self, views):
        return [[m["metadata"]["name"] for _, m in members]
                for _, members in workers.groups(views, migration.migration_id)]

    def test_both_halves_of_a_migration_are_one_group(self):
        a = FakeView("a", vmims=[vmim("x-out", "x", "2026-01-01T00:00:02Z", send="m1")])
        b = FakeView("b", vmims=[vmim("x-in", "x-copy", "2026-01-01T00:00:01Z", receive="m1")])
        self.assertEqual(self.names([a, b]), [["x-out", "x-in"]])  # cluster by cluster, as the single thread went

    def test_vmims_of_one_vmi_go_together_and_others_apart(self):
        a = FakeView("a", vmims=[vmim("old", "x", "2026-01-01T00:00:01Z", send="m0", phase="Failed"),
                                 vmim("new", "x", "2026-01-01T00:00:03Z", send="m1"),
                                 vmim("other", "y", "2026-01-01T00:00:02Z", send="m2")])
        b = FakeView("b", vmims=[vmim("new-in", "x", "2026-01-01T00:00:03Z", receive="m1"),
                                 vmim("same-name-other-cluster", "y", "2026-01-01T00:00:04Z")])
        self.assertEqual(self.names([a, b]), [["old", "new", "new-in"], ["other"], ["same-name-other-cluster"]])


class TestWorkerPool(unittest.TestCase):
    def setUp(self):
        self.stop, self.wake = threading.Event(), threading.Event()

    def tearDown(self):
        self.stop.set()

    def test_groups_apart_run_at_once(self):
        both = threading.Barrier(2, timeout=5)
        met = []
        pool = workers.Pool(2, lambda v, m: met.append(both.wait()), self.stop, self.wake).start()
        self.assertTrue(pool.offer({"a"}, [(None, None)]))
        self.assertTrue(pool.offer({"b"}, [(None, None)]))
        deadline = time.monotonic() + 5
        while len(met) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(sorted(met), [0, 1])  # neither waited for the other

    def test_a_held_link_turns_a_group_away_and_its_release_wakes(self):
        go = threading.Event()
        pool = workers.Pool(2, lambda v, m: go.wait(5), self.stop, self.wake).start()
        self.assertTrue(pool.offer({"vmi-a", "migration-1"}, [(None, None)]))
        self.assertFalse(pool.offer({"migration-1", "vmi-b"}, [(None, None)]))
        self.assertFalse(self.wake.is_set())
        go.set()
        self.assertTrue(self.wake.wait(5))
        deadline = time.monotonic() + 5
        while not pool.idle() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertTrue(pool.offer({"migration-1", "vmi-b"}, [(None, None)]))


class TestKeyQueue(unittest.TestCase):
    def test_a_key_is_done_once_per_wait_never_twice_at_once_and_again_after(self):
        stop = threading.Event()
        self.addCleanup(stop.set)
        go, started = threading.Event(), threading.Event()
        done, lock, busy = [], threading.Lock(), set()

        def handle(key, work):
            with lock:
                self.assertNotIn(key, busy)  # never on two workers at once
                busy.add(key)
            if key == "a" and not done:
                started.set()
                go.wait(5)
            with lock:
                busy.discard(key)
                done.append((key, dict(work)))
        q = workers.KeyQueue(3, handle, stop, "test")
        q.add("a", {"vm": 0})
        q.start()
        self.assertTrue(started.wait(5))
        # added while a worker has it: done again afterwards, once, with the merged work
        q.add("a", {"vmi": 0})
        q.add("a", {"vmi": 3, "vm": 1})
        q.add("b", {"vm": 0})
        go.set()
        deadline = time.monotonic() + 5
        while len(done) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        self.assertEqual(sorted(k for k, _ in done), ["a", "a", "b"])
        self.assertEqual([w for k, w in done if k == "a"], [{"vm": 0}, {"vmi": 3, "vm": 1}])


class SlowApi:
    """Merge patches of VMIM status that take 50 ms, as a loaded API server does."""

    def __init__(self, view):
        self.view = view

    def merge_patch(self, path, patch, **kw):
        time.sleep(0.05)
        parts = path.split("/")
        obj = json.loads(json.dumps(self.view.vmims.get(parts[-4], parts[-2])))
        obj["status"].update(patch["status"])
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
        return obj

    def create(self, path, obj, **kw):
        return obj


class TestEnginePlaces(unittest.TestCase):
    def test_two_workers_never_take_the_last_place(self):
        class View:
            name = "b"
            vmims, launchers = cache.Store(), cache.Store()

            def migrations_config(self):
                return {"parallelMigrationsPerCluster": 1}
        v = View()
        v.c = SlowApi(v)
        ms = [vmim("in-%d" % i, "x%d" % i, "2026-01-01T00:00:0%dZ" % i, receive="m%d" % i, phase="Pending")
              for i in range(2)]
        for m in ms:
            v.vmims.apply("ADDED", m)
        engine = migration.Engine.__new__(migration.Engine)
        engine.lock, engine.faults, engine.places = threading.Lock(), [], {"b": threading.Lock()}
        vmis = [{"metadata": {"namespace": "vms", "name": m["spec"]["vmiName"], "uid": "v"}, "spec": {}} for m in ms]
        threads = [threading.Thread(target=engine.step_target, args=(v, m, vmi, {})) for m, vmi in zip(ms, vmis)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        self.assertEqual(sorted(migration.phase(m) for m in v.vmims.items()), ["Pending", "Scheduling"])


class TestPublishedRates(unittest.TestCase):
    def test_rates_are_per_wall_second_under_time_scale(self):
        from simlib import metrics
        store = metrics.Store()

        class Cluster:
            pass
        Cluster.metrics = store

        class View:
            cluster = Cluster
        engine = migration.Engine.__new__(migration.Engine)
        engine.time_scale = 5.0
        t = physics.Transfer(GiB, 0, 16e6)
        t.step(1.0, 100e6)  # one simulated second at 100 MB/s
        engine.publish(View, "vms", "a", "n1", t)
        got = {s.name: s.value for s in store.series()}
        self.assertEqual(got["kubevirt_vmi_migration_memory_transfer_rate_bytes"], 500e6)
        self.assertEqual(got["kubevirt_vmi_migration_dirty_memory_rate_bytes"], 80e6)
        self.assertEqual(got["kubevirt_vmi_migration_data_processed_bytes"], 100e6)  # bytes stay bytes


if __name__ == "__main__":
    unittest.main()
