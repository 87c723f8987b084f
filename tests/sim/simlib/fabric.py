"""The network between the simulated clusters: which addresses can reach which,
at what MTU and bandwidth. Pure logic; the migration engine feeds it endpoints
read from the clusters (pods' Multus network-status, NAD configs, node NICs).

Scenario format (tests/sim/README.md, "fabric"):

    fabric:
      podNetworks: isolated      # or routed: pod IPs of different clusters reach each other
      segments:
        - name: vlan-2001        # one L2 broadcast domain
          vlan: 2001             # frames must carry this tag (omit: untagged)
          mtu: 1500
          bandwidth: 10Gbit      # per direction, shared by concurrent migrations; or a byte quantity per second
          attach: [source/ens4, target/ens4]   # cluster/nic (every node's NIC of that name)
      routes:
        - [vlan-2001, vlan-2002] # a router between two segments: L3 only, no ARP across it

An endpoint is a dict: {cluster, node, ip, pod: True} for a pod-network
address, or for a Multus attachment {cluster, node, ip, nic, vlan, subnet,
gateway (bool: the IPAM config has a gateway or routes), mtu (the NAD's, or
None), nicMtu}. How a NAD config maps to (nic, vlan): macvlan/ipvlan/vlan
`master` "ens4" or "ens4.2001" (and `vlanId` for type vlan); bridge `bridge`
resolved through the node NIC's `bridges` list, tag from `vlan`.
"""

import ipaddress
import json
import re

DEFAULT_BANDWIDTH = 1.25e9  # 10 Gbit/s in bytes/s
UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3,
         "Ti": 1024 ** 4}


class FabricError(Exception):
    pass


def parse_bandwidth(value):
    """'10Gbit' (bits/s), '1Gi' or '500M' (bytes/s), or a number (bytes/s) -> bytes/s."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kMGT]i?)?(bit|bps)?\s*", str(value))
    if not m:
        raise FabricError("bandwidth '%s': expected e.g. 10Gbit or 1Gi" % value)
    n = float(m.group(1)) * UNITS[m.group(2) or ""]
    return n / 8 if m.group(3) else n


def normalize(doc, clusters):
    """The scenario's `fabric` with defaults; `clusters` are the normalized
    cluster specs (for checking attach names)."""
    doc = doc or {}
    names = {c["name"]: c for c in clusters}
    fab = {"podNetworks": doc.get("podNetworks", "isolated"), "segments": [], "routes": []}
    if fab["podNetworks"] not in ("isolated", "routed"):
        raise FabricError("fabric.podNetworks: isolated or routed, not '%s'" % fab["podNetworks"])
    seen = set()
    for i, s in enumerate(doc.get("segments") or []):
        if not isinstance(s, dict) or not s.get("name"):
            raise FabricError("fabric.segments[%d]: needs a name" % i)
        if s["name"] in seen:
            raise FabricError("fabric.segments[%d]: duplicate name '%s'" % (i, s["name"]))
        seen.add(s["name"])
        attach = []
        for a in s.get("attach") or []:
            if not isinstance(a, str) or "/" not in a:
                raise FabricError("fabric.segments[%d].attach: 'cluster/nic', not %r" % (i, a))
            cl, nic = a.split("/", 1)
            if cl not in names:
                raise FabricError("fabric.segments[%d].attach: no cluster '%s'" % (i, cl))
            attach.append((cl, nic))
        fab["segments"].append({"name": s["name"], "vlan": s.get("vlan"), "mtu": int(s.get("mtu", 1500)),
                                "bandwidth": parse_bandwidth(s.get("bandwidth", DEFAULT_BANDWIDTH)),
                                "attach": attach})
    for i, r in enumerate(doc.get("routes") or []):
        if not (isinstance(r, list) and len(r) == 2 and all(x in seen for x in r)):
            raise FabricError("fabric.routes[%d]: a pair of segment names" % i)
        fab["routes"].append(tuple(r))
    return fab


def nad_location(config, node_nics):
    """(nic, vlan) a NAD config (dict) attaches to on a node with `node_nics`
    ([{name, mtu, bridges}]); nic None when it attaches to nothing known."""
    kind = config.get("type", "")
    vlan = None
    if kind == "bridge":
        br = config.get("bridge", "")
        nic = next((n["name"] for n in node_nics if br in (n.get("bridges") or [])), None)
        vlan = config.get("vlan")
    else:
        master = config.get("master") or ""
        if "." in master:
            master, tag = master.split(".", 1)
            vlan = int(tag) if tag.isdigit() else None
        if kind == "vlan":
            vlan = config.get("vlanId", vlan)
        nic = master if any(n["name"] == master for n in node_nics) else None
    return nic, (int(vlan) if vlan not in (None, "") else None)


def attachment_endpoint(cluster, node, ip, nad_config_text, node_nics):
    """An endpoint for a pod's Multus attachment (see the module docstring)."""
    try:
        cfg = json.loads(nad_config_text or "{}")
    except ValueError:
        cfg = {}
    plugins = cfg.get("plugins")
    if isinstance(plugins, list) and plugins:
        cfg = dict(plugins[0], **{k: v for k, v in cfg.items() if k != "plugins"})
    nic, vlan = nad_location(cfg, node_nics)
    ipam = cfg.get("ipam") or {}
    subnet = None
    rng = ipam.get("range") or ((ipam.get("ipRanges") or [{}])[0].get("range"))
    if rng:
        try:
            subnet = str(ipaddress.ip_network(_range_net(rng), strict=False))
        except (ValueError, IndexError):
            subnet = None
    elif ipam.get("addresses"):
        subnet = str(ipaddress.ip_interface(ipam["addresses"][0]["address"]).network)
    nic_mtu = next((int(n.get("mtu", 1500)) for n in node_nics if n["name"] == nic), None)
    return {"cluster": cluster, "node": node, "ip": ip, "nic": nic, "vlan": vlan, "subnet": subnet,
            "gateway": bool(ipam.get("gateway") or ipam.get("routes")), "mtu": cfg.get("mtu"),
            "nicMtu": nic_mtu}


def _range_net(rng):
    """whereabouts 'CIDR' or 'FIRST-LAST/PREFIX' -> a CIDR string."""
    if "-" in rng:
        lo, rest = rng.split("-", 1)
        return "%s/%s" % (lo.strip(), rest.split("/", 1)[1])
    return rng


class Fabric:
    """The runtime fabric: the scenario's segments plus faults (cut, slow)."""

    def __init__(self, spec):
        self.spec = spec
        self.cut = set()      # segment names cut ("*" = every segment and the pod-network routes)
        self.slow = {}        # segment name or "*" -> bytes/s

    def segment_of(self, ep):
        """The segment an attachment endpoint is on, or None."""
        if ep.get("pod") or not ep.get("nic"):
            return None
        for s in self.spec["segments"]:
            if (ep["cluster"], ep["nic"]) in s["attach"] and s["vlan"] == ep.get("vlan"):
                return s
        return None

    def routed(self, a, b):
        return (a, b) in self.spec["routes"] or (b, a) in self.spec["routes"]

    def is_cut(self, seg):
        return "*" in self.cut or (seg is not None and seg["name"] in self.cut)

    def bandwidth(self, seg):
        bw = seg["bandwidth"] if seg else DEFAULT_BANDWIDTH
        for key in ("*", seg["name"] if seg else None):
            if key in self.slow:
                bw = min(bw, self.slow[key])
        return bw

    def path(self, a, b):
        """Can endpoint `a` open a TCP connection to endpoint `b`?
        -> {ok, kind: local|l2|routed|no-arp|unreachable, mtu, bandwidth, link, error}
        `error` is the dial error a Go program would print when not ok."""
        dest = "%s" % b["ip"]
        same = a["cluster"] == b["cluster"]
        if a.get("pod") or b.get("pod"):
            if same:
                return self._ok("local", 1500, None, "cluster:" + a["cluster"])
            if a.get("pod") and b.get("pod") and self.spec["podNetworks"] == "routed" and "*" not in self.cut:
                return self._ok("routed", 1400, None, "pods")
            return self._fail("unreachable", "dial tcp %s: i/o timeout" % dest)
        if same and self.segment_of(a) is None and self.segment_of(b) is None:
            # a migration network inside one cluster that the fabric does not describe
            return self._ok("local", self._mtu(a, b, None), None, "cluster:" + a["cluster"])
        sa, sb = self.segment_of(a), self.segment_of(b)
        if sa is None:
            return self._fail("unreachable", "dial tcp %s: connect: network is unreachable" % dest)
        if self.is_cut(sa) or (sb is not None and self.is_cut(sb)):
            return self._fail("unreachable", "dial tcp %s: i/o timeout" % dest)
        if sa is sb:
            return self._ok("l2", self._mtu(a, b, sa), sa, sa["name"])
        on_link = a.get("subnet") and _in(b["ip"], a["subnet"])
        if on_link:
            # same subnet, different broadcast domains: ARP for the peer gets no answer
            return self._fail("no-arp", "dial tcp %s: connect: no route to host" % dest)
        if sb is not None and self.routed(sa["name"], sb["name"]) and a.get("gateway"):
            return self._ok("routed", min(self._mtu(a, b, sa), self._mtu(b, a, sb)), sa, sa["name"])
        return self._fail("unreachable", "dial tcp %s: connect: network is unreachable" % dest
                          if not a.get("gateway") else "dial tcp %s: i/o timeout" % dest)

    def _mtu(self, a, b, seg):
        """Usable path MTU; -1 when an end's NAD MTU exceeds what the path carries."""
        limit = min(x for x in (seg["mtu"] if seg else 1500, a.get("nicMtu") or 1500, b.get("nicMtu") or 1500))
        for ep in (a, b):
            if ep.get("mtu") and int(ep["mtu"]) > limit:
                return -1
        if a.get("mtu") and b.get("mtu") and int(a["mtu"]) != int(b["mtu"]):
            return -1
        return int(a.get("mtu") or limit)

    def _ok(self, kind, mtu, seg, link):
        return {"ok": True, "kind": kind, "mtu": mtu, "bandwidth": self.bandwidth(seg), "link": link,
                "error": None}

    @staticmethod
    def _fail(kind, error):
        return {"ok": False, "kind": kind, "mtu": None, "bandwidth": 0.0, "link": None, "error": error}


def _in(ip, cidr):
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
