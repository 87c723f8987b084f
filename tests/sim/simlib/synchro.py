"""The virt-synchronization-controller between simulated clusters (reference
§5), and the dialing both it and virt-handler do across the fabric.

A decentralized VMIM's two halves learn about each other only through their
clusters' sync leaders: the source leader dials the VMIM's `connectURL`, the
target leader dials back the source's `sourceState.syncAddress` (so both
directions must work). A "connection" succeeds when
- some pod of any cluster owns the address's IP (its `migration0` address,
  else its pod IP) and the fabric carries traffic from the dialer to it; when
  several own it (overlapping IPAM), one in the dialer's own cluster answers
  first, as on a shared segment;
- for sync: the port is 9185 and that pod is its cluster's current leader
  (others refuse the connection);
- for sync: mutual TLS holds: each cluster's `kubevirt-ca` holds the other's
  current KubeVirt CA, and both run the same KubeVirt minor (a 4.20/4.21 pair
  fails the ALPN check, reference §9.5).
Errors read as grpc-go prints them. A successful sync copies the sending
side's part of the VMI `status.migrationState` into the peer's VMI through
the peer's API server, and clears the VMI condition
`DecentralizedLiveMigrationFailure`; a failed one sets it (KubeVirt >= 1.8, or
the scenario's `syncFailureConditions`) and is retried on the next tick, for
ever, as KubeVirt does.
"""

import ipaddress

from . import virt, vms
from .nodes import now_rfc3339

HANDLER = "virt-handler"  # the kubevirt.io label of virt-handler pods

SOURCE_FIELDS = ("sourceState", "startTimestamp", "endTimestamp", "completed", "mode", "sourceNode", "sourcePod",
                 "migrationConfiguration", "migrationNetworkType", "abortRequested")
TARGET_FIELDS = ("targetState", "targetNode", "targetPod", "targetNodeAddress", "targetDirectMigrationNodePorts",
                 "targetNodeDomainDetected", "targetNodeDomainReadyTimestamp")
FAILURE = "DecentralizedLiveMigrationFailure"
WAITING = "waiting for incoming synchronization, unable to proceed"


def split_addr(addr):
    host, _, port = (addr or "").rpartition(":")
    host = host.strip("[]")
    try:
        return host, int(port)
    except ValueError:
        return addr, 0


def unavailable(desc):
    return 'rpc error: code = Unavailable desc = connection error: desc = "transport: %s"' % desc


class Conn:
    def __init__(self, view, pod, endpoint, path):
        self.view, self.pod, self.endpoint, self.path = view, pod, endpoint, path


def dial(views, src_view, src_ep, addr, kind):
    """(Conn, None) or (None, error text). `kind` is "sync" or "handler"."""
    ip, port = split_addr(addr)
    # Every running pod of the KubeVirt namespace that holds the address
    # answers for it (the dialer's own cluster first: with overlapping pools
    # its neighbour wins the ARP race); one that is not what was dialled (a
    # sync controller or any other pod on the migration network, for a
    # handler's port) refuses the connection.
    cands = []
    for v in [src_view] + [v for v in views if v is not src_view]:
        for p in v.infra_pods():
            ep = v.endpoint(p)
            if ep and ep["ip"] == ip:
                cands.append((v, p, ep))
    fabric = src_view.fabric
    first_err = None
    refused = "dial tcp %s:%d: connect: connection refused" % (ip, port)
    for v, p, ep in cands:
        path = fabric.path(src_ep, ep)
        if not path["ok"]:
            first_err = first_err or path["error"].replace("dial tcp %s:" % ip, "dial tcp %s:%d:" % (ip, port))
            continue
        app = (p["metadata"].get("labels") or {}).get("kubevirt.io")
        if kind == "sync":
            leader = v.sync_leader()
            if port != virt.SYNC_PORT or leader is None or leader["metadata"]["name"] != p["metadata"]["name"]:
                return None, refused
        elif app != HANDLER:
            return None, refused
        return Conn(v, p, ep, path), None
    if first_err:
        return None, first_err
    on_link = src_ep.get("subnet") and on_subnet(ip, src_ep["subnet"])
    return None, "dial tcp %s:%d: %s" % (ip, port, "connect: no route to host" if on_link else "i/o timeout")


def on_subnet(ip, subnet):
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        return False


def handshake(src, dst):
    """The TLS error between two clusters' sync controllers, or None."""
    if src is dst:
        return None
    if src.kv_version.split(".")[:2] != dst.kv_version.split(".")[:2]:
        return "credentials: cannot check peer: missing selected ALPN property"
    if not src.trusts(dst):
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    if not dst.trusts(src):
        return "remote error: tls: bad certificate"
    return None


def connect(views, view, addr):
    """Dial a peer sync controller from `view`'s leader: (Conn, None) or (None, error)."""
    leader = view.sync_leader()
    if leader is None:
        return None, None  # no sync controller runs here: nothing happens, nothing is reported
    src_ep = view.endpoint(leader)
    if src_ep is None:
        return None, None
    conn, err = dial(views, view, src_ep, addr, "sync")
    if err:
        return None, unavailable("Error while dialing: " + err)
    tls = handshake(view, conn.view)
    if tls:
        return None, unavailable("authentication handshake failed: " + tls)
    return conn, None


def peer_migration(view, migration_id, role):
    """The peer's VMIM with this migration ID (`role` "receive" or "sendTo"), newest first."""
    found = [m for m in view.vmims.items()
             if ((m.get("spec") or {}).get(role) or {}).get("migrationID") == migration_id]
    found.sort(key=lambda m: m["metadata"].get("creationTimestamp", ""), reverse=True)
    return found[0] if found else None


def merged_state(peer_ms, mine, fields):
    """The peer's migrationState with my fields copied in (a new dict)."""
    out = dict(peer_ms or {})
    for f in fields:
        if f in mine:
            out[f] = mine[f]
    if mine.get("failed") and not out.get("failed"):
        out["failed"] = True
        out["failureReason"] = mine.get("failureReason") or "migration failed on the peer cluster"
    return out


def set_failure_condition(view, vmi, message):
    """Set (message) or clear (None) the VMI condition, when this KubeVirt has it."""
    if not view.failure_conditions or vmi is None:
        return
    conds = list((vmi.get("status") or {}).get("conditions") or [])
    cur = next((c for c in conds if c["type"] == FAILURE), None)
    if message is None and cur is None:
        return
    if cur is not None and message is not None and cur.get("message") == message:
        return
    conds = [c for c in conds if c["type"] != FAILURE]
    if message is not None:
        conds.append({"type": FAILURE, "status": "True", "reason": "DecentralizedNotLiveMigratable",
                      "message": message, "lastProbeTime": None, "lastTransitionTime": now_rfc3339()})
    m = vmi["metadata"]
    view.vmis.put(view.c.merge_patch(virt_vmi_path(m["namespace"], m["name"]), {"status": {"conditions": conds}}))


def virt_vmi_path(ns, name):
    return vms.vmi_path(ns, name)


def push(views, view, vmi, addr, migration_id, peer_role, fields):
    """One sync: send my side of `vmi`'s migrationState to the peer VMI of the
    VMIM with `migration_id` in `peer_role`. Returns the peer (view, vmi) or None."""
    conn, err = connect(views, view, addr)
    if conn is None:
        if err:
            set_failure_condition(view, vmi, err)
        return None
    peer = conn.view
    pm = peer_migration(peer, migration_id, peer_role)
    pvmi = peer.vmis.get(pm["metadata"]["namespace"], pm["spec"].get("vmiName")) if pm else None
    if pvmi is None:
        set_failure_condition(view, vmi, "rpc error: code = NotFound desc = unable to find migration with ID %s"
                              % migration_id)
        return None
    mine = (vmi.get("status") or {}).get("migrationState") or {}
    theirs = (pvmi.get("status") or {}).get("migrationState") or {}
    want = merged_state(theirs, mine, fields)
    if want != theirs:
        m = pvmi["metadata"]
        pvmi = peer.c.merge_patch(virt_vmi_path(m["namespace"], m["name"]), {"status": {"migrationState": want}})
        peer.vmis.put(pvmi)
    set_failure_condition(view, vmi, None)
    return peer, pvmi


def cancel(views, view, addr, migration_id, peer_role):
    """CancelMigration to the peer: its VMI's migration is marked failed."""
    conn, err = connect(views, view, addr)
    if conn is None:
        return False
    pm = peer_migration(conn.view, migration_id, peer_role)
    if pm is None or (pm.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return True
    pvmi = conn.view.vmis.get(pm["metadata"]["namespace"], pm["spec"].get("vmiName"))
    if pvmi is not None:
        ms = dict((pvmi.get("status") or {}).get("migrationState") or {})
        if not ms.get("failed") and not ms.get("completed"):
            ms.update({"failed": True, "abortRequested": True, "abortStatus": "Succeeded",
                       "failureReason": "Migration canceled: the peer migration %s was deleted" % migration_id})
            m = pvmi["metadata"]
            conn.view.vmis.put(conn.view.c.merge_patch(virt_vmi_path(m["namespace"], m["name"]),
                                                       {"status": {"migrationState": ms}}))
    return True
