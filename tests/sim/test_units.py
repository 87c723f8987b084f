"""Unit tests of the simulator's pure parts: IPAM, fault rules, request
classification, scenario parsing, CRD stripping, Multus request parsing."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import crds, etcdseed, faultproxy, ipam, nodes, procs, scenario  # noqa: E402


class TestIpam(unittest.TestCase):
    def alloc_n(self, cfg, n, nad="ns/nad"):
        a = ipam.Allocator()
        return [a.allocate(nad, cfg, ("uid%d" % i, "net1"))[0] for i in range(n)]

    def test_cidr_skips_network_address(self):
        got = self.alloc_n({"type": "whereabouts", "range": "192.168.10.0/24"}, 3)
        self.assertEqual(got, ["192.168.10.1/24", "192.168.10.2/24", "192.168.10.3/24"])

    def test_range_start_end_and_exclude(self):
        cfg = {"type": "whereabouts", "range": "10.200.0.0/24", "range_start": "10.200.0.10",
               "range_end": "10.200.0.13", "exclude": ["10.200.0.11/32"]}
        got = self.alloc_n(cfg, 3)
        self.assertEqual(got, ["10.200.0.10/24", "10.200.0.12/24", "10.200.0.13/24"])
        with self.assertRaises(ipam.IpamError):
            self.alloc_n(cfg, 4)

    def test_dash_range_form(self):
        got = self.alloc_n({"type": "whereabouts", "range": "10.0.0.5-10.0.0.6/24"}, 2)
        self.assertEqual(got, ["10.0.0.5/24", "10.0.0.6/24"])

    def test_same_owner_same_address_and_release(self):
        a = ipam.Allocator()
        cfg = {"type": "whereabouts", "range": "10.1.0.0/29"}
        first = a.allocate("n", cfg, ("u1", "net1"))
        self.assertEqual(a.allocate("n", cfg, ("u1", "net1")), first)
        a.release_pod("u1")
        self.assertEqual(a.allocate("n", cfg, ("u2", "net1")), first)

    def test_two_clusters_overlap_gives_duplicates(self):
        cfg = {"type": "whereabouts", "range": "10.9.0.0/24"}
        self.assertEqual(self.alloc_n(cfg, 2), self.alloc_n(cfg, 2))

    def test_static_every_pod_gets_all_addresses(self):
        cfg = {"type": "static", "addresses": [{"address": "10.5.0.7/24"}]}
        a = ipam.Allocator()
        self.assertEqual(a.allocate("n", cfg, ("u1", "x")), ["10.5.0.7/24"])
        self.assertEqual(a.allocate("n", cfg, ("u2", "x")), ["10.5.0.7/24"])

    def test_unknown_type_and_bad_config(self):
        with self.assertRaises(ipam.IpamError):
            ipam.Pool({"type": "host-local"})
        with self.assertRaises(ipam.IpamError):
            ipam.Pool({"type": "whereabouts"})
        with self.assertRaises(ipam.IpamError):
            ipam.nad_ipam({"metadata": {"name": "x"}, "spec": {"config": "{not json"}})

    def test_nad_ipam_in_plugin_list(self):
        cfg, ip = ipam.nad_ipam({"metadata": {"name": "x"}, "spec": {"config":
                                 '{"cniVersion":"0.3.1","plugins":[{"type":"macvlan","ipam":{"type":"whereabouts",'
                                 '"range":"10.0.0.0/24"}}]}'}})
        self.assertEqual(cfg["type"], "macvlan")
        self.assertEqual(ip["range"], "10.0.0.0/24")


class TestClassify(unittest.TestCase):
    def test_verbs_and_resources(self):
        c = faultproxy.classify
        self.assertEqual(c("GET", "/api/v1/namespaces/ns1/pods/p1"), ("get", "pods", "ns1", "p1"))
        self.assertEqual(c("GET", "/api/v1/namespaces/ns1/pods?limit=5"), ("list", "pods", "ns1", ""))
        self.assertEqual(c("GET", "/api/v1/pods?watch=1&resourceVersion=5"), ("watch", "pods", "", ""))
        self.assertEqual(c("GET", "/api/v1/watch/namespaces/a/pods"), ("watch", "pods", "a", ""))
        self.assertEqual(c("POST", "/apis/kubevirt.io/v1/namespaces/a/virtualmachines"),
                         ("create", "virtualmachines", "a", ""))
        self.assertEqual(c("PATCH", "/apis/kubevirt.io/v1/namespaces/a/virtualmachines/vm/status"),
                         ("patch", "virtualmachines/status", "a", "vm"))
        self.assertEqual(c("DELETE", "/api/v1/namespaces/a/pods"), ("deletecollection", "pods", "a", ""))
        self.assertEqual(c("GET", "/api/v1/namespaces/a"), ("get", "namespaces", "", "a"))
        self.assertEqual(c("GET", "/api/v1/namespaces"), ("list", "namespaces", "", ""))
        self.assertEqual(c("GET", "/api/v1/namespaces/a/pods/p/log"), ("get", "pods/log", "a", "p"))
        self.assertEqual(c("GET", "/version")[1], "")


class TestFaults(unittest.TestCase):
    def test_rules_match_and_count(self):
        f = faultproxy.Faults(seed=7)
        f.add({"verb": "get", "resource": "pods", "status": 503, "count": 2})
        self.assertEqual(f.pick("list", "pods", "a", "", "u"), {})
        self.assertEqual(f.pick("get", "pods", "a", "p", "u")["status"], 503)
        self.assertEqual(f.pick("get", "pods", "a", "p", "u")["status"], 503)
        self.assertEqual(f.pick("get", "pods", "a", "p", "u"), {})
        self.assertEqual(f.view()["rules"][0]["fired"], 2)

    def test_rate_is_deterministic_per_seed(self):
        def run(seed):
            f = faultproxy.Faults(seed=seed)
            f.add({"status": 500, "rate": 0.5})
            return [bool(f.pick("get", "pods", "", "x", "u")) for _ in range(64)]
        self.assertEqual(run(3), run(3))
        self.assertNotEqual(run(3), run(4))
        hits = sum(run(3))
        self.assertTrue(10 < hits < 54, hits)

    def test_bad_rules_refused(self):
        f = faultproxy.Faults()
        for bad in ({"verb": "get"}, {"verb": "fetch", "status": 500}, {"status": 200},
                    {"status": 500, "rate": 2}):
            with self.assertRaises(ValueError, msg=bad):
                f.add(bad)

    def test_status_body_is_a_kubernetes_status(self):
        import json
        st = json.loads(faultproxy.status_body(429, "slow down", retry_after=3))
        self.assertEqual((st["kind"], st["code"], st["reason"]), ("Status", 429, "TooManyRequests"))
        self.assertEqual(st["details"]["retryAfterSeconds"], 3)


class TestScenario(unittest.TestCase):
    def test_default_scenario(self):
        sc = scenario.load("two-clusters")
        self.assertEqual([c["name"] for c in sc["clusters"]], ["source", "target"])
        self.assertEqual([n["name"] for n in sc["clusters"][0]["nodes"]],
                         ["source-worker-0", "source-worker-1", "source-worker-2"])
        cidrs = [n["podCIDR"] for c in sc["clusters"] for n in c["nodes"]]
        self.assertEqual(len(set(cidrs)), 6)
        self.assertEqual([u["name"] for u in sc["users"]], ["admin", "viewer"])

    def test_errors_name_the_field(self):
        cases = [({}, "clusters"), ({"clusters": [{"name": "a"}, {"name": "a"}]}, "duplicate"),
                 ({"clusters": [{"name": "a", "podCIDR": "nope"}]}, "podCIDR"),
                 ({"clusters": [{"name": "a"}], "users": [{"name": "u", "clusters": ["b"]}]}, "users[0]"),
                 ({"clusters": [{"name": "a"}], "faults": [{"cluster": "zz"}]}, "faults[0]")]
        for doc, word in cases:
            with self.assertRaises(scenario.ScenarioError) as cm:
                scenario.normalize(doc)
            self.assertIn(word, str(cm.exception))

    def test_unknown_scenario(self):
        with self.assertRaises(scenario.ScenarioError) as cm:
            scenario.load("no-such-scenario")
        self.assertIn("two-clusters", str(cm.exception))


class TestCrds(unittest.TestCase):
    def test_strip(self):
        schema = {"properties": {
            "a": {"type": "string", "default": ""},
            "b": {"type": "string", "default": "x"},
            "c": {"type": "object", "x-kubernetes-validations": [{"rule": "self.x"}],
                  "properties": {"default": {"type": "string"}}},
            "d": {"type": "integer", "default": None}}}
        self.assertEqual(crds.strip_for_1_20(schema), 3)
        self.assertNotIn("default", schema["properties"]["a"])
        self.assertEqual(schema["properties"]["b"]["default"], "x")
        self.assertIn("default", schema["properties"]["c"]["properties"])
        self.assertNotIn("x-kubernetes-validations", schema["properties"]["c"])

    def test_all_files_parse_and_are_clean(self):
        loaded = crds.load_all()
        self.assertEqual(len(loaded), len(crds.CRD_FILES))
        for rel, crd in loaded:
            self.assertEqual(crds.strip_for_1_20(crd), 0, rel)


class TestMultus(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(nodes.parse_networks("a, other/b@migration0", "ns"),
                         [("ns", "a", "net1"), ("other", "b", "migration0")])
        self.assertEqual(nodes.parse_networks('[{"name":"m","namespace":"openshift-cnv","interface":"migration0"}]',
                                              "x"), [("openshift-cnv", "m", "migration0")])
        self.assertEqual(nodes.parse_networks("", "x"), [])


class TestHttpServers(unittest.TestCase):
    def test_every_server_sends_without_waiting_for_a_delayed_ack(self):
        """http.server writes the headers and the body apart: with Nagle on,
        the body waits for the client's delayed ACK (40 ms on Linux), which
        made each of virt-api's webhooks take 50 ms instead of 5."""
        from simlib import admin, metrics, webhooks
        for handler in (webhooks._Handler, metrics.QueryHandler, nodes.KubeletHandler, admin.AdminHandler):
            self.assertTrue(handler.disable_nagle_algorithm, handler.__name__)


if __name__ == "__main__":
    unittest.main()


class TestPortPool(unittest.TestCase):
    """A port handed out stays held: no other bind or outgoing connection
    gets it before its server binds, and the server still can."""

    def test_held_until_the_server_binds(self):
        import http.server
        import socket
        pool = procs.PortPool()
        ports = {pool.take() for _ in range(3)}
        self.assertEqual(len(ports), 3)
        for p in ports:  # still bound: a plain bind (as the kernel's own picks) is refused
            s = socket.socket()
            with self.assertRaises(OSError):
                s.bind(("127.0.0.1", p))
            s.close()
        srv = http.server.HTTPServer(("127.0.0.1", min(ports)), http.server.BaseHTTPRequestHandler)
        c = socket.create_connection(("127.0.0.1", min(ports)), timeout=5)
        c.close()
        srv.server_close()


class TestKubeBinaries(unittest.TestCase):
    """Where kube-binaries takes the binaries from (nothing is built here)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kube-binaries")

    def run_script(self, env, *args):
        import subprocess
        e = {k: v for k, v in os.environ.items() if k not in ("CCLM_KUBE_BIN", "KUBEBUILDER_ASSETS")}
        e.update(env)
        return subprocess.run([self.script, *args], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60)

    def fake_bin(self, d, names=("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(p, 0o755)

    def test_named_directory_wins(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as cache:
            self.fake_bin(d)
            for var in ("CCLM_KUBE_BIN", "KUBEBUILDER_ASSETS"):
                r = self.run_script({var: d, "CCLM_CACHE": cache})
                self.assertEqual((r.returncode, r.stdout.strip()), (0, d), r.stderr)

    def test_incomplete_directory_is_an_error(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as cache:
            self.fake_bin(d, names=("kube-apiserver", "etcd"))
            r = self.run_script({"CCLM_KUBE_BIN": d, "CCLM_CACHE": cache})
            self.assertEqual(r.returncode, 1)
            self.assertIn("lacks one of", r.stderr)
            self.assertEqual(r.stdout, "")

    def test_check_says_a_build_is_needed_and_builds_nothing(self):
        import tempfile
        with tempfile.TemporaryDirectory() as cache:
            r = self.run_script({"CCLM_CACHE": cache}, "--check")
            self.assertEqual(r.returncode, 1)
            self.assertIn("build from Debian's source package is needed", r.stderr)
            self.assertEqual(os.listdir(cache), [])


class TestBootSlots(unittest.TestCase):
    def test_slots_are_held_until_closed(self):
        import tempfile
        import threading
        import time
        with tempfile.TemporaryDirectory() as cache:
            old = {k: os.environ.get(k) for k in ("CCLM_CACHE", "KUBESIM_BOOT_SLOTS")}
            os.environ.update(CCLM_CACHE=cache, KUBESIM_BOOT_SLOTS="1")
            try:
                self.assertEqual(etcdseed.cache_root(), os.path.join(cache, "etcd-seed"))
                first = etcdseed.boot_slot()
                got = []
                t = threading.Thread(target=lambda: got.append(etcdseed.boot_slot()), daemon=True)
                t.start()
                time.sleep(0.6)
                self.assertEqual(got, [])  # the one slot is taken
                first.close()
                t.join(5)
                self.assertEqual(len(got), 1)
                got[0].close()
            finally:
                for k, v in old.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v


class TestHcoMapping(unittest.TestCase):
    def test_gate_and_config(self):
        from simlib import virt
        kv = {"spec": {"configuration": {"developerConfiguration": {"featureGates": ["Other", "DecentralizedLiveMigration"]},
                                         "migrations": {"network": "old"}}, "x": 1}}
        hco = {"spec": {"featureGates": {"decentralizedLiveMigration": False},
                        "liveMigrationConfig": {"bandwidthPerMigration": "1Gi", "network": None, "unknown": 3}}}
        want = virt.desired_kubevirt(hco, kv)
        self.assertEqual(want["configuration"]["developerConfiguration"]["featureGates"], ["Other"])
        self.assertEqual(want["configuration"]["migrations"], {"bandwidthPerMigration": "1Gi"})
        self.assertEqual(want["x"], 1)
        self.assertEqual(kv["spec"]["configuration"]["migrations"], {"network": "old"})  # input untouched
        hco["spec"]["featureGates"]["decentralizedLiveMigration"] = True
        want = virt.desired_kubevirt(hco, kv)
        self.assertEqual(want["configuration"]["developerConfiguration"]["featureGates"],
                         ["Other", "DecentralizedLiveMigration"])

    def test_hco_crd_serves_v1beta1_only(self):
        served = {}
        for rel, crd in crds.load_all():
            if crd["metadata"]["name"] == "hyperconvergeds.hco.kubevirt.io":
                served = {v["name"]: v["served"] for v in crd["spec"]["versions"]}
        self.assertEqual(served, {"v1": False, "v1beta1": True})


class TestVirtOperatorPieces(unittest.TestCase):
    def test_ca_merge(self):
        import tempfile
        from simlib import pki, virt
        with tempfile.TemporaryDirectory() as d:
            _, a = pki.ca(d, "a", "a")
            _, b = pki.ca(d, "b", "b")
            pa, pb = open(a).read(), open(b).read()
        merged = virt.merge_ca_bundle(pa, pa, pb + "junk\n" + pb.replace("\n", "\r\n"))
        self.assertEqual(virt.split_pem(merged), [pa, pb])  # own first, peer once, junk dropped
        self.assertEqual(virt.merge_ca_bundle(pa, merged, ""), merged)
        self.assertEqual(virt.split_pem("no pem here"), [])

    def test_migration_address(self):
        from simlib import virt
        pod = {"metadata": {"annotations": {"k8s.v1.cni.cncf.io/network-status": json.dumps([
            {"interface": "eth0", "ips": ["10.1.0.5"], "default": True},
            {"interface": "migration0", "ips": ["192.168.1.7"]}])}},
            "status": {"podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}]}}
        self.assertEqual(virt.migration_address(pod), "192.168.1.7")
        pod["metadata"]["annotations"] = {}
        self.assertEqual(virt.migration_address(pod), "10.1.0.5")
        self.assertEqual(virt.networks_annotation("mig"), "mig@migration0")
        self.assertIsNone(virt.networks_annotation(None))


class TestMigratability(unittest.TestCase):
    def test_first_reason_wins_and_storage_skips_disks(self):
        from simlib import vms
        base = {"domain": {"devices": {"interfaces": [{"name": "default", "masquerade": {}}]}},
                "networks": [{"name": "default", "pod": {}}],
                "volumes": [{"name": "d", "dataVolume": {"name": "dv"}}]}
        live, st = vms.migratability(base, {"dv": ["ReadWriteMany"]})
        self.assertEqual((live["status"], st["status"]), ("True", "True"))
        live, st = vms.migratability(base, {"dv": ["ReadWriteOnce"]})
        self.assertEqual((live["status"], live["reason"], st["status"]), ("False", "DisksNotLiveMigratable", "True"))
        base["domain"]["devices"]["interfaces"] = [{"name": "default", "bridge": {}}]
        base["domain"]["devices"]["hostDevices"] = [{"name": "gpu", "deviceName": "nvidia.com/x"}]
        live, st = vms.migratability(base, {"dv": ["ReadWriteOnce"]})
        self.assertEqual(live["reason"], "InterfaceNotLiveMigratable")
        self.assertEqual(st["reason"], "NotMigratable")
        self.assertTrue(st["message"].startswith("InterfaceNotLiveMigratable: "))
        self.assertTrue(st["message"].endswith(", HostDeviceNotLiveMigratable: VMI uses a PCI host devices"))

    def test_run_strategy(self):
        from simlib import vms
        self.assertEqual(vms.run_strategy({"spec": {"running": True}}), "Always")
        self.assertEqual(vms.run_strategy({"spec": {"running": False}}), "Halted")
        self.assertEqual(vms.run_strategy({"spec": {"runStrategy": "Manual", "running": True}}), "Manual")


class TestVmControllerCaches(unittest.TestCase):
    """Events are decided on the informers' caches; the API is read only when
    that decision writes, and then the fresh objects decide."""

    class Client:
        def __init__(self, objs):
            self.objs, self.calls = objs, []

        def get(self, path, ok404=False, query=None):
            self.calls.append(("GET", path))
            return self.objs.get(path)

        def merge_patch(self, path, patch, **kw):
            self.calls.append(("PATCH", path))
            return None

        def create(self, path, obj, **kw):
            self.calls.append(("POST", path))
            return obj

        def delete(self, path, **kw):
            self.calls.append(("DELETE", path))

    def controller(self, vm, vmi):
        from simlib import vms

        class Cluster:
            name = "c"
        Cluster.client = self.Client({vms.vm_path("ns", "a"): vm, vms.vmi_path("ns", "a"): vmi})
        ctl = vms.VmController(Cluster)
        ctl.vm_store.apply("ADDED", vm)
        if vmi:
            ctl.vmi_store.apply("ADDED", vmi)
        return ctl

    def objects(self, rs="Always", printable="Running"):
        from simlib import vms
        vm = {"metadata": {"name": "a", "namespace": "ns", "uid": "u", "resourceVersion": "1"},
              "spec": {"runStrategy": rs, "template": {"spec": {}}}}
        vmi = {"metadata": {"name": "a", "namespace": "ns", "uid": "v", "resourceVersion": "2"},
               "status": {"phase": "Running"}}
        st = {"created": True, "ready": True, "runStrategy": rs, "printableStatus": printable,
              "conditions": [vms.cond("Ready", "True")]}
        vm["status"] = st
        return vm, vmi

    def test_idle_event_reads_nothing(self):
        vm, vmi = self.objects()
        ctl = self.controller(vm, vmi)
        ctl.sync_vm("ns", "a")
        self.assertEqual(ctl.c.calls, [])
        self.assertIs(ctl.c, ctl.fresh)

    def test_writing_decision_reads_fresh_then_writes(self):
        from simlib import vms
        vm, vmi = self.objects(printable="Starting")  # the cached status is behind: a status patch is due
        ctl = self.controller(vm, vmi)
        ctl.sync_vm("ns", "a")
        self.assertEqual(ctl.c.calls, [("GET", vms.vm_path("ns", "a")), ("GET", vms.vmi_path("ns", "a")),
                                       ("PATCH", vms.vm_path("ns", "a", "status"))])

    def test_stale_cache_saying_write_is_overruled_by_fresh_reads(self):
        from simlib import vms
        vm, vmi = self.objects(rs="Halted")
        ctl = self.controller(vm, vmi)
        # the API already shows the VMI gone and the status Stopped: nothing to delete
        fresh_vm = json.loads(json.dumps(vm))
        fresh_vm["status"] = {"created": False, "ready": False, "runStrategy": "Halted", "printableStatus": "Stopped",
                              "conditions": [vms.cond("Ready", "False", "VMINotExists")]}
        ctl.fresh.objs = {vms.vm_path("ns", "a"): fresh_vm}
        ctl.sync_vm("ns", "a")
        self.assertEqual([c[0] for c in ctl.c.calls], ["GET", "GET"])
