"""Address pools from a NetworkAttachmentDefinition's IPAM config, allocated
per cluster the way whereabouts (or static IPAM) would on a real one.

Each cluster allocates on its own: two clusters whose NADs name overlapping
ranges hand out the same addresses, as two real clusters would.
"""

import ipaddress
import json
import threading


class IpamError(Exception):
    pass


def parse_range(spec):
    """whereabouts `range`: 'CIDR' or 'FIRST-LAST/PREFIX' -> (network, first, last)."""
    if "-" in spec:
        lo, rest = spec.split("-", 1)
        if "/" not in rest:
            raise IpamError("range '%s': missing /prefix" % spec)
        hi, prefix = rest.split("/", 1)
        net = ipaddress.ip_network("%s/%s" % (lo.strip(), prefix), strict=False)
        return net, ipaddress.ip_address(lo.strip()), ipaddress.ip_address(hi.strip())
    net = ipaddress.ip_network(spec.strip(), strict=False)
    return net, None, None


class Pool:
    """The usable addresses of one IPAM config (first..last minus excludes)."""

    def __init__(self, ipam):
        self.kind = ipam.get("type", "")
        self.static = []
        self.prefix = None
        if self.kind == "static":
            for a in ipam.get("addresses") or []:
                iface = ipaddress.ip_interface(a["address"])
                self.static.append(iface)
            if not self.static:
                raise IpamError("static IPAM with no addresses")
            self.prefix = self.static[0].network.prefixlen
            return
        if self.kind != "whereabouts":
            raise IpamError("IPAM type '%s' is not simulated (whereabouts or static)" % self.kind)
        ranges = []
        if ipam.get("range"):
            ranges.append((ipam["range"], ipam.get("range_start"), ipam.get("range_end")))
        for r in ipam.get("ipRanges") or []:
            ranges.append((r.get("range"), r.get("range_start"), r.get("range_end")))
        if not ranges:
            raise IpamError("whereabouts IPAM with no range")
        self.spans = []
        for spec, start, end in ranges:
            net, first, last = parse_range(spec)
            if first is None:
                # whereabouts skips the network and broadcast addresses
                first = net.network_address + (1 if net.num_addresses > 2 else 0)
                last = net.broadcast_address - (1 if net.num_addresses > 2 else 0)
            if start:
                first = ipaddress.ip_address(start)
            if end:
                last = ipaddress.ip_address(end)
            if first > last:
                raise IpamError("range '%s': start after end" % spec)
            self.spans.append((net, first, last))
            self.prefix = net.prefixlen
        self.excludes = [ipaddress.ip_network(e, strict=False) for e in ipam.get("exclude") or []]

    def candidates(self):
        if self.kind == "static":
            for iface in self.static:
                yield iface.ip
            return
        for _, first, last in self.spans:
            a = first
            while a <= last:
                if not any(a in ex for ex in self.excludes):
                    yield a
                a += 1


def nad_ipam(nad):
    """The IPAM dict of a NAD object (spec.config is a JSON string)."""
    try:
        cfg = json.loads((nad.get("spec") or {}).get("config") or "{}")
    except ValueError as e:
        raise IpamError("NAD %s: spec.config is not JSON: %s" % (nad["metadata"]["name"], e))
    if "ipam" not in cfg and cfg.get("plugins"):
        for p in cfg["plugins"]:
            if "ipam" in p:
                cfg = p
                break
    return cfg, cfg.get("ipam") or {}


class Allocator:
    """One cluster's allocations, keyed by (nad namespace/name, pod uid, iface)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_owner = {}   # (nad, owner) -> ip string
        self.in_use = {}     # nad -> set(ip strings)

    def allocate(self, nad_key, ipam, owner):
        """Addresses ('ip/prefix') for one attachment. Static IPAM gives every
        pod all of its addresses, duplicates included, as the real plugin does."""
        pool = Pool(ipam)
        if pool.kind == "static":
            return [str(i) for i in pool.static]
        with self.lock:
            key = (nad_key, owner)
            if key in self.by_owner:
                return [self.by_owner[key]]
            used = self.in_use.setdefault(nad_key, set())
            for a in pool.candidates():
                s = str(a)
                if s not in used:
                    used.add(s)
                    self.by_owner[key] = "%s/%d" % (s, pool.prefix)
                    return [self.by_owner[key]]
            raise IpamError("pool of %s exhausted" % nad_key)

    def claim(self, nad_key, owner, addr):
        """Record an address found on an existing pod (after a restart)."""
        with self.lock:
            self.by_owner[(nad_key, owner)] = addr
            self.in_use.setdefault(nad_key, set()).add(addr.split("/")[0])

    def release_pod(self, uid):
        """Free every address of a pod; owners are (pod uid, interface)."""
        with self.lock:
            for key in [k for k in self.by_owner if k[1][0] == uid]:
                addr = self.by_owner.pop(key).split("/")[0]
                self.in_use.get(key[0], set()).discard(addr)
