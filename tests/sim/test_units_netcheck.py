"""Unit tests of the netcheck probe simulation (simlib/netprobe.py): the
fabric's answers for each test, in the log format of plugins/netcheck/probe.sh."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simlib import fabric, netprobe, synchro  # noqa: E402

NICS = [{"name": "ens4", "mtu": 1500, "bridges": ["br-2001"]}]
LINE = re.compile(r"^cclm-netcheck/1 test=(tcp|icmp|arp|mtu) dst=[0-9.]+( port=\d+)?( size=\d+( max=\d+)?)? "
                  r"result=(ok|fail|unsupported) ms=-?\d+ detail=.*$")


def nad(master="ens4.2001", mtu=None, exclude=None, gateway=None):
    cfg = {"cniVersion": "0.3.1", "type": "macvlan", "master": master,
           "ipam": {"type": "whereabouts", "range": "192.168.201.0/24"}}
    if mtu:
        cfg["mtu"] = mtu
    if exclude:
        cfg["ipam"]["exclude"] = exclude
    if gateway:
        cfg["ipam"]["gateway"] = gateway
    return json.dumps(cfg)


def pod(name, node, role, ip=None):
    p = {"metadata": {"name": name, "namespace": "openshift-cnv", "labels": {"kubevirt.io": role}},
         "spec": {"nodeName": node}, "status": {"phase": "Running"}, "_ip": ip}
    return p


class View:
    """Just what netprobe and synchro.dial ask of a ClusterView."""

    def __init__(self, name, fab, config, pods, leader=None):
        self.name, self.fabric, self.config, self.pods, self.leader = name, fab, config, pods, leader

    def sync_pods(self):
        return [p for p in self.pods if p["metadata"]["labels"].get("kubevirt.io") == "virt-synchronization-controller"]

    def handler_pods(self):
        return [p for p in self.pods if p["metadata"]["labels"].get("kubevirt.io") == "virt-handler"]

    def infra_pods(self):
        return list(self.pods)

    def sync_leader(self):
        return next((p for p in self.sync_pods() if p["metadata"]["name"] == self.leader), None)

    def endpoint(self, p):
        return fabric.attachment_endpoint(self.name, p["spec"]["nodeName"], p["_ip"], self.config, NICS)


def world(src_nad, tgt_nad, segments=None, routes=None, tgt_ips=("192.168.201.130", "192.168.201.129")):
    doc = {"segments": segments or [{"name": "lab", "vlan": 2001, "mtu": 1500, "attach": ["s/ens4", "t/ens4"]}],
           "routes": routes or []}
    fab = fabric.Fabric(fabric.normalize(doc, [{"name": "s"}, {"name": "t"}]))
    s = View("s", fab, src_nad, [pod("s-sync", "s0", "virt-synchronization-controller", "192.168.201.3"),
                                 pod("s-h0", "s0", "virt-handler", "192.168.201.1")], leader="s-sync")
    t = View("t", fab, tgt_nad, [pod("t-sync", "t0", "virt-synchronization-controller", tgt_ips[0]),
                                 pod("t-h0", "t0", "virt-handler", tgt_ips[1])], leader="t-sync")
    return s, t


PLAN = {"version": 1, "node": "s0", "iface": "migration0", "mtu": 1500, "timeout": 2,
        "targets": [{"ip": "192.168.201.130", "port": 9185, "tests": "tcp icmp arp mtu"},
                    {"ip": "192.168.201.129", "tests": "icmp arp mtu"}]}


def run(s, t, plan=PLAN, src_ip="192.168.201.7", tools=netprobe.FULL_TOOLS, frm=None):
    frm = frm or s
    src_ep = frm.endpoint(pod("probe", "s0", "probe", src_ip))
    log = netprobe.answer([s, t], frm, {"spec": {"nodeName": "s0"}}, src_ep, plan, tools)
    lines = log.splitlines()
    return lines, {(m.group(1), l.split(" dst=")[1].split()[0]): l
                   for l in lines for m in [LINE.match(l)] if m}


class TestNetprobe(unittest.TestCase):
    def assertFormat(self, lines, tests):
        self.assertTrue(lines[0].startswith("cclm-netcheck/1 start node=s0 iface=migration0 src="), lines[0])
        self.assertEqual(lines[-1], "cclm-netcheck/1 done tests=%d" % tests)
        for l in lines[1:-1]:
            self.assertRegex(l, LINE)

    def test_lab_all_ok(self):
        s, t = world(nad(), nad())
        lines, by = run(s, t)
        self.assertFormat(lines, 7)
        for key, l in by.items():
            self.assertIn("result=ok", l, key)
        self.assertIn("port=9185", by[("tcp", "192.168.201.130")])

    def test_routed_no_arp(self):
        segs = [{"name": "a", "vlan": 2001, "mtu": 1500, "attach": ["s/ens4"]},
                {"name": "b", "vlan": 2002, "mtu": 1500, "attach": ["t/ens4"]}]
        s, t = world(nad(), nad("ens4.2002"), segments=segs, routes=[["a", "b"]])
        lines, by = run(s, t)
        self.assertFormat(lines, 7)
        self.assertIn("result=fail", by[("arp", "192.168.201.130")])
        self.assertIn("result=fail", by[("icmp", "192.168.201.130")])
        self.assertIn("Destination Host Unreachable", by[("icmp", "192.168.201.130")])
        self.assertIn("result=fail", by[("tcp", "192.168.201.130")])

    def test_routed_with_gateway_ip_ok_arp_fails(self):
        segs = [{"name": "a", "vlan": 2001, "mtu": 1500, "attach": ["s/ens4"]},
                {"name": "b", "vlan": 2002, "mtu": 1500, "attach": ["t/ens4"]}]
        src = json.dumps({"type": "macvlan", "master": "ens4.2001",
                          "ipam": {"type": "whereabouts", "range": "192.168.201.0/25", "gateway": "192.168.201.126"}})
        tgt = json.dumps({"type": "macvlan", "master": "ens4.2002",
                          "ipam": {"type": "whereabouts", "range": "192.168.202.0/25", "gateway": "192.168.202.126"}})
        s, t = world(src, tgt, segments=segs, routes=[["a", "b"]], tgt_ips=("192.168.202.3", "192.168.202.1"))
        plan = dict(PLAN, targets=[{"ip": "192.168.202.3", "port": 9185, "tests": "tcp icmp arp mtu"}])
        _, by = run(s, t, plan)
        self.assertIn("result=ok", by[("tcp", "192.168.202.3")])
        self.assertIn("result=ok", by[("icmp", "192.168.202.3")])
        self.assertIn("result=fail", by[("arp", "192.168.202.3")])
        self.assertIn("routed", by[("arp", "192.168.202.3")])

    def test_mtu_mismatch_names_the_smaller(self):
        s, t = world(nad(), nad(mtu=9000))
        plan = dict(PLAN, mtu=9000, node="t0",
                    targets=[{"ip": "192.168.201.3", "port": 9185, "tests": "tcp icmp arp mtu"}])
        _, by = run(s, t, plan, src_ip="192.168.201.140", frm=t)
        m = by[("mtu", "192.168.201.3")]
        self.assertIn("result=fail", m)
        self.assertIn("size=9000", m)
        self.assertIn("max=1500", m)
        self.assertIn("result=ok", by[("tcp", "192.168.201.3")])
        # the other way, 1500 passes into the 9000 interface
        _, by = run(s, t)
        self.assertIn("result=ok", by[("mtu", "192.168.201.130")])

    def test_tcp_to_a_non_leader_is_refused(self):
        s, t = world(nad(), nad())
        t.leader = None
        _, by = run(s, t)
        self.assertIn("result=fail", by[("tcp", "192.168.201.130")])
        self.assertIn("connection refused", by[("tcp", "192.168.201.130")])
        self.assertIn("result=ok", by[("icmp", "192.168.201.130")])

    def test_minimal_image_unsupported(self):
        s, t = world(nad(), nad())
        lines, by = run(s, t, tools=("bash",))
        self.assertFormat(lines, 7)
        self.assertIn("result=unsupported", by[("icmp", "192.168.201.129")])
        self.assertIn("result=unsupported", by[("mtu", "192.168.201.129")])
        self.assertIn("result=ok", by[("tcp", "192.168.201.130")])
        self.assertEqual(netprobe.tools_of({"spec": {"containers": [{"image": "x/minimal:1"}]}}), ("bash",))

    def test_plan_and_label(self):
        p = {"metadata": {"labels": {"cclm.io/role": "netcheck-probe"}},
             "spec": {"containers": [{"env": [{"name": "CCLM_NETCHECK_PLAN", "value": json.dumps(PLAN)}]}]}}
        self.assertTrue(netprobe.is_probe(p))
        self.assertEqual(netprobe.plan_of(p), PLAN)
        p["spec"]["containers"][0]["env"][0]["value"] = "{"
        self.assertIsNone(netprobe.plan_of(p))
        self.assertFalse(netprobe.is_probe({"metadata": {}}))

    def test_unattached_probe_fails_everything(self):
        s, t = world(nad(), nad())
        lines = netprobe.answer([s, t], s, {"spec": {"nodeName": "s0"}}, None, PLAN, netprobe.FULL_TOOLS).splitlines()
        self.assertIn("src=-", lines[0])
        self.assertTrue(all("result=fail" in l for l in lines[1:-1]), lines)


class TestDial(unittest.TestCase):
    """synchro.dial with overlapping pools: the dialer's own pods answer first."""

    def test_a_handler_dial_reaches_the_peer_handler(self):
        s, t = world(nad(), nad())
        conn, err = synchro.dial([s, t], s, s.endpoint(s.pods[1]), "192.168.201.129:40000", "handler")
        self.assertIsNone(err)
        self.assertIs(conn.view, t)

    def test_own_pod_with_the_address_answers_first(self):
        s, t = world(nad(), nad())
        # a pod of the source that is no handler holds the target handler's address: refused
        s.pods.append(pod("s-twin", "s0", "", "192.168.201.129"))
        conn, err = synchro.dial([s, t], s, s.endpoint(s.pods[1]), "192.168.201.129:40000", "handler")
        self.assertIsNone(conn)
        self.assertEqual(err, "dial tcp 192.168.201.129:40000: connect: connection refused")
        # the source's own handler holding it: the dialer meets its neighbour (the split brain)
        s.pods[-1] = pod("s-h1", "s0", "virt-handler", "192.168.201.129")
        conn, err = synchro.dial([s, t], s, s.endpoint(s.pods[1]), "192.168.201.129:40000", "handler")
        self.assertIsNone(err)
        self.assertIs(conn.view, s)

    def test_a_sync_dial_needs_the_leader_on_the_sync_port(self):
        s, t = world(nad(), nad())
        conn, err = synchro.dial([s, t], s, s.endpoint(s.pods[0]), "192.168.201.130:9185", "sync")
        self.assertIsNone(err)
        self.assertIs(conn.view, t)
        conn, err = synchro.dial([s, t], s, s.endpoint(s.pods[0]), "192.168.201.129:9185", "sync")
        self.assertEqual(err, "dial tcp 192.168.201.129:9185: connect: connection refused")


if __name__ == "__main__":
    unittest.main()
