"""The probe pods of `kubectl cclm netcheck`, run by the simulated nodes.

A pod labelled `cclm.io/role=netcheck-probe` is claimed by this runner
(NodeAgent.runners): it reads the plan the plugin put in the container's
environment (CCLM_NETCHECK_PLAN, the contract of plugins/netcheck/probe.sh),
answers every test from the fabric model as seen from the probe's own
`migration0` attachment, and writes the log lines in exactly the format the
real script prints:

    cclm-netcheck/1 start node=N iface=migration0 src=IP mtu=M tools=T
    cclm-netcheck/1 test=T dst=IP [port=P] [size=S [max=M]] result=ok|fail|unsupported ms=N detail=TEXT
    cclm-netcheck/1 done tests=N

The pod then ends Succeeded (exit 2 with an `error` line when the plan is
missing or unreadable, as the script does). Who answers an address is decided
as for the sync controllers (simlib/synchro.py): a pod of any cluster owning
it, one of the dialer's own cluster first (overlapping pools).

An image whose name contains "minimal" has only bash (no ping, nc, arping or
ip), so ICMP and the MTU test come back unsupported, as from a bare image.
"""

import json

from . import kubeapi, synchro

ROLE_LABEL = "cclm.io/role"
ROLE = "netcheck-probe"
PLAN_ENV = "CCLM_NETCHECK_PLAN"
PREFIX = "cclm-netcheck/1"
FULL_TOOLS = ("nc", "bash", "ping", "arping", "ip", "timeout")


def is_probe(pod):
    return ((pod.get("metadata") or {}).get("labels") or {}).get(ROLE_LABEL) == ROLE


def plan_of(pod):
    """The plan dict from the first container's env, or None."""
    for c in (pod.get("spec") or {}).get("containers") or []:
        for e in c.get("env") or []:
            if e.get("name") == PLAN_ENV:
                try:
                    plan = json.loads(e.get("value") or "")
                except ValueError:
                    return None
                return plan if isinstance(plan, dict) else None
    return None


def tools_of(pod):
    image = ((pod.get("spec") or {}).get("containers") or [{}])[0].get("image", "")
    return ("bash",) if "minimal" in image else FULL_TOOLS


def line(test, dst, result, ms, detail, **extra):
    words = ["%s test=%s dst=%s" % (PREFIX, test, dst)]
    for k in ("port", "size", "max"):
        if extra.get(k) is not None:
            words.append("%s=%s" % (k, extra[k]))
    words.append("result=%s ms=%s" % (result, ms))
    return " ".join(words) + " detail=" + detail


def owner(views, view, src_ep, ip):
    """(endpoint, fabric path) of the pod that answers `ip` for `src_ep`, or (None, path of the first failure)."""
    first = None
    for v in [view] + [x for x in views if x is not view]:
        for p in v.sync_pods() + v.handler_pods():
            if p["metadata"].get("deletionTimestamp"):
                continue
            ep = v.endpoint(p)
            if not ep or ep["ip"] != ip:
                continue
            path = view.fabric.path(src_ep, ep)
            if path["ok"]:
                return ep, path
            first = first or (ep, path)
    if first:
        return None, first[1]
    return None, {"ok": False, "kind": "unreachable", "error": "dial tcp %s: i/o timeout" % ip}


def path_mtu(fab, a, b):
    """The largest packet the path from a to b carries (the segment, both NICs, the receiver's NAD)."""
    seg = fab.segment_of(a)
    limit = min(seg["mtu"] if seg else 1500, a.get("nicMtu") or 1500, b.get("nicMtu") or 1500)
    if b.get("mtu"):
        limit = min(limit, int(b["mtu"]))
    return limit


def answer(views, view, pod, src_ep, plan, tools):
    """The probe's log lines for `plan`, from `src_ep` (the probe's attachment)."""
    T = int(plan.get("timeout") or 2)
    mtu = int(plan.get("mtu") or 1500)
    iface = plan.get("iface") or "migration0"
    node = plan.get("node") or pod["spec"].get("nodeName")
    src = src_ep["ip"] if src_ep else "-"
    out = ["%s start node=%s iface=%s src=%s mtu=%d tools=%s" % (PREFIX, node, iface, src, mtu, ",".join(tools))]
    n = 0
    for t in plan.get("targets") or []:
        ip, port = t.get("ip"), t.get("port")
        if not ip:
            continue
        ep, path = owner(views, view, src_ep, ip) if src_ep else (None, None)
        for test in (t.get("tests") or "").split():
            n += 1
            if test == "tcp":
                port = port or 9185
                if src_ep is None:
                    out.append(line("tcp", ip, "fail", T * 1000, "timed out after %ds" % T, port=port))
                    continue
                conn, err = synchro.dial(views, view, src_ep, "%s:%s" % (ip, port), "sync")
                if conn is not None:
                    out.append(line("tcp", ip, "ok", 1, "connected", port=port))
                elif "i/o timeout" in err:
                    out.append(line("tcp", ip, "fail", T * 1000, "timed out after %ds" % T, port=port))
                else:
                    out.append(line("tcp", ip, "fail", 1, err, port=port))
            elif test == "icmp":
                if "ping" not in tools:
                    out.append(line("icmp", ip, "unsupported", -1, "no ping in the image"))
                elif path and path["ok"]:
                    out.append(line("icmp", ip, "ok", 1, "echo reply"))
                elif path and path["kind"] == "no-arp":
                    out.append(line("icmp", ip, "fail", T * 1000, "From %s icmp_seq=1 Destination Host Unreachable "
                                    "--- %s ping statistics --- 1 packets transmitted, 0 received, +1 errors, "
                                    "100%% packet loss" % (src, ip)))
                else:
                    out.append(line("icmp", ip, "fail", T * 1000, "no echo reply within %ds" % T))
            elif test == "arp":
                if path and path["ok"] and path["kind"] in ("l2", "local"):
                    out.append(line("arp", ip, "ok", 1, "%s dev %s lladdr %s REACHABLE"
                                    % (ip, iface, synchro_mac(ip))))
                elif path and path["ok"] and path["kind"] == "routed":
                    out.append(line("arp", ip, "fail", 1, "not on link: routed (%s via gateway dev %s)" % (ip, iface)))
                else:
                    out.append(line("arp", ip, "fail", T * 1000, "no ARP reply on %s" % iface))
            elif test == "mtu":
                if "ping" not in tools:
                    out.append(line("mtu", ip, "unsupported", -1, "no ping in the image", size=mtu))
                elif path and path["ok"]:
                    limit = path_mtu(view.fabric, src_ep, ep)
                    if mtu <= limit:
                        out.append(line("mtu", ip, "ok", 1, "%d bytes with don't-fragment" % mtu, size=mtu))
                    else:
                        out.append(line("mtu", ip, "fail", T * 1000, "%d bytes do not pass with don't-fragment; %d do"
                                        % (mtu, limit), size=mtu, max=limit))
                else:
                    out.append(line("mtu", ip, "fail", T * 1000, "%d bytes do not pass with don't-fragment "
                                    "(1 packets transmitted, 0 received, 100%% packet loss)" % mtu, size=mtu))
            else:
                out.append(line(test, ip, "unsupported", -1, "unknown test"))
    out.append("%s done tests=%d" % (PREFIX, n))
    return "\n".join(out) + "\n"


def synchro_mac(ip):
    parts = [int(x) for x in ip.split(".")] if ip.count(".") == 3 else [0, 0, 0, 0]
    return "0a:58:%02x:%02x:%02x:%02x" % tuple(p & 0xff for p in parts)


class Runner:
    """NodeAgent runner for one cluster's probe pods (needs the engine's views)."""

    def __init__(self, engine, cluster_name):
        self.engine = engine
        self.cluster = cluster_name

    def __call__(self, agent, pod):
        if not is_probe(pod):
            return None
        plan = plan_of(pod)
        if plan is None:
            return (2, 0.2, "%s error detail=no plan in %s" % (PREFIX, PLAN_ENV))
        view = self.engine.view(self.cluster)
        meta = pod["metadata"]
        # the pod as it now is, with the addresses the agent just gave it
        pod = agent.client.get(kubeapi.resource_path("", "v1", "pods", meta["namespace"], meta["name"]),
                               ok404=True) or pod
        src_ep = view.endpoint(pod)
        if src_ep is not None and src_ep.get("pod"):
            src_ep = None  # not attached to the migration network: nothing answers
        with self.engine.lock:
            log = answer(self.engine.views, view, pod, src_ep, plan, tools_of(pod))
        return (0, 0.3, log)


def install(engine, clusters):
    """Let every cluster's node agent run probe pods."""
    for c in clusters:
        if c.agent is not None:
            c.agent.runners.insert(0, Runner(engine, c.name))
